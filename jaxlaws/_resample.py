"""Resampling plans as weight matrices: every resample has the data's shape.

A resample is a vector of per-point counts (how often each run appears), so a bootstrap,
a leave-one-out or a leave-one-group-out is just a ``(B, n)`` matrix of weights, and all of
its fits can run in one batched call.
"""

from __future__ import annotations

import numpy as np

from ._errors import OptionError

METHODS = ("ordinary", "group", "loo", "logo", "epoch")


def _group_codes(groups, n):
    g = np.asarray(groups)
    if g.shape != (n,):
        raise OptionError(f"groups must have one label per row ({n}), got shape {g.shape}")
    _, codes = np.unique(g, return_inverse=True)
    return codes


def resample_weights(n: int, method: str = "ordinary", n_resamples: int = 1000, seed: int = 0,
                     groups=None) -> np.ndarray:
    """A ``(B, n)`` float matrix of resampling counts over ``n`` points.

    - ``ordinary``: ``n`` draws with replacement per resample (``numpy.random.default_rng(seed)``);
    - ``group``: whole groups drawn with replacement (cluster bootstrap): every point of a
      drawn group gets that group's count;
    - ``loo`` / ``logo``: leave one point / one group out (``B = n`` / number of groups);
    - ``epoch``: Besiroglu et al.'s protocol, ``numpy.random.seed(seed)`` then
      ``np.random.choice(n, n, replace=True)`` per resample (seed 42, 4000 in their paper).
    """
    if method not in METHODS:
        raise OptionError(f"method={method!r} must be one of {METHODS}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise OptionError(f"seed must be an integer in [0, 2^32), got {seed!r}")
    if groups is not None and method in ("ordinary", "epoch", "loo"):
        # a silent ordinary bootstrap of clustered data gives intervals that are too narrow
        raise OptionError(f"groups= was given but method={method!r} ignores groups; use method='group' "
                          f"(resample whole groups) or 'logo' (leave one group out)")
    if method in ("ordinary", "group", "epoch"):
        if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
            raise OptionError(f"the number of resamples must be a positive integer, got {n_resamples!r}")
    if method == "ordinary":
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_resamples, n))
        return _counts(idx, n)
    if method == "epoch":
        rs = np.random.RandomState(seed)  # the legacy global-state stream np.random.seed uses
        idx = np.stack([rs.choice(n, n, replace=True) for _ in range(n_resamples)])
        return _counts(idx, n)
    if method == "loo":
        return 1.0 - np.eye(n)
    codes = _group_codes(groups, n) if groups is not None else None
    if codes is None:
        raise OptionError(f"method={method!r} needs groups= (a column name or one label per row)")
    G = int(codes.max()) + 1
    if G < 2:
        raise OptionError("groups: need at least two distinct groups to resample")
    if method == "logo":
        return (codes[None, :] != np.arange(G)[:, None]).astype(float)
    rng = np.random.default_rng(seed)
    gidx = rng.integers(0, G, size=(n_resamples, G))
    gcount = _counts(gidx, G)
    return gcount[:, codes]


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    B = idx.shape[0]
    W = np.zeros((B, n))
    np.add.at(W, (np.repeat(np.arange(B), idx.shape[1]), idx.reshape(-1)), 1.0)
    return W
