"""Published fitting recipes in one flag, and every recipe option of the command line.

References are independent of the code under test: the papers' printed numbers and stored
objectives (shared data READMEs), the authors' stored regression results, simulated data
with known coefficients, and closed forms.
"""

import json

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main
from jaxlaws.laws import get_law, overtraining_from_authors

from conftest import shared_file


def run(capsys, argv):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_line_error(capsys, argv, match):
    code, _, err = run(capsys, argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("jaxlaws: error:") and match in lines[0], err
    return lines[0]


def fit_json(capsys, tmp_path, argv, name="fit.json"):
    out = tmp_path / name
    code, text, err = run(capsys, [*argv, "--json", out])
    assert code == 0, err
    return json.loads(out.read_text()), text


# ---- published recipes, one flag each ---------------------------------------------------------

def test_recipe_besiroglu2024_reproduces_epochs_fit(capsys, tmp_path):
    res, text = fit_json(capsys, tmp_path, ["fit", shared_file("chinchilla_epoch.csv"), "--law", "chinchilla",
                                            "--recipe", "besiroglu2024"])
    # the data README's polished optimum of Epoch's objective on their 240 points
    assert res["objective"] == pytest.approx(1.0182740178006e-3, rel=1e-9)
    ref = {"A": 477.826, "B": 2143.418, "E": 1.817218, "alpha": 0.3473105, "beta": 0.3671724}
    for k, v in ref.items():
        assert res["params"][k] == pytest.approx(v, rel=2e-5), k
    assert res["n_points"] == 240 and res["recipe"]["name"] == "besiroglu2024"
    assert res["rows_excluded"] == {"the 5 highest loss": 5}
    assert "recipe: besiroglu2024" in text and "huber[0.001](log pred_i - log y_i)" in text


EPOCH_EXPLICIT = ["--loss", "huber:1e-3", "--residual", "log", "--drop-highest", "5", "--starts",
                  "E=0.36787944:2.7182818:5:log,A=1:7.2004899e10:6:log,B=1:7.2004899e10:6:log,alpha=0:2:5,beta=0:2:5"]


def test_epoch_recipe_written_out_with_explicit_flags(capsys, tmp_path):
    # the same recipe as --recipe besiroglu2024, every choice spelled out (Hoffmann's grid:
    # log E in {-1, ..., 1}, log A, log B in {0, 5, ..., 25}, alpha, beta in {0, .5, ..., 2})
    res, _ = fit_json(capsys, tmp_path, ["fit", shared_file("chinchilla_epoch.csv"), "--law", "chinchilla",
                                         *EPOCH_EXPLICIT])
    assert res["n_starts"] == 4500 and res["recipe"] is None and res["n_points"] == 240
    assert res["objective"] == pytest.approx(1.0182740178006e-3, rel=1e-9)


MUEN = ["--law", "data_constrained", "--recipe", "muennighoff2023", "--map", "N=params_N", "--map", "D=tokens_D",
        "--map", "U=unique_tokens_U", "--y", "val_loss"]


def test_recipe_muennighoff2023_stage_two(capsys, tmp_path):
    path = shared_file("muennighoff_data_constrained", "runs.csv")
    # their objective at their published values, as stored in the notebook: 0.015825936570763588
    sc, _ = fit_json(capsys, tmp_path, ["fit", path, *MUEN, "--score", "--coefficients", "muennighoff2023"], "s.json")
    assert sc["objective"] == pytest.approx(0.015825936570763588, rel=1e-6) and sc["n"] == 182
    # started at their optimum, the fit stays in its basin (flat along R_D*: +-0.1)
    loc, _ = fit_json(capsys, tmp_path, ["fit", path, *MUEN, "--starts", "R_D=15.39,R_N=5.31", "--strategy", "full"], "l.json")
    assert loc["params"]["R_D"] == pytest.approx(15.387756, abs=0.1)
    assert loc["params"]["R_N"] == pytest.approx(5.309743, abs=0.05)
    assert loc["objective"] <= sc["objective"] * (1 + 1e-9)
    # their 4 x 4 grid: every start converges, the best at or below the published objective
    full, _ = fit_json(capsys, tmp_path, ["fit", path, *MUEN], "f.json")
    assert full["status"] == "converged" and full["n_points"] == 182
    assert full["objective"] <= loc["objective"] * (1 + 1e-9)
    assert {k: full["params"][k] for k in ("E", "A", "alpha")} == {k: sc["params"][k] for k in ("E", "A", "alpha")}


def test_recipe_porian2024_weighted_power_law(capsys, tmp_path):
    path = shared_file("porian_resolving_discrepancies", "optimal_pairs.csv")
    fits = pd.read_csv(shared_file("porian_resolving_discrepancies", "fits.csv"))
    res, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "power_law", "--recipe", "porian2024", "--map", "x=flops",
                                         "--y", "n", "--where", "dataset == 'rw'", "--where",
                                         "config_label == 'Optimizer tuning (no decay)'"])
    ref = fits[(fits.dataset == "rw") & (fits.config_label == "Optimizer tuning (no decay)")].iloc[0]
    assert res["params"]["a"] == pytest.approx(ref["bs_median_weighted.n_exponent"], abs=1e-6)
    assert res["params"]["c"] == pytest.approx(ref["bs_median_weighted.n_coef"], rel=1e-4)
    # every configuration through the API with the same recipe
    pairs = pd.read_csv(path)
    for _, row in fits.iterrows():
        sub = pairs[(pairs.source_file == row.source_file) & (pairs.config_label == row.config_label)]
        f = jl.fit("power_law", sub, "n", recipe="porian2024", columns={"x": "flops"})
        assert f.params["a"] == pytest.approx(row["bs_median_weighted.n_exponent"], abs=1e-5), row.config_label


