"""Coverage proven by simulation: do the bootstrap's intervals hold the truth as often as they say?

``coverage(fit)`` treats the fit as the truth and the fitted runs as the design. It simulates
``n_sim`` data sets (noise of the fit's robust scale in residual space: Gaussian, or the
residuals' own shape resampled), and on each runs the whole recipe: ``n_boot`` resamples
(multinomial weights) refitted with the fit's own loss, percentile intervals of every free
parameter and of each target (``a``, ``N_opt(C=...)``, ...), and, at ``new_runs``, new-run bands
(each resample's prediction plus noise of the scale the simulated fit's residuals show). All
``n_sim x (n_boot + 1)`` fits are one compiled ``vmap`` of ``fit_arrays`` (one start, at the
truth: the question is the intervals' calibration, not the optimiser's).

The result has one row per (quantity, level): the empirical coverage over data sets with its
binomial standard error and the mean interval width. New-run coverage is exact given each band
(the probability that a new run, truth plus noise, lands inside it), averaged over data sets.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import OptionError
from ._design_sim import simulated_targets, truth_refit
from ._information import prediction
from ._noise import MAD, fit_noise
from ._problem import residual_target
from ._resample import resample_weights
from ._target import parse_target
from ._util import x64
from .kernels import results as R


@functools.lru_cache(maxsize=8)
def _program(law, loss, residual, fixed_keys, start, targets):
    f = prediction(law, residual)
    refit = truth_refit(law, loss, residual, fixed_keys, start)

    def one(X, y, w, fixed_vals):
        p, status = refit(X, y, w, fixed_vals)
        vals = jnp.stack([p[k] for k in law.param_names] + [t.fn(p) for t in targets])
        return vals, status, p

    def sim(X, w0, e, W, truth, fixed_vals, Xnew):
        y = simulated_targets(law, residual, truth, X, e)
        v0, s0, p0 = one(X, y, w0, fixed_vals)
        # the simulated fit's own noise scale, as a user would estimate it (1.4826 MAD)
        r = jnp.where(w0 > 0, f(p0, X) - residual_target(residual, y), jnp.nan)
        med = jnp.nanmedian(r)
        sd = MAD * jnp.nanmedian(jnp.abs(r - med))
        vb, sb, pb = jax.vmap(lambda w: one(X, y, w * w0, fixed_vals))(W)
        newp = jax.vmap(lambda p: f(p, Xnew))(pb)  # (B, m) in residual space
        return vb, sb, s0, sd, newp

    return jax.jit(jax.vmap(sim, in_axes=(None, None, 0, 0, None, None, None)))


@x64
def coverage(fit, *, n_sim: int = 200, n_boot: int = 200, levels=(0.8, 0.95), targets=(), new_runs=None,
             noise: str = "gaussian", seed: int = 0, flops_per_token: float = 6.0, inputs=None, chunk: int = 50):
    """Empirical coverage of percentile bootstrap intervals at ``fit``'s own design.

    ``targets``: extra quantities (``"a"``, ``"N_opt(C=1e24)"``, a callable) besides the free
    parameters; ``new_runs``: rows (dict/DataFrame of the law's inputs) for new-run bands;
    ``noise``: ``"gaussian"`` or ``"residuals"`` (their shape resampled). Returns a DataFrame
    (quantity, level, coverage, se, mean_width, n_sim).
    """
    import pandas as pd

    from ._design import table_inputs

    if fit.status != "converged":
        raise OptionError(f"coverage simulates from the fit; this one is {fit.status!r}")
    if noise not in ("gaussian", "residuals"):
        raise OptionError(f"noise={noise!r} must be 'gaussian' or 'residuals'")
    if int(n_sim) < 10 or int(n_boot) < 20:
        raise OptionError("coverage needs n_sim >= 10 and n_boot >= 20")
    levels = tuple(float(v) for v in np.atleast_1d(levels))
    if not all(0 < v < 1 for v in levels):
        raise OptionError(f"levels {levels} must lie in (0, 1)")
    law = fit.law
    tg = tuple(parse_target(law, t, flops_per_token=flops_per_token, inputs=inputs) for t in targets)
    X, w0, used = fit.prepared.used()
    X = {k: jnp.asarray(X[k]) for k in law.inputs}
    n = len(used)
    sigma = fit_noise(fit)
    rng = np.random.default_rng(seed)
    if noise == "gaussian":
        E = sigma * rng.standard_normal((int(n_sim), n))
    else:
        r = fit.residuals()[used]
        r = r - np.median(r)
        E = -r[rng.integers(0, n, (int(n_sim), n))]
    # ordinary bootstrap counts, as jl.bootstrap draws them, with a seed per simulated data set
    W = np.stack([resample_weights(n, "ordinary", int(n_boot), (seed + 1 + s) % 2**32) for s in range(int(n_sim))])
    Xnew = (table_inputs(law, new_runs, None, None, fit, inputs) if new_runs is not None
            else {k: np.asarray(v)[:1] for k, v in X.items()})
    Xnew = {k: jnp.asarray(v) for k, v in Xnew.items()}
    truth = {k: jnp.asarray(v) for k, v in fit.params.items()}
    start = tuple((k, float(v)) for k, v in fit.params.items() if k not in fit.fixed)
    fixed_keys = tuple(fit.fixed)
    prog = _program(law, fit.loss, fit.residual, fixed_keys, start, tg)
    fixed_vals = tuple(jnp.asarray(fit.fixed[k]) for k in fixed_keys)
    outs = []
    for lo in range(0, int(n_sim), int(chunk)):  # chunks of data sets keep memory flat
        hi = min(lo + int(chunk), int(n_sim))
        outs.append([np.asarray(a) for a in prog(X, jnp.asarray(w0), jnp.asarray(E[lo:hi]), jnp.asarray(W[lo:hi]),
                                                  truth, fixed_vals, Xnew)])
    vb, sb, s0, sd, newp = (np.concatenate([o[i] for o in outs]) for i in range(5))
    names = list(law.param_names) + [t.name for t in tg]
    true_vals = np.array([fit.params[k] for k in law.param_names] + [float(t.fn(truth)) for t in tg])
    free = [i for i, k in enumerate(names) if k not in fit.fixed]
    ok_sim = s0 == R.CONVERGED
    rows = []
    for level in levels:
        a = (1 - level) / 2
        for i in free:
            hits, widths = [], []
            for s in np.flatnonzero(ok_sim):
                v = vb[s, sb[s] == R.CONVERGED, i]
                v = v[np.isfinite(v)]
                if v.size < 10:
                    continue
                lo, hi = np.quantile(v, a), np.quantile(v, 1 - a)
                hits.append(lo <= true_vals[i] <= hi)
                widths.append(hi - lo)
            rows.append(_row(names[i], level, hits, widths))
        if new_runs is not None:
            f = prediction(law, fit.residual)
            t_new = np.asarray(f(truth, Xnew))
            zs = np.random.default_rng(seed + 1).standard_normal(4000)
            # the simulated world's own noise: where a new run really lands around the truth
            pool = E.ravel()[np.random.default_rng(seed + 2).integers(0, E.size, 20000)]
            for j in range(t_new.shape[0]):
                probs, widths = [], []
                for s in np.flatnonzero(ok_sim):
                    p = newp[s, sb[s] == R.CONVERGED, j]
                    # new-run band: resampled predictions plus the simulated fit's own noise scale
                    samples = p[np.arange(4000) % p.size] + sd[s] * zs
                    lo, hi = np.quantile(samples, a), np.quantile(samples, 1 - a)
                    probs.append(np.mean((t_new[j] + pool >= lo) & (t_new[j] + pool <= hi)))
                    widths.append(hi - lo)
                rows.append(_row(f"new run {j}", level, probs, widths))
    return pd.DataFrame(rows)


def _row(name, level, hits, widths):
    h = np.asarray(hits, float)
    m = len(h)
    cov = float(h.mean()) if m else float("nan")
    return {"quantity": name, "level": level, "coverage": cov, "se": float(np.sqrt(cov * (1 - cov) / m)) if m else np.nan,
            "mean_width": float(np.mean(widths)) if m else np.nan, "n_sim": m}
