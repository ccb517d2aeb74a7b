"""Loss specifications: which per-residual function, its parameters, and sum or mean.

A ``Loss`` names a kernel loss ``rho(r, lp)`` (or carries the user's own function) and the
values of its parameters. The parameter values are *data* of the compiled objective (see
``kernels._losses``): fits under Huber deltas 1e-3 and 1e-2 share one compiled program.
Only ``(rho, mean)`` is part of a problem's identity (``Loss.key``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._errors import OptionError
from .kernels import LOSSES

NORMALISATIONS = ("sum", "mean")
DEFAULT_DELTA = 1e-3  # Hoffmann et al.'s Huber threshold on log-loss residuals


def _positive(name, v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise OptionError(f"loss parameter {name} must be a positive number, got {v!r}") from None
    if not np.isfinite(x) or x <= 0:
        raise OptionError(f"loss parameter {name} must be a positive finite number, got {v!r}")
    return x


@dataclass(frozen=True)
class Loss:
    """A per-residual loss: ``kind`` (a name in ``kernels.LOSSES`` or ``"custom"``), ``values``
    of its parameters, and ``normalise`` (``"sum"``, the default, or ``"mean"``).

    Summing, not averaging, is the default: averaging divides the gradient by the number of
    points, so a quasi-Newton method's absolute tolerances fire early (Besiroglu et al. 2024
    give this as one explanation for Hoffmann et al.'s implausibly narrow intervals). Our
    solvers use relative tolerances, so ``"mean"`` reaches the same optimum; it is there to
    reproduce recipes that report a mean objective.
    """

    kind: str = "huber"
    values: tuple = (DEFAULT_DELTA,)
    normalise: str = "sum"
    rho: Callable | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.normalise not in NORMALISATIONS:
            raise OptionError(f"loss normalise={self.normalise!r} must be one of {NORMALISATIONS}")
        if self.kind == "custom":
            if not callable(self.rho):
                raise OptionError("a custom loss needs a callable rho(r, lp)")
            return
        if self.kind not in LOSSES:
            raise OptionError(f"loss kind {self.kind!r} must be one of {sorted(LOSSES)} or a callable")
        spec = LOSSES[self.kind]
        if len(self.values) != len(spec.params):
            raise OptionError(f"{self.kind} loss takes parameters {spec.params}, got {self.values!r}")
        vals = tuple(_positive(n, v) for n, v in zip(spec.params, self.values))
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "rho", spec.rho)

    @property
    def delta(self) -> float | None:
        """Huber's threshold (``None`` for other losses)."""
        return self.values[0] if self.kind == "huber" else None

    @property
    def key(self):
        """What makes a different compiled objective: the function and the normalisation."""
        return (self.rho, self.normalise == "mean")

    def array(self, dtype=np.float64) -> np.ndarray:
        """The parameter values as the ``lp`` array the compiled objective takes (never empty)."""
        return np.asarray(self.values if self.values else (0.0,), dtype=dtype)

    def __str__(self):
        if self.kind == "squared":
            s = "squared"
        elif self.kind == "huber":
            s = f"huber({self.values[0]:g})"
        else:
            s = f"{self.kind}({', '.join(f'{v:g}' for v in self.values)})"
        return s if self.normalise == "sum" else f"{s}, mean"

    def describe(self, residual: str) -> str:
        """One line: the objective minimised, e.g. ``sum_i w_i huber(0.001)(log pred_i - log y_i)``."""
        r = {"log": "log pred_i - log y_i", "raw": "pred_i - y_i", "log1p": "log(1 + pred_i) - log(1 + y_i)"}[residual]
        agg = "sum_i w_i" if self.normalise == "sum" else "(1 / sum_i w_i) sum_i w_i"
        kind = self.kind if self.kind != "custom" else getattr(self.rho, "__name__", "custom")
        args = ", ".join(f"{v:g}" for v in self.values)
        return f"{agg} {kind}[{args}]({r})" if args else f"{agg} {kind}({r})"


def huber(delta: float = DEFAULT_DELTA, normalise: str = "sum") -> Loss:
    """Huber loss with threshold ``delta`` (Hoffmann et al. use 1e-3 on log-loss residuals)."""
    return Loss("huber", (delta,), normalise)


def squared(normalise: str = "sum") -> Loss:
    """Squared error, ``0.5 r^2`` per point."""
    return Loss("squared", (), normalise)


def asymmetric(over: float = 1.0, under: float = 1.0, eps: float = 1e-4, normalise: str = "sum") -> Loss:
    """Asymmetric absolute error: ``over |r|`` for over-predictions, ``under |r|`` below (smoothed within ``eps``)."""
    return Loss("asymmetric", (over, under, eps), normalise)


def absolute(eps: float = 1e-4, normalise: str = "sum") -> Loss:
    """Absolute error ``|r|`` (smoothed within ``eps``; the asymmetric loss with equal weights)."""
    return Loss("asymmetric", (1.0, 1.0, eps), normalise)


def logcosh(scale: float = 1e-2, normalise: str = "sum") -> Loss:
    """``scale^2 log cosh(r / scale)``: squared below ``scale``, absolute beyond."""
    return Loss("logcosh", (scale,), normalise)


def custom(rho: Callable, values=(), normalise: str = "sum") -> Loss:
    """Your own loss ``rho(r, lp) -> per-point loss`` (elementwise, pure JAX); ``lp`` holds ``values``."""
    return Loss("custom", tuple(float(v) for v in values), normalise, rho)


def as_loss(loss) -> Loss:
    if loss is None or loss == "huber":
        return huber()
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in ("squared", "mse", "l2"):
        return squared()
    if isinstance(loss, str) and loss in ("absolute", "l1", "mae"):
        return absolute()
    if isinstance(loss, str) and loss == "logcosh":
        return logcosh()
    if callable(loss):
        return custom(loss)
    raise OptionError(f"loss={loss!r}: use jaxlaws.huber(delta), squared(), absolute(), asymmetric(...), "
                      f"logcosh(), or a function rho(r, lp)")
