"""Allocation: the inputs that minimise a fitted law's prediction under a budget.

``compute_optimal`` solves the Chinchilla question, the best N and D for a compute budget
``C = k N D`` (k = 6 FLOPs per parameter per token by default), for any law with inputs N and
D (other inputs, e.g. the unique tokens U of the data-constrained law, held fixed). It is the
fast path of the general constrained problem (``allocate`` with one equality budget; a test
checks they agree) and returns the same ``Allocation``. The equality budget is eliminated
(D = C / (k N)) and the loss is minimised over u = log N by a
batched safeguarded Newton method, batched over budgets and over parameter draws (e.g.
bootstrap draws) in one compiled call. The optimum carries implicit derivatives with
respect to the law's parameters (``lax.custom_root`` on d log L / du = 0), so
``jax.grad`` of N_opt with respect to alpha works.
"""

from __future__ import annotations

import functools
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._allocation import Allocation
from ._errors import OptionError
from ._prepare import resolve_law
from ._result import FitResult
from ._util import pad_to_bucket, shard_draws, to_host, x64
from .kernels import minimize_scalar


def _objective(law, k):
    def f(u, args):
        p, C, extra = args
        N = jnp.exp(u)
        D = C / (k * N)
        # log L: same minimiser as L, better scaled for Newton across 10 decades of C.
        return law.log_predict(p, *[{"N": N, "D": D, **extra}[name] for name in law.inputs])

    return f


def optimal_log_n(law, params: Mapping, C, *, flops_per_token: float = 6.0, extra=None,
                  bounds=(1e2, 1e18)):
    """log N_opt for one parameter set and one budget (traceable, differentiable in params).

    Returns ``(u, status)``; vmap it over budgets and parameter draws.
    """
    law = resolve_law(law)
    f = _objective(law, flops_per_token)
    extra = {} if extra is None else dict(extra)
    lo, hi = float(np.log(bounds[0])), float(np.log(bounds[1]))
    args = (params, C, extra)
    sg = jax.lax.stop_gradient
    r = minimize_scalar(f, lo, hi, sg(args))

    def grad_u(u):
        return jax.grad(f)(u, args)

    # Implicit function theorem at d f / du = 0; valid for interior optima.
    u = jax.lax.custom_root(grad_u, sg(r.value), lambda g, x0: x0, lambda g, y: y / jax.grad(g)(1.0))
    return u, r.result


@functools.lru_cache(maxsize=32)
def _batched(law, k, lo, hi, extra_keys):
    def one(p, C, extra):
        ex = dict(zip(extra_keys, extra))
        u, st = optimal_log_n(law, p, C, flops_per_token=k, extra=ex, bounds=(lo, hi))
        N = jnp.exp(u)
        D = C / (k * N)
        loss = law(p, *[{"N": N, "D": D, **ex}[name] for name in law.inputs])
        return N, D, loss, st

    over_C = jax.vmap(one, in_axes=(None, 0, None))
    over_draws = jax.vmap(over_C, in_axes=(0, None, None))
    return jax.jit(over_C), jax.jit(over_draws)


RAW_UNITS = {"N": "parameters", "D": "tokens"}


def check_allocatable(law, params=None, units=None):
    """Refuse what no allocation can honestly answer: a law whose output is not a loss or
    error to minimise (a learning rate, a batch size), or coefficients whose inputs are not in
    the raw units that budgets like C = 6 N D assume: a published set's, a fit's (its recipe's
    units, e.g. Frantar et al.'s N in millions), a bootstrap's, or ``units`` given (a saved
    fit's)."""
    out = (law.output or "").lower()
    if not any(w in out for w in ("loss", "error", "perplexity")):
        raise OptionError(f"{law.name} predicts {law.output!r}, not a loss or error to minimise: it cannot be allocated")
    what = "the given coefficients"
    if units is None:
        if isinstance(params, str):
            units, what = (law.coefficients[params].units if params in law.coefficients else {}), f"coefficients {params!r}"
        elif isinstance(getattr(params, "units", None), Mapping):  # a fit
            units, what = params.units, "the fit's coefficients"
        elif isinstance(getattr(getattr(params, "fit", None), "units", None), Mapping):  # a bootstrap
            units, what = params.fit.units, "the bootstrap's coefficients"
    for k, raw in RAW_UNITS.items():
        if units and k in units and units[k] != raw:
            raise OptionError(f"{law.name} {what} measure {k} in {units[k]}, but allocation budgets "
                              f"(C = k N D, memory) count {k} in {raw}: convert the coefficients first")


