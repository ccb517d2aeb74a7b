"""Multi-start minimisation in one compiled call, around any solver: screen, prune, converge, select.

Why not run every start to convergence: under ``vmap`` a batched loop costs as much as its
slowest member, and on the Chinchilla grid most of the 4500 starts either diverge or fall
into one of a few poor local minima. One batched evaluation of the objective at every start
is ~100x cheaper than one Newton iteration of the batch, and the starts with the lowest
initial objective reach the global optimum far more often than random ones. So:

1. *screen*: evaluate the objective at all ``S`` starts; keep the ``screen_k`` best;
2. *halve*: run ``halving_iters`` solver steps on those, keep the ``keep_k`` best
   (successive halving, one round);
3. *converge*: run the kept starts, plus any ``extra`` starts (warm starts that bypass the
   screen), to convergence, and select the best one (see ``select_best``).

Every start's outcome is recorded (converged, stalled, hit the cap, non-finite, or pruned at
stage 1 or 2, with the objective it had when it left), so a result accounts for all ``S``.
``screen_k = keep_k = S`` with ``halving_iters = 0`` is the exhaustive reference strategy.
The solver is any ``AbstractSolver`` minimiser (``DampedNewton`` by default).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _results as R
from ._newton import DampedNewton
from ._solver import AbstractSolver, iterate_batch


class MultiStartResult(NamedTuple):
    theta: jax.Array  # (p,) best point
    f: jax.Array  # () its objective
    status: jax.Array  # () its result code (CONVERGED unless no start converged)
    best_index: jax.Array  # () index of the winning start (extras follow the S grid starts)
    n_iter: jax.Array  # () iterations of the winner
    start_f: jax.Array  # (S+E,) objective at which each start left the pipeline
    start_status: jax.Array  # (S+E,) result code of each start
    start_iter: jax.Array  # (S+E,) solver steps spent on each start
    start_theta: jax.Array  # (S+E, p) final point of each start (the start itself if pruned)
    lower_unconverged: jax.Array  # () a non-converged start ended below the winner


def select_best(f, result, rtol: float = 1e-9):
    """Index of the winner: the best converged start, else the best finite one.

    Also returns whether some non-converged start reached an objective lower than the
    converged winner (beyond ``rtol``): the winner is then not the best point found, and the
    caller must polish that start or say so.
    """
    conv = result == R.CONVERGED
    score = jnp.where(conv, f, jnp.inf)
    any_conv = jnp.any(conv)
    j = jnp.where(any_conv, jnp.argmin(score), jnp.argmin(f))
    f_unconv = jnp.min(jnp.where(conv | ~jnp.isfinite(f), jnp.inf, f))
    lower = any_conv & (f_unconv < f[j] - rtol * jnp.abs(f[j]))
    return j, lower


def multistart(
    fn,
    starts: jax.Array,
    args,
    *,
    solver: AbstractSolver | None = None,
    extra: jax.Array | None = None,
    screen_k: int = 64,
    keep_k: int = 16,
    halving_iters: int = 8,
    max_iter: int = 200,
    screen_block: int = 256,
    strata: jax.Array | None = None,
) -> MultiStartResult:
    """Minimise ``fn.value(theta, args)`` from every row of ``starts`` (shape ``(S, p)``).

    The sizes ``screen_k``, ``keep_k`` and ``halving_iters`` are static (they set array
    shapes); they are clipped to the number of starts. Vmap this function over ``args``
    (e.g. bootstrap weights) to fit many data sets in one call.

    ``strata`` (optional, ``(S,)`` ints) labels groups of starts, e.g. the grid's exponent
    values: the best start of every stratum is screened in (and the best member of every
    stratum kept after halving) before the rest are filled in by objective. Without it, a
    degenerate basin that fits the data passably from many starts (an exponent near 0,
    whose term mimics the constant) can crowd out the one region that holds the optimum.
    """
    solver = DampedNewton() if solver is None else solver
    n_grid, p = starts.shape
    dtype = starts.dtype
    if extra is None:
        extra = jnp.zeros((0, p), dtype)
    n_extra = extra.shape[0]
    screen_k = max(1, min(screen_k, n_grid))
    keep_k = max(1, min(keep_k, screen_k))

    # Screen in blocks: one (starts x points) residual array for all 4500 starts is ~8 MB
    # per data set, and under an outer vmap over 1000 resamples that would be gigabytes.
    # lax.map over blocks bounds the working set at `screen_block` starts per data set.
    block = min(screen_block, n_grid)
    f0 = jax.lax.map(lambda t: fn.value(t, args), starts, batch_size=block)
    f0 = jnp.where(jnp.isfinite(f0) & jnp.all(jnp.isfinite(starts), -1), f0, jnp.inf)
    start_f = f0
    start_status = jnp.where(jnp.isfinite(f0), R.PRUNED_SCREEN, R.NONFINITE).astype(jnp.int32)
    start_iter = jnp.zeros((n_grid,), jnp.int32)
    start_theta = starts

    if screen_k < n_grid:
        # Ties (e.g. many starts at +inf) are broken by index: deterministic.
        _, idx0 = jax.lax.top_k(-stratified_key(f0, strata), screen_k)
    else:
        idx0 = jnp.arange(n_grid)
    theta_a = starts[idx0]

    if keep_k < screen_k and halving_iters > 0:
        ra = iterate_batch(solver, fn, theta_a, args, halving_iters)
        # A start that already converged inside the halving budget is as good as any kept
        # one; rank by objective alone so the kept set is the best `keep_k` basins so far.
        _, idx1 = jax.lax.top_k(-stratified_key(ra.f, None if strata is None else strata[idx0]), keep_k)
        start_f = start_f.at[idx0].set(ra.f)
        start_status = start_status.at[idx0].set(jnp.where(ra.result == R.NONFINITE, R.NONFINITE, R.PRUNED_HALVING))
        start_iter = start_iter.at[idx0].set(ra.stats["n_steps"])
        start_theta = start_theta.at[idx0].set(ra.value)
        theta_b = ra.value[idx1]
        idx_b = idx0[idx1]
        iter_b = ra.stats["n_steps"][idx1]
    elif keep_k < screen_k:
        _, idx1 = jax.lax.top_k(-f0[idx0], keep_k)
        theta_b, idx_b = theta_a[idx1], idx0[idx1]
        iter_b = jnp.zeros((keep_k,), jnp.int32)
    else:
        theta_b, idx_b, iter_b = theta_a, idx0, jnp.zeros((screen_k,), jnp.int32)

    theta_c = jnp.concatenate([theta_b, extra], axis=0)
    rc = iterate_batch(solver, fn, theta_c, args, max_iter)
    all_idx = jnp.concatenate([idx_b, n_grid + jnp.arange(n_extra)])
    iters_c = jnp.concatenate([iter_b, jnp.zeros((n_extra,), jnp.int32)]) + rc.stats["n_steps"]

    start_f = jnp.concatenate([start_f, jnp.full((n_extra,), jnp.inf, dtype)]).at[all_idx].set(rc.f)
    start_status = jnp.concatenate([start_status, jnp.zeros((n_extra,), jnp.int32)]).at[all_idx].set(rc.result)
    start_iter = jnp.concatenate([start_iter, jnp.zeros((n_extra,), jnp.int32)]).at[all_idx].set(iters_c)
    start_theta = jnp.concatenate([start_theta, extra], axis=0).at[all_idx].set(rc.value)

    j, lower = select_best(rc.f, rc.result)
    return MultiStartResult(
        theta=rc.value[j], f=rc.f[j], status=rc.result[j], best_index=all_idx[j], n_iter=iters_c[j],
        start_f=start_f, start_status=start_status, start_iter=start_iter, start_theta=start_theta,
        lower_unconverged=lower,
    )


def screen_rows(L, W, groups, k: int):
    """The ``k`` best starts for each row of weights ``W`` (B, n), by the objective at every
    start, from the per-point losses ``L`` (S, n) at the starts, stratified as in
    ``multistart`` by ``groups`` (``strata_groups(strata)``, or None).

    The objective is linear in the weights, so when many weight vectors (bootstrap resamples)
    screen the same starts on the same points, the per-point losses are computed once and each
    row's screen is one matrix product: the same objective each row would evaluate alone,
    without its S x n losses. A start whose loss is not finite at a point that a row weights
    is +inf for that row (``0 * inf`` would be nan), as in ``multistart``'s screen.
    Returns ``(B, k)`` start indices, best first, and the objectives ``(B, S)``.
    """
    f = weighted_objectives(L, W)
    return stratified_top_k_rows(f, groups, k), f


def stratified_top_k_rows(f, groups, k: int):
    """``stratified_top_k`` of every row of ``f`` ``(B, S)``: ``(B, min(k, S))`` indices (k >= 1)."""
    k = max(1, min(k, f.shape[1]))
    return jax.vmap(lambda fr: stratified_top_k(fr, groups, k))(f)


def weighted_objectives(L, W):
    """``(B, S)``: the objective at each of ``S`` points (starts) under each row of weights ``W``
    ``(B, n)``, from the per-point losses ``L`` ``(S, n)`` at the points: ``W @ L.T``, except
    that a point whose loss is not finite where a row puts weight is +inf for that row (the
    product would give nan for ``0 * inf`` and hide it behind the other rows' zeros)."""
    finite = jnp.isfinite(L)
    f = W @ jnp.where(finite, L, 0.0).T
    hit = (W > 0).astype(L.dtype) @ (~finite).astype(L.dtype).T
    f = jnp.where(hit > 0, jnp.inf, f)
    return jnp.where(jnp.isnan(f), jnp.inf, f)


def strata_groups(strata):
    """Stratum labels ``(S,)`` as a padded index matrix ``(strata, largest)`` (host numpy; -1
    pads), members in index order: the layout ``stratified_top_k`` reduces over."""
    import numpy as np

    strata = np.asarray(strata)
    labels, counts = np.unique(strata, return_counts=True)
    out = -np.ones((len(labels), counts.max()), np.int32)
    for r, lab in enumerate(labels):
        members = np.flatnonzero(strata == lab)
        out[r, : len(members)] = members
    return out


def stratified_top_k(f, groups, k: int):
    """``top_k(-stratified_key(f, strata), k)``'s indices without sorting all of ``f``.

    The best member of each stratum (by objective, then index) comes first, ordered by
    objective, then the rest by objective; ties by index. ``groups`` is
    ``strata_groups(strata)``. Two ``top_k`` calls and a reduction over the groups instead of
    a full lexsort and argsort: a bootstrap's screen runs this over thousands of starts for
    every resample.
    """
    n = f.shape[0]
    if groups is None:
        return jax.lax.top_k(-f, k)[1]
    finite = jnp.isfinite(f)
    fm = jnp.where(finite, f, jnp.inf)
    G = jnp.where(groups >= 0, fm[jnp.maximum(groups, 0)], jnp.inf)
    j = jnp.argmin(G, axis=1)  # the first minimum: the lowest index among ties
    best = jnp.take_along_axis(groups, j[:, None], axis=1)[:, 0]
    ok = jnp.isfinite(jnp.take_along_axis(G, j[:, None], axis=1)[:, 0])
    is_best = jnp.zeros((n,), bool).at[best].max(ok)
    # -f with non-finite objectives just above -inf (so they rank after every finite one, by
    # index); -inf marks the members each call leaves out
    neg = jnp.where(finite, -f, -jnp.finfo(f.dtype).max)
    _, a = jax.lax.top_k(jnp.where(is_best, neg, -jnp.inf), k)
    _, b = jax.lax.top_k(jnp.where(is_best, -jnp.inf, neg), k)
    nb = jnp.sum(is_best)
    i = jnp.arange(k)
    return jnp.where(i < nb, a, b[jnp.clip(i - nb, 0, k - 1)])


def stratified_key(f, strata):
    """Ranking key: stratum-best members first (by objective), then the rest (by objective).

    Implemented as a rank so that it is exact whatever the objective's scale: members are
    ordered by (not best of its stratum, objective).
    """
    if strata is None:
        return f
    n = f.shape[0]
    order = jnp.lexsort((f, strata))  # by stratum, then objective
    s_sorted = strata[order]
    first = jnp.concatenate([jnp.ones((1,), bool), s_sorted[1:] != s_sorted[:-1]])
    is_best = jnp.zeros((n,), bool).at[order].set(first) & jnp.isfinite(f)
    rank_f = jnp.zeros((n,), jnp.int32).at[jnp.argsort(f)].set(jnp.arange(n, dtype=jnp.int32))
    return jnp.where(is_best, 0, n) + rank_f
