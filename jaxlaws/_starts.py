"""Start points for multi-start fitting: grids and random draws, resolved against a law."""

from __future__ import annotations

import itertools
from typing import Mapping

import numpy as np

from ._errors import OptionError

SPACES = ("natural", "unconstrained")


class Starts:
    """Base class: ``resolve(law)`` returns an ``(S, p)`` array of unconstrained starts."""

    def resolve(self, law) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _check_names(law, names, what):
    unknown = [k for k in names if k not in law.params]
    if unknown:
        raise OptionError(f"{what}: {unknown} are not parameters of {law.name} {list(law.param_names)}")


class Grid(Starts):
    """A Cartesian product of per-parameter values (in parameter order, last fastest)."""

    def __init__(self, axes: Mapping[str, object], space: str = "natural"):
        if space not in SPACES:
            raise OptionError(f"grid(space={space!r}): must be one of {SPACES}")
        if not axes:
            raise OptionError("grid(): give at least one parameter axis, e.g. grid(alpha=[0.3, 0.5])")
        self.space = space
        self.axes = {}
        for k, v in axes.items():
            try:
                arr = np.atleast_1d(np.asarray(v, dtype=float))
            except (TypeError, ValueError):
                raise OptionError(f"grid(): axis {k!r}={v!r} must be a list of numbers") from None
            if arr.ndim != 1 or arr.size == 0:
                raise OptionError(f"grid(): axis {k!r} must be a non-empty 1-D list of numbers")
            self.axes[k] = arr

    def __repr__(self):
        return f"grid({', '.join(f'{k}={len(v)} values' for k, v in self.axes.items())}, space={self.space!r})"

    @property
    def size(self) -> int:
        return int(np.prod([len(v) for v in self.axes.values()]))

    def resolve(self, law) -> np.ndarray:
        _check_names(law, self.axes, "grid()")
        missing = [k for k in law.param_names if k not in self.axes]
        if missing:
            raise OptionError(f"grid(): no values given for parameters {missing} of {law.name}")
        cols = []
        for k in law.param_names:
            v = self.axes[k]
            if self.space == "natural":
                bad = ~law.params[k].contains(v)
                if bad.any():
                    raise OptionError(
                        f"grid(): value {v[bad][0]!r} for {k!r} is outside {law.params[k]!r}; "
                        f"give values inside it or use grid(..., space='unconstrained')"
                    )
                v = law.params[k].inverse(v)
            elif not np.all(np.isfinite(v)):
                raise OptionError(f"grid(): non-finite value for {k!r}")
            cols.append(v)
        return np.array(list(itertools.product(*cols)), dtype=float).reshape(-1, len(cols))


class RandomStarts(Starts):
    """``n`` draws uniform in unconstrained coordinates between natural-space bounds."""

    def __init__(self, n: int, ranges: Mapping[str, tuple], seed: int = 0, space: str = "natural"):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise OptionError(f"random_starts(n={n!r}): n must be a positive integer")
        if space not in SPACES:
            raise OptionError(f"random_starts(space={space!r}): must be one of {SPACES}")
        self.n, self.ranges, self.seed, self.space = int(n), dict(ranges), int(seed), space

    def resolve(self, law) -> np.ndarray:
        _check_names(law, self.ranges, "random_starts()")
        missing = [k for k in law.param_names if k not in self.ranges]
        if missing:
            raise OptionError(f"random_starts(): no range given for parameters {missing}")
        rng = np.random.default_rng(self.seed)
        cols = []
        for k in law.param_names:
            lo, hi = (float(x) for x in self.ranges[k])
            if self.space == "natural":
                c = law.params[k]
                if not (c.contains(lo) and c.contains(hi)):
                    raise OptionError(f"random_starts(): range {(lo, hi)} for {k!r} is outside {c!r}")
                lo, hi = float(c.inverse(lo)), float(c.inverse(hi))
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise OptionError(f"random_starts(): range for {k!r} must be finite with low <= high")
            cols.append(rng.uniform(lo, hi, size=self.n))
        return np.stack(cols, axis=1)


