"""Each resample's warm starts for the grid bootstrap, from one shared pass over the start grid.

Why: run alone, every resample of a full-grid bootstrap screens the whole start grid, takes
solver steps on its best 64 starts and converges its best 8 (``strategy="grid_independent"``:
Hoffmann et al.'s 4500 starts x 4000 resamples of Epoch's 240 points, ~120 s here). Most of that
work is the same for every resample: the loss at a start does not depend on the weights, and
the resamples' best starts are a few dozen of the 4500 which run into the same few basins.
So the grid bootstrap (``strategy="grid"``) shares it:

1. *screen*: the objective of every grid start under every resample's weights, as one matrix
   product of the weights with the per-point losses at the starts (computed once, or in
   blocks for large tables; ``kernels.weighted_objectives``). Each resample keeps its own ``screen_k`` best starts (stratified as
   in a fit): every resample still screens the whole grid, on its own data.
2. *basins*: the union of the kept starts is converged once on the full data; starts that reach
   the same objective (relative 1e-6) share a basin.
3. *per resample*: the basins its own kept starts reach are ranked by its own objective at
   them, and its ``keep_k`` best are its warm starts, converged on its data by ``refit`` like any
   resample (the objective, statuses and identification checks are those of every fit).

Checked against the independent per-resample pipeline on all 4000 resamples of the
replication (bench/bench_bootstrap.py): the same optimum for every resample, in ~36 s.
Basins are grouped by objective value, so warm starts cost iterations only where resamples
differ; a start that does not converge on the full data within a fit's step budget
(``FULL_DATA_STEPS``) is used only by resamples none of whose starts found a basin.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._prepare import Prepared
from ._util import pad_rows
from .kernels import iterate_batch, strata_groups, stratified_top_k_rows, weighted_objectives
from .kernels import results as R


@functools.lru_cache(maxsize=16)
def _losses_at(problem):
    """``(points (S, k), args) -> (S, n)`` each point's per-point losses (compiled once per problem)."""
    return jax.jit(jax.vmap(problem.per_point, in_axes=(0, None)))


@functools.lru_cache(maxsize=16)
def _converge(problem, strategy):
    # A fit's step budget: a start that has not converged on the full data by then is drifting
    # (typically towards a degenerate edge, an exponent running to 0) and is not a basin
    solver = strategy.make_solver()
    steps = max(strategy.halving_iters + strategy.max_iter, FULL_DATA_STEPS)
    return jax.jit(lambda th, args: iterate_batch(solver, problem.objective(), th, args, steps))


FULL_DATA_STEPS = 1000


_top = jax.jit(stratified_top_k_rows, static_argnames="k")
_weighted = jax.jit(weighted_objectives)

# Per-point losses are kept whole for at most this many (points x runs) cells (128 MB in
# float64): Hoffmann's 4500 starts x up to ~3700 runs. Larger tables compute them in blocks of
# points for every chunk of resamples instead, so memory stays flat in rows (a 4500 x 10^5
# matrix would be 3.6 GB) at the price of recomputing the losses once per chunk.
LOSS_CELLS = 1 << 24


def _losses(prep: Prepared, points, active, ones) -> np.ndarray:
    """``(len(points), active points)`` unweighted per-point losses at ``points`` (rows padded to
    the size bucket: one program per bucket; ``ones`` the problem's arguments with unit
    weights); resample weights multiply them."""
    L = _losses_at(prep.problem)(jnp.asarray(pad_rows(points)), ones)
    return np.asarray(L)[: len(points)][:, active]


