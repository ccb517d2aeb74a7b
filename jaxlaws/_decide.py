"""Decisions under uncertainty: the model size to train when the law itself is uncertain.

The plug-in allocation minimises the loss predicted by the point estimate. Over parameter
draws (bootstrap refits), ``decide`` instead minimises the *expected* loss across draws, or a
chosen quantile of it (a cautious lab's "loss we are 90% sure to beat"), along the budget
line D = C / (k N). It reports, per budget:

- the decision (N, D) and its criterion value;
- the plug-in allocation and the same criterion there; their difference is the **expected
  regret of plugging in** the point estimate (>= 0 up to the search tolerance);
- the **expected value of perfect information** (expected criterion: the mean over draws of
  L_b(N_decision) - min_N L_b(N)): what knowing the law exactly would save.

``value_of_information`` asks how much of that a proposed batch of runs (a ``Design``)
removes: the draws are shrunk toward the estimate by the covariance change the batch is
expected to bring (in the design's coordinates, a linear map taking the current covariance to
the post-batch one), and the decision problem is solved again.

The search is over u = log N: a grid through all draws' own optima (the criterion is a mean or
quantile of smooth, unimodal curves in u, so its minimum lies within them) followed by a
golden-section refinement of the best grid cell; everything is one compiled call over budgets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import OptionError
from ._util import x64

_GOLDEN = 0.3819660112501051  # 2 - golden ratio: the interior point of golden-section search


def parse_objective(spec: str) -> float | None:
    """``"expected"`` -> None (the mean); ``"quantile:0.9"`` -> 0.9."""
    s = str(spec).strip().lower()
    if s in ("expected", "mean"):
        return None
    head, _, q = s.partition(":")
    try:
        qv = float(q)
    except ValueError:
        qv = float("nan")
    if head != "quantile" or not (0 < qv < 1):
        raise OptionError(f"objective {spec!r}: use expected or quantile:Q with 0 < Q < 1, e.g. quantile:0.9")
    return qv


@functools.lru_cache(maxsize=16)
def _program(law, k, extra_keys, q, n_grid, n_golden):
    def loss_at(p, u, C, extra):
        N = jnp.exp(u)
        X = {"N": N, "D": C / (k * N), **dict(zip(extra_keys, extra))}
        return law(p, *[X[n] for n in law.inputs])

    def crit(P, u, C, extra):
        L = jax.vmap(lambda p: loss_at(p, u, C, extra))(P)
        return jnp.mean(L) if q is None else jnp.quantile(L, q)

    def one(P, C, u_lo, u_hi, extra):
        grid = jnp.linspace(u_lo, u_hi, n_grid)
        vals = jax.vmap(lambda u: crit(P, u, C, extra))(grid)
        i = jnp.clip(jnp.argmin(vals), 1, n_grid - 2)
        a, b = grid[i - 1], grid[i + 1]

        def body(_, ab):
            a, b = ab
            x1, x2 = a + _GOLDEN * (b - a), b - _GOLDEN * (b - a)
            left = crit(P, x1, C, extra) <= crit(P, x2, C, extra)
            return jnp.where(left, a, x1), jnp.where(left, x2, b)

        a, b = jax.lax.fori_loop(0, n_golden, body, (a, b))
        u = 0.5 * (a + b)
        return u, crit(P, u, C, extra)

    return jax.jit(jax.vmap(one, in_axes=(None, 0, 0, 0, None))), jax.jit(jax.vmap(crit, in_axes=(None, 0, 0, None)))


@dataclass(frozen=True)
class Decision:
    """Per budget ``C``: the decision (``N``, ``D``, ``value`` of the criterion), the plug-in
    allocation (``N_plugin``, ``value_plugin``: the same criterion there), ``regret_plugin``
    (``value_plugin - value``) and ``evpi`` (expected criterion only; nan for quantiles)."""

    objective: str
    C: np.ndarray
    N: np.ndarray
    D: np.ndarray
    value: np.ndarray
    N_plugin: np.ndarray
    value_plugin: np.ndarray
    regret_plugin: np.ndarray
    evpi: np.ndarray
    n_draws: int

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"C": self.C, "N": self.N, "D": self.D, "tokens_per_param": self.D / self.N,
                             "value": self.value, "N_plugin": self.N_plugin, "value_plugin": self.value_plugin,
                             "regret_plugin": self.regret_plugin, "evpi": self.evpi})

    def to_dict(self) -> dict:
        return {"objective": self.objective, "n_draws": self.n_draws,
                "decisions": self.to_frame().to_dict(orient="records")}


def _draws_and_point(law, draws, point):
    from ._bootstrap import BootstrapResult
    from ._result import FitResult

    if isinstance(draws, BootstrapResult):
        point = draws.fit if point is None else point
        draws = draws.converged_draws()
    if not isinstance(draws, dict) or any(k not in draws for k in law.param_names):
        raise OptionError(f"draws must be a BootstrapResult or {{name: array}} with {list(law.param_names)}")
    D = {k: np.asarray(draws[k], float).reshape(-1) for k in law.param_names}
    ok = np.all([np.isfinite(v) for v in D.values()], axis=0)
    D = {k: v[ok] for k, v in D.items()}
    if ok.sum() < 2:
        raise OptionError("decisions under uncertainty need at least two finite parameter draws")
    if isinstance(point, FitResult):
        point = point.params
    if point is None:
        point = {k: float(np.median(v)) for k, v in D.items()}
    return D, {k: float(point[k]) for k in law.param_names}


@x64
def decide(law, draws, C, *, objective: str = "expected", point=None, flops_per_token: float = 6.0, inputs=None,
           n_grid: int = 257, n_golden: int = 60) -> Decision:
    """The allocation minimising the expected (or a quantile of the) loss over parameter draws.

    **Arguments:**
    - ``law``: a law with inputs N and D (others held at ``inputs``).
    - ``draws``: a ``BootstrapResult`` (its converged draws; its fit is the plug-in point) or
      ``{name: array}`` of draws.
    - ``C``: budget(s) in FLOPs; ``objective``: ``"expected"`` or ``"quantile:0.9"``.
    - ``point``: the plug-in parameters (a FitResult or dict; default the bootstrap's fit, else
      the draws' medians).
    """
    from ._allocate import compute_optimal
    from ._prepare import resolve_law

    law = resolve_law(law)
    q = parse_objective(objective)
    P, pt = _draws_and_point(law, draws, point)
    inputs = dict(inputs or {})
    k = float(flops_per_token)
    # compute_optimal checks the law, the budgets and the other inputs (one set of messages)
    plug = compute_optimal(law, pt, C, flops_per_token=k, inputs=inputs)
    Cs = plug.C
    extra_keys = tuple(kk for kk in law.inputs if kk not in ("N", "D"))
    own = compute_optimal(law, P, Cs, flops_per_token=k, inputs=inputs)
    u_own = np.where(own.status == "converged", np.log(own.N), np.nan)
    u_all = np.concatenate([u_own, np.log(plug.N)[None]], axis=0)
    # the criterion's minimiser lies between the smallest and largest per-draw optimum; a margin
    # keeps the grid's best cell interior
    u_lo, u_hi = np.nanmin(u_all, axis=0) - 0.05, np.nanmax(u_all, axis=0) + 0.05
    solve, crit = _program(law, k, extra_keys, q, int(n_grid), int(n_golden))
    Pj = {kk: jnp.asarray(v) for kk, v in P.items()}
    extra = tuple(jnp.asarray(float(inputs[kk])) for kk in extra_keys)
    u, val = (np.asarray(a) for a in solve(Pj, jnp.asarray(Cs), jnp.asarray(u_lo), jnp.asarray(u_hi), extra))
    val_plug = np.asarray(crit(Pj, jnp.asarray(np.log(plug.N)), jnp.asarray(Cs), extra))
    N = np.exp(u)
    if q is None:
        ok = own.status == "converged"
        best = np.where(ok, own.loss, np.nan)
        evpi = val - np.nanmean(best, axis=0)
    else:
        evpi = np.full(len(Cs), np.nan)
    return Decision(objective=str(objective), C=Cs, N=N, D=Cs / (k * N), value=val, N_plugin=plug.N,
                    value_plugin=val_plug, regret_plugin=val_plug - val, evpi=evpi, n_draws=len(next(iter(P.values()))))


@x64
def value_of_information(design, draws, C, *, objective: str = "expected", flops_per_token: float = 6.0, inputs=None):
    """How much expected regret (EVPI) a ``Design``'s batch of runs is expected to remove.

    Returns a DataFrame per budget: EVPI now, EVPI after the batch, and their difference (the
    batch's value of information, in loss units), plus the regret of the plug-in allocation
    before and after.
    """
    import pandas as pd

    from ._information import Coordinates

    law = design.law
    P, pt = _draws_and_point(law, draws, design.params)
    co = Coordinates(law, pt, design.fixed)
    phi = co.of_draws(P)
    # the linear map that takes the current covariance to the post-batch one
    L0 = np.linalg.cholesky(design.cov_before)
    L1 = np.linalg.cholesky(design.cov_after)
    A = L1 @ np.linalg.inv(L0)
    shrunk = co.phi + (phi - co.phi) @ A.T
    after = {kk: np.asarray(v) for kk, v in co.params(jnp.asarray(shrunk)).items()}
    after = {kk: np.broadcast_to(v, (len(phi),)) for kk, v in after.items()}
    kw = dict(objective=objective, point=pt, flops_per_token=flops_per_token, inputs=inputs)
    d0 = decide(law, P, C, **kw)
    d1 = decide(law, after, C, **kw)
    return pd.DataFrame({"C": d0.C, "evpi_now": d0.evpi, "evpi_after": d1.evpi, "value_of_information": d0.evpi - d1.evpi,
                         "regret_plugin_now": d0.regret_plugin, "regret_plugin_after": d1.regret_plugin,
                         "N_now": d0.N, "N_after": d1.N})
