"""Answers the data cannot support say so (issue: honest statuses). Each test is one reproduction."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main

from conftest import shared_file


@pytest.fixture(scope="module")
def CH():
    return pd.read_csv(shared_file("chinchilla_epoch.csv"))


def _fit_quiet(*a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.ConvergenceWarning)
        return jl.fit(*a, **k)


def test_five_rows_for_five_parameters_is_degenerate_and_json_is_strict(CH, tmp_path, capsys):
    five = tmp_path / "five.csv"
    CH.iloc[::24].head(5).to_csv(five, index=False)
    out = tmp_path / "f.json"
    code = main(["fit", str(five), "--law", "chinchilla", "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and err[-1].startswith("jaxlaws: error: the fit is degenerate")
    d = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert d["status"] == "degenerate" and d["reasons"]
    assert main(["fit", str(five), "--law", "chinchilla", "--allow-degenerate"]) == 0


def test_constant_loss_is_degenerate(CH):
    d = CH.iloc[::24].copy()
    d["loss"] = 2.5
    f = _fit_quiet("chinchilla", d)
    assert f.status == "degenerate" and not f.converged


def test_collinear_inputs_are_degenerate_and_duplicate_columns_refused(CH, tmp_path, capsys):
    d = CH.iloc[::30].head(7).copy()
    d["D"] = 10 * d["N"]
    f = _fit_quiet("chinchilla", d)
    assert f.status == "degenerate" and any("collinear" in r for r in f.reasons)
    p = tmp_path / "dup.csv"
    p.write_text("N,N,D,loss\n" + "\n".join(f"{a},{a},{b},{c}" for a, b, c in CH[["N", "D", "loss"]].head(10).values))
    assert main(["fit", str(p), "--law", "chinchilla"]) == 2
    assert "duplicate column names ['N']" in capsys.readouterr().err


def test_single_compute_budget_is_degenerate(CH):
    C = 6 * CH.N * CH.D
    one = CH[np.isclose(C / C.iloc[0], 1, rtol=0.3)]
    f = _fit_quiet("chinchilla", one, loss=jl.squared())
    assert f.status == "degenerate"


def test_healthy_chinchilla_fit_is_not_flagged(CH):
    h = CH[CH.loss < np.sort(CH.loss.values)[-5]]
    f = jl.fit("chinchilla", h)
    assert f.status == "converged" and f.reasons == () and 1e3 < f.condition_number < 1e6  # free fit coordinates


def test_group_option_means_a_group_bootstrap(CH):
    g = CH.iloc[::4].reset_index(drop=True)
    kw = dict(n=60, seed=0, strategy="fast")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.ConvergenceWarning)
        b_group = jl.bootstrap("chinchilla", g, groups="N", **kw)
        b_plain = jl.bootstrap("chinchilla", g, **kw)
    assert b_group.weights_method == "group" and b_plain.weights_method == "ordinary"
    assert not np.allclose(b_group.draws, b_plain.draws)
    with pytest.raises(jl.OptionError, match="ignores groups"):
        jl.bootstrap("chinchilla", g, groups="N", method="ordinary", **kw)


def test_group_bootstrap_on_three_sizes_excludes_and_counts_degenerate_resamples(CH):
    sizes = CH.N.value_counts().index[:3]  # the three model sizes with the most runs
    g = CH[CH.N.isin(sizes)].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", jl.ConvergenceWarning)
        b = jl.bootstrap("chinchilla", g, groups="N", n=200, seed=0)
    # a resample that drew one model size cannot identify the N term: ~ 3 * (1/3)^3 = 11%
    single = np.array([len(np.unique(g.N[np.asarray(w) > 0])) == 1 for w in _weights(g, 200)])
    assert b.n_degenerate >= single.sum() > 0
    assert (b.status[single] != "converged").all()
    msg = b.exclusion_summary()
    assert f"{b.n_degenerate} of 200 resamples could not identify the law" in msg
    assert f"intervals use {200 - b.n_failed}" in msg
    assert any("could not identify" in str(w.message) for w in caught)
    # 13 runs for 5 parameters: n - k = 8 cannot support a bootstrap interval; refused, with why
    iv = b.interval("alpha")
    assert np.isnan(iv.lower) and np.isnan(iv.upper) and "n - k = 8" in iv.note


def _weights(g, n):
    # the same draws bootstrap makes (same seed, same group labels)
    return jl.resample_weights(len(g), "group", n, 0, g.N.to_numpy())


def test_allocation_refuses_impossible_budgets_and_wrong_units(capsys, tmp_path):
    assert main(["allocate", "--law", "joint_moe", "--coefficients", "ludziejewski2025", "--compute", "1e21",
                 "--memory", "-1"]) == 2
    assert "infeasible" in capsys.readouterr().err
    assert main(["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--target-loss", "1.5",
                 "--inference-tokens", "1e13"]) == 2
    assert "floor" in capsys.readouterr().err
    with pytest.raises(jl.OptionError, match="millions of parameters"):
        jl.compute_optimal("weight_sparsity", "frantar2023_vit", 1e21, inputs={"S": 0.5})
    with pytest.raises(jl.OptionError, match="not a loss"):
        jl.compute_optimal("step_law_lr", "li2025", 1e21)
    # a fit in those units (its table converted to them), and its saved JSON, are refused alike
    law = jl.laws.weight_sparsity
    rng = np.random.default_rng(0)
    S = rng.choice([0.0, 0.5, 0.75, 0.875], 60)
    N, D = np.exp(rng.uniform(np.log(5), np.log(600), 60)), np.exp(rng.uniform(np.log(0.5), np.log(4), 60))
    y = np.asarray(law(law.coefficient_set("frantar2023_vit"), S, N, D))
    f = jl.fit(law, {"S": S, "N": N, "D": D, "loss": y}, units={"N": "millions of parameters", "D": "billions of images"})
    assert f.units["N"] == "millions of parameters"
    with pytest.raises(jl.OptionError, match="the fit's coefficients measure N in millions of parameters"):
        jl.compute_optimal(law, f, 1e21, inputs={"S": 0.5})
    saved = tmp_path / "fit.json"
    saved.write_text(json.dumps(f.to_dict()))
    assert main(["allocate", "--law", "weight_sparsity", "--params", str(saved), "--compute", "1e21",
                 "--input", "S=0.5"]) == 2
    assert "measure N in millions of parameters" in capsys.readouterr().err
    # the general solver: a negative budget is no answer (log of a negative number)
    r = jl.allocate(jl.moe_problem(), {**jl.laws.joint_moe.coefficient_set(), "C": 1e21, "M": -1.0})
    assert r.status[0] != "converged"


def test_output_path_checked_before_computing(CH, tmp_path, capsys):
    p = tmp_path / "g.csv"
    CH.iloc[::10].to_csv(p, index=False)
    code = main(["fit", str(p), "--law", "chinchilla", "--json", str(tmp_path / "missing" / "f.json")])
    err = capsys.readouterr()
    assert code == 2 and "does not exist" in err.err and "objective" not in err.out  # refused before fitting


def test_a_lower_unconverged_start_is_polished_not_ignored(CH):
    """"The best converged start wins" must not return a worse point than one the search found:
    a start that stopped (here: made to stop) below a converged winner is continued."""
    from jaxlaws import _fit, _prepare
    from jaxlaws.kernels import results as R

    h = CH[CH.loss < np.sort(CH.loss.values)[-5]].reset_index(drop=True)
    prep = _prepare.prepare("chinchilla", h)
    r = _prepare.run(prep)
    f = np.asarray(r.start_f).copy()
    best = int(r.best_index)
    worse = next(i for i in np.flatnonzero(np.asarray(r.start_status) == R.CONVERGED) if i != best)
    f[worse] = f[best] * 1.002  # pretend this converged start sits in a worse basin
    # the best start "stopped early" just off the optimum, below the (pretend) converged winner
    theta = np.asarray(r.start_theta).copy()
    theta[best] = theta[best] + 1e-5
    fb = float(prep.problem.objective().value(theta[best], prep.args()))
    assert f[best] < fb < f[worse]
    st = np.asarray(r.start_status).copy()
    st[best] = R.MAX_STEPS
    f2 = f.copy()
    f2[best] = fb
    fake = r._replace(theta=r.start_theta[worse], f=f[worse], status=R.CONVERGED, best_index=worse,
                      start_f=f2, start_status=st, start_theta=theta, lower_unconverged=True)
    out = _fit.polish(prep, fake)
    assert int(out.status) == R.CONVERGED and float(out.f) == pytest.approx(f[best], rel=1e-9)
    assert int(out.best_index) == best and not bool(out.lower_unconverged)


def test_plot_and_demo_refuse_to_overwrite_before_computing(tmp_path, capsys):
    out = tmp_path / "plots"
    out.mkdir()
    (out / "residuals.png").write_bytes(b"mine")
    assert main(["demo", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "residuals.png" in err[0] and "--force" in err[0]
    data = tmp_path / "runs.csv"
    from jaxlaws._demo_data import demo_data

    demo_data().to_csv(data, index=False)
    assert main(["plot", str(data), "--law", "chinchilla", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "residuals.png").read_bytes() == b"mine"  # untouched
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["demo", "--out", str(f)]) == 2 and "is a file" in capsys.readouterr().err


def test_more_bad_input_is_one_line_not_a_traceback(tmp_path, capsys):
    from jaxlaws._demo_data import demo_data

    data = tmp_path / "runs.csv"
    demo_data().to_csv(data, index=False)

    def one_line(argv, text):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("jaxlaws: error:") and text in err[0], err

    one_line(["bootstrap", str(data), "--law", "chinchilla", "--seed", "-1", "--n", "5"], "seed")
    one_line(["bootstrap", str(data), "--law", "chinchilla", "--level", "1.5", "--n", "5"], "--level")
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"params": {"E": "abc", "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}}))
    one_line(["allocate", "--law", "chinchilla", "--params", str(bad), "--compute", "1e22"], "'E'")
    ragged = tmp_path / "d.json"
    ragged.write_text(json.dumps({"draws": {"E": [1.7, 1.8], "A": [400], "B": [400, 410], "alpha": [0.3, 0.3],
                                            "beta": [0.3, 0.3]}}))
    one_line(["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e22",
              "--draws", str(ragged)], "different numbers of draws")
    strings = tmp_path / "s.json"
    strings.write_text(json.dumps({"draws": {"E": ["a", "b"]}}))
    one_line(["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e22",
              "--draws", str(strings)], "not a list of numbers")
    # (the files bind `law` after the failing line: a name the file does not bind is refused unrun)
    for body, text in (("raise RuntimeError('boom')\nlaw = 1\n", "boom"), ("import sys\nsys.exit(0)\nlaw = 1\n", "SystemExit")):
        lf = tmp_path / f"law{len(text)}.py"
        lf.write_text(body)
        one_line(["fit", str(data), "--law", f"{lf}:law"], text)


def test_prediction_bands_keep_the_tables_own_columns(CH):
    h = CH.iloc[::4].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.ConvergenceWarning)
        b = jl.bootstrap("chinchilla", h, n=30, seed=0)
    new = pd.DataFrame({"name": ["70B", "400B"], "N": [70e9, 400e9], "D": [1.4e12, 8e12], "note": ["a", "b"]})
    out = b.predict(new, level=0.8)
    assert list(out.columns[:4]) == ["name", "N", "D", "note"] and list(out.name) == ["70B", "400B"]
    assert (out["lower_0.8"] < out["estimate"]).all() and (out["estimate"] < out["upper_0.8"]).all()


def test_predict_table_is_validated_before_the_bootstrap(tmp_path, capsys):
    from jaxlaws._demo_data import demo_data

    data, new = tmp_path / "runs.csv", tmp_path / "new.csv"
    demo_data().to_csv(data, index=False)
    pd.DataFrame({"N": [7e10, -1.0], "D": [1.4e12, 1e12]}).to_csv(new, index=False)
    assert main(["bootstrap", str(data), "--law", "chinchilla", "--n", "10", "--predict", str(new)]) == 2
    captured = capsys.readouterr()
    assert "'N'" in captured.err and "resamples" not in captured.out  # refused before any resample


def test_a_three_run_profile_is_not_a_minimum():
    # a parabola in log N through 3 runs of one budget interpolates: no minimum can be read off it
    import jax.numpy as jnp

    @jl.law(inputs=("N",), params={"a": jl.free(), "m": jl.free(), "c": jl.positive()})
    def parabola(p, N):
        return p["c"] + p["a"] * (jnp.log(N) - p["m"]) ** 2

    runs = {"N": np.array([1e8, 3e8, 1e9]), "loss": np.array([3.1, 2.95, 3.0])}
    f = _fit_quiet(parabola, runs, starts=jl.grid(a=[0.01, 0.1], m=[18.0, 20.0], c=[2.0, 3.0]))
    assert f.status == "degenerate" and "interpolates" in f.reasons[0]
