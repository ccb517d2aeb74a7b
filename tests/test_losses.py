"""Losses are one function each (kernels/_losses.py); their derivatives come from that function."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.special

import jaxlaws as jl
from jaxlaws import kernels as K
from jaxlaws._cli import main

from conftest import shared_file


@pytest.mark.parametrize("kind", sorted(K.LOSSES))
def test_derived_derivatives_match_finite_differences(kind):
    spec = K.LOSSES[kind]
    lp = jnp.asarray(spec.defaults if spec.defaults else (0.0,))
    r = jnp.linspace(-0.05, 0.05, 41) + 1.234e-4  # off the kinks
    d1, d2 = K.derivatives(spec.rho)
    h = 1e-7
    fd1 = (spec.rho(r + h, lp) - spec.rho(r - h, lp)) / (2 * h)
    np.testing.assert_allclose(d1(r, lp), fd1, rtol=1e-6, atol=1e-9)
    fd2 = (d1(r + h, lp) - d1(r - h, lp)) / (2 * h)
    np.testing.assert_allclose(d2(r, lp), fd2, rtol=1e-5, atol=1e-6)


def test_analytic_power_sum_hessian_uses_the_loss_itself():
    # the hot path's gradient and Hessian against autodiff of the plain objective, for every loss
    rng = np.random.default_rng(0)
    xs = (jnp.asarray(rng.normal(size=30)), jnp.asarray(rng.normal(size=30)))
    y = jnp.asarray(rng.normal(scale=0.05, size=30) + 0.7)
    w = jnp.asarray(rng.uniform(0.5, 2, size=30))
    theta = jnp.array([0.2, -0.3, 0.1, 0.35, 0.3])  # (log E, log A', log B', alpha, beta)
    for kind, spec in K.LOSSES.items():
        lp = jnp.asarray(spec.defaults if spec.defaults else (0.0,))
        for mean in (False, True):
            obj = K.power_sum_objective(((1, 3), (2, 4)), 0, 5, spec.rho, mean)
            args = (xs, y, w, lp)
            f, g, H = obj.vgh(theta, args)
            np.testing.assert_allclose(g, jax.grad(obj.value)(theta, args), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(H, jax.hessian(obj.value)(theta, args), rtol=1e-8, atol=1e-10)


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_asymmetric_absolute_error_fit_reaches_scipy_optimum(tmp_path):
    # One published Chinchilla refit minimises absolute log error with over-predictions weighted
    # x10. Newton gets a smoothed version (kink smoothed over eps) and the smoothing vanishes by
    # continuation inside fit (each stage warm-started at the last); the non-smooth objective is then
    # compared with scipy's derivative-free minimisers on the same objective.
    import pandas as pd

    df = pd.read_csv(shared_file("chinchilla_epoch.csv"))
    lN, lD, ly = np.log(df.N.values), np.log(df.D.values), np.log(df.loss.values)

    def pinball(t):
        e, a, b, al, be = t
        r = scipy.special.logsumexp(np.stack([np.full_like(lN, e), a - al * lN, b - be * lD]), axis=0) - ly
        return np.sum(np.where(r > 0, 10.0, 1.0) * np.abs(r))

    # one command (the API's fit): eps driven from 1e-3 to the default 1e-6 by continuation
    out = tmp_path / "pinball.json"
    assert main(["fit", str(shared_file("chinchilla_epoch.csv")), "--law", "chinchilla", "--loss", "asymmetric:10,1",
                 "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["status"] == "converged" and "asymmetric[over 10, under 1]" in res["objective_minimised"]
    assert "smoothed within 1e-06" in res["objective_minimised"]
    p = res["params"]
    ours = pinball([np.log(p["E"]), np.log(p["A"]), np.log(p["B"]), p["alpha"], p["beta"]])
    # the printed objective is the stated (non-smooth) loss's, not the smoothed one minimised
    assert res["objective"] == pytest.approx(ours, rel=1e-9) and res["objective_smoothed"] < res["objective"]
    # scipy: Powell from the best 4 points of Hoffmann et al.'s grid, then Nelder-Mead polish
    grid = np.array(np.meshgrid([-1, -.5, 0, .5, 1], [0, 5, 10, 15, 20, 25], [0, 5, 10, 15, 20, 25],
                                [0, .5, 1, 1.5, 2], [0, .5, 1, 1.5, 2])).reshape(5, -1).T
    best = grid[np.argsort([pinball(t) for t in grid])[:4]]
    rs = [scipy.optimize.minimize(pinball, b, method="Powell", options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 40000})
          for b in best]
    r = min(rs, key=lambda r: r.fun)
    r = scipy.optimize.minimize(pinball, r.x, method="Nelder-Mead",
                                options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 40000, "maxfev": 80000})
    assert ours <= r.fun * (1 + 1e-6), (ours, r.fun)
    # the smoothed objective is the non-smooth one minus at most eps/2 per point (times its weight)
    assert ours - 10 * 1e-6 * len(df) / 2 <= res["objective"] <= ours + 1e-12


def test_custom_loss_and_mean_normalisation():
    rng = np.random.default_rng(3)
    N = np.geomspace(1e7, 1e10, 20)
    D = np.geomspace(1e9, 1e11, 20)[rng.permutation(20)]
    y = (1.8 + 400 / N**0.34 + 2000 / D**0.37) * np.exp(0.01 * rng.standard_normal(20))
    data = {"N": N, "D": D, "loss": y}
    grid = jl.grid(E=[1.0, 2.0], A=[100.0, 1000.0], B=[100.0, 3000.0], alpha=[0.2, 0.5], beta=[0.2, 0.5])
    sq = jl.fit("chinchilla", data, loss=jl.squared(), starts=grid)
    # a user loss written as a plain function: the same squared loss, scaled by its parameter
    mine = jl.fit("chinchilla", data, loss=jl.custom_loss(lambda r, lp: lp[0] * r * r, values=[0.5]), starts=grid)
    assert mine.objective == pytest.approx(sq.objective, rel=1e-10)
    assert mine.params["alpha"] == pytest.approx(sq.params["alpha"], rel=1e-7)
    # a mean objective has the same minimiser and 1/n times the value
    mean = jl.fit("chinchilla", data, loss=jl.squared(normalise="mean"), starts=grid)
    assert mean.objective == pytest.approx(sq.objective / 20, rel=1e-10)
    assert mean.params["beta"] == pytest.approx(sq.params["beta"], rel=1e-7)
    assert "(1 / sum_i w_i)" in mean.objective_description
