"""Minimisation of a function of one variable on an interval, as a solver of the common interface.

Allocation problems with one equality budget (C = 6 N D with D eliminated) reduce to a
minimisation over u = log N. A coarse grid finds the basin, then a safeguarded Newton method
(Newton on f' with a bisection fallback that keeps a bracket, as in Numerical Recipes'
rtsafe) converges to machine precision; the iteration count is fixed by the bracket, never
by a data-dependent inner loop, so millions of problems run in lock-step under vmap.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _results as R
from ._solver import AbstractSolver, iterate


class _State(NamedTuple):
    x: jax.Array
    a: jax.Array
    b: jax.Array
    done: jax.Array
    edge: jax.Array  # the grid's best point was an end of the interval


class Bracketed1D(AbstractSolver):
    """Grid, then safeguarded Newton inside the bracket, on ``[lo, hi]``; ``fn.value(x, args)``.

    The start ``y0`` is not used: the grid picks it. An optimum on an end of the interval
    (the budget pushes against a bound) ends as ``AT_BOUND``, not ``CONVERGED``.
    """

    lo: float
    hi: float
    n_grid: int = 6
    xtol: float = 1e-13

    def init(self, fn, x0, args):
        del x0
        xs = jnp.linspace(self.lo, self.hi, self.n_grid)
        fs = jax.vmap(lambda x: fn.value(x, args))(xs)
        fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
        i = jnp.argmin(fs)
        a = xs[jnp.maximum(i - 1, 0)]
        b = xs[jnp.minimum(i + 1, self.n_grid - 1)]
        return _State(xs[i], a, b, jnp.zeros((), bool), (i == 0) | (i == self.n_grid - 1))

    def step(self, fn, y, args, st):
        del y
        x = st.x
        # f' and f'' in one forward-over-reverse pass.
        g, h = jax.jvp(lambda z: jax.grad(fn.value)(z, args), (x,), (jnp.ones_like(x),))
        a = jnp.where(g > 0, st.a, x)
        b = jnp.where(g > 0, x, st.b)
        newton = x - g / h
        # Inclusive bracket test: at an exact root (g == 0) the Newton point is x itself,
        # which the bracket update has just made an end point.
        ok = (h > 0) & (newton >= a) & (newton <= b) & jnp.isfinite(newton)
        xn = jnp.where(ok, newton, 0.5 * (a + b))
        scale = self.xtol * (1.0 + jnp.abs(x))
        conv = (g == 0) | (jnp.abs(xn - x) <= scale) | (b - a <= scale)
        return xn, _State(xn, a, b, conv, st.edge)

    def terminate(self, fn, y, args, st):
        del fn, y, args
        return st.done, jnp.asarray(R.CONVERGED, jnp.int32)

    def postprocess(self, fn, y, args, st, result, n_steps):
        del y
        x = st.x
        f = fn.value(x, args)
        near = lambda e: jnp.abs(x - e) <= 1e-9 * (1 + jnp.abs(e))  # noqa: E731
        at_bound = st.edge & (near(self.lo) | near(self.hi))
        result = jnp.where(~jnp.isfinite(f), R.NONFINITE, jnp.where(at_bound, R.AT_BOUND, result))
        return R.Solution(x, f, result.astype(jnp.int32), {"n_steps": n_steps})


def minimize_scalar(value, lo, hi, args, *, n_grid: int = 6, max_iter: int = 60, xtol: float = 1e-13) -> R.Solution:
    """Minimise ``value(x, args)`` over ``[lo, hi]`` (one problem; vmap for many)."""
    from ._objective import Objective

    solver = Bracketed1D(float(lo), float(hi), n_grid, xtol)
    return iterate(solver, Objective(value, None), jnp.asarray(float(lo)), args, max_iter)
