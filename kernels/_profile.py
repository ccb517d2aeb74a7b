"""IsoFLOP profiles on plain arrays: per-budget minima and the power law through them.

Approach 2 of Hoffmann et al. fits, at each compute budget, a profile of log loss against
log model size and takes its minimum; the minima then give N*(C) = k C^a by least squares in
log space. Everything here is batched over budgets and resamples and works on padded arrays
(weight 0 = no run), so a bootstrap through both stages is one compiled call.

Sizes are given per budget as ``x`` = log N centred on the budget's sampled range and scaled
to [-1, 1] (``x = (log N - mid) / half``): a polynomial in x is well conditioned whatever the
scale of N.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Budget statuses: a usable interior minimum; fewer runs than a profile needs; no minimum
# (a concave or monotone profile); the minimum at or beyond the sampled sizes.
OK, TOO_FEW, NO_MINIMUM, AT_EDGE = 0, 1, 2, 3
STATUS_NAMES = ("ok", "too_few_runs", "no_minimum", "at_edge")
MIN_RUNS = 4  # a parabola through 3 runs interpolates them: its minimum has no error estimate


def poly_coefficients(x, y, w, degree: int):
    """Weighted least-squares polynomial coefficients ``c`` (lowest order first) of ``y`` on ``x``."""
    V = x[:, None] ** jnp.arange(degree + 1)
    A = V.T @ (w[:, None] * V)
    # a tiny ridge keeps the solve finite for budgets with too few runs (they are flagged)
    A = A + 1e-12 * jnp.trace(A) * jnp.eye(degree + 1) + 1e-300
    return jnp.linalg.solve(A, V.T @ (w * y))


def poly_minimum(x, y, w, degree: int):
    """Weighted polynomial fit of ``y`` on ``x`` (degree 2 or 3) and its interior minimum.

    Returns ``(x_min, y_min, curvature, status)``; ``curvature`` is the second derivative at
    the minimum (in x units). Rows with ``w = 0`` are absent. Traceable; vmap over budgets
    and resamples.
    """
    live = w > 0
    n = jnp.sum(live)
    c = poly_coefficients(x, y, w, degree)
    if degree == 2:
        curv = 2.0 * c[2]
        ok = c[2] > 0
        xs = -c[1] / jnp.where(ok, 2.0 * c[2], 1.0)
    elif degree == 3:
        # f'(x) = 3 c3 x^2 + 2 c2 x + c1; the root where f'' = +sqrt(disc) > 0 is the local
        # minimum. Written as -2 c1 / (2 c2 + s) (numerator and denominator multiplied by the
        # conjugate), which stays accurate as c3 -> 0 (then it is the parabola's -c1 / 2 c2).
        disc = 4.0 * c[2] ** 2 - 12.0 * c[3] * c[1]
        s = jnp.sqrt(jnp.maximum(disc, 0.0))
        den = 2.0 * c[2] + s
        ok = (disc > 0) & (jnp.abs(den) > 1e-300)
        xs = -2.0 * c[1] / jnp.where(ok, den, 1.0)
        curv = s
    else:  # pragma: no cover - guarded by the caller
        raise ValueError("degree must be 2 or 3")
    ys = jnp.polyval(c[::-1], xs)
    lo = jnp.min(jnp.where(live, x, jnp.inf))
    hi = jnp.max(jnp.where(live, x, -jnp.inf))
    status = jnp.where(n < MIN_RUNS, TOO_FEW, jnp.where(~ok, NO_MINIMUM, jnp.where((xs <= lo) | (xs >= hi), AT_EDGE, OK)))
    return xs, ys, curv, status


def power_fit(logc, logn, w):
    """Weighted least squares of ``logn`` on ``logc``: ``(a, log k)`` of ``N = k C^a``.

    ``w`` = 0 drops a budget; fewer than 2 budgets give nan. Vectorised over leading axes.
    """
    sw = jnp.sum(w, -1)
    mc = jnp.sum(w * logc, -1) / sw
    mn = jnp.sum(w * logn, -1) / sw
    dc = logc - mc[..., None]
    sxx = jnp.sum(w * dc * dc, -1)
    a = jnp.sum(w * dc * (logn - mn[..., None]), -1) / sxx
    ok = (jnp.sum(w > 0, -1) >= 2) & (sxx > 0)
    return jnp.where(ok, a, jnp.nan), jnp.where(ok, mn - a * mc, jnp.nan)


def profile_minima(x, y, w, degree: int):
    """``poly_minimum`` over budgets (axis -2) and any leading batch axes of ``w`` and ``y``."""
    fn = jax.vmap(poly_minimum, in_axes=(0, 0, 0, None))
    for _ in range(y.ndim - 2):
        fn = jax.vmap(fn, in_axes=(None, 0, 0, None))
    return fn(x, y, w, degree)


def akima_minimum(x, Y, per_interval: int = 25):
    """Minimum of the Akima interpolant of ``Y`` (draws, n) at sorted distinct ``x`` (n,).

    Akima's slopes (a weighted mean of the neighbouring secant slopes, the end slopes
    extended linearly) give a smooth, local, overshoot-resistant interpolant; it is
    evaluated on ``per_interval`` points per interval and minimised on that grid (Porian et
    al.'s recipe). Returns ``(x_min, y_min, status)`` per draw; a minimum on the first or
    last grid point is ``AT_EDGE``. numpy, vectorised over draws.
    """
    x = np.asarray(x, float)
    Y = np.atleast_2d(np.asarray(Y, float))
    B = Y.shape[0]
    if x.size < MIN_RUNS:
        return np.full(B, np.nan), np.full(B, np.nan), np.full(B, TOO_FEW)
    grid_x, grid_y = akima_curve(x, Y, per_interval)
    j = np.argmin(grid_y, axis=1)
    status = np.where((j == 0) | (j == grid_x.size - 1), AT_EDGE, OK)
    return grid_x[j], grid_y[np.arange(B), j], status


def akima_curve(x, Y, per_interval: int = 25):
    """The Akima interpolant of ``Y`` (draws, n) at sorted distinct ``x`` (n >= 3) on a grid of
    ``per_interval`` points per interval: ``(grid_x, grid_y)`` with ``grid_y`` (draws, points)."""
    x = np.asarray(x, float)
    Y = np.atleast_2d(np.asarray(Y, float))
    B = Y.shape[0]
    h = np.diff(x)
    m = np.diff(Y, axis=1) / h  # (B, n-1)
    # extend by two slopes on each side (Akima 1970)
    m_l1 = 2 * m[:, :1] - m[:, 1:2]
    m_l2 = 2 * m_l1 - m[:, :1]
    m_r1 = 2 * m[:, -1:] - m[:, -2:-1]
    m_r2 = 2 * m_r1 - m[:, -1:]
    M = np.concatenate([m_l2, m_l1, m, m_r1, m_r2], axis=1)  # (B, n+3)
    dm = np.abs(np.diff(M, axis=1))  # (B, n+2)
    w1, w2 = dm[:, 2:], dm[:, :-2]  # |m_{i+1} - m_i|, |m_{i-1} - m_{i-2}|
    den = w1 + w2
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(den > 1e-12 * (np.abs(M[:, 1:-2]) + np.abs(M[:, 2:-1]) + 1e-300),
                     (w1 * M[:, 1:-2] + w2 * M[:, 2:-1]) / den, 0.5 * (M[:, 1:-2] + M[:, 2:-1]))
    # cubic Hermite on each interval, evaluated on a fine grid
    u = np.linspace(0.0, 1.0, per_interval, endpoint=False)
    h00, h10, h01, h11 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u, -2 * u**3 + 3 * u**2, u**3 - u**2
    y0, y1, t0, t1 = Y[:, :-1, None], Y[:, 1:, None], t[:, :-1, None], t[:, 1:, None]
    seg = y0 * h00 + h[None, :, None] * t0 * h10 + y1 * h01 + h[None, :, None] * t1 * h11  # (B, n-1, k)
    grid_y = np.concatenate([seg.reshape(B, -1), Y[:, -1:]], axis=1)
    grid_x = np.concatenate([(x[:-1, None] + h[:, None] * u).reshape(-1), x[-1:]])
    return grid_x, grid_y


def envelope_fit(C, L):
    """Least-squares fits of ``L = E + A C^-alpha`` to rows of ``L`` (draws, budgets), by
    variable projection: for given alpha, (E, A) is a linear least-squares problem solved in
    closed form for every draw at once; alpha is found on a log grid and refined by four
    zooms of the grid around each draw's best point. Fits with E <= 0 or A <= 0 are nan.
    numpy, no compilation."""
    L = np.atleast_2d(np.asarray(L, float))
    lc = np.log(C / C.min())  # C^-alpha relative to the smallest budget: no overflow
    ok = np.isfinite(L)
    w, Lz = ok.astype(float), np.where(ok, L, 0.0)

    def solve(alpha):  # alpha (D, K) -> E, A, sse (D, K)
        X = np.exp(-alpha[..., None] * lc)  # (D, K, G)
        s0 = w.sum(1)[:, None]
        s1, s2 = (w[:, None] * X).sum(-1), (w[:, None] * X**2).sum(-1)
        t0, t1 = Lz.sum(1)[:, None], (Lz[:, None] * X).sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            A = (s0 * t1 - s1 * t0) / (s0 * s2 - s1**2)
            E = (t0 - A * s1) / s0
            sse = (w[:, None] * (L[:, None] - E[..., None] - A[..., None] * X) ** 2).sum(-1)
        return E, A, np.where(np.isfinite(sse), sse, np.inf)

    D = L.shape[0]
    la = np.broadcast_to(np.linspace(np.log(0.005), np.log(2.0), 120), (D, 120))
    for _ in range(5):
        _, _, sse = solve(np.exp(la))
        j = np.argmin(sse, axis=1)
        h = la[:, 1] - la[:, 0]
        best = la[np.arange(D), j]
        la = best[:, None] + np.linspace(-1.0, 1.0, 41)[None, :] * h[:, None]
    alpha = np.exp(best)
    E, A, _ = solve(alpha[:, None])
    E, A = E[:, 0], A[:, 0]
    good = (E > 0) & (A > 0) & np.isfinite(E) & np.isfinite(A)
    return np.where(good, E, np.nan), np.where(good, A, np.nan), np.where(good, alpha, np.nan)
