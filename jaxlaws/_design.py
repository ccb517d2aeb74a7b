"""Experiment design: which runs to train next so that a target is known best per FLOP.

``design`` linearises the fitted law at its estimate. With noise of the fit's effective scale
``sigma`` (``_information.effective_noise``: the residual scale that charges the loss's own
inefficiency), the runs already trained give the information ``I0 = sum_i w_i j_i j_i^T /
sigma^2`` where ``j_i`` is the gradient of the prediction at run i with respect to the free
parameters (positive ones in log). The target's variance is ``g^T I0^-1 g`` (``g``: its
gradient; for N_opt(C) through the implicit derivative of the allocation). Each candidate
run's reduction of that variance follows from a rank-one update; ``kernels.design.greedy``
picks the batch (by gain per unit cost, or by gain; both are run and the better batch kept),
updating the information after every pick. All candidates' Jacobians are one ``jax.jacfwd``
call.

With bootstrap draws, ``design`` also checks the linearisation the other way: across the
draws, the covariance of the target with each candidate's prediction gives an ensemble
estimate of each candidate's gain (no derivatives, no Gaussian assumption for the
parameters); ``check`` reports how well the two rankings agree.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._data import get_column
from ._errors import FitError, OptionError
from ._target import parse_target
from ._units import convert, factors
from ._information import Coordinates, coordinate_params, expected_variance, information, prediction_jacobian, sandwich
from ._util import x64
from .kernels import design as KD

RULES = ("best", "per_cost", "gain")
Z80 = 1.2815515655446004  # standard normal 0.9 quantile: an 80% interval is +-Z80 sd


@functools.lru_cache(maxsize=16)
def design_programs(law, residual, names, log, const_keys, target):
    """Compiled Jacobians, target gradient and greedy selection for one (law, target)."""

    def params(phi, const):
        return coordinate_params(phi, const, names, log, const_keys)

    def grad(phi, const):
        return jax.grad(lambda t: target.fn(params(t, const)))(phi)

    def value(phi, const):
        return target.fn(params(phi, const))

    return (prediction_jacobian(law, residual, names, log, const_keys), jax.jit(grad), jax.jit(value),
            jax.jit(KD.greedy, static_argnames=("n_max", "replace", "per_cost")))


def table_inputs(law, data, columns, units, fit, inputs):
    """Candidate inputs from a DataFrame/dict, converted to the units of the parameters."""
    X = {}
    for k in law.inputs:
        col = dict(columns or {}).get(k, k)
        try:
            X[k] = np.asarray(get_column(data, col), float)
        except Exception:
            if k in (inputs or {}):
                X[k] = None
            else:
                raise OptionError(f"candidates lack column {col!r} (input {k} of {law.name}); give it or inputs={{{k!r}: ...}}") from None
    n = max(len(v) for v in X.values() if v is not None)
    X = {k: (np.full(n, float(inputs[k])) if v is None else v) for k, v in X.items()}
    for k, v in X.items():
        bad = np.flatnonzero(~(np.isfinite(v) & (v > 0)))
        if bad.size:
            raise OptionError(f"candidates: column {k!r} row {int(bad[0])} is {v[bad[0]]!r}, not a positive number")
    return convert(X, factors(law.inputs, units if units is not None else fit.data_units, fit.units)) if fit else X


def run_cost(data, X, cost, flops_per_token):
    """Each candidate's cost: ``k N D`` FLOPs by default, a column name, a callable or an array."""
    if cost is None:
        if not {"N", "D"} <= set(X):
            raise OptionError("cost=None means k N D FLOPs, which needs inputs N and D: pass cost=")
        c = flops_per_token * X["N"] * X["D"]
    elif isinstance(cost, str):
        c = np.asarray(get_column(data, cost), float)
    elif callable(cost):
        c = np.asarray(cost(X), float)
    else:
        c = np.asarray(cost, float)
    n = len(next(iter(X.values())))
    if c.shape != (n,) or not np.all(np.isfinite(c) & (c > 0)):
        raise OptionError(f"cost: need one positive finite cost per candidate ({n}); got shape {c.shape}")
    return c


