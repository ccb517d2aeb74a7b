"""Robust per-residual losses, elementwise on plain arrays.

All losses are *summed* by the objective, never averaged: averaging divides the gradient by
the number of points, so a quasi-Newton method's absolute tolerances fire early. Besiroglu et
al. (2024) give this as one of two explanations for the implausibly narrow intervals of
Hoffmann et al.'s Approach 3.
"""

from __future__ import annotations

import jax.numpy as jnp


def huber(r, delta):
    """Huber loss ``0.5 r^2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond.

    Identical to ``scipy.special.huber(delta, r)``, the loss Hoffmann et al. and Besiroglu
    et al. use with ``delta = 1e-3`` on log-loss residuals. Written with ``minimum`` so the
    gradient is ``clip(r, -delta, delta)`` everywhere, without a doubled subgradient at the
    kink (the same trick as optax's ``huber_loss``).
    """
    a = jnp.abs(r)
    q = jnp.minimum(a, delta)
    return q * (a - 0.5 * q)


def squared(r, delta=None):
    """Half the squared residual, ``0.5 r^2`` (``delta`` is accepted and ignored)."""
    del delta
    return 0.5 * r * r


LOSSES = {"huber": huber, "squared": squared}
