"""Run-to-run noise and new-run prediction intervals (issue #15 parts 1 and 2), on simulated
runs with known truth and known noise."""

import json

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main
from jaxlaws._demo_data import TRUTH
from jaxlaws._noise import noise_model


def _runs(sd, seed=0, n_budgets=8, per=12, replicates=1, slope=0.0):
    """An isoFLOP ladder from Hoffmann's law with log-normal noise of SD sd (C / 1e20)^slope."""
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e21, n_budgets):
        n0 = 0.1 * (C / 6) ** 0.5
        for N in n0 * np.geomspace(0.2, 5, per):
            D = C / (6 * N)
            L = TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]
            for s in range(replicates):
                e = sd * (C / 1e20) ** slope * rng.standard_normal()
                rows.append({"N": N, "D": D, "loss": L * np.exp(e), "seed": s, "truth": L})
    return pd.DataFrame(rows)


def test_noise_from_residuals_from_replicates_and_varying_with_compute():
    df = _runs(0.02, replicates=1, n_budgets=10, per=20)
    f = jl.fit("chinchilla", df, loss="squared")
    nm = noise_model(f)
    assert nm.sd == pytest.approx(0.02, rel=0.12) and nm.n == 200
    assert f.to_dict()["noise"]["sd"] == pytest.approx(nm.sd)
    # every table here has 200 rows: one compiled fit serves all three
    rep = _runs(0.01, replicates=2, seed=1, n_budgets=10, per=10)
    fr = jl.fit("chinchilla", rep, loss="squared")
    nr = noise_model(fr, replicates="seed", data=rep)
    assert nr.sd == pytest.approx(0.01, rel=0.15) and nr.n == 100 and "replicates" in nr.method
    with pytest.raises(jl.OptionError, match="more than once"):
        noise_model(f, replicates="seed", data=df)
    het = _runs(0.02, seed=2, n_budgets=10, per=20, slope=-0.25)
    fh = jl.fit("chinchilla", het, loss="squared")
    nh = noise_model(fh, by_compute=True)
    assert nh.slope == pytest.approx(-0.25, abs=0.08)
    assert nh.sd_at(1e18) > 2 * nh.sd_at(1e21)


def test_new_run_bands_cover_new_runs_and_are_wider_than_mean_bands():
    """Fit 96 simulated runs (noise 0.02), then train 'new runs' at 5 unseen sizes many times:
    the 90% new-run band holds about 90% of them where the law is well pinned, the mean band far
    fewer."""
    df = _runs(0.02, seed=3)
    boot = jl.bootstrap("chinchilla", df, n=300, seed=0, loss="squared")
    new = pd.DataFrame({"N": [3e8, 1e9, 3e9, 1e10, 2e10], "D": [6e9, 2e10, 6e10, 2e11, 4e11], "label": list("abcde")})
    band = boot.predict(new, level=0.9, kind="new-run")
    mean = boot.predict(new, level=0.9)
    assert list(band.label) == list("abcde")
    wide, narrow = (band["upper_0.9"] - band["lower_0.9"]).values, (mean["upper_0.9"] - mean["lower_0.9"]).values
    # wider everywhere; inside the fitted range (the first two rows) by the noise, several-fold
    assert np.all(wide > narrow) and np.all(wide[:2] > 2 * narrow[:2])
    truth = TRUTH["E"] + TRUTH["A"] / new.N ** TRUTH["alpha"] + TRUTH["B"] / new.D ** TRUTH["beta"]
    runs = truth.values[None, :] * np.exp(0.02 * np.random.default_rng(9).standard_normal((4000, 5)))
    inside = (runs >= band["lower_0.9"].values) & (runs <= band["upper_0.9"].values)
    in_mean = (runs >= mean["lower_0.9"].values) & (runs <= mean["upper_0.9"].values)
    # conditional on this one data set: inside the fitted range the band holds about 90% of new
    # runs; beyond it the law's own uncertainty widens it (coverage over data sets is #15 part 3)
    cover = inside.mean(axis=0)
    assert np.all((cover[:3] > 0.88) & (cover[:3] < 0.96)) and np.all(cover > 0.88), cover
    assert in_mean.mean() < 0.6
    with pytest.raises(jl.OptionError, match="kind"):
        boot.predict(new, kind="future")


