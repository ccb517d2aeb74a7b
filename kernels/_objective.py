"""Weighted, summed residual objectives and their exact derivatives.

The objective for a fit is ``sum_i w_i * rho(pred(theta, X)_i - y_i)``, with ``pred`` already
in the residual space (log-prediction against log-targets for log residuals). Weights are how
masking, leave-one-out and bootstrap resampling work: every variant of a data set has the
same shape, so all of them can be fitted in one batched call.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ._losses import LOSSES


def make_objective(pred: Callable, loss: str = "huber", delta: float = 1e-3):
    """Return ``(value, vgh)`` for ``pred(theta, X) -> (n,)`` and ``args = (X, y, w)``.

    ``value(theta, args)`` is the weighted sum of per-residual losses; ``vgh`` returns the
    value, gradient and exact Hessian in one pass (Hessian by forward-over-reverse, so its
    cost is about ``p`` gradient evaluations, with the value and gradient from the same
    primal computation).
    """
    rho = LOSSES[loss]

    def value(theta, args):
        X, y, w = args
        r = pred(theta, X) - y
        # Zero-weight points contribute exactly zero, even where their loss is large.
        return jnp.sum(jnp.where(w != 0, w * rho(r, delta), 0.0))

    def _g_aux(theta, args):
        f, g = jax.value_and_grad(value)(theta, args)
        return g, (f, g)

    def vgh(theta, args):
        H, (f, g) = jax.jacfwd(_g_aux, has_aux=True)(theta, args)
        return f, g, H

    return value, vgh