class Points(Starts):
    """Explicit start points: natural-value dicts, or an unconstrained ``(S, p)`` array."""

    def __init__(self, points):
        self.points = points

    def resolve(self, law) -> np.ndarray:
        pts = self.points
        if isinstance(pts, Mapping):
            pts = [pts]
        if isinstance(pts, (list, tuple)) and pts and isinstance(pts[0], Mapping):
            for d in pts:
                _check_names(law, d, "starts")
            return np.stack([law.unconstrain(d) for d in pts]).reshape(len(pts), -1)
        arr = np.asarray(pts, dtype=float)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != law.n_params:
            raise OptionError(
                f"starts array must have shape (S, {law.n_params}) in the order {law.param_names}, "
                f"got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise OptionError("starts array contains nan or inf")
        return arr


def grid(space: str = "natural", **axes) -> Grid:
    """Cartesian start grid, e.g. ``grid(E=[1, 2], A=np.exp([0, 5, 10]), alpha=[0.2, 0.5])``.

    Values are natural parameter values unless ``space='unconstrained'`` (then a positive
    parameter's axis is given as its logarithm, as in Hoffmann et al.'s grid over ``log A``).
    """
    return Grid(axes, space=space)


def random_starts(n: int, seed: int = 0, space: str = "natural", **ranges) -> RandomStarts:
    """``n`` random starts, uniform in unconstrained coordinates within ``name=(lo, hi)``."""
    return RandomStarts(n, ranges, seed=seed, space=space)


def as_starts(obj) -> Starts:
    """Coerce a user ``starts=`` argument to a :class:`Starts`."""
    if isinstance(obj, Starts):
        return obj
    return Points(obj)


class NaturalPoints(Starts):
    """Start points as an ``(S, p)`` array of natural values (in the law's parameter order)."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def __repr__(self):
        return f"points({len(self.values)} start points)"

    def resolve(self, law) -> np.ndarray:
        cols = [law.params[k].inverse(self.values[:, i]) for i, k in enumerate(law.param_names)]
        return np.stack(cols, axis=1)


def clipped_starts(law, starts, params) -> NaturalPoints:
    """``law``'s start points moved into the constraints ``params`` (a bounded copy of the law).

    Values outside a new bound move just inside it (0.1% of the box, or of the bound's
    magnitude for a one-sided bound); duplicates that creates are dropped.
    """
    theta = as_starts(starts).resolve(law)
    nat = np.stack([np.asarray(law.params[k].forward(theta[:, i])) for i, k in enumerate(law.param_names)], axis=1)
    for i, k in enumerate(law.param_names):
        lo = getattr(params[k], "lower", 0.0 if params[k].name == "positive" else -np.inf)
        nat[:, i] = move_inside(nat[:, i], lo, getattr(params[k], "upper", np.inf))
    return NaturalPoints(np.unique(nat, axis=0))


def move_inside(values, lo: float, hi: float) -> np.ndarray:
    """``values`` moved just inside the open box ``(lo, hi)``: by 0.1% of the box, or of the
    bound's magnitude for a one-sided bound (a start on an open bound maps to an infinite
    unconstrained coordinate)."""
    pad = 1e-3 * ((hi - lo) if np.isfinite(hi - lo) else max(1.0, abs(lo if np.isfinite(lo) else hi)))
    return np.clip(np.asarray(values, float), lo + pad if np.isfinite(lo) else -np.inf, hi - pad if np.isfinite(hi) else np.inf)


# Unconstrained ranges of the default starts: a positive parameter spans exp(-6) .. exp(12)
# (0.0025 .. 1.6e5, which holds Chinchilla-type amplitudes and exponents), a free one -3 .. 3,
# a bounded one the central 96% of its box (logit -4 .. 4).
_DEFAULT_RANGES = {"positive": (-6.0, 12.0), "free": (-3.0, 3.0), "bounded": (-4.0, 4.0), "above": (-6.0, 12.0),
                   "below": (-6.0, 12.0)}
DEFAULT_N_STARTS = 1024


def _halton(n: int, d: int) -> np.ndarray:
    """The first ``n`` points of the ``d``-dimensional Halton sequence in [0, 1)^d (skipping 0).

    Low-discrepancy and deterministic: the default starts cover the box evenly, and a fit
    without starts is reproducible without a seed.
    """
    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97]
    if d > len(primes):
        primes = primes + [p for p in range(101, 10_000) if all(p % q for q in range(2, int(p**0.5) + 1))][: d - len(primes)]
    out = np.empty((n, d))
    for j in range(d):
        b, idx = primes[j], np.arange(1, n + 1)
        f, x = 1.0, np.zeros(n)
        while idx.any():
            f /= b
            x += f * (idx % b)
            idx //= b
        out[:, j] = x
    return out


def default_starts(law, n: int = DEFAULT_N_STARTS) -> np.ndarray:
    """Start points for a law that declares none: ``n`` Halton points in wide unconstrained ranges.

    The multi-start screen keeps the best of them (by objective) and converges those, so a
    wide box costs one objective evaluation per point. Pass ``starts=`` (or ``--starts``)
    when you know where the optimum lies.
    """
    u = _halton(n, law.n_params)
    cols = []
    for j, k in enumerate(law.param_names):
        lo, hi = _DEFAULT_RANGES.get(law.params[k].name, (-3.0, 3.0))
        cols.append(lo + (hi - lo) * u[:, j])
    return np.stack(cols, axis=1)
