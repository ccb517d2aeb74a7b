"""BFGS with the same parallel line search: the second minimiser, selectable by name.

It needs gradients only (no Hessian), so one step costs about a third of a damped-Newton
step on a 5-parameter law; it needs more steps, and on nearly-L1 objectives (Huber with a
small delta) far more, because its curvature model keeps being invalidated as residuals
cross the kink. It is a good choice for smooth losses (squared, log-cosh) and for laws with
many parameters, where an exact Hessian is expensive. bench/bench_solvers.py measures both.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _results as R
from ._newton import decrement_tolerance, descent_terminate, line_search
from ._solver import AbstractSolver


class _BFGSState(NamedTuple):
    f: jax.Array
    g: jax.Array
    Hinv: jax.Array  # inverse-Hessian approximation
    stall: jax.Array
    converged: jax.Array
    finite: jax.Array
    first: jax.Array  # no curvature pair seen yet: scale the identity before the first update


class BFGS(AbstractSolver):
    """Quasi-Newton BFGS (Nocedal & Wright, Algorithm 6.1) with a parallel backtracking search.

    **Arguments:** ``ftol`` (converged when ``0.5 g^T H^-1 g <= ftol |f|``), ``patience``
    (rejected steps before ``STALLED``; each rejection restarts from the identity),
    ``line_search`` (step sizes tried at once).
    """

    ftol: float = 1e-13
    patience: int = 12
    line_search: int = 12

    def init(self, fn, y0, args):
        f, g = jax.value_and_grad(fn.value)(y0, args)
        ok = jnp.isfinite(f) & jnp.all(jnp.isfinite(g)) & jnp.all(jnp.isfinite(y0))
        p = y0.shape[-1]
        return _BFGSState(jnp.where(ok, f, jnp.inf), jnp.where(ok, g, 0.0), jnp.eye(p, dtype=y0.dtype),
                          jnp.zeros((), jnp.int32), jnp.zeros((), bool), ok, jnp.ones((), bool))

    def step(self, fn, y, args, st):
        g, H = st.g, st.Hinv
        d = -H @ g
        slope = jnp.dot(g, d)
        # A lost positive definiteness (rounding) must not send the search uphill.
        uphill = ~(slope < 0)
        d = jnp.where(uphill, -g, d)
        slope = jnp.where(uphill, -jnp.dot(g, g), slope)
        converged = st.finite & (0.5 * jnp.abs(slope) <= decrement_tolerance(self.ftol, st.f, y.dtype))
        t, _, accepted, _, _ = line_search(fn.value, y, d, st.f, slope, args, self.line_search)
        y_new = y + t * d
        f_new, g_new = jax.value_and_grad(fn.value)(y_new, args)
        finite = jnp.isfinite(f_new) & jnp.all(jnp.isfinite(g_new))
        s, yk = y_new - y, g_new - g
        sy = jnp.dot(s, yk)
        # Curvature condition s.y > 0 keeps H positive definite; skip the update otherwise.
        good = accepted & finite & (sy > 1e-12 * jnp.linalg.norm(s) * jnp.linalg.norm(yk))
        # Nocedal & Wright (6.20): scale the identity by s.y / y.y before the first update,
        # so the initial step has the curvature's units instead of the gradient's.
        H0 = jnp.where(st.first, (sy / jnp.dot(yk, yk)) * jnp.eye(y.shape[-1], dtype=y.dtype), H)
        r = 1.0 / jnp.where(good, sy, 1.0)
        I = jnp.eye(y.shape[-1], dtype=y.dtype)
        H_upd = (I - r * jnp.outer(s, yk)) @ H0 @ (I - r * jnp.outer(yk, s)) + r * jnp.outer(s, s)
        H_new = jnp.where(good, H_upd, jnp.where(accepted, H, I))
        keep = accepted & finite
        return jnp.where(keep, y_new, y), _BFGSState(
            f=jnp.where(keep, f_new, st.f), g=jnp.where(keep, g_new, g), Hinv=H_new,
            stall=jnp.where(accepted, 0, st.stall + 1), converged=converged,
            finite=st.finite & (finite | ~accepted), first=st.first & ~good,
        )

    def terminate(self, fn, y, args, st):
        del fn, y, args
        return descent_terminate(st, self.patience)

    def postprocess(self, fn, y, args, st, result, n_steps):
        del fn, args
        f = jnp.where(st.finite, st.f, jnp.inf)
        return R.Solution(y, f, result, {"n_steps": n_steps, "decrement": 0.5 * jnp.dot(st.g, st.Hinv @ st.g)})
