"""Parameter constraints as invertible maps between natural and unconstrained values.

Optimisation always happens in unconstrained coordinates ``theta``; a law sees natural
values ``p = forward(theta)``. Start grids may be given in either space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ._errors import LawError


class Constraint:
    """Base class; subclasses implement ``forward`` (jnp) and ``inverse`` (numpy)."""

    name: str = "constraint"

    def forward(self, theta):
        raise NotImplementedError

    def inverse(self, value):
        raise NotImplementedError

    def contains(self, value) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Free(Constraint):
    """No constraint: ``p = theta``."""

    name = "free"

    def forward(self, theta):
        return theta

    def inverse(self, value):
        return np.asarray(value, dtype=float)

    def contains(self, value):
        return np.isfinite(np.asarray(value, dtype=float))

    def __repr__(self):
        return "free()"


@dataclass(frozen=True)
class Positive(Constraint):
    """``p > 0`` through ``p = exp(theta)``.

    The log parameterisation is also what makes Chinchilla-type fits stable: the
    optimiser works with ``a = log A`` directly, so a start at ``A = e^25`` is just 25.
    """

    name = "positive"

    def forward(self, theta):
        return jnp.exp(theta)

    def inverse(self, value):
        v = np.asarray(value, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(v)

    def contains(self, value):
        v = np.asarray(value, dtype=float)
        return np.isfinite(v) & (v > 0)

    def __repr__(self):
        return "positive()"


@dataclass(frozen=True)
class Bounded(Constraint):
    """``lower < p < upper`` through a scaled logistic, ``p = lo + (hi - lo) sigmoid(theta)``."""

    lower: float = 0.0
    upper: float = 1.0
    name = "bounded"

    def __post_init__(self):
        if not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower < self.upper):
            raise LawError(
                f"bounded(lower={self.lower}, upper={self.upper}): need finite lower < upper"
            )

    def forward(self, theta):
        # sigmoid via tanh: no overflow for large |theta| (exp(-theta) would overflow).
        return self.lower + (self.upper - self.lower) * 0.5 * (1.0 + jnp.tanh(0.5 * theta))

    def inverse(self, value):
        v = np.asarray(value, dtype=float)
        u = (v - self.lower) / (self.upper - self.lower)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(u) - np.log1p(-u)

    def contains(self, value):
        v = np.asarray(value, dtype=float)
        return np.isfinite(v) & (v > self.lower) & (v < self.upper)

    def __repr__(self):
        return f"bounded({self.lower}, {self.upper})"


@dataclass(frozen=True)
class OneSided(Constraint):
    """``p > bound`` (``sign = 1``, ``p = bound + exp(theta)``) or ``p < bound`` (``sign = -1``,
    ``p = bound - exp(theta)``): a recipe's one-sided bound such as A >= 1."""

    bound: float = 0.0
    sign: float = 1.0

    @property
    def name(self):
        return "above" if self.sign > 0 else "below"

    @property
    def lower(self):
        return self.bound if self.sign > 0 else -math.inf

    @property
    def upper(self):
        return self.bound if self.sign < 0 else math.inf

    def forward(self, theta):
        return self.bound + self.sign * jnp.exp(theta)

    def inverse(self, value):
        v = np.asarray(value, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(self.sign * (v - self.bound))

    def contains(self, value):
        v = np.asarray(value, dtype=float)
        return np.isfinite(v) & (self.sign * (v - self.bound) > 0)

    def __repr__(self):
        return f"bounded({self.bound}, inf)" if self.sign > 0 else f"bounded(-inf, {self.bound})"


def interval(lower: float, upper: float) -> Constraint:
    """``lower < p < upper`` where either end may be infinite (``Bounded``, ``OneSided`` or ``Free``)."""
    try:
        lo, hi = float(lower), float(upper)
    except (TypeError, ValueError):
        raise LawError(f"bounds ({lower!r}, {upper!r}) must be numbers (inf allowed)") from None
    if math.isnan(lo) or math.isnan(hi) or not lo < hi or lo == math.inf or hi == -math.inf:
        raise LawError(f"bounds ({lower!r}, {upper!r}): need lower < upper")
    if math.isfinite(lo) and math.isfinite(hi):
        return Bounded(lo, hi)
    if math.isfinite(lo):
        return OneSided(lo, 1.0)
    if math.isfinite(hi):
        return OneSided(hi, -1.0)
    return Free()


def bound_of(c: Constraint, value: float) -> float | None:
    """The finite bound of ``c`` that ``value`` sits on (within 1e-7 of the box's scale), else None.

    In unconstrained coordinates a bound is at infinity: a fit whose optimum lies beyond a
    bound ends with the parameter numerically on it, and reports it (status ``at_bound``).
    """
    ends = [c.lower, c.upper] if isinstance(c, (Bounded, OneSided)) else []
    ends = [e for e in ends if math.isfinite(e)]
    if not ends:
        return None
    scale = max(1.0, *(abs(e) for e in ends))
    if isinstance(c, Bounded):
        scale = c.upper - c.lower
    for e in ends:
        if abs(value - e) <= 1e-7 * scale:
            return e
    return None


def free() -> Free:
    """An unconstrained parameter."""
    return Free()


def positive() -> Positive:
    """A strictly positive parameter, optimised as its logarithm."""
    return Positive()


def bounded(lower: float, upper: float) -> Constraint:
    """A parameter strictly between ``lower`` and ``upper`` (logistic map); either end may be
    infinite (then ``lower + exp(theta)`` or ``upper - exp(theta)``)."""
    return interval(lower, upper)
