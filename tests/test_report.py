"""Fit reports: standard errors from the curvature, checked against statsmodels and the bootstrap."""

import json

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl


def _power_law_data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e10, n)
    # heteroskedastic log noise: HC0 and the classical SEs differ, so each is tested
    y = 3.0 * x**-0.2 * np.exp((0.01 + 0.03 * np.linspace(0, 1, n)) * rng.standard_normal(n))
    return pd.DataFrame({"x": x, "loss": y})


def test_squared_loss_power_law_matches_statsmodels_exactly():
    """A squared-loss power law in log space is OLS of log y on log x: the classical SEs equal
    statsmodels' OLS bse, the sandwich ones its HC3 bse (log c's SE is c's relative SE), and the
    intervals are statsmodels' t intervals with n - k degrees of freedom (log c's mapped to c)."""
    sm = pytest.importorskip("statsmodels.api")
    df = _power_law_data()
    f = jl.fit("power_law", df, recipe="log_least_squares")
    X = sm.add_constant(np.log(df.x.values))
    for kind, cov_type in (("classical", "nonrobust"), ("sandwich", "HC3")):
        ols = sm.OLS(np.log(df.loss.values), X).fit(cov_type=cov_type, use_t=True)
        rep = f.report(kind=kind)
        t = rep.table
        c, a = f.params["c"], f.params["a"]
        assert np.log(c) == pytest.approx(ols.params[0], rel=1e-9) and a == pytest.approx(ols.params[1], rel=1e-9)
        assert t.loc["c", "se"] / c == pytest.approx(ols.bse[0], rel=1e-6), kind
        assert t.loc["a", "se"] == pytest.approx(ols.bse[1], rel=1e-6), kind
        lo, hi = ols.conf_int(0.05)[1]
        assert (t.loc["a", "lower"], t.loc["a", "upper"]) == pytest.approx((lo, hi), rel=1e-6)
        lo, hi = np.exp(ols.conf_int(0.05)[0])
        assert (t.loc["c", "lower"], t.loc["c", "upper"]) == pytest.approx((lo, hi), rel=1e-6)
        assert (t.df == 38).all() and rep.stats["df"] == 38 and list(t.scale) == ["log", "natural"]
    rep = f.report(kind="classical")
    ols = sm.OLS(np.log(df.loss.values), X).fit()
    # AIC/BIC of the Gaussian working likelihood: statsmodels' for OLS
    assert rep.stats["aic"] == pytest.approx(ols.aic, rel=1e-9) and rep.stats["bic"] == pytest.approx(ols.bic, rel=1e-9)
    assert rep.correlation.loc["log c", "a"] == pytest.approx(
        ols.cov_params()[0, 1] / np.sqrt(ols.cov_params()[0, 0] * ols.cov_params()[1, 1]), rel=1e-6)


def test_few_residual_degrees_of_freedom_get_t_intervals_or_none():
    """Reproduction 3 of the calibration issue: a power law on 3 points (n - k = 1). The default
    report of a squared-loss fit is the classical one with t(1) intervals, equal to statsmodels'
    OLS interval (12.7 / 1.96 = 6.5x wider than a normal one); a sandwich is refused with the
    reason, and so is any SE of a Huber fit (no loss-free spread from 1 residual)."""
    sm = pytest.importorskip("statsmodels.api")
    df = _power_law_data(n=3)
    f = jl.fit("power_law", df, recipe="log_least_squares")
    rep = f.report()
    ols = sm.OLS(np.log(df.loss.values), sm.add_constant(np.log(df.x.values))).fit()
    assert rep.kind == "classical" and rep.stats["df"] == 1
    assert (rep.table.loc["a", "lower"], rep.table.loc["a", "upper"]) == pytest.approx(tuple(ols.conf_int(0.05)[1]), rel=1e-6)
    sw = f.report(kind="sandwich")
    assert sw.table.se.isna().all() and any("n - k = 1" in n for n in sw.notes)
    hr = jl.fit("power_law", df, loss=jl.huber(1e-3)).report()
    assert hr.table.se.isna().all() and any("residual degrees of freedom" in n for n in hr.notes)


def test_huber_sandwich_beside_the_bootstrap_on_the_chinchilla_points(chinchilla_240, chinchilla_fit):
    """Huber (delta 1e-3) on the 240 Chinchilla points: the asymptotic SEs are 0.70-1.15x a
    1000-resample bootstrap's (E 0.92, A 1.14, B 0.70, alpha 1.15, beta 0.71: the real residuals
    are heavy-tailed, and at data simulated from the fit with Gaussian noise the same sandwich is
    0.94-1.03x the estimates' true spread, bench_calibration --part chinchilla); the report names every parameter
    outside [0.8, 1.25] and recommends the bootstrap for it; a positive coefficient's interval is
    positive, and the kinked-loss note appears exactly when delta < KINK_RATIO x the residual scale
    (or the RMS residual) or at least KINK_LINEAR of the residuals are in Huber's linear part."""
    boot = jl.bootstrap("chinchilla", chinchilla_240, n=1000, progress=False)
    rep = chinchilla_fit.report(boot=boot)
    r = rep.table.se_ratio
    assert ((r > 0.6) & (r < 1.4)).all(), rep.table
    off = [k for k, v in r.items() if not 0.8 <= v <= 1.25]
    note = [n for n in rep.notes if "disagree" in n]
    assert bool(off) == bool(note) and all(f"{k} (" in note[0] for k in off), (off, note)
    from jaxlaws._report import KINK_LINEAR, KINK_RATIO

    r = chinchilla_fit.residuals()
    big = max(rep.stats["residual_scale"], np.sqrt(np.mean(r**2)))
    kinked = 1e-3 < KINK_RATIO * big or np.mean(np.abs(r) > 1e-3) >= KINK_LINEAR
    assert rep.stats["kinked_loss"] == kinked == any("below the residual scale" in n for n in rep.notes)
    assert (rep.table.loc[["E", "A", "B"], "lower"] > 0).all()
    assert rep.stats["n"] == 240 and rep.stats["k"] == 5 and rep.stats["df"] == 235
    s = str(rep)
    assert "sandwich" in s and "AIC" in s and "log A" in s and "t with 235 degrees of freedom" in s


