"""Which points and which fitting choices drive a conclusion.

- ``influence(fit)``: the change in every parameter (and derived quantity) when each point,
  or each group of points, is removed, from the fit's own optimum without refitting: one
  Newton step of the reduced objective, ``dtheta_i = (H - h_i)^-1 g_i`` (``g_i``, ``h_i`` the
  point's gradient and Hessian, ``H`` the full Hessian), batched over points in one call.
  ``exact=True`` adds the exact leave-one-out refits (one batched call) for comparison.
- ``extrapolate(law, data, ...)``: fit below a cutoff, predict above; per-point errors.
- ``information_criteria(fit)`` (in ``_report``): AIC and BIC under a Gaussian working likelihood.

``ablate`` (every combination of fitting choices) lives in ``_ablate``; the Hessian
diagnostics in ``_diagnostics``.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._data import get_column, number
from ._errors import ConvergenceWarning, OptionError
from ._fit import fit, resolve_law
from ._prepare import prepare
from ._result import FitResult
from ._report import gaussian_criteria
from ._util import x64
from .kernels import DampedNewton, iterate


def _natural(f: FitResult, theta_fit_free):
    """Free fit coordinates (..., k) -> dict of natural parameter arrays."""
    prep = f.prepared
    th = prep.problem.from_fit(prep.problem.full(theta_fit_free, prep.base_fit), prep.aux)
    return prep.problem.law.constrain(th)


@dataclass
class Influence:
    """Predicted (and optionally exact) parameter changes when points/groups are removed."""

    labels: np.ndarray
    names: list
    predicted: np.ndarray  # (units, quantities): value without the unit minus the full-data value
    exact: np.ndarray | None
    base: np.ndarray

    def table(self):
        import pandas as pd

        df = pd.DataFrame(self.predicted, columns=[f"d_{k}" for k in self.names])
        df.insert(0, "removed", self.labels)
        if self.exact is not None:
            for j, k in enumerate(self.names):
                df[f"exact_d_{k}"] = self.exact[:, j]
        return df

    def spearman(self) -> dict:
        """Rank correlation between predicted and exact changes, per quantity."""
        if self.exact is None:
            raise OptionError("no exact refits: call influence(..., exact=True)")
        out = {}
        for j, k in enumerate(self.names):
            a, b = _ranks(self.predicted[:, j]), _ranks(self.exact[:, j])
            out[k] = float(np.corrcoef(a, b)[0, 1])
        return out


def _ranks(x):
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    # average ties
    vals, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    if len(vals) < len(x):
        sums = np.zeros(len(vals))
        np.add.at(sums, inv, r)
        r = (sums / counts)[inv]
    return r


def _quantities(f: FitResult, derived):
    law = f.law
    fns = [(k, (lambda p, k=k: p[k])) for k in law.param_names]
    for label, spec in (derived or {}).items():
        name, kw = spec if isinstance(spec, tuple) else (spec, {})
        fn = law.derived[name] if isinstance(name, str) else name
        fns.append((label, (lambda p, fn=fn, kw=kw: fn(p, **kw))))
    return fns


@x64
def influence(f: FitResult, groups=None, derived=None, exact: bool = False, steps: int = 1) -> Influence:
    """Effect of removing each point (or each group of points) on parameters and derived quantities.

    ``groups``: one label per data row (e.g. model size) to remove whole groups;
    ``derived``: ``{label: (name_or_fn, kwargs)}``. Points with zero weight are skipped.
    ``steps``: Newton steps from the full-data optimum (1 is the one-step jackknife, enough
    for single points; removing whole groups is a larger perturbation and wants 2-3).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise OptionError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(f, FitResult) or f.prepared is None:
        raise OptionError("influence() needs a FitResult from jaxlaws.fit")
    prep = f.prepared
    w = jnp.asarray(prep.w, prep.yt.dtype)
    active = np.flatnonzero(prep.w > 0)
    n = prep.n_rows  # the user's rows (prep's arrays are padded to a bucket size)
    if groups is None:
        labels = active
        M = np.zeros((len(active), n))
        M[np.arange(len(active)), active] = 1.0
    else:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise OptionError(f"groups must have one label per row ({n})")
        labels = np.unique(g[active])
        M = np.stack([(g == lab) & (prep.w[:n] > 0) for lab in labels]).astype(float)
    M = np.pad(M, ((0, 0), (0, len(prep.w) - n)))  # padded rows are never removed (weight 0)
    qs = _quantities(f, derived)
    names = [k for k, _ in qs]
    res = _influence_core(f, jnp.asarray(M, w.dtype), w, tuple(fn for _, fn in qs), steps)
    base = np.array([float(fn({k: jnp.asarray(v) for k, v in f.params.items()})) for _, fn in qs])
    pred = np.asarray(res) - base
    ex = None
    if exact:
        from ._bootstrap import bootstrap

        W = 1.0 - M[:, active]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            b = bootstrap(f.law, _frame_from(prep, f.y), f.y, weights_matrix=W, strategy="fast", full_fit=f,
                          loss=prep.loss, residual=prep.problem.residual, weights=prep.w, fixed=f.fixed or None)
        params = {k: jnp.asarray(b.draws[:, i]) for i, k in enumerate(b.params)}
        ex = np.stack([np.asarray(fn(params)) for _, fn in qs], axis=1) - base
        ex[~b.ok] = np.nan
    return Influence(labels, names, pred, ex, base)


