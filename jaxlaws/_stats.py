"""Interval estimates from resampled statistics (numpy only; no scipy at run time)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

_N = NormalDist()


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval over the first axis."""
    a = (1.0 - level) / 2.0
    return np.quantile(draws, a, axis=0), np.quantile(draws, 1.0 - a, axis=0)


def finite_interval(values, level: float) -> tuple[float, float]:
    """``percentile_interval`` of the finite entries of a 1-D array (nan, nan when there are none):
    draws that failed (nan) are left out, never counted as values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = percentile_interval(v, level)
    return (float(lo), float(hi))


def bca_interval(draws: np.ndarray, estimate: np.ndarray, jackknife: np.ndarray, level: float):
    """Bias-corrected and accelerated interval (Efron 1987) over the first axis.

    ``jackknife`` holds the statistic on each leave-one-out (or leave-one-group-out) refit;
    it gives the acceleration ``a = sum(d^3) / (6 (sum d^2)^1.5)``, ``d = mean - theta_(i)``.
    The bias correction is ``z0 = Phi^-1(fraction of draws below the estimate)``.
    """
    draws = np.asarray(draws, float)
    B = draws.shape[0]
    lo, hi = [], []
    est = np.atleast_1d(estimate)
    jk = jackknife.reshape(jackknife.shape[0], -1)
    dr = draws.reshape(B, -1)
    for j in range(dr.shape[1]):
        frac = (np.sum(dr[:, j] < est[j]) + 0.5 * np.sum(dr[:, j] == est[j])) / B
        frac = min(max(frac, 1.0 / (2 * B)), 1.0 - 1.0 / (2 * B))
        z0 = _N.inv_cdf(frac)
        d = jk[:, j].mean() - jk[:, j]
        den = 6.0 * np.sum(d * d) ** 1.5
        acc = np.sum(d**3) / den if den > 0 else 0.0
        qs = []
        for alpha in ((1 - level) / 2, 1 - (1 - level) / 2):
            z = _N.inv_cdf(alpha)
            qs.append(_N.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))
        lo.append(np.quantile(dr[:, j], qs[0]))
        hi.append(np.quantile(dr[:, j], qs[1]))
    shape = np.shape(estimate)
    return np.reshape(lo, shape), np.reshape(hi, shape)
