"""Greedy experiment design on plain arrays: which runs most shrink a target's variance.

A fitted M-estimator (per-residual loss rho, psi = rho') has, to first order, the sandwich
covariance ``A^-1 B A^-1`` with ``A = sum_i psi'_i j_i j_i^T`` (curvature) and
``B = sum_i psi_i^2 j_i j_i^T`` (score variance), ``j_i`` the gradient of run i's prediction.
A new run at ``j`` is expected to add ``a j j^T`` to A and ``b j j^T`` to B, with ``a = E psi'``
and ``b = E psi^2`` (least squares with noise variance s2: ``A = B = J^T J / s2``,
``a = b = 1 / s2``, the Fisher case). For a target with gradient ``g``, Sherman-Morrison gives
every candidate's post-run variance in O(p^2):

    s = A^-1 j,   k = a / (1 + a j^T s),   h = A^-1 g - k (s^T g) s
    var' = h^T B h + b (j^T h)^2

The greedy batch takes, at each step, the affordable candidate with the largest variance
reduction per unit cost (or the largest reduction), then updates ``A^-1`` and ``B`` before the
next pick, so a second run at the same place gains less than the first. Every step is
O(M p^2) over all candidates at once; the whole selection is one ``lax.scan``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def variance_after(J, Ainv, B, g, a, b):
    """The target's variance after adding each candidate alone, shape (M,)."""
    u = Ainv @ g
    S = J @ Ainv  # rows: A^-1 j (A^-1 symmetric)
    k = a / (1.0 + a * jnp.sum(S * J, axis=1))
    H = u[None, :] - (k * (S @ g))[:, None] * S
    return jnp.einsum("mp,pq,mq->m", H, B, H) + b * jnp.sum(J * H, axis=1) ** 2


def variance(Ainv, B, g):
    h = Ainv @ g
    return h @ B @ h


def add_runs(J, Ainv, B, a, b):
    """``(A^-1, B)`` after adding all rows of ``J`` (each with the same ``a``, ``b``)."""
    A = jnp.linalg.inv(Ainv) + a * J.T @ J
    Ainv = jnp.linalg.inv(A)
    return 0.5 * (Ainv + Ainv.T), B + b * J.T @ J


def greedy(J, Ainv, B, g, a, b, cost, budget, n_max: int, replace: bool = False, per_cost: bool = True):
    """Greedy batch: up to ``n_max`` candidates whose total ``cost`` stays within ``budget``.

    ``per_cost=True`` ranks by variance reduction per unit cost (cheap informative runs first),
    ``False`` by reduction alone among affordable runs. Neither is best everywhere under both a
    budget and a cap on the number of runs (cost-benefit greedy can leave most of the budget
    unspent on a few cheap runs); running both and keeping the lower variance is the usual
    remedy (Krause and Guestrin 2005) and what ``jaxlaws.design`` does.

    Returns ``(picks, variance, gains)``: candidate indices in pick order (-1 when nothing
    affordable was left), the target variance after each pick, and each pick's own reduction.
    ``replace=True`` lets a candidate be picked again (replicate runs).
    """
    M = J.shape[0]
    dt = Ainv.dtype

    def step(carry, _):
        Ainv, B, spent, taken = carry
        v0 = variance(Ainv, B, g)
        gain = v0 - variance_after(J, Ainv, B, g, a, b)
        feasible = (spent + cost <= budget) & (replace | ~taken) & (gain > 0)
        # per unit cost: a run ten times as expensive must buy ten times the reduction
        score = jnp.where(feasible, gain / cost if per_cost else gain, -jnp.inf)
        i = jnp.argmax(score)
        ok = jnp.isfinite(score[i])
        j = J[i]
        s = Ainv @ j
        upd = Ainv - (a / (1.0 + a * (j @ s))) * jnp.outer(s, s)
        # symmetrise: the rank-one update loses symmetry to rounding over many picks
        Ainv = jnp.where(ok, 0.5 * (upd + upd.T), Ainv)
        B = jnp.where(ok, B + b * jnp.outer(j, j), B)
        spent = spent + jnp.where(ok, cost[i], 0.0)
        taken = taken.at[i].set(taken[i] | ok)
        return (Ainv, B, spent, taken), (jnp.where(ok, i, -1), variance(Ainv, B, g), jnp.where(ok, gain[i], 0.0))

    init = (Ainv, B, jnp.zeros((), dt), jnp.zeros((M,), bool))
    _, (picks, var, gains) = jax.lax.scan(step, init, None, length=n_max)
    return picks, var, gains


def expected_variance(J, Ainv, B, g, psi, dpsi):
    """The target's variance after adding the rows of ``J``, averaged over draws of their
    ``psi`` and ``psi'`` (shape (K, m): K draws for the m added runs).

    The first-order update adds each run's *expected* curvature ``a = E psi'``. For a loss whose
    curvature is lumpy (Huber with delta far below the noise: psi' is 1 for the few residuals
    inside delta and 0 elsewhere) the variance is convex in the curvature added, so by Jensen
    the expected variance exceeds the first-order one; averaging over realised (psi, psi')
    draws gives the variance a batch actually delivers on average.
    """
    A = jnp.linalg.inv(Ainv)

    def one(ps, dps):
        A1 = A + (J * dps[:, None]).T @ J
        B1 = B + (J * (ps * ps)[:, None]).T @ J
        h = jnp.linalg.solve(A1, g)
        return h @ B1 @ h

    return jnp.mean(jax.vmap(one)(psi, dpsi))
