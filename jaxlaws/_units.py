"""Units of law inputs: what a number means, and conversion between units of one quantity.

Published coefficients are tied to the units their inputs were measured in (Frantar et al.'s
ViT law takes N in millions of parameters and D in billions of images; evaluated at raw
counts it is silently wrong by orders of magnitude). Each unit is a base quantity and a
scale: ``"millions of parameters"`` is ``("parameters", 1e6)``. Converting between units of
the same base multiplies by the ratio of scales; between different bases (tokens vs
parameters) it is an error naming both.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ._errors import OptionError

# unit -> (base quantity, how many base units one unit is)
UNIT_SCALES = {
    "parameters": ("parameters", 1.0),
    "millions of parameters": ("parameters", 1e6),
    "billions of parameters": ("parameters", 1e9),
    "tokens": ("tokens", 1.0),
    "millions of tokens": ("tokens", 1e6),
    "billions of tokens": ("tokens", 1e9),
    "trillions of tokens": ("tokens", 1e12),
    "images": ("images", 1.0),
    "billions of images": ("images", 1e9),
    "examples": ("examples", 1.0),
    "billions of examples": ("examples", 1e9),
    "FLOPs": ("FLOPs", 1.0),
    "PFLOP-days": ("FLOPs", 1e15 * 86400.0),
    "bits": ("bits", 1.0),
    "steps": ("steps", 1.0),
    "sequences": ("sequences", 1.0),
    "nats/token": ("nats/token", 1.0),
    "fraction": ("fraction", 1.0),
    "count": ("count", 1.0),
    "ratio": ("ratio", 1.0),
    "any": ("any", 1.0),
}
UNITS = tuple(UNIT_SCALES)


def check_unit(unit: str, where: str) -> str:
    if unit not in UNIT_SCALES:
        raise OptionError(f"{where}: unit {unit!r} is not one of {list(UNITS)}")
    return unit


def factor(name: str, source: str, target: str) -> float:
    """The number ``x_target = x_source * factor`` for input ``name`` (an error naming both units
    when they measure different quantities)."""
    check_unit(source, f"input {name}")
    check_unit(target, f"input {name}")
    (b1, s1), (b2, s2) = UNIT_SCALES[source], UNIT_SCALES[target]
    if "any" in (b1, b2):
        return 1.0
    if b1 != b2:
        raise OptionError(f"input {name}: the data are in {source!r} but the law expects {target!r}; "
                          f"these measure different quantities")
    return s1 / s2


def factors(inputs, source: Mapping[str, str] | None, target: Mapping[str, str] | None) -> dict:
    """Per-input conversion factors from ``source`` units to ``target`` units (1 where either is unstated)."""
    source, target = dict(source or {}), dict(target or {})
    out = {}
    for k in inputs:
        if k in source and k in target:
            out[k] = factor(k, source[k], target[k])
    unknown = [k for k in source if k not in inputs]
    if unknown:
        raise OptionError(f"units given for {unknown}, which are not inputs {list(inputs)}")
    return out


def convert(X: Mapping, scale: Mapping[str, float]) -> dict:
    """``X`` (dict of arrays) with each input multiplied by its factor in ``scale``."""
    return {k: (np.asarray(v, dtype=float) * scale[k] if k in scale and scale[k] != 1.0 else v) for k, v in X.items()}


def parse_units(items) -> dict:
    """``NAME=UNIT`` options (repeatable or comma-separated) as a dict, units checked."""
    out = {}
    for it in items or []:
        for part in it.split(","):
            k, sep, u = part.partition("=")
            if not sep or not k.strip() or not u.strip():
                raise OptionError(f"--units {part!r}: use INPUT=UNIT, e.g. --units N=parameters")
            out[k.strip()] = check_unit(u.strip(), f"--units {k.strip()}")
    return out
