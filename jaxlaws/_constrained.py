"""General allocation: minimise a function of positive variables under budget constraints.

Variables live in log space inside box bounds (``x = exp(lo + (hi - lo) sigmoid(z))``), so
magnitudes from 1 to 1e15 are equally easy. Equality budgets (``g(x) = 0``) and inequality
budgets (``h(x) <= 0``), written as JAX functions (best in log form, e.g.
``log(6 N D) - log C``), are handled by an augmented Lagrangian: a fixed number of outer
multiplier updates around the same batched damped-Newton solver the fits use, all inside
one compiled, vmappable function. Integer variables (number of experts, bits) are solved as
continuous, then re-solved with the variable fixed at its floor and ceiling; the better
feasible one is kept. Status per problem: converged, infeasible, at_bound.

Solutions are differentiable with respect to ``params`` (the law's coefficients, the
budgets): the returned variables are tied to the KKT conditions at the solution by
``lax.custom_root``, so ``jax.grad`` applies the implicit function theorem to the KKT system
(stationarity of the Lagrangian in log variables, the equalities, the active inequalities)
instead of differentiating through the solver's iterations. Variables fixed at an integer
value or at a bound have zero derivative; the active set is taken as fixed (a derivative
at a point where a constraint switches on or off is one-sided).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._allocation import Allocation
from ._bootstrap import BootstrapResult
from ._errors import OptionError
from ._util import pad_to_bucket, shard_draws, to_host, x64
from .kernels import AugmentedLagrangian, iterate, pivoted_solve
from .kernels import results as R


@dataclass(frozen=True)
class AllocationProblem:
    """``minimise objective(x, params)`` over ``variables`` subject to the budgets.

    ``variables``: ``{name: (low, high)}`` positive bounds. ``objective``, each of
    ``equalities`` and ``inequalities``: ``fn(x: dict, params) -> scalar``. ``integer``:
    names solved as integers. ``tol``: allowed constraint violation.
    """

    variables: tuple
    objective: Callable
    equalities: tuple = ()
    inequalities: tuple = ()
    integer: tuple = ()
    tol: float = 1e-8

    @staticmethod
    def make(variables: Mapping[str, tuple], objective, equalities: Sequence = (), inequalities: Sequence = (),
             integer: Sequence = (), tol: float = 1e-8) -> "AllocationProblem":
        vs = []
        for k, b in variables.items():
            lo, hi = (float(v) for v in b)
            if not (0 < lo <= hi and np.isfinite(hi)):
                raise OptionError(f"variable {k!r}: bounds must satisfy 0 < low <= high, got {b!r}")
            vs.append((k, lo, hi))
        unknown = [k for k in integer if k not in variables]
        if unknown:
            raise OptionError(f"integer={unknown} are not variables")
        return AllocationProblem(tuple(vs), objective, tuple(equalities), tuple(inequalities), tuple(integer), tol)


def _u_of(z, lo, hi):
    # log-space box: the sigmoid keeps every iterate inside the bounds, with no projection.
    return lo + (hi - lo) * 0.5 * (1.0 + jnp.tanh(0.5 * z))


def _x_from_log(problem, u):
    """The variables as a dict, from their logarithms (last axis ordered as declared)."""
    return {k: jnp.exp(u[i]) for i, (k, _, _) in enumerate(problem.variables)}


def _stack(fns, x, params):
    """The values of constraint functions at ``x`` as one vector (empty for none)."""
    return jnp.stack([fn(x, params) for fn in fns]) if fns else jnp.zeros((0,))


def _pick(fs, viols, tol):
    """Index of the best candidate: the lowest finite objective among feasible ones, else
    the least infeasible."""
    feasible = (viols <= tol) & jnp.isfinite(fs)
    return jnp.where(jnp.any(feasible), jnp.argmin(jnp.where(feasible, fs, jnp.inf)), jnp.argmin(viols))


def _solve_continuous(problem, params, lo, hi, z0, n_outer=12, inner_iter=60):
    """Augmented-Lagrangian solve from z0 with log-bounds (lo, hi); one problem."""

    def parts(z, args):
        p, lo, hi = args
        x = _x_from_log(problem, _u_of(z, lo, hi))
        return problem.objective(x, p), _stack(problem.equalities, x, p), _stack(problem.inequalities, x, p)

    solver = AugmentedLagrangian(n_outer=n_outer, inner_steps=inner_iter, tol=problem.tol)
    sol = iterate(solver, parts, z0, (params, lo, hi), n_outer)
    return sol.value, sol.f, sol.stats["violation"]


def solve_allocation(problem: AllocationProblem, params, *, n_outer: int = 12, starts: int = 3):
    """Solve one problem; traceable, so it can be vmapped over params or budgets and
    differentiated (``jax.grad`` of the returned ``x`` or ``objective`` with respect to
    ``params`` uses implicit KKT derivatives). Exported as ``jaxlaws.solve_allocation``.
    Returns a dict: ``x`` (dict of variables), ``objective``, ``violation``, ``status``
    (a ``kernels.results`` code: converged, infeasible, at_bound or nonfinite) and
    ``inequalities`` (their values at the solution)."""
    k = len(problem.variables)
    lo0 = jnp.array([np.log(v[1]) for v in problem.variables])
    hi0 = jnp.array([np.log(v[2]) for v in problem.variables])
    # A few deterministic starts across the box; the best feasible result wins.
    z0s = jnp.stack([jnp.full((k,), c) for c in np.linspace(-2.0, 2.0, starts)])

    def from_start(z0, lo, hi):
        return _solve_continuous(problem, params, lo, hi, z0, n_outer)

    def best_of(lo, hi):
        zs, fs, viols = jax.vmap(from_start, in_axes=(0, None, None))(z0s, lo, hi)
        j = _pick(fs, viols, problem.tol)
        return zs[j], fs[j], viols[j]

    names = [v[0] for v in problem.variables]
    if not problem.integer:
        z, f, viol = best_of(lo0, hi0)
    else:
        # Stage 0 solves the continuous relaxation; stage s pins the s-th integer variable to
        # the floor or the ceiling of its current value (both solved, the better kept). Every
        # stage is the same vmapped pair of solves inside one fori_loop, so the solver is
        # traced and compiled once, not once per stage (stage 0 solves its box twice: cheaper
        # than a second compilation of the augmented Lagrangian).
        int_idx = jnp.asarray([names.index(n) for n in problem.integer])
        lows = jnp.asarray([v[1] for v in problem.variables])
        highs = jnp.asarray([v[2] for v in problem.variables])

        def body(s, carry):
            los, his = carry[0], carry[1]
            zs, fs, vs = jax.vmap(best_of)(los, his)
            j = _pick(fs, vs, problem.tol)
            lo, hi, z = los[j], his[j], zs[j]
            x = jnp.exp(_u_of(z, lo, hi))
            i = int_idx[jnp.minimum(s, len(problem.integer) - 1)]  # after the last stage: unused
            vals = jnp.clip(jnp.stack([jnp.floor(x[i]), jnp.ceil(x[i])]), lows[i], highs[i])
            nlo = jnp.stack([lo.at[i].set(jnp.log(v)) for v in vals])
            nhi = jnp.stack([hi.at[i].set(jnp.log(v)) for v in vals])
            return nlo, nhi, z.astype(dt), fs[j].astype(dt), vs[j].astype(dt), lo, hi

        # one dtype for the carry: what the bounds and the parameters promote to (computing it
        # with eval_shape would trace the whole solver a second time, the cost this loop avoids)
        dt = jnp.result_type(lo0, *jax.tree_util.tree_leaves(params))
        init = (jnp.stack([lo0, lo0]), jnp.stack([hi0, hi0]), jnp.zeros((len(names),), dt), jnp.zeros((), dt),
                jnp.zeros((), dt), lo0, hi0)
        _, _, z, f, viol, lo0, hi0 = jax.lax.fori_loop(0, len(problem.integer) + 1, body, init)
    x = _x_from_log(problem, _u_of(z, lo0, hi0))
    u = jax.lax.stop_gradient(_u_of(z, lo0, hi0))
    pinned = hi0 - lo0 <= 1e-12
    at_edge = ((jnp.abs(u - lo0) < 1e-7) | (jnp.abs(u - hi0) < 1e-7)) & ~pinned
    edge = jnp.any(at_edge)
    # a non-finite violation (e.g. log of a negative budget) is no answer, whatever f is
    status = jnp.where(~jnp.isfinite(f) | ~jnp.isfinite(viol), R.NONFINITE,
                       jnp.where(viol > problem.tol, R.INFEASIBLE, jnp.where(edge, R.AT_BOUND, R.CONVERGED)))
    u = _implicit(problem, params, u, free=~(pinned | at_edge))
    x = _x_from_log(problem, u)
    f = problem.objective(x, params)  # recomputed from the tied x: carries d f / d params
    return {"x": x, "objective": f, "violation": viol, "status": status,
            "inequalities": _stack(problem.inequalities, x, params)}


def _implicit(problem, params, u_star, free, active_tol=1e-6):
    """``u_star`` (log variables at the solution) with KKT implicit derivatives w.r.t. ``params``.

    Unknowns y = (u, mu), mu the multipliers of the equalities and inequalities. Residual:
    d/du [f + mu . (g, h)] for free variables (u - u* for pinned ones), g(u) for equalities,
    h(u) for active inequalities and mu for inactive ones. The multipliers at the solution
    come from least squares on the stationarity rows (they are not needed to be exact by the
    primal solve, only by the derivative). The KKT matrix is indefinite, so its tangent
    system is solved by pivoted elimination.
    """
    k, ne = len(problem.variables), len(problem.equalities)

    def cons(u, p):
        return _stack(problem.equalities + problem.inequalities, _x_from_log(problem, u), p)

    def obj(u, p):
        return problem.objective(_x_from_log(problem, u), p)

    c_star = cons(u_star, params)
    m = c_star.shape[0]
    if m:
        A = jax.jacfwd(cons)(u_star, params) * free[None, :]
        used = jnp.concatenate([jnp.ones((ne,), bool), c_star[ne:] > -active_tol]) & (jnp.sum(A * A, axis=1) > 0)
        Au = A * used[:, None]
        gf = jax.grad(obj)(u_star, params) * free
        # normal equations of min |gf + Au^T mu|; unused rows get mu = 0
        mu_star = pivoted_solve(Au @ Au.T + jnp.diag(jnp.where(used, 0.0, 1.0)), -(Au @ gf))
        mu_star = jax.lax.stop_gradient(jnp.where(used, mu_star, 0.0))
    else:
        used = jnp.zeros((0,), bool)
        mu_star = jnp.zeros((0,), u_star.dtype)

    def kkt(y):
        u, mu = y[:k], y[k:]
        stat = jax.grad(lambda v: obj(v, params) + jnp.dot(mu, cons(v, params)))(u)
        r_u = jnp.where(free, stat, u - u_star)
        r_c = jnp.where(used, cons(u, params), mu)
        return jnp.concatenate([r_u, r_c])

    y_star = jnp.concatenate([u_star, mu_star])
    y = jax.lax.custom_root(kkt, y_star, lambda _, y0: y0, lambda g, b: pivoted_solve(jax.jacfwd(g)(b), b))
    return y[:k]


ConstrainedAllocation = Allocation  # the same result type as compute_optimal's (kept as a name)


def _draw_arrays(draws) -> dict:
    """Parameter draws as a dict of equal-length 1-D arrays (a BootstrapResult: its converged draws)."""
    if isinstance(draws, BootstrapResult):
        return {k: jnp.asarray(v) for k, v in draws.converged_draws().items()}
    if not isinstance(draws, Mapping) or not draws:
        raise OptionError("draws must be a BootstrapResult or a dict of 1-D arrays of parameter draws")
    out = {k: jnp.asarray(np.asarray(v, float)) for k, v in draws.items()}
    shapes = {v.shape for v in out.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1 or next(iter(shapes))[0] == 0:
        raise OptionError(f"draws must be 1-D arrays of one non-zero length, got shapes {sorted(shapes)}")
    return out


@x64
def allocate(problem: AllocationProblem, params, batch: Mapping | None = None, *, draws=None, n_outer: int = 12):
    """Solve ``problem`` for each entry of ``batch`` in one compiled, vmapped call.

    ``params``: dict of the law's coefficients and fixed budgets. ``batch``: dict of
    equal-length arrays merged into ``params`` per problem (e.g. budgets ``C``). ``draws``:
    parameter draws (a ``BootstrapResult`` or a dict of 1-D arrays) that replace those
    entries of ``params``; every budget is then solved under every draw (the draws axis is
    sharded over devices) and the result has shape ``(draws, budgets)``, so each
    recommendation carries an interval (``.quantiles()``).
    """
    batch = {k: jnp.asarray(np.atleast_1d(np.asarray(v, float))) for k, v in (batch or {}).items()}
    lens = {v.shape[0] for v in batch.values()}
    if len(lens) > 1:
        raise OptionError("batch arrays must have one length")
    base = {k: jnp.asarray(v) for k, v in params.items()}
    if draws is None:
        # point allocations: budgets padded to a bucket size, so other numbers of budgets
        # reuse the compiled program (not with draws, where padding would multiply the work)
        padded, n_batch = pad_to_bucket(batch)
        fn = _compiled(problem, n_outer, tuple(sorted(batch)), ())
        out = fn(base, {}, padded)
        out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:n_batch] if batch else np.asarray(a), out)
    else:
        d, n = shard_draws(_draw_arrays(draws))
        fn = _compiled(problem, n_outer, tuple(sorted(batch)), tuple(sorted(d)))
        out = jax.tree_util.tree_map(lambda a: to_host(a)[:n], fn(base, d, batch))
    return Allocation(out["x"], out["objective"], out["status"], batch={k: np.asarray(v) for k, v in batch.items()},
                      violation=out["violation"], inequalities=out["inequalities"])


@functools.lru_cache(maxsize=32)
def _compiled(problem, n_outer, batch_keys, draw_keys):
    def one(base, d, b):
        return solve_allocation(problem, {**base, **d, **b}, n_outer=n_outer)

    if batch_keys:
        over_batch = jax.vmap(one, in_axes=(None, None, 0))
    else:
        def over_batch(base, d, b):
            return jax.tree_util.tree_map(lambda a: a[None], one(base, d, b))
    if draw_keys:
        return jax.jit(jax.vmap(over_batch, in_axes=(None, 0, None)))
    return jax.jit(over_batch)


@functools.lru_cache(maxsize=32)
def moe_problem(law=None, *, ffn_fraction: float = 2.0 / 3.0, top_k: int = 1, experts=(1.0, 256.0),
                n_bounds=(1e6, 1e14), d_bounds=(1e8, 1e16), flops_per_token: float = 6.0) -> AllocationProblem:
    """Best active size N, tokens D and expert count E under compute and memory budgets.

    Budgets are read from the params dict as ``C`` (training FLOPs, ``flops_per_token N D``
    with N the *active* parameters) and ``M`` (total parameters that fit in memory).
    Total parameters are modelled as ``N (1 - f + f E / k)``: a fraction ``f`` of the active
    parameters are expert (FFN) weights, replicated E times, of which ``k`` are active per token.

    Cached: the same arguments return the same problem, so its compiled solver is reused (a
    fresh problem holds fresh closures, which would compile again).
    """
    from .laws import joint_moe

    law = joint_moe if law is None else law
    names = law.param_names

    def objective(x, p):
        return law.log_predict({k: p[k] for k in names}, x["N"], x["D"], x["E"])

    def compute(x, p):
        return jnp.log(flops_per_token * x["N"] * x["D"]) - jnp.log(p["C"])

    def memory(x, p):
        total = x["N"] * (1.0 - ffn_fraction + ffn_fraction * x["E"] / top_k)
        return jnp.log(total) - jnp.log(p["M"])

    return AllocationProblem.make({"N": n_bounds, "D": d_bounds, "E": experts}, objective,
                                  equalities=[compute], inequalities=[memory], integer=["E"])


def total_params(N, E, ffn_fraction: float = 2.0 / 3.0, top_k: int = 1):
    """Total parameters of a mixture of ``E`` experts with ``N`` active ones (the feed-forward
    fraction ``ffn_fraction`` replicated per expert, ``top_k`` routed); arrays and traced
    values pass through (it runs inside ``jit``)."""
    for name, v in (("N", N), ("E", E)):
        if v is None or isinstance(v, (str, bytes)):
            raise OptionError(f"total_params: {name}={v!r} must be a number or an array")
    return N * (1.0 - ffn_fraction + ffn_fraction * E / top_k)


@functools.lru_cache(maxsize=32)
def inference_problem(law, *, n_bounds=(1e6, 1e14), d_bounds=(1e8, 1e17), train_flops_per_token: float = 6.0,
                      infer_flops_per_token: float = 2.0) -> AllocationProblem:
    """Cheapest model to reach a target loss counting lifetime inference (Sardana et al. 2024).

    Minimise ``train_flops_per_token N D + infer_flops_per_token N T`` subject to
    ``L(N, D) = target``; ``params`` carries the law's coefficients plus ``target`` (loss) and
    ``T`` (tokens served over the model's lifetime). Large T favours smaller, over-trained models.
    Cached like ``moe_problem`` (same arguments, same problem and compiled solver).
    """
    from ._prepare import resolve_law

    law = resolve_law(law)
    names = law.param_names

    def cost(x, p):
        return jnp.log(train_flops_per_token * x["N"] * x["D"] + infer_flops_per_token * x["N"] * p["T"])

    def reach(x, p):
        return law.log_predict({k: p[k] for k in names}, x["N"], x["D"]) - jnp.log(p["target"])

    return AllocationProblem.make({"N": n_bounds, "D": d_bounds}, cost, equalities=[reach])
