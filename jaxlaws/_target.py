"""Targets: the one scalar a design or a decision is about, as a differentiable function of a
law's parameters.

A target is written the way a researcher says it: ``"N_opt(C=1e24)"`` (compute-optimal model
size at a budget), ``"D_opt(C=1e24)"``, ``"loss(N=70e9, D=1.4e12)"`` (the law's prediction at a
point), a parameter name (``"alpha"``) or a derived quantity (``"a"`` = beta/(alpha+beta) for
Chinchilla), or a Python callable ``f(params) -> scalar``. Quantities that are positive and span
decades (N_opt, D_opt, a loss, a positive coefficient) are handled in log space, so their
uncertainty is relative ("a factor of 1.3") rather than absolute.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Mapping

import jax
import jax.numpy as jnp

from ._constraints import Positive
from ._errors import OptionError

_SPEC = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


@dataclass(frozen=True)
class Target:
    """``fn(params) -> scalar`` (traceable, differentiable); ``log``: ``fn`` returns the log of
    the quantity named ``name``."""

    name: str
    fn: Callable
    log: bool

    def natural(self, value):
        """The quantity itself from ``fn``'s value."""
        return jnp.exp(value) if self.log else value


def _assignments(spec: str, body: str) -> dict:
    out = {}
    for part in filter(None, (s.strip() for s in body.split(","))):
        key, eq, val = part.partition("=")
        try:
            if not eq:
                raise ValueError
            out[key.strip()] = float(val)
        except ValueError:
            raise OptionError(f"target {spec!r}: {part!r} is not NAME=NUMBER") from None
    return out


def parse_target(law, spec, *, flops_per_token: float = 6.0, inputs: Mapping | None = None) -> Target:
    """The ``Target`` a spec names for ``law`` (see the module docstring for the forms).

    Text specs are cached: the same spec gives the same ``Target``, so programs compiled for it
    (keyed on the target) are reused across calls."""
    if isinstance(spec, Target):
        return spec
    if callable(spec):
        return Target(getattr(spec, "__name__", "target"), spec, False)
    return _parse(law, str(spec), float(flops_per_token), tuple(sorted((k, float(v)) for k, v in dict(inputs or {}).items())))


@functools.lru_cache(maxsize=64)
def _parse(law, spec: str, flops_per_token: float, inputs: tuple) -> Target:
    m = _SPEC.match(str(spec))
    if not m:
        raise OptionError(f"target {spec!r}: write N_opt(C=1e24), D_opt(C=...), loss(N=..., D=...), a parameter or a derived quantity")
    head, body = m.group(1), m.group(2)
    args = _assignments(spec, body) if body is not None else {}
    fixed = {k: float(v) for k, v in dict(inputs or {}).items()}
    if head in ("N_opt", "D_opt"):
        from ._allocate import optimal_log_n

        if not {"N", "D"} <= set(law.inputs):
            raise OptionError(f"target {spec!r} needs a law with inputs N and D; {law.name} has {list(law.inputs)}")
        if set(args) != {"C"} or not args["C"] > 0:
            raise OptionError(f"target {spec!r}: give the budget as {head}(C=1e24)")
        C = args["C"]
        missing = [k for k in law.inputs if k not in ("N", "D", *fixed)]
        if missing:
            raise OptionError(f"target {spec!r}: {law.name} also needs inputs {missing} (pass inputs=, CLI --input)")
        extra = {k: fixed[k] for k in law.inputs if k not in ("N", "D")}
        k = float(flops_per_token)

        def fn(p):
            u = optimal_log_n(law, p, C, flops_per_token=k, extra=extra)[0]
            # log D_opt = log C - log k - log N_opt: the budget identity, exact
            return u if head == "N_opt" else jnp.log(C / k) - u

        return Target(f"{head}(C={C:g})", fn, True)
    if head in ("loss", "L", "prediction"):
        point = {**fixed, **args}
        missing = [k for k in law.inputs if k not in point]
        if missing:
            raise OptionError(f"target {spec!r} lacks inputs {missing} of {law.name}")
        xs = [point[k] for k in law.inputs]
        label = ", ".join(f"{k}={point[k]:g}" for k in law.inputs)
        return Target(f"{head}({label})", lambda p: law.log_predict(p, *xs), True)
    if body is not None:
        raise OptionError(f"target {spec!r}: only N_opt, D_opt and loss take arguments")
    if head in law.param_names:
        pos = isinstance(law.params[head], Positive)
        return Target(head, (lambda p: jnp.log(p[head])) if pos else (lambda p: p[head]), pos)
    if head in law.derived:
        fd = law.derived[head]
        return Target(head, lambda p: fd(p), False)
    raise OptionError(f"target {spec!r} is not N_opt(C=...), D_opt(C=...), loss(...), a parameter "
                      f"{list(law.param_names)} or a derived quantity {list(law.derived)} of {law.name}")


@functools.lru_cache(maxsize=64)
def target_programs(t):
    """A target's value over a batch of draws and at one point, each compiled once per target
    (a text spec is cached by ``parse_target``, so repeated ``interval("N_opt(C=1e24)")`` calls
    trace nothing: each used to re-trace its vmapped solve, ~5.6 s)."""
    return jax.jit(jax.vmap(t.fn)), jax.jit(t.fn)