def _param_arrays(law, params):
    """Natural parameters as a dict of arrays, plus whether they are draws."""
    if isinstance(params, FitResult):
        return {k: jnp.asarray(v) for k, v in params.params.items()}, False
    if callable(getattr(params, "converged_draws", None)):  # a BootstrapResult (not imported: it uses targets)
        return {k: jnp.asarray(v) for k, v in params.converged_draws().items()}, True
    if isinstance(params, str):
        return {k: jnp.asarray(v) for k, v in law.coefficient_set(params).items()}, False
    if not isinstance(params, Mapping):
        raise OptionError("params must be a dict of parameter values, a FitResult, a BootstrapResult or a coefficient-set name")
    missing = [k for k in law.param_names if k not in params]
    if missing:
        raise OptionError(f"params lacks {missing} for {law.name}")
    unknown = [k for k in params if k not in law.param_names]
    if unknown:
        raise OptionError(f"params names {unknown}, not parameters of {law.name} {list(law.param_names)}")
    arrs = {}
    for k in law.param_names:
        try:
            v = np.asarray(params[k], float)
        except (TypeError, ValueError):
            raise OptionError(f"params {k}={params[k]!r} is not a number (or a list of numbers)") from None
        # a value outside the parameter's domain (E = -1 for a positive E) has no allocation
        bad = ~np.asarray(law.params[k].contains(v), bool)
        if np.any(bad):
            raise OptionError(f"params {k}={float(v.reshape(-1)[np.argmax(bad.reshape(-1))]):g} is outside its domain "
                              f"({law.params[k]!r})")
        arrs[k] = jnp.asarray(v)
    nd = {v.ndim for v in arrs.values()}
    if nd - {0, 1} or len(nd) > 1 or len({v.shape for v in arrs.values()}) > 1:
        raise OptionError("params values must be all scalars or all 1-D arrays of draws of one length")
    if nd == {1} and next(iter(arrs.values())).shape[0] == 0:
        raise OptionError("params holds no draws (empty lists): nothing to allocate")
    return arrs, nd == {1}


def input_value(law, name: str, value) -> float:
    """A fixed input's value as a float inside the input's domain (``U = -1`` unique tokens is no input)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"inputs {name}={value!r} is not a number") from None
    dom = law.input_domains.get(name, "positive")
    ok = np.isfinite(v) and (v > 0 if dom == "positive" else 0 <= v < 1 if dom == "fraction" else True)
    if not ok:
        raise OptionError(f"inputs {name}={value!r} is outside its domain ({dom})")
    return v


@x64
def compute_optimal(law, params, C, *, flops_per_token: float = 6.0, inputs: Mapping | None = None,
                    n_bounds=(1e2, 1e18)) -> Allocation:
    """Compute-optimal N and D for budgets ``C`` under ``C = flops_per_token * N * D``.

    **Arguments:**
    - ``law``: a law (or name) with inputs ``N`` and ``D`` (others fixed through ``inputs``).
    - ``params``: a ``FitResult``, a ``BootstrapResult`` (its converged draws: the result then
      has a leading draws axis), a published coefficient-set name, or a dict of values/draws.
    - ``C``: a budget or an array of budgets (FLOPs).
    - ``inputs``: values of the law's other inputs, e.g. ``{"U": 25e9}`` for unique tokens.
    - ``n_bounds``: the search interval for N; an optimum on its edge is flagged ``at_bound``.
    """
    law = resolve_law(law)
    if not {"N", "D"} <= set(law.inputs):
        raise OptionError(f"compute_optimal needs a law with inputs N and D; {law.name} has {list(law.inputs)}")
    check_allocatable(law, params)
    try:
        Cs = np.atleast_1d(np.asarray(C, float))
        flops_per_token = float(flops_per_token)
    except (TypeError, ValueError):
        raise OptionError(f"C={C!r} and flops_per_token={flops_per_token!r} must be numbers") from None
    if Cs.ndim != 1 or not np.all(np.isfinite(Cs)) or np.any(Cs <= 0):
        raise OptionError("C must be positive finite budget(s)")
    if not (0 < flops_per_token < np.inf):
        raise OptionError(f"flops_per_token must be a positive number, got {flops_per_token!r}")
    try:
        lo, hi = (float(x) for x in n_bounds)
    except (TypeError, ValueError):
        raise OptionError(f"n_bounds={n_bounds!r} must be a pair of numbers (low, high)") from None
    if not (0 < lo < hi):
        raise OptionError(f"n_bounds={n_bounds!r} must satisfy 0 < low < high")
    inputs = dict(inputs or {})
    others = [k for k in law.inputs if k not in ("N", "D")]
    missing = [k for k in others if k not in inputs]
    if missing:
        raise OptionError(f"{law.name} also needs inputs {missing}: pass inputs={{...}}")
    unknown = [k for k in inputs if k not in others]
    if unknown:
        raise OptionError(f"inputs names {unknown}, not other inputs of {law.name} (those are {others})")
    extra_keys = tuple(others)
    extra_vals = tuple(jnp.asarray(input_value(law, k, inputs[k])) for k in extra_keys)
    p, is_draws = _param_arrays(law, params)
    over_C, over_draws = _batched(law, float(flops_per_token), lo, hi, extra_keys)
    fn = over_draws if is_draws else over_C
    budgets = {"C": jnp.asarray(Cs)}
    n_draws, nC = None, len(Cs)
    if is_draws:
        # Shard the draws axis over all devices (both CPU cores when exposed as host devices).
        p, n_draws = shard_draws(p)
    else:
        # point allocations: budgets padded to a bucket size so that other numbers of budgets
        # reuse the compiled program (not with draws, where padding would multiply the work)
        budgets, nC = pad_to_bucket(budgets)
    N, D, loss, st = (to_host(a)[:n_draws][..., :nC] for a in fn(p, budgets["C"], extra_vals))
    ext = dict(zip(extra_keys, (float(v) for v in extra_vals)))
    return Allocation({"N": N, "D": D}, loss, st, batch={"C": Cs}, extra=ext,
                      labels={"N": "N_opt", "D": "D_opt", "objective": "loss"})
