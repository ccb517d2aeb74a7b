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