def test_cli_predict_keeps_columns_and_reports_the_noise(tmp_path, capsys):
    runs, new, out = tmp_path / "runs.csv", tmp_path / "new.csv", tmp_path / "pred.json"
    _runs(0.02, seed=4).to_csv(runs, index=False)
    pd.DataFrame({"model": ["7B", "70B"], "N": [7e9, 7e10], "D": [1.4e11, 1.4e12]}).to_csv(new, index=False)
    assert main(["predict", str(runs), "--law", "chinchilla", "--at", str(new), "--n", "100", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "run-to-run noise sd" in text and "70B" in text
    res = json.loads(out.read_text())
    assert res["kind"] == "new-run" and 0.01 < res["noise"]["sd"] < 0.03
    p = res["predictions"]
    assert [r["model"] for r in p] == ["7B", "70B"] and all(r["lower_0.95"] < r["estimate"] < r["upper_0.95"] for r in p)
    code = main(["predict", str(runs), "--law", "chinchilla", "--at", str(new), "--replicates", "nope"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--replicates" in err[0]


def test_cli_predict_from_a_saved_bootstrap(tmp_path, capsys):
    """``jaxlaws predict boot.json``: the saved draws give the same mean bands as the bootstrap
    they were written from (no data, no refit); new-run bands use the saved noise scale; a
    bootstrap of another law is refused naming both."""
    runs, new, boot_js, out = (tmp_path / n for n in ("runs.csv", "new.csv", "boot.json", "pred.json"))
    df = _runs(0.02, seed=5)
    df.to_csv(runs, index=False)
    rows = pd.DataFrame({"model": ["7B", "70B"], "N": [7e9, 7e10], "D": [1.4e11, 1.4e12]})
    rows.to_csv(new, index=False)
    assert main(["bootstrap", str(runs), "--law", "chinchilla", "--n", "100", "--json", str(boot_js)]) == 0
    capsys.readouterr()
    assert main(["predict", str(boot_js), "--law", "chinchilla", "--at", str(new), "--kind", "mean", "--json", str(out)]) == 0
    saved = pd.DataFrame(json.loads(out.read_text())["predictions"])
    ref = jl.bootstrap("chinchilla", df, n=100, progress=False).predict(rows, kind="mean")
    np.testing.assert_allclose(saved[["estimate", "lower_0.95", "upper_0.95"]], ref[["estimate", "lower_0.95", "upper_0.95"]],
                               rtol=1e-9)
    assert list(saved.model) == ["7B", "70B"]
    # new-run bands from the saved result draw the same noise (scale and resampled residual
    # shape) as a refit from the data: the same bands up to the noise draws' Monte Carlo error
    assert main(["predict", str(boot_js), "--law", "chinchilla", "--at", str(new), "--json", str(out), "--force"]) == 0
    assert "saved: residuals" in capsys.readouterr().out
    saved = pd.DataFrame(json.loads(out.read_text())["predictions"])
    assert main(["predict", str(runs), "--law", "chinchilla", "--at", str(new), "--n", "100", "--json", str(out),
                 "--force"]) == 0
    fresh = pd.DataFrame(json.loads(out.read_text())["predictions"])
    width = fresh["upper_0.95"] - fresh["lower_0.95"]
    for col in ("lower_0.95", "upper_0.95"):
        assert (np.abs(saved[col] - fresh[col]) < 0.1 * width).all(), col
    assert main(["predict", str(boot_js), "--law", "kaplan", "--at", str(new)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'chinchilla'" in err[0] and "kaplan" in err[0]


def test_coverage_simulation_runs_the_whole_recipe_per_data_set():
    """A small coverage study on the demo design (the README's table uses 200 x 200): every
    free parameter, a and N_opt(1e24) and two new-run bands at two levels; intervals at the
    higher level are wider and cover at least as often."""
    from jaxlaws._demo_data import demo_data

    f = jl.fit("chinchilla", demo_data())
    new = pd.DataFrame({"N": [1e9, 7e10], "D": [2e10, 1.4e12]})
    tab = jl.coverage(f, n_sim=30, n_boot=40, targets=("a", "N_opt(C=1e24)"), new_runs=new, chunk=30)
    assert len(tab) == 2 * (5 + 2 + 2) and (tab.n_sim == 30).all()
    lo, hi = tab[tab.level == 0.8].set_index("quantity"), tab[tab.level == 0.95].set_index("quantity")
    assert (hi.mean_width > lo.mean_width).all() and (hi.coverage >= lo.coverage).all()
    # 30 data sets: a binomial SE of ~0.07 at 80%; anything below 0.5 would be a broken interval
    assert (lo.coverage > 0.5).all() and (hi.coverage > 0.75).all()
    with pytest.raises(jl.OptionError, match="n_sim"):
        jl.coverage(f, n_sim=5)