def test_recipe_frantar2023_converts_units(capsys, tmp_path):
    law = get_law("weight_sparsity")
    pub = law.coefficient_set("frantar2023_vit")
    rng = np.random.default_rng(0)
    S = np.tile([0.0, 0.5, 0.75, 0.875], 24)
    Nm = np.repeat(np.geomspace(3, 1000, 8), 12)  # millions of non-zero parameters
    Db = np.tile(np.repeat(np.geomspace(0.2, 8, 3), 4), 8)  # billions of images
    y = np.asarray(law(pub, S, Nm, Db)) + 0.002 * rng.standard_normal(96)
    path = tmp_path / "vit.csv"
    pd.DataFrame({"S": S, "N": Nm * 1e6, "D": Db * 1e9, "loss": y}).to_csv(path, index=False)  # raw counts
    res, text = fit_json(capsys, tmp_path, ["fit", path, "--law", "weight_sparsity", "--recipe", "frantar2023",
                                            "--units", "N=parameters,D=images"])
    assert res["units"] == {"N": "millions of parameters", "D": "billions of images"}
    assert "huber[0.01](pred_i - y_i)" in res["objective_minimised"]
    for k in ("d", "f", "g"):
        assert res["params"][k] == pytest.approx(pub[k], rel=0.1), k
    # without --units the table is taken to be in the recipe's units: a raw-count table then
    # fits different coefficients, and mixing quantities is refused naming both units
    line = one_line_error(capsys, ["fit", path, "--law", "weight_sparsity", "--units", "N=tokens"], "'tokens'")
    assert "millions of parameters" in line


