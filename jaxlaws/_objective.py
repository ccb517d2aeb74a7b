"""Loss specifications and the bridge from a law to the kernels' array objective."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ._data import as_delta
from ._errors import OptionError
from .kernels import make_objective

RESIDUALS = ("log", "raw")


@dataclass(frozen=True)
class Loss:
    """A per-residual loss: ``kind`` is ``"huber"`` or ``"squared"``; ``delta`` for Huber."""

    kind: str = "huber"
    delta: float = 1e-3

    def __post_init__(self):
        if self.kind not in ("huber", "squared"):
            raise OptionError(f"loss kind {self.kind!r} must be 'huber' or 'squared'")
        if self.kind == "huber":
            object.__setattr__(self, "delta", as_delta(self.delta))

    def __str__(self):
        return f"huber({self.delta:g})" if self.kind == "huber" else "squared"


def huber(delta: float = 1e-3) -> Loss:
    """Huber loss with threshold ``delta`` (Hoffmann et al. use 1e-3 on log-loss residuals)."""
    return Loss("huber", delta)


def squared() -> Loss:
    """Squared error, ``0.5 r^2`` per point."""
    return Loss("squared", 1.0)


def as_loss(loss) -> Loss:
    if isinstance(loss, Loss):
        return loss
    if loss == "huber":
        return huber()
    if loss in ("squared", "mse", "l2"):
        return squared()
    raise OptionError(f"loss={loss!r}: use jaxlaws.huber(delta) or jaxlaws.squared()")


def check_residual(residual: str) -> str:
    if residual not in RESIDUALS:
        raise OptionError(f"residual={residual!r} must be one of {RESIDUALS}")
    return residual


@functools.lru_cache(maxsize=256)
def law_objective(law, loss: Loss, residual: str, free_idx: tuple | None):
    """``(value, vgh)`` on fit coordinates for ``args = ((Xfit, base), y, w)``.

    With ``free_idx`` set, only those coordinates are optimised; the others are taken from
    ``base`` (the fixed parameters, in fit coordinates).
    """

    fast = law._analytic_objective(loss.kind, loss.delta) if (free_idx is None and residual == "log") else None
    if fast is not None:
        value_a, vgh_a = fast
        # Same (value, vgh) signature on args ((Xfit, base), y, w): drop the unused base.
        return (lambda th, args: value_a(th, (args[0][0], args[1], args[2])),
                lambda th, args: vgh_a(th, (args[0][0], args[1], args[2])))

    def pred(theta, Xb):
        Xfit, base = Xb
        full = theta if free_idx is None else base.at[jnp.asarray(free_idx)].set(theta)
        return law._pred_fit(full, Xfit, residual)

    return make_objective(pred, loss.kind, loss.delta)


def implicit_root(value, theta_star, args):
    """Attach implicit derivatives to a minimiser ``theta_star`` of ``value(., args)``.

    At an interior minimum ``grad value(theta*, args) = 0``; the implicit function theorem
    gives ``d theta* / d args = -H^{-1} d(grad)/d args``. ``lax.custom_root`` implements it:
    the solver itself is never differentiated (so any safeguarded, non-smooth solver may
    produce ``theta_star``), and the tangent system is solved with the Hessian at the
    optimum by an LDL^T factorisation (``nan`` if the Hessian is not positive definite,
    i.e. the optimum is not strict and has no derivative).
    """
    from .kernels import cholesky_solve

    def grad_fn(th):
        return jax.grad(value)(th, args)

    def solve(f, x0):
        del f
        return x0

    def tangent_solve(g, y):
        return cholesky_solve(jax.jacobian(g)(y), y)

    return jax.lax.custom_root(grad_fn, jax.lax.stop_gradient(theta_star), solve, tangent_solve)
