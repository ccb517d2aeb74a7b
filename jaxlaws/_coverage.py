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
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._progress import Progress
from ._errors import OptionError
from ._design_sim import simulated_targets, truth_refit
from ._information import prediction
from ._noise import MAD, fit_noise
from ._problem import residual_target
from ._resample import resample_weights
from ._target import parse_target
from ._util import x64
from .kernels import results as R


MAX_ITER = 150


@functools.lru_cache(maxsize=8)
def _program(law, loss, residual, fixed_keys, start, targets):
    f = prediction(law, residual)
    # refits start at the truth and converge in tens of Newton steps (99.9% within 75 on a
    # 30-run design); a rare slow one would hold every row of its vmapped batch for up to
    # 1000 steps, so it is capped and counted as not converged
    refit = truth_refit(law, loss, residual, fixed_keys, start, max_iter=MAX_ITER)

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


@dataclass(frozen=True)
class Calibration:
    """Calibrated tail levels for the percentile interval, learnt by simulation at a design.

    ``ranks[q]`` holds, for each simulated data set, where the truth of quantity ``q`` fell
    within that data set's bootstrap distribution (the fraction of converged resamples below
    it; 0.5 would be a median-unbiased estimator). A percentile interval at tails ``(a, 1-a)``
    covers exactly when the rank lies between them, so the calibrated tails of a ``level``
    interval are the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the ranks (Loh 1987's
    calibration of a confidence interval; here the outer level is a parametric simulation
    from the fit, so it costs one batched program rather than a double bootstrap).
    """

    ranks: dict
    n_sim: int
    n_boot: int
    seed: int
    noise: str

    def tails(self, quantity: str, level: float) -> tuple[float, float]:
        """The bootstrap quantile levels ``(lower, upper)`` of a calibrated ``level`` interval."""
        if quantity not in self.ranks:
            raise OptionError(f"no calibration for {quantity!r}; calibrated: {sorted(self.ranks)}")
        u = self.ranks[quantity]
        return float(np.quantile(u, (1 - level) / 2)), float(np.quantile(u, (1 + level) / 2))

    def table(self, levels=(0.8, 0.95)):
        """One row per (quantity, level): the calibrated tails next to the nominal ones."""
        import pandas as pd

        rows = []
        for q in self.ranks:
            for level in levels:
                lo, hi = self.tails(q, level)
                rows.append({"quantity": q, "level": level, "nominal_lower": (1 - level) / 2, "lower_tail": lo,
                             "upper_tail": hi, "nominal_upper": (1 + level) / 2})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"n_sim": self.n_sim, "n_boot": self.n_boot, "seed": self.seed, "noise": self.noise,
                "tails": self.table().to_dict(orient="records"),
                "ranks": {q: np.asarray(u).tolist() for q, u in self.ranks.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        """The calibration ``to_dict`` wrote (``jaxlaws.load`` of a calibrated bootstrap)."""
        return cls(ranks={q: np.asarray(u, float) for q, u in d["ranks"].items()}, n_sim=int(d["n_sim"]),
                   n_boot=int(d["n_boot"]), seed=int(d["seed"]), noise=str(d["noise"]))


def _rank(v, t):
    """Where ``t`` falls within the draws ``v`` (ties count half): in [0, 1]."""
    return (np.sum(v < t) + 0.5 * np.sum(v == t)) / v.size


@x64
def _simulate(fit, n_sim, n_boot, targets, new_runs, noise, seed, flops_per_token, inputs, chunk):
    """The whole recipe on ``n_sim`` data sets simulated from ``fit`` at its own design."""
    from ._design import table_inputs

    if fit.status != "converged":
        raise OptionError(f"coverage simulates from the fit; this one is {fit.status!r}")
    if noise not in ("gaussian", "residuals"):
        raise OptionError(f"noise={noise!r} must be 'gaussian' or 'residuals'")
    if int(n_sim) < 10 or int(n_boot) < 20:
        raise OptionError("coverage needs n_sim >= 10 and n_boot >= 20")
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
    bar = Progress(f"simulation ({n_sim} data sets x {n_boot} resamples)", int(n_sim))
    for lo in range(0, int(n_sim), int(chunk)):  # chunks of data sets keep memory flat
        hi = min(lo + int(chunk), int(n_sim))
        outs.append([np.asarray(a) for a in prog(X, jnp.asarray(w0), jnp.asarray(E[lo:hi]), jnp.asarray(W[lo:hi]),
                                                  truth, fixed_vals, Xnew)])
        bar.update(hi)
    bar.close()
    vb, sb, s0, sd, newp = (np.concatenate([o[i] for o in outs]) for i in range(5))
    names = list(law.param_names) + [t.name for t in tg]
    true_vals = np.array([fit.params[k] for k in law.param_names] + [float(t.fn(truth)) for t in tg])
    free = [i for i, k in enumerate(names) if k not in fit.fixed]
    # per (data set, quantity): the converged resamples' values, or None when fewer than 10
    draws = {}
    for s in np.flatnonzero(s0 == R.CONVERGED):
        for i in free:
            v = vb[s, sb[s] == R.CONVERGED, i]
            v = v[np.isfinite(v)]
            draws[s, i] = v if v.size >= 10 else None
    return dict(names=names, true_vals=true_vals, free=free, draws=draws, s0=s0, sb=sb, sd=sd, newp=newp, E=E,
                Xnew=Xnew, truth=truth)


def calibrate(boot, *, targets=(), n_sim: int = 1000, n_boot: int = 200, noise: str = "gaussian", seed: int = 1,
              flops_per_token: float = 6.0, inputs=None, chunk: int = 50):
    """``boot`` with calibrated intervals: a :class:`Calibration` learnt by simulation, attached.

    The fit behind ``boot`` is taken as the truth and its runs as the design; ``n_sim`` data
    sets are simulated and each bootstrapped (``n_boot`` resamples, one compiled call, as in
    :func:`coverage`); where the truth ranks within each simulated bootstrap sets the tails.
    The returned ``BootstrapResult``'s intervals default to the calibrated method for every
    free parameter and each of ``targets`` (``"a"``, ``"N_opt(C=1e24)"``, ...). Check the
    result on independent simulations: ``coverage(fit, seed=..., calibration=cal)``.
    The tails are quantiles of ``n_sim`` ranks: with 200 their sampling error (about 0.03 in
    coverage at 80%) is as large as the miscalibration being corrected, hence 1000.
    """
    import dataclasses

    sim = _simulate(boot.fit, n_sim, n_boot, targets, None, noise, seed, flops_per_token, inputs, chunk)
    ranks = {}
    for i in sim["free"]:
        u = [_rank(v, sim["true_vals"][i]) for (s, j), v in sim["draws"].items() if j == i and v is not None]
        if len(u) < 10:
            raise OptionError(f"calibration: fewer than 10 simulated bootstraps of {sim['names'][i]!r} converged")
        ranks[sim["names"][i]] = np.asarray(u)
    cal = Calibration(ranks=ranks, n_sim=int(n_sim), n_boot=int(n_boot), seed=int(seed), noise=noise)
    return dataclasses.replace(boot, calibration=cal)


def coverage(fit, *, n_sim: int = 200, n_boot: int = 200, levels=(0.8, 0.95), targets=(), new_runs=None,
             noise: str = "gaussian", seed: int = 0, flops_per_token: float = 6.0, inputs=None, chunk: int = 50,
             calibration: Calibration | None = None):
    """Empirical coverage of bootstrap intervals at ``fit``'s own design.

    ``targets``: extra quantities (``"a"``, ``"N_opt(C=1e24)"``, a callable) besides the free
    parameters; ``new_runs``: rows (dict/DataFrame of the law's inputs) for new-run bands;
    ``noise``: ``"gaussian"`` or ``"residuals"`` (their shape resampled); ``calibration``: a
    :class:`Calibration` (from ``calibrate``, on other seeds): its calibrated intervals are
    scored on these data sets too (method ``"calibrated"``), an out-of-sample check. Returns a
    DataFrame (quantity, method, level, coverage, se, mean_width, n_sim).
    """
    import pandas as pd

    levels = tuple(float(v) for v in np.atleast_1d(levels))
    if not all(0 < v < 1 for v in levels):
        raise OptionError(f"levels {levels} must lie in (0, 1)")
    sim = _simulate(fit, n_sim, n_boot, targets, new_runs, noise, seed, flops_per_token, inputs, chunk)
    names, true_vals, draws = sim["names"], sim["true_vals"], sim["draws"]
    methods = ["percentile"] + (["calibrated"] if calibration is not None else [])
    rows = []
    for level in levels:
        a = (1 - level) / 2
        for i in sim["free"]:
            for method in methods:
                if method == "calibrated" and names[i] not in calibration.ranks:
                    continue
                qa, qb = (a, 1 - a) if method == "percentile" else calibration.tails(names[i], level)
                hits, widths = [], []
                for (s, j), v in draws.items():
                    if j != i or v is None:
                        continue
                    lo, hi = np.quantile(v, qa), np.quantile(v, qb)
                    hits.append(lo <= true_vals[i] <= hi)
                    widths.append(hi - lo)
                rows.append(_row(names[i], method, level, hits, widths))
        if new_runs is not None:
            rows += _new_run_rows(fit, sim, level, seed)
    return pd.DataFrame(rows)


def _new_run_rows(fit, sim, level, seed):
    """New-run bands: resampled predictions plus the simulated fit's own noise scale; coverage
    is the probability that a new run of the simulated world lands inside, per data set."""
    a = (1 - level) / 2
    f = prediction(fit.law, fit.residual)
    t_new = np.asarray(f(sim["truth"], sim["Xnew"]))
    zs = np.random.default_rng(seed + 1).standard_normal(4000)
    E, sb, sd, newp = sim["E"], sim["sb"], sim["sd"], sim["newp"]
    # the simulated world's own noise: where a new run really lands around the truth
    pool = E.ravel()[np.random.default_rng(seed + 2).integers(0, E.size, 20000)]
    rows = []
    for j in range(t_new.shape[0]):
        probs, widths = [], []
        for s in np.flatnonzero(sim["s0"] == R.CONVERGED):
            p = newp[s, sb[s] == R.CONVERGED, j]
            samples = p[np.arange(4000) % p.size] + sd[s] * zs
            lo, hi = np.quantile(samples, a), np.quantile(samples, 1 - a)
            probs.append(np.mean((t_new[j] + pool >= lo) & (t_new[j] + pool <= hi)))
            widths.append(hi - lo)
        rows.append(_row(f"new run {j}", "percentile", level, probs, widths))
    return rows


def _row(name, method, level, hits, widths):
    h = np.asarray(hits, float)
    m = len(h)
    cov = float(h.mean()) if m else float("nan")
    return {"quantity": name, "method": method, "level": level, "coverage": cov, "se": float(np.sqrt(cov * (1 - cov) / m)) if m else np.nan,
            "mean_width": float(np.mean(widths)) if m else np.nan, "n_sim": m}
