"""Weighted residual objectives and their exact derivatives.

The objective for a fit is ``norm * sum_i w_i * rho(pred(theta, X)_i - y_i, lp)``, with
``pred`` already in the residual space (log-prediction against log-targets for log
residuals). Everything that varies between fits of one problem is in
``args = (X, y, w, lp)``: data, weights (masking, leave-one-out, bootstrap resampling and
padding to a size bucket are all weights) and the loss parameters, so one compiled program
serves all of them.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class Objective(NamedTuple):
    """``value(theta, args) -> f`` and ``vgh(theta, args) -> (f, grad, hess)`` for one member."""

    value: Callable
    vgh: Callable


def weighted_sum(per_point, w, mean: bool):
    """``sum_i w_i l_i`` (or divided by ``sum_i w_i`` when ``mean``); zero-weight points add exactly 0.

    The ``where`` keeps a huge or non-finite loss at a zero-weight (dropped or padding) point
    from leaking into the sum as ``0 * inf = nan``.
    """
    total = jnp.sum(jnp.where(w != 0, w * per_point, 0.0))
    return total / jnp.sum(w) if mean else total


def hessian_from_value_grad(value):
    """``vgh`` from ``value`` by forward-over-reverse autodiff.

    The Hessian costs about ``p`` gradient evaluations, and the value and gradient come from
    the same primal computation as its first column.
    """

    def g_aux(theta, args):
        f, g = jax.value_and_grad(value)(theta, args)
        return g, (f, g)

    def vgh(theta, args):
        H, (f, g) = jax.jacfwd(g_aux, has_aux=True)(theta, args)
        return f, g, H

    return vgh


def make_objective(pred: Callable, rho: Callable, mean: bool = False) -> Objective:
    """The objective of ``pred(theta, X) -> (n,)`` under loss ``rho(r, lp)``; ``args = (X, y, w, lp)``."""

    def value(theta, args):
        X, y, w, lp = args
        return weighted_sum(rho(pred(theta, X) - y, lp), w, mean)

    return Objective(value, hessian_from_value_grad(value))


# Row blocking for large tables. A (starts x rows) batch of per-point intermediates (the
# power-sum Hessian keeps ~20 per point) grows with the table: 64 starts x 10^6 rows of them
# is ~10 GB. Summing the objective, gradient and Hessian over blocks of rows with a scan keeps
# the working set at `ROW_BLOCK` rows per member whatever the table's size. Tables below
# `BLOCK_FROM` rows (every table of published size) are evaluated whole, as before, so their
# numbers do not change with this; from it on, padded sizes are multiples of ROW_BLOCK (see
# jaxlaws' bucket sizes), and only the order of the sum over points changes.
ROW_BLOCK = 8192
BLOCK_FROM = 65536


def row_blocked(whole: Objective, summed: Objective, *, mean: bool, block: int = ROW_BLOCK,
                block_from: int = BLOCK_FROM) -> Objective:
    """An objective on ``args = ((X, base), y, w, lp)`` (``X`` a tuple of per-row arrays) that
    is evaluated block by block over rows for large tables.

    ``whole`` is the objective as defined (mean or sum); ``summed`` the same objective with
    ``mean=False``, whose per-block values, gradients and Hessians add up. Which one runs is
    decided at trace time from the number of rows (a static shape): ``whole`` below
    ``block_from`` rows or when ``block`` does not divide the rows.
    """

    def use_blocks(args):
        n = args[1].shape[0]
        return n >= block_from and n % block == 0

    def blocks(args):
        (X, base), y, w, lp = args
        nb = y.shape[0] // block
        cut = lambda a: a.reshape((nb, block) + a.shape[1:])  # noqa: E731
        return (tuple(cut(x) for x in X), cut(y), cut(w)), (base, lp)

    def scan_sum(fn, theta, args, init):
        (X, y, w), (base, lp) = blocks(args)

        def body(acc, blk):
            Xb, yb, wb = blk
            out = fn(theta, ((Xb, base), yb, wb, lp))
            return jax.tree_util.tree_map(jnp.add, acc, out), None

        total, _ = jax.lax.scan(body, init, (X, y, w))
        if mean:  # the mean objective is the sum divided by the total weight
            total = jax.tree_util.tree_map(lambda t: t / jnp.sum(args[2]), total)
        return total

    def value(theta, args):
        if not use_blocks(args):
            return whole.value(theta, args)
        return scan_sum(summed.value, theta, args, jnp.zeros((), theta.dtype))

    def vgh(theta, args):
        if not use_blocks(args):
            return whole.vgh(theta, args)
        p = theta.shape[0]
        zero = (jnp.zeros((), theta.dtype), jnp.zeros((p,), theta.dtype), jnp.zeros((p, p), theta.dtype))
        return scan_sum(summed.vgh, theta, args, zero)

    return Objective(value, vgh)
