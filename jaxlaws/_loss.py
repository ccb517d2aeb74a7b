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
    def smoothed(self) -> bool:
        """The solver minimises a smoothed form of this loss (the pinball loss's kink within eps)."""
        return self.kind == "asymmetric"

    @property
    def key(self):
        """What makes a different compiled objective: the function and the normalisation."""
        return (self.rho, self.normalise == "mean")

    def array(self, dtype=np.float64) -> np.ndarray:
        """The parameter values as the ``lp`` array the compiled objective takes (never empty)."""
        return np.asarray(self.values if self.values else (0.0,), dtype=dtype)

    def schedule(self) -> list["Loss"]:
        """The losses a fit minimises in turn, the last being this one.

        The (asymmetric) absolute error is non-smooth at 0; Newton gets it smoothed over
        ``|r| <= eps``. Started directly at a tiny ``eps`` the curvature 1/eps makes Newton
        crawl, so the smoothing vanishes by continuation: ``eps = 1e-3, 1e-4, ...`` down to the
        requested value, each stage warm-started at the last stage's optima. Every stage is
        the same compiled program (``eps`` is data). Other losses are one stage.
        """
        if not self.smoothed or self.values[2] >= 1e-3:
            return [self]
        eps, out = 1e-3, []
        while eps > self.values[2] * 1.0001:
            out.append(Loss(self.kind, self.values[:2] + (eps,), self.normalise))
            eps /= 10.0
        return out + [self]

    def __str__(self):
        if self.kind == "squared":
            s = "squared"
        elif self.kind == "huber":
            s = f"huber({self.values[0]:g})"
        else:
            s = f"{self.kind}({', '.join(f'{v:g}' for v in self.values)})"
        return s if self.normalise == "sum" else f"{s}, mean"

    def spec(self) -> str | None:
        """The text form ``parse_loss`` reads back (``huber:0.001``, ``squared/mean``), exact in
        its values (``repr`` keeps every digit); ``None`` for a custom loss (a function)."""
        if self.kind == "custom":
            return None
        s = self.kind + (":" + ",".join(repr(float(v)) for v in self.values) if self.values else "")
        return s if self.normalise == "sum" else f"{s}/{self.normalise}"

    def describe(self, residual: str) -> str:
        """One line: the objective minimised, e.g. ``sum_i w_i huber(0.001)(log pred_i - log y_i)``."""
        r = {"log": "log pred_i - log y_i", "raw": "pred_i - y_i", "log1p": "log(1 + pred_i) - log(1 + y_i)"}[residual]
        agg = "sum_i w_i" if self.normalise == "sum" else "(1 / sum_i w_i) sum_i w_i"
        if self.kind == "squared":  # the objective is half the squared residual: say so
            return f"{agg} 0.5 ({r})^2"
        if self.kind == "asymmetric":  # the loss stated is the pinball loss; the smoothing is the solver's
            over, under, eps = self.values
            name = "absolute" if over == under == 1.0 else f"asymmetric[over {over:g}, under {under:g}]"
            return f"{agg} {name}({r}), reached through a kink smoothed within {eps:g}"
        kind = self.kind if self.kind != "custom" else getattr(self.rho, "__name__", "custom")
        args = ", ".join(f"{v:g}" for v in self.values)
        return f"{agg} {kind}[{args}]({r})" if args else f"{agg} {kind}({r})"

    def exact_objective(self, r, w) -> float:
        """The objective of the stated loss at residuals ``r`` with weights ``w`` (rows of weight
        0 left out), without the solver's smoothing: the pinball loss
        ``over max(r, 0) + under max(-r, 0)`` exactly (its smoothed form is below it by up to
        ``max(over, under) eps / 2`` per point, which can exceed the gap between two competing
        fits). ``nan`` for the other losses: they are exact as minimised (numpy only, so a
        table of a new size compiles nothing)."""
        if not self.smoothed:
            return float("nan")
        r, w = np.asarray(r, float), np.asarray(w, float)
        keep = w > 0
        r, w = r[keep], w[keep]
        per = np.where(r > 0, self.values[0] * r, -self.values[1] * r)
        total = float(np.sum(w * per))
        return total / float(np.sum(w)) if self.normalise == "mean" else total