def test_bootstrap_bands_convert_units_like_the_fit():
    """A bootstrap of a table in other units than the recipe's (raw counts for Frantar et al.'s
    millions of parameters and billions of images): its bands at new rows of the same table's
    units hold the full fit's own prediction (the draws see the rows in the parameters' units)."""
    law = get_law("weight_sparsity")
    pub = law.coefficient_set("frantar2023_vit")
    rng = np.random.default_rng(1)
    S = np.tile([0.0, 0.5, 0.75, 0.875], 24)
    Nm = np.repeat(np.geomspace(3, 1000, 8), 12)
    Db = np.tile(np.repeat(np.geomspace(0.2, 8, 3), 4), 8)
    y = np.asarray(law(pub, S, Nm, Db)) + 0.002 * rng.standard_normal(96)
    df = pd.DataFrame({"S": S, "N": Nm * 1e6, "D": Db * 1e9, "loss": y})
    boot = jl.bootstrap("weight_sparsity", df, recipe="frantar2023", units={"N": "parameters", "D": "images"}, n=30)
    new = pd.DataFrame({"S": [0.5, 0.75], "N": [2e8, 1e9], "D": [4e9, 8e9]})
    band = boot.predict(new, kind="mean", level=0.9)
    assert ((band["lower_0.9"] <= band.estimate) & (band.estimate <= band["upper_0.9"])).all(), band
    assert (band.se < 0.05 * band.estimate).all()


def test_recipes_gadre2024_overtraining_and_downstream(capsys, tmp_path):
    ot = get_law("overtraining")
    truth = overtraining_from_authors(E=1.9, alpha=500.0, beta=2000.0, b=-0.3)
    rng = np.random.default_rng(1)
    N = np.repeat(np.geomspace(1.1e7, 4.1e8, 6), 4)
    M = np.tile([10.0, 20.0, 80.0, 320.0], 6)
    C = 6 * N * N * M
    y = np.asarray(ot(truth, C, M)) + 0.003 * rng.standard_normal(len(C))
    path = tmp_path / "ot.csv"
    pd.DataFrame({"C": C, "M": M, "loss": y}).to_csv(path, index=False)
    res, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "overtraining", "--recipe", "gadre2024"])
    assert res["objective_minimised"] == "sum_i w_i 0.5 (pred_i - y_i)^2"
    # the big, over-trained run they predict: 6.9B at 138B tokens (M = 20) -- relative error
    Nb, Mb = 6.9e9, 20.0
    pred = ot(res["params"], 6 * Nb * Nb * Mb, Mb)
    assert float(pred) == pytest.approx(float(ot(truth, 6 * Nb * Nb * Mb, Mb)), rel=0.01)
    de = get_law("downstream_error")
    t2 = {"epsilon": 0.82, "k": 12.0, "gamma": 1.1}
    L = np.linspace(2.3, 3.8, 30)
    err = np.asarray(de(t2, L)) + 0.004 * rng.standard_normal(30)
    p2 = tmp_path / "err.csv"
    pd.DataFrame({"L": L, "error": err}).to_csv(p2, index=False)
    res2, _ = fit_json(capsys, tmp_path, ["fit", p2, "--law", "downstream_error", "--y", "error"], "e.json")
    assert res2["recipe"]["name"] == "gadre2024"  # the law's default recipe: least squares on raw error
    assert res2["params"]["epsilon"] == pytest.approx(0.82, abs=0.05)


def test_overtraining_conversion_from_the_authors_parameterisation():
    # their code: L = E + alpha N^b + beta 6^(b/2) (M N)^b with C = 6 N D, D = M N
    rng = np.random.default_rng(2)
    ot = get_law("overtraining")
    for _ in range(5):
        E, al, be, b = rng.uniform(1, 3), 10 ** rng.uniform(1, 4), 10 ** rng.uniform(1, 4), -rng.uniform(0.05, 0.5)
        N, M = 10 ** rng.uniform(7, 10, 20), 10 ** rng.uniform(0, 3, 20)
        theirs = E + al * N**b + be * 6 ** (b / 2) * (M * N) ** b
        ours = np.asarray(ot(overtraining_from_authors(E, al, be, b), 6 * N * (M * N), M))
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


# ---- options of the command line --------------------------------------------------------------

