"""Designs proven by simulation: does a batch of new runs shrink the target's interval as promised?

``compare_designs`` treats the fit as the truth: it simulates noisy outcomes at the current runs
plus each proposed batch (noise in residual space, see below), refits the
law to every simulated data set with the fit's own loss, and reports, per design, the spread
of the refitted target across replications (the width of its central ``level`` interval, i.e.
what a bootstrap of that design would report on average) next to the linearised prediction.
All designs and replications are one compiled ``vmap`` of ``fit_arrays``. By default the
noise is *wild* (each fitted run keeps its own residual, with a random sign), the world in
which the design's sandwich covariance is the right one; ``noise="gaussian"`` simulates i.i.d.
Gaussian noise of the fit's robust scale instead. The same noise draws
are used for the shared current runs in every design (common random numbers), so the ratios
between designs are paired comparisons, not differences of independent noisy widths.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._design import design_programs, table_inputs
from ._information import Coordinates, expected_variance, information
from ._noise import fit_noise
from ._errors import OptionError
from ._fit import fit_arrays
from ._prepare import Strategy
from ._problem import residual_inverse
from ._information import prediction
from ._target import parse_target
from ._util import x64
from .kernels import design as KD
from .kernels import results as R


def truth_refit(law, loss, residual, fixed_keys, start, max_iter: int | None = None):
    """``refit(X, y, w, fixed_vals) -> (params, status)``: the fit of one simulated data set with
    the fit's own loss from one start, the truth (``start``: (name, value) pairs; simulations ask
    how estimates scatter, not whether the optimiser finds the basin). Traceable: vmap it.
    ``max_iter``: a cap on Newton steps (a refit that reaches it is ``max_iter``, not converged);
    under ``vmap`` every row runs as long as the slowest, so one cap bounds the whole batch."""
    starts = {k: np.asarray([v]) for k, v in start}
    strategy = None if max_iter is None else Strategy(max_iter=int(max_iter))

    def refit(X, y, w, fixed_vals):
        p, r = fit_arrays(law, X, y, w, starts=starts, loss=loss, residual=residual, strategy=strategy,
                          fixed=dict(zip(fixed_keys, fixed_vals)), return_result=True)
        return p, r.status

    return refit


def simulated_targets(law, residual, truth, X, e):
    """Targets on the data's scale: the truth's prediction in residual space plus noise ``e``."""
    return residual_inverse(residual, prediction(law, residual)(truth, X) + e)


@functools.lru_cache(maxsize=8)
def _program(law, loss, residual, fixed_keys, target, start):
    """One compiled program over (designs, replications); ``start``: the one start point (the
    truth) as a tuple of (name, value), part of the key because starts are resolved at trace time."""
    refit = truth_refit(law, loss, residual, fixed_keys, start)

    def one(X, w, y, fixed_vals):
        p, status = refit(X, y, w, fixed_vals)
        return target.fn(p), status

    def sim(X, w, e, truth, fixed_vals):
        y = simulated_targets(law, residual, truth, X, e)  # (replications, rows)
        return jax.vmap(lambda yy: one(X, w, yy, fixed_vals))(y)

    return jax.jit(jax.vmap(sim, in_axes=(0, 0, 0, None, None)))


NOISES = ("wild", "gaussian")


def _noise(fit, kind, sigma, n0, L, n_designs, n_rep, seed):
    """Residual-space noise (designs, replications, rows). The current runs' noise is one stream
    shared by every design (paired comparisons); each design's added runs get their own stream,
    so no design's draws depend on another's size.

    ``wild``: each current run keeps its own residual with a random sign (Rademacher: the wild
    bootstrap, which keeps each run's noise level and the heavy tails); an added run takes a
    residual drawn from all of them, with a random sign. ``gaussian``: i.i.d. N(0, sigma^2).
    """
    rng0 = np.random.default_rng([seed, 0])
    if kind == "gaussian":
        e0 = sigma * rng0.standard_normal((n_rep, n0))
    else:
        r = fit.residuals()[fit.prepared.used()[2]]
        e0 = r[None, :] * rng0.choice([-1.0, 1.0], (n_rep, n0))
    out = []
    for i in range(n_designs):
        rng = np.random.default_rng([seed, 1 + i])
        m = L - n0
        if kind == "gaussian":
            ea = sigma * rng.standard_normal((n_rep, m))
        else:
            ea = r[rng.integers(0, len(r), (n_rep, m))] * rng.choice([-1.0, 1.0], (n_rep, m))
        out.append(np.concatenate([e0, ea], axis=1))
    return np.stack(out)


def _width(v, level):
    v = v[np.isfinite(v)]
    if v.size < 10:
        return float("nan")
    a = (1 - level) / 2
    return float(np.quantile(v, 1 - a) - np.quantile(v, a))


@x64
def compare_designs(fit, designs: dict, target, *, n_rep: int = 200, seed: int = 0, noise: str = "gaussian",
                    sigma: float | None = None, level: float = 0.8, inputs=None, flops_per_token: float = 6.0, n_boot: int = 200):
    """Simulated interval widths of ``target`` for the current runs plus each design.

    ``designs``: ``{name: runs}`` (DataFrames or dicts with the law's inputs, in the fitted table's
    units); a ``Design`` contributes its chosen runs. Returns a DataFrame, one row per design
    (the first is ``current runs``): runs added, their cost, converged replications, the simulated
    width of the central ``level`` interval, its ratio to the current runs' width with a
    bootstrap standard error over replications, and the linearised (predicted) ratio.
    """
    import pandas as pd

    from ._design import Design

    law = fit.law
    if fit.status != "converged":
        raise OptionError(f"compare_designs simulates from the fit; this one is {fit.status!r}")
    tgt = parse_target(law, target, flops_per_token=flops_per_token, inputs=inputs)
    if noise not in NOISES:
        raise OptionError(f"noise={noise!r} must be one of {NOISES}")
    if int(n_rep) < 10:
        raise OptionError(f"n_rep={n_rep!r}: interval widths need at least 10 replications")
    sigma = fit_noise(fit) if sigma is None else float(sigma)
    X0, w0, _ = fit.prepared.used()
    wn = w0 / np.median(w0)
    added = {"current runs": {k: np.zeros(0) for k in law.inputs}}
    for name, runs in designs.items():
        if isinstance(runs, Design):
            runs = {k: v for k, v in runs.runs.items() if k in law.inputs}
        added[name] = table_inputs(law, runs, None, None, fit, inputs)
    L = len(wn) + max(len(next(iter(a.values()))) for a in added.values())
    Xs, Ws, costs, counts = [], [], [], []
    for a in added.values():
        m = len(next(iter(a.values())))
        pad = L - len(wn) - m
        # padded rows repeat the first run with weight 0: absent from the fit, finite everywhere
        Xs.append({k: np.concatenate([X0[k], a[k], np.full(pad, X0[k][0])]) for k in law.inputs})
        Ws.append(np.concatenate([wn, np.ones(m), np.zeros(pad)]))
        costs.append(float(np.sum(flops_per_token * a["N"] * a["D"])) if m and {"N", "D"} <= set(a) else 0.0)
        counts.append(m)
    X = {k: jnp.asarray(np.stack([x[k] for x in Xs])) for k in law.inputs}
    W = jnp.asarray(np.stack(Ws))
    e = _noise(fit, noise, sigma, len(wn), L, len(added), int(n_rep), seed)
    truth = {k: jnp.asarray(v) for k, v in fit.params.items()}
    start = tuple((k, float(v)) for k, v in fit.params.items() if k not in fit.fixed)
    fixed_keys = tuple(fit.fixed)
    prog = _program(law, fit.loss, fit.residual, fixed_keys, tgt, start)
    t, st = prog(X, W, jnp.asarray(e), truth,
                 tuple(jnp.asarray(fit.fixed[k]) for k in fixed_keys))
    t, st = np.asarray(t), np.asarray(st)
    t = np.where(st == R.CONVERGED, t, np.nan)
    widths = [_width(row, level) for row in t]
    # the prediction the design's own model makes for the simulated world: with wild noise each
    # current run keeps its residual's size (the sandwich covariance) and new runs draw from the
    # pool; with i.i.d. Gaussian noise the Fisher covariance at that noise
    co = Coordinates(law, fit.params, fit.fixed)
    jac, grad, _, _ = design_programs(law, fit.residual, co.names, co.log, tuple(co.const), tgt)
    phi, const = jnp.asarray(co.phi), tuple(jnp.asarray(v) for v in co.const.values())
    J0 = np.asarray(jac(phi, const, {k: jnp.asarray(v) for k, v in X0.items()}))
    wild = noise == "wild"
    A, B, ca, cb = information(fit, J0, wn, "sandwich" if wild else "fisher", None if wild else sigma)
    Ainv = jnp.asarray(np.linalg.inv(A))
    g = jnp.asarray(np.asarray(grad(phi, const)))
    v0 = float(KD.variance(Ainv, jnp.asarray(B), g))
    rng = np.random.default_rng(seed + 1)
    boot = rng.integers(0, int(n_rep), (int(n_boot), int(n_rep)))
    base_b = np.array([_width(t[0][b], level) for b in boot])
    rows = []
    for i, name in enumerate(added):
        a = added[name]
        v1 = v0
        if counts[i]:
            Ja = jac(phi, const, {k: jnp.asarray(v) for k, v in a.items()})
            v1 = expected_variance(fit, "sandwich" if wild else "fisher", np.asarray(Ja), np.asarray(Ainv), B,
                                   np.asarray(g), ca, cb, seed)
        ratio_b = np.array([_width(t[i][b], level) for b in boot]) / base_b
        rows.append({"design": name, "runs": counts[i], "cost": costs[i], "converged": int(np.isfinite(t[i]).sum()),
                     "width": widths[i], "ratio": widths[i] / widths[0], "ratio_se": float(np.nanstd(ratio_b, ddof=1)),
                     "predicted_ratio": float(np.sqrt(v1 / v0))})
    return pd.DataFrame(rows)