def huber(delta: float = DEFAULT_DELTA, normalise: str = "sum") -> Loss:
    """Huber loss with threshold ``delta`` (Hoffmann et al. use 1e-3 on log-loss residuals)."""
    return Loss("huber", (delta,), normalise)


def squared(normalise: str = "sum") -> Loss:
    """Squared error, ``0.5 r^2`` per point."""
    return Loss("squared", (), normalise)


def asymmetric(over: float = 1.0, under: float = 1.0, eps: float = 1e-6, normalise: str = "sum") -> Loss:
    """Asymmetric absolute (pinball) error: ``over |r|`` for over-predictions, ``under |r|`` below.

    Smoothed within ``eps`` (reached by continuation from 1e-3, see ``Loss.schedule``); the
    smoothed objective is below the non-smooth one by at most ``max(over, under) eps / 2`` per point.
    """
    return Loss("asymmetric", (over, under, eps), normalise)


def expectile(over: float = 1.0, under: float = 1.0, normalise: str = "sum") -> Loss:
    """Asymmetric squared error (an over-estimate penalty): ``0.5 over r^2`` for ``r > 0``, ``0.5 under r^2`` below."""
    return Loss("expectile", (over, under), normalise)


def absolute(eps: float = 1e-6, normalise: str = "sum") -> Loss:
    """Absolute error ``|r|`` (the asymmetric loss with equal weights; smoothed within ``eps``)."""
    return Loss("asymmetric", (1.0, 1.0, eps), normalise)


def logcosh(scale: float = 1e-2, normalise: str = "sum") -> Loss:
    """``scale^2 log cosh(r / scale)``: squared below ``scale``, absolute beyond."""
    return Loss("logcosh", (scale,), normalise)


def custom(rho: Callable, values=(), normalise: str = "sum") -> Loss:
    """Your own loss ``rho(r, lp) -> per-point loss`` (elementwise, pure JAX); ``lp`` holds ``values``."""
    return Loss("custom", tuple(float(v) for v in values), normalise, rho)


_SPEC_HELP = ("huber[:DELTA], squared, absolute, asymmetric:OVER,UNDER, expectile:OVER,UNDER, logcosh[:SCALE]; "
              "add '/mean' to average instead of sum, e.g. squared/mean")
_BUILDERS = {"huber": huber, "squared": squared, "mse": squared, "l2": squared, "absolute": absolute, "l1": absolute,
             "mae": absolute, "asymmetric": asymmetric, "pinball": asymmetric, "expectile": expectile, "logcosh": logcosh}


def parse_loss(spec: str) -> Loss:
    """A loss from its text form: ``huber:1e-3``, ``squared/mean``, ``asymmetric:10,1``, ``expectile:4,1``."""
    if not isinstance(spec, str) or not spec.strip():
        raise OptionError(f"loss {spec!r}: use {_SPEC_HELP}")
    body, _, norm = spec.strip().partition("/")
    name, _, args = body.partition(":")
    name = name.strip().lower()
    if name not in _BUILDERS or (norm and norm not in NORMALISATIONS):
        raise OptionError(f"loss {spec!r}: use {_SPEC_HELP}")
    try:
        vals = [float(a) for a in args.split(",")] if args.strip() else []
    except ValueError:
        raise OptionError(f"loss {spec!r}: parameters must be numbers ({_SPEC_HELP})") from None
    try:
        return _BUILDERS[name](*vals, normalise=norm or "sum")
    except TypeError:
        raise OptionError(f"loss {spec!r}: wrong number of parameters ({_SPEC_HELP})") from None


def as_loss(loss, default: Loss | None = None) -> Loss:
    """A :class:`Loss` from ``None`` (``default``, else Huber 1e-3), a ``Loss``, its text form or a function."""
    if loss is None:
        return default if default is not None else huber()
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        return parse_loss(loss)
    if callable(loss):
        return custom(loss)
    raise OptionError(f"loss={loss!r}: use jaxlaws.huber(delta), squared(), absolute(), asymmetric(...), "
                      f"expectile(...), logcosh(), a text form ({_SPEC_HELP}) or a function rho(r, lp)")