@dataclass(frozen=True)
class Design:
    """The chosen runs and what they are expected to buy.

    ``runs``: the chosen candidates in pick order (inputs, ``cost``, ``gain``: their own variance
    reduction, ``se_linear``: the target's first-order SE after adding runs up to this one);
    ``se_before``/``se_after``: the target's standard error now and, on average over the new
    runs' noise, with the whole batch (log units when ``log``: relative; ``se_after_linear``:
    the first-order value, which the greedy ranking uses and which is optimistic for lumpy
    losses, see ``expected_variance``); ``check``: the bootstrap-draws cross-check (or
    None); ``cov_before``/``cov_after``: parameter covariances in design coordinates.
    """

    target: str
    log: bool
    estimate: float
    runs: dict
    se_before: float
    se_after: float
    se_after_linear: float
    budget: float
    spent: float
    noise: float
    n_candidates: int
    coordinates: tuple
    cov_before: np.ndarray = field(repr=False)
    cov_after: np.ndarray = field(repr=False)
    check: dict | None = None
    law: object = field(default=None, repr=False, compare=False)
    params: dict = field(default_factory=dict, repr=False)
    fixed: dict = field(default_factory=dict, repr=False)

    @property
    def shrinkage(self) -> float:
        """Expected width of the target's interval after / before (1 = no gain)."""
        return self.se_after / self.se_before

    def interval(self, level: float = 0.8, after: bool = False) -> tuple[float, float]:
        """Linearised interval of the target (natural scale), now or after the batch."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        se = self.se_after if after else self.se_before
        t = np.log(self.estimate) if self.log else self.estimate
        lo, hi = t - z * se, t + z * se
        return (float(np.exp(lo)), float(np.exp(hi))) if self.log else (float(lo), float(hi))

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.runs)

    def to_dict(self) -> dict:
        return {
            "target": self.target, "estimate": self.estimate, "log_scale": self.log,
            "se_before": self.se_before, "se_after": self.se_after, "shrinkage": self.shrinkage,
            "interval80_before": self.interval(0.8), "interval80_after": self.interval(0.8, after=True),
            "budget": self.budget, "spent": self.spent, "noise": self.noise, "n_candidates": self.n_candidates,
            "runs": [{k: (float(v[i]) if k != "candidate" else int(v[i])) for k, v in self.runs.items()}
                     for i in range(len(self.runs["cost"]))],
            "check": self.check,
        }

    def summary(self) -> str:
        unit = " (log units: relative)" if self.log else ""
        lo0, hi0 = self.interval(0.8)
        lo1, hi1 = self.interval(0.8, after=True)
        lines = [
            f"target {self.target} = {self.estimate:.4g}; noise sd {self.noise:.4g}; {self.n_candidates} candidates",
            f"chose {len(self.runs['cost'])} runs costing {self.spent:.3g} of {self.budget:.3g}",
            f"SE{unit}: {self.se_before:.4g} -> {self.se_after:.4g} (x{self.shrinkage:.3f})",
            f"80% interval: [{lo0:.4g}, {hi0:.4g}] -> [{lo1:.4g}, {hi1:.4g}]",
        ]
        if self.check:
            c = self.check
            lines.append(f"bootstrap check over {c['n_draws']} draws: target sd {c['draws_sd']:.4g} (80% range / 2.56; linearised "
                         f"{self.se_before:.4g}); gain ranking agreement (Spearman) {c['rank_correlation']:.3f}")
        return "\n".join(lines)


def _spearman(a, b) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@x64
def design(fit, candidates, target, budget: float, *, cost=None, n_max: int = 20, replace: bool = False, rule: str = "best",
           prior: str = "fisher",
           noise: float | None = None, inputs=None, flops_per_token: float = 6.0, columns=None, units=None,
           draws=None, max_check_draws: int = 1000, seed: int = 0, law=None) -> Design:
    """Choose up to ``n_max`` runs from ``candidates`` that most shrink ``target``'s uncertainty
    within ``budget`` (in the units of ``cost``: FLOPs ``k N D`` by default).

    **Arguments:**
    - ``fit``: a converged ``FitResult``, a ``BootstrapResult`` (its fit, and its draws for the
      cross-check), or, before any run is trained, draws of the parameters ``{name: array}``
      (a prior: published intervals, another study's bootstrap) with ``law=`` and ``noise=``.
    - ``candidates``: a DataFrame or dict with the law's inputs (``candidate_runs`` builds grids
      and isoFLOP ladders); in the fitted table's units unless ``units`` says otherwise.
    - ``target``: ``"N_opt(C=1e24)"``, ``"D_opt(C=...)"``, ``"loss(N=..., D=...)"``, a parameter,
      a derived quantity or a callable (see ``jaxlaws._target``).
    - ``cost``: None (``flops_per_token * N * D``), a candidate column, ``cost(X) -> array`` or an array.
    - ``rule``: ``"per_cost"`` (greedy on gain per unit cost), ``"gain"`` (greedy on gain among
      affordable runs) or ``"best"`` (both; the batch leaving the smaller variance).
    - ``prior``: the current covariance, ``"fisher"`` (i.i.d. noise of SD ``noise``) or
      ``"sandwich"`` (from each run's own residual, closer to the bootstrap); see ``information``.
    - ``noise``: the noise SD in residual space that sets each new run's information (default:
      ``effective_noise(fit)``, the sandwich scale of the fit's own loss at its residuals).
    - ``draws``: parameter draws ``{name: array}`` for the cross-check (default: the bootstrap's).
    """
    from ._bootstrap import BootstrapResult

    if isinstance(fit, BootstrapResult):
        draws = fit.converged_draws() if draws is None else draws
        fit = fit.fit
    if not (budget > 0):
        raise OptionError(f"budget={budget!r} must be a positive number")
    if int(n_max) < 1:
        raise OptionError(f"n_max={n_max!r} must be at least 1")
    if noise is not None and not (noise > 0):
        raise OptionError(f"noise={noise!r} must be a positive SD")
    if rule not in RULES:
        raise OptionError(f"rule={rule!r} must be one of {RULES}")
    if isinstance(fit, Mapping):
        law, params, fixed, residual, fitres = _prior_state(fit, law, noise)
    else:
        if fit.status != "converged":
            raise FitError(f"design needs a fit the data determine; this one is {fit.status!r}"
                           + (f" ({'; '.join(fit.reasons)})" if fit.reasons else ""))
        law, params, fixed, residual, fitres = fit.law, dict(fit.params), dict(fit.fixed), fit.residual, fit
    tgt = parse_target(law, target, flops_per_token=flops_per_token, inputs=inputs)
    Xc = table_inputs(law, candidates, columns, units, fitres, inputs)
    c = run_cost(candidates, Xc, cost, flops_per_token)
    if np.size(c) == 0:
        # nothing to choose from (e.g. a grid of runs below a tiny budget): say so, rather than
        # fail inside the greedy search; candidates that are all too dear give an empty design
        raise OptionError(f"there are no candidate runs (budget {float(budget):.3g}): raise the budget or give "
                          f"candidates")
    co = Coordinates(law, params, fixed)
    const_keys = tuple(co.const)
    jac, grad, value, greedy = design_programs(law, residual, co.names, co.log, const_keys, tgt)
    phi, const = jnp.asarray(co.phi), tuple(jnp.asarray(v) for v in co.const.values())
    if fitres is None:
        # no runs yet: the prior's draws give the covariance, new runs are i.i.d. at ``noise``
        A = np.linalg.inv(np.atleast_2d(np.cov(co.of_draws(fit), rowvar=False)))
        A, B, a, b = 0.5 * (A + A.T), 0.5 * (A + A.T), 1.0 / noise**2, 1.0 / noise**2
        prior = "fisher"
    else:
        X0, w, _ = fit.prepared.used()
        J0 = np.asarray(jac(phi, const, {k: jnp.asarray(X0[k]) for k in law.inputs}))
        A, B, a, b = information(fit, J0, w / np.median(w), prior, noise)
    Ainv = np.linalg.inv(A)
    Ainv = 0.5 * (Ainv + Ainv.T)
    cov0 = sandwich(Ainv, B)
    g = np.asarray(grad(phi, const))
    if not np.all(np.isfinite(g)):
        raise FitError(f"target {tgt.name} has no finite gradient at the fit (e.g. an optimum outside the search range)")
    Jc = np.asarray(jac(phi, const, {k: jnp.asarray(v) for k, v in Xc.items()}))
    args = tuple(jnp.asarray(x) for x in (Jc, Ainv, B, g, a, b, c, float(budget)))
    found = [tuple(np.asarray(x) for x in greedy(*args, n_max=int(n_max), replace=bool(replace), per_cost=pc))
             for pc in ((True, False) if rule == "best" else (rule == "per_cost",))]
    # keep the batch that leaves the target with the smaller variance
    picks, var, gains = min(found, key=lambda r: r[1][-1])
    keep = picks >= 0
    idx = picks[keep]
    if idx.size:
        Ainv1, B1 = (np.asarray(x) for x in KD.add_runs(jnp.asarray(Jc[idx]), jnp.asarray(Ainv), jnp.asarray(B), a, b))
        cov1 = sandwich(Ainv1, B1)
        var1 = expected_variance(fitres, prior, Jc[idx], Ainv, B, g, a, b, seed)
    else:
        cov1, var1 = cov0, float(g @ cov0 @ g)
    sigma = float(np.sqrt(b) / a)
    se0 = float(np.sqrt(g @ cov0 @ g))
    runs = {"candidate": idx, **{k: np.asarray(Xc[k])[idx] for k in law.inputs}, "cost": c[idx], "gain": gains[keep],
            "se_linear": np.sqrt(np.maximum(var[keep], 0.0))}
    if idx.size == 0:
        warnings.warn(f"no candidate fits within budget {budget:g} (cheapest costs {c.min():.3g}) or adds information",
                      stacklevel=2)
    est_t = float(value(phi, const))
    check = (_draws_check(co, value, draws, const, Jc, (Ainv, B, g, a, b), max_check_draws)
             if draws is not None else None)
    return Design(
        target=tgt.name, log=tgt.log, estimate=float(np.exp(est_t)) if tgt.log else est_t, runs=runs,
        se_before=se0, se_after=float(np.sqrt(max(var1, 0.0))), se_after_linear=float(np.sqrt(max(g @ cov1 @ g, 0.0))), budget=float(budget), spent=float(c[idx].sum()),
        noise=sigma, n_candidates=len(c), coordinates=co.names, cov_before=cov0, cov_after=cov1, check=check,
        law=law, params=params, fixed=fixed,
    )


def _prior_state(draws, law, noise):
    """(law, params, fixed, residual, None) for a design with no runs yet: a law and draws of its
    parameters (e.g. from published intervals or another study's bootstrap)."""
    if law is None or noise is None:
        raise OptionError("a design from parameter draws (no runs yet) needs law= and noise= (a new run's SD in log space)")
    from ._prepare import resolve_law

    law = resolve_law(law)
    missing = [k for k in law.param_names if k not in draws]
    if missing:
        raise OptionError(f"the prior's draws lack {missing} of {law.name}")
    D = {k: np.asarray(draws[k], float).reshape(-1) for k in law.param_names}
    n = {len(v) for v in D.values()}
    if len(n) != 1 or n.pop() < len(law.param_names) + 2:
        raise OptionError(f"the prior needs equally many draws of every parameter, at least {len(law.param_names) + 2}")
    return law, {k: float(np.median(v)) for k, v in D.items()}, {}, "log", None


def _draws_check(co, value, draws, const, Jc, model, max_draws):
    """Ensemble gains from parameter draws vs the linearised gains: do they rank candidates alike?"""
    Ainv, B, g, a, b = model
    phis = co.of_draws(draws)
    phis = phis[np.all(np.isfinite(phis), axis=1)][:max_draws]
    if len(phis) < 10:
        return None
    t = np.asarray(jax.vmap(lambda th: value(th, const))(jnp.asarray(phis)))
    ok = np.isfinite(t)
    phis, t = phis[ok], t[ok]
    # first-order predictions at the candidates for every draw, J (phi_b - phi_hat): exact enough
    # for ranking and O(M p B) instead of M x B law evaluations
    pred = Jc @ (phis - co.phi).T  # (M, B)
    tc = t - t.mean()
    pc = pred - pred.mean(axis=1, keepdims=True)
    cov_tp = pc @ tc / (len(t) - 1)
    var_p = np.sum(pc * pc, axis=1) / (len(t) - 1)
    # a new run's noise variance at the effective scale b / a^2 (see kernels.design)
    ens = cov_tp**2 / (var_p + b / a**2)
    lin = float(KD.variance(*(jnp.asarray(x) for x in (Ainv, B, g)))) - np.asarray(
        KD.variance_after(*(jnp.asarray(x) for x in (Jc, Ainv, B, g, a, b))))
    # a quantile-based SD: a few wild resamples (another basin) must not decide the comparison
    sd = float((np.quantile(t, 0.9) - np.quantile(t, 0.1)) / (2 * Z80))
    return {"n_draws": int(len(t)), "draws_sd": sd, "rank_correlation": _spearman(ens, lin),
            "top_overlap": float(len(set(np.argsort(-ens)[:20]) & set(np.argsort(-lin)[:20])) / 20)}
