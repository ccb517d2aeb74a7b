"""Augmented Lagrangian for equality and inequality constraints, as a solver of the common interface.

``fn(z, args) -> (f, g, h)`` gives the objective, the equality residuals (``g = 0``) and the
inequality values (``h <= 0``) at an unconstrained point ``z``. One step is an inner
minimisation of the augmented Lagrangian (Nocedal & Wright, 17.3; inequalities by the
squared-hinge form of Rockafellar) by any inner solver, then the multiplier update and a
larger penalty. A fixed number of outer steps keeps millions of problems in lock-step.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import _results as R
from ._newton import DampedNewton
from ._objective import Objective
from ._solver import AbstractSolver, iterate


class _ALState(NamedTuple):
    lam: jax.Array  # equality multipliers
    nu: jax.Array  # inequality multipliers (>= 0)
    mu: jax.Array  # penalty
    k: jax.Array  # outer steps taken


def _violation(g, h):
    return jnp.maximum(jnp.max(jnp.abs(g), initial=0.0), jnp.max(h, initial=0.0))


class AugmentedLagrangian(AbstractSolver):
    """``n_outer`` multiplier updates around ``inner`` (damped Newton by default).

    ``tol``: allowed constraint violation; a final point beyond it ends as ``INFEASIBLE``.
    """

    n_outer: int = 12
    inner_steps: int = 60
    tol: float = 1e-8
    inner: AbstractSolver = DampedNewton(ftol=1e-14)

    def init(self, fn, z0, args):
        _, g, h = fn(z0, args)
        return _ALState(jnp.zeros_like(g), jnp.zeros_like(h), jnp.asarray(10.0, z0.dtype), jnp.zeros((), jnp.int32))

    def _inner_objective(self, fn: Callable):
        def aug(z, a):
            lam, nu, mu, args = a
            f, g, h = fn(z, args)
            return f + jnp.sum(lam * g + 0.5 * mu * g * g) + jnp.sum(jnp.maximum(0.0, nu + mu * h) ** 2 - nu * nu) / (2 * mu)

        def vgh(z, a):
            v, gr = jax.value_and_grad(aug)(z, a)
            return v, gr, jax.hessian(aug)(z, a)

        return Objective(aug, vgh)

    def step(self, fn, z, args, st):
        r = iterate(self.inner, self._inner_objective(fn), z, (st.lam, st.nu, st.mu, args), self.inner_steps)
        z = jnp.where(jnp.isfinite(r.f), r.value, z)
        _, g, h = fn(z, args)
        return z, _ALState(st.lam + st.mu * g, jnp.maximum(0.0, st.nu + st.mu * h), jnp.minimum(st.mu * 4.0, 1e8), st.k + 1)

    def terminate(self, fn, z, args, st):
        del fn, z, args
        return st.k >= self.n_outer, jnp.asarray(R.CONVERGED, jnp.int32)

    def postprocess(self, fn, z, args, st, result, n_steps):
        f, g, h = fn(z, args)
        viol = _violation(g, h)
        result = jnp.where(~jnp.isfinite(f), R.NONFINITE, jnp.where(viol > self.tol, R.INFEASIBLE, result))
        return R.Solution(z, f, result.astype(jnp.int32), {"n_steps": n_steps, "violation": viol})
