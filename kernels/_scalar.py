"""Batched minimisation of smooth-ish functions of one variable on an interval.

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

AT_BOUND = 6  # the minimum sits at an end of the interval (the budget pushes against a bound)


class ScalarResult(NamedTuple):
    x: jax.Array
    f: jax.Array
    status: jax.Array  # 0 converged, 1 max_iter, 2 non-finite, 6 at a bound
    n_iter: jax.Array


def minimize_scalar(fun, lo, hi, args, *, n_grid: int = 6, max_iter: int = 60, xtol: float = 1e-13):
    """Minimise ``fun(x, args)`` over ``[lo, hi]`` (one problem; vmap for many)."""
    xs = jnp.linspace(lo, hi, n_grid)
    fs = jax.vmap(lambda x: fun(x, args))(xs)
    fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
    i = jnp.argmin(fs)
    a = xs[jnp.maximum(i - 1, 0)]
    b = xs[jnp.minimum(i + 1, n_grid - 1)]
    d1 = jax.grad(fun)

    def body(state):
        it, x, a, b, done = state
        # f' and f'' in one forward-over-reverse pass.
        g, h = jax.jvp(lambda z: d1(z, args), (x,), (jnp.ones_like(x),))
        a = jnp.where(g > 0, a, x)
        b = jnp.where(g > 0, x, b)
        newton = x - g / h
        # Inclusive bracket test: at an exact root (g == 0) the Newton point is x itself,
        # which the bracket update has just made an end point.
        ok = (h > 0) & (newton >= a) & (newton <= b) & jnp.isfinite(newton)
        xn = jnp.where(ok, newton, 0.5 * (a + b))
        conv = (g == 0) | (jnp.abs(xn - x) <= xtol * (1.0 + jnp.abs(x))) | (b - a <= xtol * (1.0 + jnp.abs(x)))
        xn = jnp.where(done, x, xn)
        return it + 1, xn, a, b, done | conv

    def cond(state):
        it, _, _, _, done = state
        return (it < max_iter) & ~done

    x0 = xs[i]
    it, x, a, b, done = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), x0, a, b, jnp.zeros((), bool)))
    f = fun(x, args)
    edge = (i == 0) | (i == n_grid - 1)
    at_bound = edge & ((jnp.abs(x - lo) <= 1e-9 * (1 + jnp.abs(lo))) | (jnp.abs(x - hi) <= 1e-9 * (1 + jnp.abs(hi))))
    status = jnp.where(~jnp.isfinite(f), 2, jnp.where(at_bound, AT_BOUND, jnp.where(done, 0, 1)))
    return ScalarResult(x, f, status.astype(jnp.int32), it)
