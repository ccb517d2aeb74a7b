"""Approach 1 of Hoffmann et al.: the lower envelope of training curves.

Rows are checkpoints: (model size N, compute so far C, loss). Each model's curve is
interpolated (linearly in log C, log loss) within the compute it covers; at every compute on a
log-spaced grid the envelope is the lowest curve, and the model size on it is N*(C). The same
power law as Approach 2 is then fitted to (C, N*). A grid point whose envelope model is the
smallest or the largest size is ``at_edge`` (the optimum may lie beyond the sizes trained)
and is excluded; the bootstrap resamples whole training curves (model sizes).
"""

from __future__ import annotations

import numpy as np

from ._data import load_arrays
from ._errors import OptionError
from ._isoflop import IsoflopResult
from ._stats import finite_interval
from ._util import check_seed, x64
from .kernels import profile as P


def _curves(C, N, L):
    sizes = np.unique(N)
    out = []
    for n in sizes:
        r = np.flatnonzero(N == n)
        r = r[np.argsort(C[r], kind="stable")]
        lc, ll = np.log(C[r]), np.log(L[r])
        keep = np.concatenate([[True], np.diff(lc) > 0])  # one loss per compute (the first)
        out.append((n, lc[keep], ll[keep]))
    return sizes, out


def _envelope(curves, grid, pick):
    """Per grid point: the index (into ``pick``) of the lowest curve, and its log loss."""
    Lg = np.full((len(pick), grid.size), np.inf)
    for j, i in enumerate(pick):
        _, lc, ll = curves[i]
        if lc.size < 2:
            continue
        inside = (grid >= lc[0]) & (grid <= lc[-1])
        Lg[j, inside] = np.interp(grid[inside], lc, ll)
    j = np.argmin(Lg, axis=0)
    return j, Lg[j, np.arange(grid.size)]


@x64
def envelope(data, size: str = "N", compute: str = "C", loss: str = "loss", *, n: int = 1000, seed: int = 0,
             points: int = 200, target: float | None = None, level: float = 0.95,
             flops_per_token: float = 6.0) -> IsoflopResult:
    """Approach 1: N*(C) from the lower envelope of the training curves of several model sizes.

    ``points`` log-spaced compute values span the range where at least two curves overlap;
    ``n`` bootstrap resamples draw whole curves (model sizes) with replacement.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise OptionError(f"n={n!r} must be an integer >= 0")
    check_seed(seed)
    if not (0 < level < 1):
        raise OptionError(f"level={level!r} must be between 0 and 1")
    X, L, _ = load_arrays(data, {"N": "positive", "C": "positive"}, loss, columns={"N": size, "C": compute})
    C, N = np.asarray(X["C"], float), np.asarray(X["N"], float)
    sizes, curves = _curves(C, N, np.asarray(L, float))
    if len(sizes) < 3:
        raise OptionError(f"Approach 1 needs training curves of at least 3 model sizes in {size!r}; found {len(sizes)}")
    starts = sorted(c[1][0] for c in curves if c[1].size)
    ends = sorted(c[1][-1] for c in curves if c[1].size)
    lo, hi = starts[1], ends[-1]  # where at least two curves exist
    if not hi > lo:
        raise OptionError("the training curves do not overlap in compute: no envelope")
    grid = np.linspace(lo, hi, points)
    idx = np.arange(len(sizes))
    j, ly = _envelope(curves, grid, idx)
    ok = (j > 0) & (j < len(sizes) - 1) & np.isfinite(ly)
    logn = np.log(sizes[j])
    a_hat, logk = (float(v) for v in P.power_fit(grid, logn, ok.astype(float)))
    rng = np.random.default_rng(seed)
    draws_a, draws_lk = np.full(n, np.nan), np.full(n, np.nan)
    for b in range(n):
        pick = np.sort(rng.choice(idx, size=len(idx), replace=True))
        jb, lyb = _envelope(curves, grid, pick)
        sb = pick[jb]
        okb = (sb > 0) & (sb < len(sizes) - 1) & np.isfinite(lyb)
        draws_a[b], draws_lk[b] = (float(v) for v in P.power_fit(grid, np.log(sizes[sb]), okb.astype(float)))
    ia = finite_interval(draws_a, level, a_hat)
    k = float(np.exp(logk))
    tgt = {}
    if target is not None:
        n_t = k * target**a_hat
        lo_t, hi_t = finite_interval(np.exp(draws_lk) * target**draws_a, level, n_t) if n else (np.nan, np.nan)
        tgt = {"N_opt": (n_t, lo_t, hi_t),
               "D_opt": (target / (flops_per_token * n_t), target / (flops_per_token * hi_t), target / (flops_per_token * lo_t))}
    import pandas as pd

    tab = pd.DataFrame({"C": np.exp(grid), "N_opt": sizes[j], "D_opt": np.exp(grid) / (flops_per_token * sizes[j]),
                        "L_opt": np.exp(ly), "status": np.where(ok, "ok", "at_edge"), "flag": "", "used": ok})
    return IsoflopResult(
        budgets=tab, a=(a_hat, *ia), k=k, b=(1 - a_hat, 1 - ia[1], 1 - ia[0]), k_D=1.0 / (flops_per_token * k),
        target_C=target, target=tgt, profile="envelope", weighted=False, n_boot=n, level=level, draws_a=draws_a,
        draws_logk=draws_lk, n_used=int(ok.sum()), flops_per_token=flops_per_token,
        method=f"Approach 1: lower envelope of {len(sizes)} training curves on {points} compute values; "
               f"least squares of log N* on log C (envelope points on the smallest or largest size excluded)")
