"""Per-residual losses as pure functions ``rho(r, lp)`` with their parameters as data.

``lp`` is a 1-D array of the loss's parameters (Huber's delta, an asymmetry, a smoothing
width): it enters the compiled objective as an argument, so one compiled program serves
every delta, and a fit can be vmapped or differentiated over it. Derivatives everywhere
(autodiff objectives, the analytic power-sum Hessian, influence) come from the same
``rho`` through ``derivatives``, so a new loss cannot get a wrong gradient or Hessian.

Adding a loss is one entry in ``LOSSES``: a name, ``rho``, and its parameter names.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


def huber(r, lp):
    """Huber loss ``0.5 r^2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond; ``lp = (delta,)``.

    Identical to ``scipy.special.huber(delta, r)``, the loss Hoffmann et al. and Besiroglu
    et al. use with ``delta = 1e-3`` on log-loss residuals. Written with ``minimum`` so the
    gradient is ``clip(r, -delta, delta)`` everywhere, without a doubled subgradient at the
    kink (the same trick as optax's ``huber_loss``).
    """
    return _huber(r, lp[0])


def _huber(r, delta):
    a = jnp.abs(r)
    q = jnp.minimum(a, delta)
    return q * (a - 0.5 * q)


def squared(r, lp):
    """Half the squared residual, ``0.5 r^2`` (no parameters)."""
    del lp
    return 0.5 * r * r


def asymmetric(r, lp):
    """Asymmetric absolute error ``w_over |r|`` for ``r > 0``, ``w_under |r|`` below; ``lp = (w_over, w_under, eps)``.

    With log residuals ``r = log pred - log y``, ``r > 0`` is an over-prediction. The kink
    at 0 is smoothed over ``|r| <= eps`` (``huber(r, eps) / eps`` equals ``|r| - eps/2``
    outside that band), so Newton sees a C1 objective with a curvature 1/eps near 0; as
    eps -> 0 it is the pinball loss. ``w_over = w_under = 1`` is the absolute error.
    """
    w_over, w_under, eps = lp[0], lp[1], lp[2]
    return jnp.where(r > 0, w_over, w_under) * _huber(r, eps) / eps


def logcosh(r, lp):
    """``s^2 log cosh(r / s)``: quadratic below the scale ``s``, linear (slope ``s``) beyond; ``lp = (s,)``.

    Written as ``|x| + log1p(exp(-2|x|)) - log 2`` so it never overflows for large ``|r|/s``.
    """
    s = lp[0]
    x = jnp.abs(r / s)
    return s * s * (x + jnp.log1p(jnp.exp(-2.0 * x)) - jnp.log(2.0))


def expectile(r, lp):
    """Asymmetric squared error ``0.5 w r^2``, ``w = w_over`` for ``r > 0`` else ``w_under``; ``lp = (w_over, w_under)``.

    The over-estimate penalty of recipes that fear over-predicting loss: a squared loss
    whose over-predictions cost ``w_over / w_under`` times more. Continuous with a
    continuous gradient at 0 (both branches have slope 0 there), so Newton needs no smoothing.
    """
    return 0.5 * jnp.where(r > 0, lp[0], lp[1]) * r * r


class LossKind(NamedTuple):
    rho: Callable
    params: tuple  # parameter names, in the order of ``lp``
    defaults: tuple  # default values


LOSSES = {
    "huber": LossKind(huber, ("delta",), (1e-3,)),
    "squared": LossKind(squared, (), ()),
    "asymmetric": LossKind(asymmetric, ("w_over", "w_under", "eps"), (1.0, 1.0, 1e-4)),
    "logcosh": LossKind(logcosh, ("scale",), (1e-2,)),
    "expectile": LossKind(expectile, ("w_over", "w_under"), (1.0, 1.0)),
}


def derivatives(rho: Callable):
    """``(rho1, rho2)``: elementwise first and second derivatives of ``rho(r, lp)`` in ``r``.

    By forward-mode autodiff with a unit tangent: ``rho`` acts elementwise, so the JVP along
    ``ones`` is the elementwise derivative, and one more JVP gives the second.
    """

    def rho1(r, lp):
        return jax.jvp(lambda t: rho(t, lp), (r,), (jnp.ones_like(r),))[1]

    def rho2(r, lp):
        return jax.jvp(lambda t: rho1(t, lp), (r,), (jnp.ones_like(r),))[1]

    return rho1, rho2
