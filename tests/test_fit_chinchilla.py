"""Acceptance: the Chinchilla replication on Epoch's 240 points (skips without ../shared)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize
import scipy.special

import jaxlaws as jl
from jaxlaws import kernels as K

POLISHED = 1.0182740178006e-3  # data README: the objective's polished optimum


def test_epoch_grid_fit_reaches_epoch_numbers(chinchilla_fit):
    f = chinchilla_fit
    assert f.status == "converged" and f.n_points == 240
    assert f.objective <= 1.01827402e-3
    assert f.objective == pytest.approx(POLISHED, rel=1e-9)
    p = f.params
    assert p["A"] == pytest.approx(477.8, abs=3)
    assert p["B"] == pytest.approx(2143, abs=15)
    assert p["E"] == pytest.approx(1.8172, abs=5e-4)
    assert p["alpha"] == pytest.approx(0.34731, abs=5e-4)
    assert p["beta"] == pytest.approx(0.36717, abs=5e-4)
    # all 4500 of Hoffmann et al.'s starts are accounted for, stage by stage: the screen keeps
    # 64, halving keeps 16 of those, and the 16 run to an end
    c = f.counts
    assert f.n_starts == 4500 and f.start_status.shape == (4500,)
    assert c["pruned_screen"] == 4500 - 64 - c["nonfinite"]
    assert c["pruned_halving"] == 64 - 16
    assert c["converged"] + c["stalled"] + c["max_iter"] == 16 and c["converged"] >= 8


def _scipy_objective(df):
    """The same objective written independently in numpy: summed Huber on log residuals."""
    lN, lD, ly = np.log(df.N.values), np.log(df.D.values), np.log(df.loss.values)

    def f(t):
        e, a, b, al, be = t
        z = np.stack([a - al * lN, b - be * lD, np.full_like(lN, e)])
        pred = scipy.special.logsumexp(z, axis=0)
        return scipy.special.huber(1e-3, pred - ly).sum()

    return f


def test_scipy_on_same_objective_agrees(chinchilla_240, chinchilla_fit):
    f = _scipy_objective(chinchilla_240)
    th = np.array([np.log(chinchilla_fit.params[k]) if k in "EAB" else chinchilla_fit.params[k]
                   for k in ("E", "A", "B", "alpha", "beta")])
    assert f(th) == pytest.approx(chinchilla_fit.objective, rel=1e-12)
    # scipy polishing from a perturbed point cannot find anything lower
    r = scipy.optimize.minimize(f, th + 0.01, method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 20000, "maxfev": 40000})
    assert r.fun >= chinchilla_fit.objective * (1 - 1e-9)
    # scipy L-BFGS-B from Hoffmann et al.'s unrounded start (Epoch's bootstrap start) lands in
    # a local minimum no better than ours
    r2 = scipy.optimize.minimize(f, [0.5267228, 6.0073404, 6.0179186, 0.33917084, 0.2849083], method="L-BFGS-B",
                                 options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000})
    assert r2.fun >= chinchilla_fit.objective * (1 - 1e-9)


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_full_grid_strategy_agrees_with_screened(chinchilla_240, chinchilla_fit):
    # every start runs (none pruned); 40 Newton steps take the winning basin's starts to
    # convergence (they need ~20), and all 4500 run in lock step, so the cap sets the cost
    full = jl.fit("chinchilla", chinchilla_240, strategy=jl.Strategy.full(max_iter=40))
    assert full.objective == pytest.approx(chinchilla_fit.objective, rel=1e-10)
    for k in full.params:
        assert full.params[k] == pytest.approx(chinchilla_fit.params[k], rel=1e-6)
    # the exhaustive run visits every start: none is pruned
    assert full.counts["pruned_screen"] == full.counts["pruned_halving"] == 0
    # and many starts end in worse local minima: the grid matters
    conv = full.start_status == K.results.CONVERGED
    assert np.sum(full.start_objective[conv] > full.objective * 1.001) > 100


def test_user_defined_law_matches_builtin(chinchilla_240, chinchilla_fit):
    @jl.law(inputs=("N", "D"), params={"E": jl.positive(), "A": jl.positive(), "B": jl.positive(),
                                       "alpha": jl.positive(), "beta": jl.positive()})
    def chinchilla(p, N, D):
        return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]

    g = jl.grid(E=np.exp([-1, -0.5, 0, 0.5, 1]), A=np.exp([0, 5, 10, 15, 20, 25]),
                B=np.exp([0, 5, 10, 15, 20, 25]), alpha=[0.1, 0.5, 1, 1.5, 2], beta=[0.1, 0.5, 1, 1.5, 2])
    f = jl.fit(chinchilla, chinchilla_240, y="loss", loss=jl.huber(1e-3), starts=g)
    assert f.objective == pytest.approx(chinchilla_fit.objective, rel=1e-9)
    for k in f.params:
        assert f.params[k] == pytest.approx(chinchilla_fit.params[k], rel=1e-5)
    pred = f.predict(chinchilla_240)
    np.testing.assert_allclose(pred, chinchilla(f.params, chinchilla_240.N.values, chinchilla_240.D.values), rtol=1e-12)
    s = f.summary()
    assert list(s.index) == ["E", "A", "B", "alpha", "beta"] and (s.status == "converged").all()


def test_cli_fit_gives_same_numbers(tmp_path, chinchilla_fit):
    from conftest import shared_file

    out = tmp_path / "fit.json"
    cmd = [sys.executable, "-m", "jaxlaws", "fit", str(shared_file("chinchilla_epoch.csv")),
           "--law", "chinchilla", "--delta", "1e-3", "--drop-highest", "5", "--json", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["law"] == "chinchilla" and d["status"] == "converged" and d["n_points"] == 240
    assert d["objective"] == pytest.approx(chinchilla_fit.objective, rel=1e-10)
    for k, v in chinchilla_fit.params.items():
        assert d["params"][k] == pytest.approx(v, rel=1e-7)
    # the output is not overwritten without --force
    r2 = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r2.returncode == 2 and "--force" in r2.stderr and len(r2.stderr.strip().splitlines()) == 1
