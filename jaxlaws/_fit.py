"""``fit``: batched multi-start fitting of a law to data, and its array-level twin.

``fit`` is the user-facing entry point (DataFrame in, ``FitResult`` out). ``fit_arrays`` is
the same computation on arrays, written to be called inside a user's ``jax.jit``,
``jax.vmap`` and ``jax.grad``: it is differentiable with respect to the targets and the
per-point weights through implicit differentiation at the optimum.

Both are thin wrappers over one compiled ``solve`` of a ``FitProblem`` (``_prepare``);
``bootstrap``, ``influence`` and ``ablate`` call the same ``solve`` with other weights and
loss parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._loss import as_loss
from ._prepare import (FitProblem, as_strategy, check_residual, fixed_values, prepare, resolve_law,
                       resolve_starts, run, solve)
from ._problem import implicit_root
from ._result import finish
from ._util import x64
from .kernels import iterate
from .kernels import results as R


@x64
def fit(law, data, y: str = "loss", *, loss=None, residual: str | None = None, starts=None, extra_starts=None,
        weights=None, columns: Mapping[str, str] | None = None, fixed: Mapping[str, float] | None = None,
        strategy=None, dtype=None, recipe=None, bounds=None, units=None, where=(), best_per=(), drop_highest: int = 0,
        by=None):
    """Fit ``law`` to ``data`` by batched multi-start minimisation, in one compiled call.

    **Arguments:**
    - ``law``: a :class:`Law` (e.g. from ``@jaxlaws.law``) or a built-in name (``"chinchilla"``).
    - ``data``: a pandas DataFrame or a dict of arrays, with one column per law input.
    - ``y``: the target column (``"loss"``).
    - ``loss``: ``jaxlaws.huber(delta)`` (default ``huber(1e-3)``, unless the law's paper fits
      by least squares: then its default recipe), ``squared()``, ``absolute()``,
      ``asymmetric(over, under)`` (pinball; reached by continuation in the smoothing),
      ``expectile(over, under)``, ``logcosh(scale)``, a text form (``"huber:1e-2"``,
      ``"squared/mean"``) or a function ``rho(r, lp)``; summed unless ``normalise="mean"``.
    - ``residual``: ``"log"`` (``log pred - log y``, the default), ``"raw"`` (``pred - y``) or
      ``"log1p"`` (``log(1 + pred) - log(1 + y)``).
    - ``recipe``: the name of one of the law's published recipes (``law.recipes``;
      ``jaxlaws laws NAME`` lists them) or a :class:`Recipe`: it supplies every option not
      given here (``where`` filters add to its own).
    - ``bounds``: ``{param: (lo, hi)}`` box bounds (``inf`` allowed); an optimum on a bound
      ends with status ``at_bound``.
    - ``units``: ``{input: unit}`` of the data; converted to the recipe's units (an error
      naming both when they measure different things).
    - ``where``: expressions selecting rows (all must hold; ``jaxlaws._expr``: no code runs); ``best_per``: keep the
      lowest-``y`` row per group of these columns; ``drop_highest``: drop the k highest-``y``
      rows. Excluded rows keep their place at weight 0.
    - ``by``: a column (or columns): fit an independent copy of the law to each group of rows
      sharing its values, all groups in one compiled call; returns a :class:`GroupFit`.
    - ``starts``: ``jaxlaws.grid(...)``, ``jaxlaws.random_starts(...)``, a dict or list of
      dicts of natural values, or an ``(S, p)`` array of unconstrained values; default: the
      law's own grid. ``extra_starts`` bypass the screen (warm starts).
    - ``weights``: per-point non-negative weights (array or column name); 0 drops a point.
    - ``columns``: ``{input_name: column_name}`` when the data names differ.
    - ``fixed``: ``{param: value}`` held constant during the fit.
    - ``strategy``: ``"screen"`` (default), ``"full"`` or a :class:`Strategy` (which also
      names the solver).
    - ``dtype``: ``"float64"`` (default) or ``"float32"``.

    Runs in float64 whatever the caller's ``jax_enable_x64`` (restored on return).

    **Returns:** a :class:`FitResult`. A non-converged best start is returned with its
    status and a ``ConvergenceWarning``; if no start yields a finite objective, ``FitError``.
    """
    if by is not None:
        from ._groups import fit_by

        return fit_by(law, data, by, y, loss=loss, residual=residual, starts=starts, extra_starts=extra_starts,
                      weights=weights, columns=columns, fixed=fixed, strategy=strategy, dtype=dtype, recipe=recipe,
                      bounds=bounds, units=units, where=where, best_per=best_per, drop_highest=drop_highest)
    t0 = time.perf_counter()
    prep = prepare(law, data, y, loss=loss, residual=residual, starts=starts, extra_starts=extra_starts,
                   weights=weights, columns=columns, fixed=fixed, strategy=strategy, dtype=dtype, recipe=recipe,
                   bounds=bounds, units=units, where=where, best_per=best_per, drop_highest=drop_highest)
    t1 = time.perf_counter()
    r = None
    for stage in prep.loss.schedule():
        if r is not None:
            # continuation: the previous stage's distinct optima are this stage's warm starts
            prep = with_loss(prep, stage, r)
        else:
            prep = dataclasses.replace(prep, loss=stage)
        r = run(prep)
        if bool(r.lower_unconverged):
            r = polish(prep, r)
    t2 = time.perf_counter()
    return finish(prep, r, y, columns, {"prepare_s": t1 - t0, "solve_s": t2 - t1})


@functools.lru_cache(maxsize=32)
def _continue_fn(problem, strategy):
    solver, obj = strategy.make_solver(), problem.objective()
    return jax.jit(lambda th, args: iterate(solver, obj, th, args, strategy.max_iter))


def with_loss(prep, loss, r, k: int = 4):
    """``prep`` with another loss of the same kind and, as extra starts, the ``k`` best distinct
    optima of the solve ``r`` (free fit coordinates)."""
    f = np.asarray(r.start_f)
    order = np.argsort(np.where(np.isfinite(f), f, np.inf), kind="stable")[:k]
    extra = np.concatenate([np.asarray(r.theta)[None], np.asarray(r.start_theta)[order]])
    return dataclasses.replace(prep, loss=loss, extra_fit=jnp.asarray(extra, prep.yt.dtype))


def polish(prep, r):
    """A start that did not converge ended below the converged winner: continue it.

    "The best converged start wins" would otherwise return a worse point than one the
    search found. The start is run again for a full ``max_iter`` from where it stopped; if
    it converges below the winner it wins, and if it does not, the result carries its
    (non-converged) status, so the fit says it is not a certified optimum.
    """
    f = np.asarray(r.start_f)
    st = np.asarray(r.start_status)
    cand = np.where((st != R.CONVERGED) & (st != R.PRUNED_SCREEN) & (st != R.PRUNED_HALVING) & np.isfinite(f), f, np.inf)
    j = int(np.argmin(cand))
    sol = _continue_fn(prep.problem, prep.strategy)(jnp.asarray(r.start_theta[j]), prep.args())
    f_new, code = float(sol.f), int(sol.result)
    if not f_new < float(r.f):
        return r._replace(lower_unconverged=jnp.asarray(False))
    start_f, start_status = f.copy(), st.copy()
    start_theta = np.asarray(r.start_theta).copy()
    start_f[j], start_status[j], start_theta[j] = f_new, code, np.asarray(sol.value)
    return r._replace(theta=sol.value, f=sol.f, status=sol.result, best_index=jnp.asarray(j),
                      n_iter=r.n_iter + sol.stats["n_steps"], start_f=start_f, start_status=start_status,
                      start_theta=start_theta, lower_unconverged=jnp.asarray(code != R.CONVERGED))


def fit_arrays(law, X: Mapping[str, jax.Array], y: jax.Array, weights: jax.Array | None = None, *, starts=None,
               extra_starts=None, loss=None, residual: str = "log", strategy=None, fixed=None,
               return_result: bool = False):
    """Fit on arrays; usable inside ``jax.jit``, ``jax.vmap`` and ``jax.grad``.

    Returns the fitted natural parameters as a dict of JAX scalars (and, with
    ``return_result=True``, also the kernel's ``MultiStartResult`` carrying per-start
    result codes). Derivatives with respect to ``y`` and ``weights`` come from implicit
    differentiation at the optimum (``lax.custom_root``); they are valid where the fit
    converged to a strict minimum. ``fixed={param: value}`` holds parameters constant.

    Precision follows the inputs and the caller's ``jax_enable_x64`` (this runs inside
    the caller's own ``jit``, so it cannot switch it); float32 inputs give a float32 fit.
    No input validation happens here (values may be traced): validate with
    ``jaxlaws.fit`` first if the data are untrusted. ``starts`` may be a JAX array of
    unconstrained ``(S, p)`` start points, traced like the data (warm starts per vmapped row).
    """
    law = resolve_law(law)
    loss = as_loss(loss)
    residual = check_residual(residual)
    fixed = fixed_values(law, fixed)
    traced = isinstance(starts, jax.Array)
    if traced:
        # warm starts that are themselves data (an (S, p) unconstrained array, e.g. one per
        # vmapped group): fixed coordinates are written in, no stratified screening
        starts_user = jnp.asarray(starts)
        for k, v in fixed.items():
            u = float(np.asarray(law.params[k].inverse(np.asarray(float(v)))))
            starts_user = starts_user.at[:, law.param_names.index(k)].set(u)
        extra_user = jnp.zeros((0, law.n_params), starts_user.dtype)
    else:
        starts_user, extra_user = resolve_starts(law, starts, extra_starts, fixed)
    strategy = as_strategy(strategy).sized(len(starts_user))
    free_idx = tuple(i for i, k in enumerate(law.param_names) if k not in fixed) if fixed else None
    problem = FitProblem(law, loss.key, residual, free_idx, center=not fixed)
    y = jnp.asarray(y)
    dt = y.dtype if jnp.issubdtype(y.dtype, jnp.floating) else jnp.result_type(float)
    sg = jax.lax.stop_gradient
    Xfit, aux, base, s_fit, e_fit = problem.setup(X, starts_user, extra_user, dt)
    yt = problem.target(jnp.asarray(y, dt))
    w = jnp.ones_like(yt) if weights is None else jnp.asarray(weights, dt)
    lp = jnp.asarray(loss.array(), dt)
    strata = None if traced else problem.strata(starts_user)
    strata = None if strata is None else jnp.asarray(strata, jnp.int32)
    Xb = (Xfit, base)
    r = solve(problem, strategy, s_fit, e_fit, sg(Xb), sg(yt), sg(w), sg(lp), strata)
    theta_fit = implicit_root(problem.objective().value, r.theta, (Xb, yt, w, lp))
    params = law.constrain(problem.from_fit(problem.full(theta_fit, base), aux))
    for k, v in fixed.items():
        params[k] = jnp.asarray(v, dt)
    return (params, r) if return_result else params