@pytest.fixture()
def runs(tmp_path):
    """Chinchilla-law runs with two learning rates per (N, D), a noise-SD column and labels."""
    law = get_law("chinchilla")
    truth = law.coefficient_set("besiroglu2024")
    rng = np.random.default_rng(5)
    N, D = [], []
    for C in (1e18, 1e19, 1e20, 1e21):
        n = np.geomspace(0.2, 5, 7) * 0.6 * (C / 6) ** 0.5
        N += list(n)
        D += list(C / (6 * n))
    N, D = np.repeat(N, 2), np.repeat(D, 2)
    y = np.asarray(law(truth, N, D)) * np.exp(0.01 * rng.standard_normal(len(N)))
    y[1::2] *= 1.05  # the worse learning rate
    df = pd.DataFrame({"N": N, "D": D, "loss": y, "lr": np.tile([1e-3, 3e-3], len(N) // 2), "sd": 0.01,
                       "label": [f"run{i}" for i in range(len(N))]})
    p = tmp_path / "runs.csv"
    df.to_csv(p, index=False)
    return p, df


BEST = ["--select", "best-per=N,D"]  # one learning rate per (N, D): the better one


def test_select_where_weights_and_predict(capsys, tmp_path, runs):
    path, df = runs
    res, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", "--select", "best-per=N,D",
                                         "--where", "6*N*D < 5e20", "--weights", "1/sd**2"])
    best = df.loc[df.groupby(["N", "D"]).loss.idxmin()]
    best = best[6 * best.N * best.D < 5e20]
    assert res["n_points"] == len(best) == 21
    # the same fit through the API on the whole table (the same rows at weight 1e4, the others 0)
    w = np.zeros(len(df))
    w[best.index] = 1e4
    api = jl.fit("chinchilla", df, weights=w)
    assert res["objective"] == pytest.approx(api.objective, rel=1e-9)
    assert res["params"]["alpha"] == pytest.approx(api.params["alpha"], rel=1e-7)
    # --predict keeps every column of the new table (labels included)
    new = tmp_path / "new.csv"
    pd.DataFrame({"name": ["70B"], "N": [70e9], "D": [1.4e12]}).to_csv(new, index=False)
    code, out, _ = run(capsys, ["fit", path, "--law", "chinchilla", "--select", "best-per=N,D", "--predict", new])
    assert code == 0 and "70B" in out and "prediction" in out


