"""Interval estimates from resampled statistics (numpy only; no scipy at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_N = NormalDist()


@dataclass(frozen=True)
class Interval:
    """Estimate, standard error and interval(s) for one quantity."""

    name: str
    estimate: float
    se: float
    lower: float
    upper: float
    level: float
    method: str
    n_used: int = 0  # draws the interval rests on (converged, finite)
    n_total: int = 0  # resamples drawn
    note: str = ""  # why there is no interval (lower, upper nan), or a caveat


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval over the first axis."""
    a = (1.0 - level) / 2.0
    return np.quantile(draws, a, axis=0), np.quantile(draws, 1.0 - a, axis=0)


def interval_notes(rows) -> list[str]:
    """The distinct notes (refusals and caveats) of ``(label, Interval)`` rows, each naming the
    quantities it applies to, in first-seen order: printed under every table of intervals."""
    seen: dict = {}
    for label, iv in rows:
        if iv.note:
            seen.setdefault(iv.note, []).append(label)
    return [f"{', '.join(labels)}: {note}" for note, labels in seen.items()]


# An interval or band from fewer than this fraction of its draws is not printed as one: the
# draws that failed (a resample that could not identify the law, a budget with no minimum) are
# not a random subset, and 26 survivors of 1000 gave a zero-width band that "covered" 2 of 2.
# Above it the count used is printed beside the interval (an isoFLOP loss envelope keeps ~77%
# of its draws on the textbook ladder: the others put the envelope's floor E at or below 0).
MIN_USED_FRACTION = 0.5
# Below this many residual degrees of freedom (points minus free parameters) neither a sandwich
# nor a bootstrap interval is given: at n - k = 1 a percentile interval was 16x narrower than
# OLS's t(1) one, and at n - k = 10 the kinked-loss cells of bench/bench_calibration.py already
# under-cover. 10 is a conventional line, not one the matrix locates (it has no sandwich or
# bootstrap cells below 10: those are refused there).
MIN_DF = 10


def support_note(n_used: int, n_total: int, estimate=0.0, what: str = "draws") -> str | None:
    """Why an interval from ``n_used`` of ``n_total`` draws around ``estimate`` cannot be given
    (``None`` when it can): the estimate is undefined, or too few draws survived."""
    if estimate is not None and not np.all(np.isfinite(estimate)):
        return "the estimate itself is undefined (not finite), so no interval is given around it"
    if n_total and n_used < max(2, MIN_USED_FRACTION * n_total):
        return (f"only {n_used} of {n_total} {what} are usable (< {MIN_USED_FRACTION:.0%}): the others failed or "
                f"could not identify the law, and the survivors are not a random subset; no interval")
    return None


def refusal(residual_df, n_used: int, n_total: int, estimate=0.0) -> str | None:
    """Why no bootstrap interval can be given, or None: n - k (``residual_df``; None: not
    checked, e.g. a user's own weight matrix) below ``MIN_DF`` (a resample of a handful of runs
    reshuffles residuals that already fit almost exactly: a 4-parameter law on 5 runs gave an
    interval 16x narrower than OLS's t(1) one), or ``support_note``'s reasons."""
    if residual_df is not None and residual_df < MIN_DF:
        return (f"n - k = {residual_df} residual degrees of freedom: a bootstrap cannot estimate a spread "
                f"from so few (needs n - k >= {MIN_DF}); no interval")
    return support_note(n_used, n_total, estimate, "resamples")


# Between MIN_DF and this many residual degrees of freedom a bootstrap interval is given with a
# caveat: on a squared-loss power law its 90% percentile interval covered 85% at n - k = 10 and
# 87% at 50 (95%: 89% and 90.5%; bench_calibration.py --part bootstrap, 200 data sets); on a
# 40-run Chinchilla isoFLOP design (n - k = 35) 93.5-96.5% (bench_calibration_bands.py
# --part bootstrap_chinchilla): off in either direction, depending on the design
CAVEAT_DF = 50


def excess_kurtosis(r) -> float:
    """The residuals' sample excess kurtosis (0 for Gaussian; nan with fewer than 4 finite values):
    a tail diagnostic. At 52 residuals it exceeds 1 in 5% of Gaussian samples and in 74% of
    Student-t(3) ones."""
    r = np.asarray(r, float)
    r = r[np.isfinite(r)]
    if r.size < 4:
        return float("nan")
    z = r - r.mean()
    m2 = float(np.mean(z**2))
    return float(np.mean(z**4) / m2**2 - 3.0) if m2 > 0 else float("nan")


def caveat(residual_df) -> str:
    """The caveat a bootstrap interval carries with few residual degrees of freedom ('' above
    ``CAVEAT_DF`` or when ``residual_df`` is None)."""
    if residual_df is None or residual_df >= CAVEAT_DF:
        return ""
    return (f"n - k = {residual_df} < {CAVEAT_DF}: bootstrap intervals and bands are not calibrated at this size (in "
            f"simulation 90% intervals covered 85-87% on a power law at n - k = 10-50, a chain's loss band 86.5% at 12, "
            f"and 93.5-96.5% on a 40-run isoFLOP design at 35)")


def finite_interval(values, level: float, estimate=0.0) -> tuple[float, float]:
    """``percentile_interval`` of the finite entries of a 1-D array: draws that failed (nan) are
    left out, never counted as values. ``(nan, nan)`` when ``support_note`` refuses it (fewer than
    ``MIN_USED_FRACTION`` of the draws finite, or a non-finite ``estimate``)."""
    v = np.asarray(values, float)
    n_total = v.size
    v = v[np.isfinite(v)]
    if v.size == 0 or support_note(v.size, n_total, estimate) is not None:
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


def t_cdf(t: float, df: int) -> float:
    """Student's t CDF for an integer ``df >= 1``, exact (Abramowitz and Stegun 26.7.3-4:
    finite sums in ``cos theta``, ``theta = atan(t / sqrt(df))``), O(df) terms."""
    import math

    df = int(df)
    if df < 1:
        raise ValueError("df must be >= 1")
    if not math.isfinite(t):
        return 0.0 if t < 0 else 1.0
    th = math.atan(abs(t) / math.sqrt(df))
    c2, s = math.cos(th) ** 2, math.sin(th)
    if df % 2 == 1:
        term, acc = math.cos(th), 0.0
        if df > 1:
            acc = term
            for k in range(3, df - 1, 2):  # cos theta (1 + 2/3 cos^2 + 2.4/(3.5) cos^4 + ...)
                term *= c2 * (k - 1) / k
                acc += term
        a = 2 / math.pi * (th + s * acc)
    else:
        term, acc = 1.0, 1.0
        for k in range(2, df - 1, 2):
            term *= c2 * (k - 1) / k
            acc += term
        a = s * acc
    return 0.5 + math.copysign(0.5 * a, t)  # a = P(|T| < |t|)


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with integer ``df``: bisection on ``t_cdf`` to 1e-12, or
    past 2000 degrees of freedom the Cornish-Fisher expansion in 1/df to its third term
    (Abramowitz and Stegun 26.7.5; error O(df^-4) < 1e-12)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if df > 2000:
        z = _N.inv_cdf(p)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        return z + g1 / df + g2 / df**2 + g3 / df**3
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)
