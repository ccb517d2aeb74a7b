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


def free() -> Free:
    """An unconstrained parameter."""
    return Free()


def positive() -> Positive:
    """A strictly positive parameter, optimised as its logarithm."""
    return Positive()


def bounded(lower: float, upper: float) -> Bounded:
    """A parameter strictly between ``lower`` and ``upper`` (logistic map)."""
    return Bounded(float(lower), float(upper))