def test_starts_spec_csv_and_bounds(capsys, tmp_path, runs):
    path, _ = runs
    a, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", *BEST, "--starts", "alpha=0.2:0.6:3,beta=0.2/0.5"], "a.json")
    assert a["n_starts"] == 5 * 6 * 6 * 3 * 2  # E, A, B axes from the law's grid
    sp = tmp_path / "starts.csv"
    pd.DataFrame([{"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.3, "beta": 0.35}]).to_csv(sp, index=False)
    b, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", *BEST, "--starts", sp], "b.json")
    assert b["n_starts"] == 1 and b["objective"] == pytest.approx(a["objective"], rel=1e-8)
    # a bound that binds (E >= 1.9) beside two that do not (A, B >= 1): the result says so
    # (status at_bound, the parameter named), never "converged"
    sp2 = tmp_path / "starts_in_box.csv"
    pd.DataFrame([{"E": 2.0, "A": 400.0, "B": 2000.0, "alpha": 0.3, "beta": 0.35}]).to_csv(sp2, index=False)
    c, out = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", *BEST, "--starts", sp2, "--bounds", "E=1.9:3",
                                         "--bounds", "A=1:inf", "--bounds", "B=1:inf"], "c.json")
    assert c["status"] == "at_bound" and c["bounds"]["A"][0] == 1.0 and c["bounds"]["E"] == [1.9, 3.0]
    assert c["params"]["E"] == pytest.approx(1.9, rel=1e-6) and c["objective"] > a["objective"]
    assert "E = 1.9 is on its bound" in " ".join(c["reasons"])


def test_score_with_params_json(capsys, tmp_path, runs):
    path, _ = runs
    res, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", *BEST])
    sc, out = fit_json(capsys, tmp_path, ["fit", path, "--law", "chinchilla", *BEST, "--score", "--params", tmp_path / "fit.json"],
                       "score.json")
    assert sc["objective"] == pytest.approx(res["objective"], rel=1e-9)
    r = np.array([v for v in sc["residuals"] if v is not None])
    assert sc["rss_log"] == pytest.approx(float(np.sum(r**2)), rel=1e-12) and sc["k"] == 5
    assert "AIC" in out


@pytest.mark.parametrize("argv, match", [
    (["--recipe", "nope"], "no such recipe"),
    (["--loss", "huber:x"], "parameters must be numbers"),
    (["--loss", "expectile:1,2,3"], "wrong number of parameters"),
    (["--loss", "squared", "--delta", "0.1"], "--delta applies to the huber loss"),
    (["--starts", "alpha=0:2"], "LO:HI:N"),
    (["--starts", "zeta=1"], "not a parameter"),
    (["--bounds", "A=1"], "PARAM=LO:HI"),
    (["--bounds", "A=3:1"], "lower < upper"),
    (["--where", "nosuch > 1"], "'nosuch' is not a column"),
    (["--where", "N + 1"], "one true/false per row"),
    (["--select", "N,D"], "best-per="),
    (["--weights", "nosuch * 2"], "weights 'nosuch * 2': 'nosuch' is not a column"),
    (["--units", "N=furlongs"], "not one of"),
    (["--score"], "exactly one of --params"),
    (["--coefficients", "besiroglu2024"], "are for --score"),
])
def test_recipe_option_errors_are_one_line(capsys, runs, argv, match):
    path, _ = runs
    one_line_error(capsys, ["fit", path, "--law", "chinchilla", *argv], match)


def test_ablate_map_law_axis_where_axis_and_optima(capsys, tmp_path, runs):
    path, df = runs
    p2 = tmp_path / "renamed.csv"
    df.rename(columns={"N": "params"}).to_csv(p2, index=False)
    out = tmp_path / "m.csv"
    code, text, err = run(capsys, ["ablate", p2, "--law", "chinchilla,kaplan", "--map", "N=params", "--where", "all",
                                   "--where", "lr == 0.001", "--compute", "1e22", "--csv", out])
    assert code == 0, err
    tab = pd.read_csv(out)
    assert len(tab) == 4 and set(tab.law) == {"chinchilla", "kaplan"} and {"N_opt", "D_opt"} <= set(tab.columns)
    row = tab[(tab.law == "chinchilla") & (tab["where"] == "lr == 0.001")].iloc[0]
    ref = jl.fit("chinchilla", df, weights=(df.lr == 0.001).to_numpy(float))  # the same rows, the others at weight 0
    assert row["objective"] == pytest.approx(ref.objective, rel=1e-8)
    n_opt = float(get_law("chinchilla").derived["N_opt"](ref.params, 1e22))
    assert row["N_opt"] == pytest.approx(n_opt, rel=1e-6)


def test_user_law_without_starts_runs_from_the_cli(capsys, tmp_path, chinchilla_240):
    # the README's Quickstart law, written to a file without starts=: default Halton starts
    (tmp_path / "my_laws.py").write_text(
        "import jaxlaws as jl\n"
        "@jl.law(inputs=('N', 'D'), params={'E': jl.positive(), 'A': jl.positive(), 'B': jl.positive(),\n"
        "                                  'alpha': jl.positive(), 'beta': jl.positive()})\n"
        "def my_law(p, N, D):\n"
        "    return p['E'] + p['A'] / N ** p['alpha'] + p['B'] / D ** p['beta']\n")
    path = tmp_path / "c.csv"
    chinchilla_240.to_csv(path, index=False)
    res, _ = fit_json(capsys, tmp_path, ["fit", path, "--law", f"{tmp_path / 'my_laws.py'}:my_law"])
    assert res["n_starts"] == 1024 and res["status"] == "converged"
    assert res["objective"] == pytest.approx(1.0182740178006e-3, rel=1e-8)  # Epoch's optimum


def test_log1p_residual_and_expectile_loss():
    # squared error on log(1 + y) (the broken-power-law recipe) against scipy on the same objective
    import scipy.optimize

    law = get_law("broken_power_law")
    truth = {"a": 0.3, "b": 20.0, "c0": 0.1, "c1": 0.4, "d": 1e5, "f": 0.5}
    x = np.geomspace(1e2, 1e8, 40)
    rng = np.random.default_rng(3)
    y = np.asarray(law(truth, x)) * np.exp(0.01 * rng.standard_normal(40))
    f = jl.fit(law, {"x": x, "loss": y})
    assert f.objective_description == "sum_i w_i 0.5 (log(1 + pred_i) - log(1 + y_i))^2"

    def obj(t):
        p = dict(zip(law.param_names, [np.exp(t[0]), np.exp(t[1]), t[2], t[3], np.exp(t[4]), np.exp(t[5])]))
        return 0.5 * np.sum((np.log1p(np.asarray(law(p, x))) - np.log1p(y)) ** 2)

    t0 = [np.log(f.params["a"]), np.log(f.params["b"]), f.params["c0"], f.params["c1"], np.log(f.params["d"]), np.log(f.params["f"])]
    r = scipy.optimize.minimize(obj, t0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 20000})
    assert f.objective == pytest.approx(obj(t0), rel=1e-9) and f.objective <= r.fun * (1 + 1e-7)
    # the expectile (over-estimate penalty): over-predictions cost 4x; scipy on the same objective
    x = np.geomspace(1e16, 1e20, 30)
    yv = 0.1 * x**0.5 * np.exp(0.05 * rng.standard_normal(30))
    data = {"x": x, "loss": yv}
    sym = jl.fit("power_law", data)
    asym = jl.fit("power_law", data, loss=jl.expectile(4.0, 1.0))

    def expectile_obj(t):
        r = t[0] + t[1] * np.log(x) - np.log(yv)
        return np.sum(0.5 * np.where(r > 0, 4.0, 1.0) * r * r)

    ref = scipy.optimize.minimize(expectile_obj, [np.log(0.1), 0.5], method="Nelder-Mead",
                                  options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 20000})
    assert asym.objective <= ref.fun * (1 + 1e-7)
    assert asym.params["a"] == pytest.approx(ref.x[1], abs=1e-5)
    r_sym = np.log(sym.predict(data)) - np.log(yv)
    r_asym = np.log(asym.predict(data)) - np.log(yv)
    assert r_asym.mean() < r_sym.mean() and (r_asym > 0).mean() < (r_sym > 0).mean()