def test_report_says_when_there_is_nothing_to_report():
    """A degenerate fit (two values of x for three parameters) gets no SEs and says why."""
    df = pd.DataFrame({"x": [1e6] * 5 + [1e7], "loss": [1.0, 1.1, 0.9, 1.05, 0.95, 0.8]})
    with pytest.warns(jl.ConvergenceWarning, match="degenerate"):
        f = jl.fit("power_law_constant", df)
    rep = f.report()
    assert f.status == "degenerate" and rep.table.se.isna().all() and any("no standard errors" in n for n in rep.notes)
    with pytest.raises(jl.OptionError, match="kind"):
        f.report(kind="hc3")


def test_fit_cli_prints_and_writes_the_report(tmp_path, capsys):
    from jaxlaws._cli import main

    df = _power_law_data(1)
    df.to_csv(tmp_path / "runs.csv", index=False)
    assert main(["fit", str(tmp_path / "runs.csv"), "--law", "power_law", "--recipe", "log_least_squares",
                 "--json", str(tmp_path / "f.json")]) == 0
    out = capsys.readouterr().out
    assert "95% interval" in out and "AIC" in out and "residual scale" in out
    js = json.loads((tmp_path / "f.json").read_text())
    assert js["report"]["se_method"] == "sandwich" and {p["parameter"] for p in js["report"]["parameters"]} == {"c", "a"}


def test_interval_of_a_bounded_parameter_stays_in_its_box():
    """A one-sided bound (A > 1) and a two-sided box: the interval is drawn in the box's own
    coordinate (log distance to the bound, logit), so it never leaves the box, and its width
    agrees with the linear one to first order when the estimate is far from the bound."""
    from jaxlaws._report import _inside_box

    lo, up = _inside_box(2277.0, 1.96 * 2463.0, jl.bounded(1.0, np.inf))
    assert 1.0 < lo < 2277.0 < up
    # the delta method: log(A - 1) has SE 2463 / 2276, so the interval is 1 + 2276 exp(-+1.96 * 1.082)
    assert np.isclose(lo, 1 + 2276 * np.exp(-1.96 * 2463 / 2276)) and np.isclose(up, 1 + 2276 * np.exp(1.96 * 2463 / 2276))
    lo, up = _inside_box(0.3, 1.96 * 0.2, jl.bounded(0.0, 0.5))
    assert 0.0 < lo < 0.3 < up < 0.5
    lo, up = _inside_box(0.25, 1.96 * 1e-4, jl.bounded(0.0, 0.5))  # far from both ends: the linear interval
    assert np.isclose(lo, 0.25 - 1.96e-4, rtol=1e-6) and np.isclose(up, 0.25 + 1.96e-4, rtol=1e-6)
    df = _power_law_data(2)
    f = jl.fit("power_law", df, bounds={"a": (-0.21, 0.0)}, loss="squared")
    row = f.report().table.loc["a"]
    assert -0.21 < row.lower < row.estimate < row.upper < 0.0


def test_example_files_and_the_readme_fits_on_them(tmp_path, capsys):
    """``jaxlaws demo --write-examples`` writes every file the README's commands read, refuses to
    overwrite them, and a partial ``--starts`` grid with ``--bounds`` takes the law's other axes
    moved inside the bounds (the README's squared-loss command)."""
    from jaxlaws._cli import main

    assert main(["demo", "--write-examples", str(tmp_path)]) == 0
    names = {"runs.csv", "bigger.csv", "tasks.csv", "curves.csv", "downstream.csv", "big.csv", "my_laws.py"}
    assert names <= {p.name for p in tmp_path.iterdir()}
    assert main(["demo", "--write-examples", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    runs = str(tmp_path / "runs.csv")
    assert main(["fit", runs, "--law", "chinchilla", "--loss", "squared", "--residual", "raw", "--starts",
                 "alpha=0:2:5,beta=0:2:5", "--bounds", "A=1:inf", "--bounds", "B=1:inf", "--weights", "1/loss**2"]) == 0
    assert main(["fit", runs, "--law", str(tmp_path / "my_laws.py") + ":my_law"]) == 0
    out = capsys.readouterr().out
    assert out.count("status converged") == 2
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert (curves.n / curves.P).max() <= 256  # within data_filtering's epoch bound


def test_a_coefficient_underflowed_to_zero_does_not_abort_the_report():
    """Found by tests/test_malformed.py's random frames (also at 20aa165): a degenerate Chinchilla
    fit with A = 0 made the report's coordinates take log(0), a RuntimeWarning that the CLI turned
    into a traceback. The coordinate is -inf, with no warning."""
    from jaxlaws._information import Coordinates
    from jaxlaws._prepare import resolve_law

    law = resolve_law("chinchilla")
    co = Coordinates(law, {"E": 1.7, "A": 0.0, "B": 400.0, "alpha": 0.3, "beta": 0.3})
    assert co.phi[co.names.index("A")] == -np.inf and np.isfinite(co.phi[co.names.index("E")])