def _frame_from(prep, y):
    d = {k: np.asarray(v) for k, v in prep.X.items()}
    d[y] = np.asarray(prep.y)
    return d


def _influence_core(f, M, w, fns, steps=1):
    prep = f.prepared
    th = prep.to_fit(f.theta)
    deltas = _influence_steps(prep.problem, steps)(th, M, prep.args(w))
    p = _natural(f, th[None, :] + deltas)
    return jnp.stack([fn(p) for fn in fns], axis=1)


@functools.lru_cache(maxsize=32)
def _influence_steps(problem, steps: int):
    """Compiled once per problem: the parameter change for each removed unit, from
    ``steps`` Newton steps on the objective without that unit, started at theta*."""
    obj = problem.objective()

    @jax.jit
    def run(th, M, args):
        Xb, yt, w, lp = args

        def reduced(t, m):
            return jnp.sum((1.0 - m) * problem.per_point(t, args))

        def one_step(m):
            # The classical one-step jackknife: at theta* the reduced objective's gradient is
            # -sum_i m_i g_i and its Hessian H - sum_i m_i h_i.
            g = jax.grad(reduced)(th, m)
            H = jax.hessian(reduced)(th, m)
            return -jnp.linalg.solve(H, g)

        def damped(m):
            # Larger removals: a few iterations of the fitting solver itself (damped Newton
            # with a line search) on the reduced objective, warm-started at theta*.
            r = iterate(DampedNewton(), obj, th, (Xb, yt, w * (1.0 - m), lp), steps)
            return r.value - th

        return jax.vmap(one_step if steps == 1 else damped)(M)

    return run


def extrapolate(law, data, *, y: str = "loss", cutoff: float, by=None, **fit_kw):
    """Fit on rows with ``by < cutoff`` (default ``by`` = 6ND), predict the rest.

    Returns ``(fit, table)``: the table has one row per held-out point with its actual and
    predicted value and the relative and log errors; ``table.attrs['summary']`` has the
    mean absolute and root-mean-square log errors.
    """
    import pandas as pd


    law = resolve_law(law)
    cutoff = number("cutoff", cutoff, positive=True)
    if by is None:
        by_v = 6 * get_column(data, "N") * get_column(data, "D")
    elif isinstance(by, str):
        by_v = get_column(data, by)
    else:
        by_v = np.asarray(by, float)
    train = by_v < cutoff
    if train.sum() == 0 or (~train).sum() == 0:
        raise OptionError(f"cutoff {cutoff:g} leaves {int(train.sum())} training and {int((~train).sum())} held-out rows")
    f = fit(law, data, y, weights=train.astype(float), **fit_kw)
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    held = df[~train].copy()
    pred = f.predict(held)
    actual = held[y].to_numpy(float)
    held["predicted"] = pred
    held["rel_error"] = pred / actual - 1
    held["log_error"] = np.log(pred) - np.log(actual)
    held.attrs["summary"] = {
        "n_train": int(train.sum()), "n_heldout": int((~train).sum()),
        "mae_log": float(np.mean(np.abs(held.log_error))), "rmse_log": float(np.sqrt(np.mean(held.log_error**2))),
    }
    return f, held


@x64
def score(law, data, params, y: str = "loss", **options) -> dict:
    """Evaluate given coefficients on data, fitting nothing: the objective a fit would
    minimise there, its residuals, and AIC/BIC (``k`` = all the law's parameters, since they
    were estimated elsewhere).

    ``params``: a dict of natural values or the name of one of the law's coefficient sets
    (then its recipe, e.g. its units and loss, is followed unless ``options`` say otherwise).
    ``options``: those of ``fit`` that choose the objective and the rows (``loss``,
    ``residual``, ``recipe``, ``units``, ``where``, ``weights``, ``columns``, ...).
    """
    law = resolve_law(law)
    if isinstance(params, str):
        cs = law.coefficients.get(params)
        values = law.coefficient_set(params)
        if cs is not None and cs.recipe and options.get("recipe") is None:
            options["recipe"] = cs.recipe
    else:
        values = {k: number(f"params {k}", v) for k, v in dict(params).items()}
    prep = prepare(law, data, y, starts=[values], **options)
    th = prep.starts_fit[0]
    f = float(prep.problem.objective().value(th, prep.args()))
    r = prep.residuals(th)
    used = (prep.w > 0)[: prep.n_rows]
    out = {"law": law.name, "params": values, "objective": f, "objective_minimised": prep.loss.describe(prep.problem.residual),
           "recipe": None if prep.recipe is None else prep.recipe.name, "units": dict(prep.units),
           "rows_excluded": dict(prep.excluded)}
    out.update(gaussian_criteria(r[used], law.n_params, prep.problem.residual))
    out["residuals"] = r
    return out