def test_best_per_ranks_by_another_column():
    """--select best-per=N,D,by=loss keeps the lowest-loss run of each (N, D) and fits its
    learning rate (Step Law's recipe), where best-per=N,D alone would keep the lowest rate."""
    rng = np.random.default_rng(0)
    rows = []
    for N in np.geomspace(1e8, 1e10, 5):
        for D in np.geomspace(2e9, 2e11, 4):
            best = 0.5 * N**-0.3 * D**0.1  # the true optimal rate, a power law in N and D
            for lr in best * np.geomspace(0.25, 4, 7):
                loss = 2 + 0.05 * np.log(lr / best) ** 2 + 0.002 * rng.standard_normal()
                rows.append({"N": N, "D": D, "lr": lr, "loss": loss})
    grid = pd.DataFrame(rows)
    chosen = grid.loc[grid.groupby(["N", "D"]).loss.idxmin()]
    from jaxlaws._select import select

    sel = select(grid, "lr", ["N", "D", "lr"], best_per=("N", "D", "by=loss"))
    assert set(np.flatnonzero(sel.weights)) == set(chosen.index)
    low = select(grid, "lr", ["N", "D", "lr"], best_per=("N", "D"))
    assert set(np.flatnonzero(low.weights)) == set(grid.groupby(["N", "D"]).lr.idxmin())
    with pytest.raises(jl.OptionError, match="nope"):
        select(grid, "lr", ["N", "D", "lr"], best_per=("N", "D", "by=nope"))