def _objectives(prep: Prepared, points, active, weights, B: int, chunk_size: int):
    """Yields ``(lo, hi, f)`` for each chunk of ``chunk_size`` resamples: ``f`` ``(chunk_size,
    len(points))`` (device) the objective of every point under each resample's weights
    (``weights(lo, hi)``, rows past ``hi - lo`` padding), from the per-point losses
    (``kernels.weighted_objectives``), kept whole or in blocks of points (``LOSS_CELLS``)."""
    dt = prep.yt.dtype
    ones = prep.args(np.ones(len(prep.w)))  # once: the blocked path evaluates losses per block and chunk
    size = max(1, min(len(points), LOSS_CELLS // max(len(active), 1)))
    # blocks of one size (the last padded): one program for all
    blocks = [pad_rows(points[b:b + size], size) for b in range(0, len(points), size)]
    whole = [jnp.asarray(_losses(prep, blocks[0], active, ones))] if len(blocks) == 1 else None
    for lo in range(0, B, chunk_size):
        hi = min(lo + chunk_size, B)
        Wc = jnp.asarray(pad_rows(weights(lo, hi), chunk_size), dt)  # one shape for every chunk
        parts = whole or (jnp.asarray(_losses(prep, b, active, ones)) for b in blocks)
        f = jnp.concatenate([_weighted(L, Wc) for L in parts], axis=1)[:, : len(points)]
        yield lo, hi, f


def grid_warm_starts(prep: Prepared, W, active, chunk_size: int = 500) -> np.ndarray:
    """``(B, m, k)`` warm starts in free fit coordinates: each row's ``m <= keep_k`` best basins
    (``m`` the most any row reaches; see module doc).

    ``prep`` holds the grid (``starts_fit``, ``strata``) and the strategy whose ``screen_k``,
    ``keep_k``, ``halving_iters + max_iter`` (the full-data solves) and solver are used; ``W``
    a weight plan (``rows(lo, hi)``) or matrix over the ``active`` points.
    """
    rows = W.rows if hasattr(W, "rows") else (lambda lo, hi: np.asarray(W, float)[lo:hi])
    B = W.shape[0]
    st = prep.strategy
    full = prep.args()
    starts = np.asarray(prep.starts_fit)
    base = prep.w[active][None, :]

    def weights(lo, hi):
        return rows(lo, hi) * base

    groups = None if prep.strata is None else jnp.asarray(strata_groups(prep.strata))
    kept = np.empty((B, min(max(1, st.screen_k), len(starts))), np.int64)
    for lo, hi, f in _objectives(prep, starts, active, weights, B, chunk_size):
        kept[lo:hi] = np.asarray(_top(f, groups, k=st.screen_k))[: hi - lo]  # (B, screen_k) start indices

    # 2. the union of kept starts, converged once on the full data; basins by objective value
    union = np.unique(kept)
    sol = _converge(prep.problem, st)(jnp.asarray(pad_rows(starts[union])), full)
    theta_u, f_u = np.asarray(sol.value)[: len(union)], np.asarray(sol.f)[: len(union)]
    conv = np.asarray(sol.result)[: len(union)] == R.CONVERGED
    # Basins: converged starts grouped by objective value (as FitResult.basins). A start that
    # did not converge on the full data is its own candidate, used only by a row none of whose
    # kept starts converged on the full data (its resamples then run from where it ended).
    basin = np.arange(len(union))
    order = np.flatnonzero(conv)[np.argsort(f_u[conv], kind="stable")]
    for a, b in zip(order[:-1], order[1:]):
        if abs(f_u[b] - f_u[a]) <= 1e-6 * abs(f_u[a]):
            basin[b] = basin[a]
    reps = np.unique(basin)
    points = theta_u[reps]
    good = conv[reps]
    of_start = np.searchsorted(reps, basin)  # union index -> basin index
    cand = of_start[np.searchsorted(union, kept)]  # (B, screen_k) basins each row's starts reach
    mine_all = np.zeros((B, len(reps)), bool)
    np.put_along_axis(mine_all, cand, True, axis=1)
    has_good = (mine_all & good).any(1)
    mine_all[has_good] &= good
    width = min(st.keep_k, int(mine_all.sum(1).max()))

    # 3. each row's keep_k best basins by its own objective there
    out = np.empty((B, width, points.shape[1]))
    for lo, hi, f in _objectives(prep, points, active, weights, B, chunk_size):
        fq = np.asarray(f)[: hi - lo]
        mine = mine_all[lo:hi]
        # a row's own basins first, best objective first (ties by basin index: deterministic)
        best = np.lexsort((fq, ~mine), axis=1)[:, :width]
        # fewer basins than the width: repeat the best (a repeated start converges identically)
        best = np.where(np.take_along_axis(mine, best, axis=1), best, best[:, :1])
        out[lo:hi] = points[best]
    return out
