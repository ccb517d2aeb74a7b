"""Resampling plans as weight matrices: every resample has the data's shape.

A resample is a vector of per-point counts (how often each run appears), so a bootstrap,
a leave-one-out or a leave-one-group-out is just a ``(B, n)`` matrix of weights, and all of
its fits can run in one batched call.
"""

from __future__ import annotations

import numpy as np

from ._data import rows_text
from ._errors import DataError, OptionError
from ._util import check_seed

METHODS = ("ordinary", "group", "loo", "logo", "epoch")


def missing_labels(groups) -> np.ndarray:
    """Where a group label is missing (nan, None or pandas' NA): ``np.unique`` would silently
    pool all of them into one group."""
    g = np.asarray(groups)
    if g.dtype.kind == "f":
        return np.isnan(g)
    if g.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and v != v) or type(v).__name__ == "NAType"
                         for v in g.ravel()], bool).reshape(g.shape)
    return np.zeros(g.shape, bool)


def used_labels(g, active, n_rows: int, what: str = "groups") -> np.ndarray:
    """The group labels of the used runs (``active``) from ``g``, one per table row (or already
    one per used run). A used run without a label is an error naming its table row; runs the
    fit drops may lack one."""
    g = np.asarray(g)
    if len(g) != n_rows:
        return g
    bad = np.zeros(n_rows, bool)
    bad[active] = missing_labels(g)[active]
    if bad.any():
        raise DataError(f"{what} has missing labels at rows {rows_text(bad)}; give every run a group "
                        f"(or drop those rows)")
    return g[active]


def _group_codes(groups, n):
    g = np.asarray(groups)
    if g.shape != (n,):
        raise OptionError(f"groups must have one label per row ({n}), got shape {g.shape}")
    bad = missing_labels(g)
    if bad.any():
        raise DataError(f"groups: missing labels at positions {rows_text(bad)}; give every run a group")
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

    The whole matrix at once; ``WeightRows`` gives the same rows a chunk at a time.
    """
    plan = WeightRows(n, method, n_resamples, seed, groups)
    return plan.rows(0, plan.shape[0])


class WeightRows:
    """A resampling plan (see ``resample_weights``) that generates its weight rows a chunk at a
    time, so a bootstrap's memory does not grow with resamples x points.

    The rows are the numbers ``resample_weights`` returns: numpy's PCG64 keeps a half-used
    32-bit word in the generator's state, so consecutive ``integers`` calls continue one stream
    (``tests/test_bootstrap.py`` checks chunked against whole), and the legacy ``epoch`` stream
    draws one resample per call anyway. Rows are asked for in order (a bootstrap's chunks); an
    earlier row restarts the stream from the seed, a later one skips ahead.
    """

    def __init__(self, n: int, method: str = "ordinary", n_resamples: int = 1000, seed: int = 0, groups=None):
        if method not in METHODS:
            raise OptionError(f"method={method!r} must be one of {METHODS}")
        check_seed(seed)
        if groups is not None and method in ("ordinary", "epoch", "loo"):
            # a silent ordinary bootstrap of clustered data gives intervals that are too narrow
            raise OptionError(f"groups= was given but method={method!r} ignores groups; use method='group' "
                              f"(resample whole groups) or 'logo' (leave one group out)")
        if method in ("ordinary", "group", "epoch"):
            if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
                raise OptionError(f"the number of resamples must be a positive integer, got {n_resamples!r}")
        self.n, self.method, self.seed = int(n), method, int(seed)
        self.codes = None
        if method in ("group", "logo"):
            self.codes = _group_codes(groups, n) if groups is not None else None
            if self.codes is None:
                raise OptionError(f"method={method!r} needs groups= (a column name or one label per row)")
            if int(self.codes.max()) + 1 < 2:
                raise OptionError("groups: need at least two distinct groups to resample")
        self.n_groups = None if self.codes is None else int(self.codes.max()) + 1
        B = {"loo": self.n, "logo": self.n_groups}.get(method, int(n_resamples))
        self.shape = (B, self.n)
        self._stream, self._pos = None, 0

    def key(self) -> bytes:
        """What determines every row (for checkpoint fingerprints), without generating them."""
        codes = b"" if self.codes is None else np.ascontiguousarray(self.codes).tobytes()
        return f"{self.method}:{self.seed}:{self.shape}".encode() + codes

    def _draw(self, k: int) -> np.ndarray:
        """The next ``k`` rows of the stream."""
        if self.method == "ordinary":
            return _counts(self._stream.integers(0, self.n, size=(k, self.n)), self.n)
        if self.method == "epoch":
            return _counts(np.stack([self._stream.choice(self.n, self.n, replace=True) for _ in range(k)]), self.n)
        G = self.n_groups
        return _counts(self._stream.integers(0, G, size=(k, G)), G)[:, self.codes]

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo .. hi - 1`` as a ``(hi - lo, n)`` float array."""
        lo, hi = max(0, int(lo)), min(int(hi), self.shape[0])
        if self.method == "loo":
            out = np.ones((hi - lo, self.n))
            out[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
            return out
        if self.method == "logo":
            return (self.codes[None, :] != np.arange(lo, hi)[:, None]).astype(float)
        if self._stream is None or lo < self._pos:
            # the legacy global-state stream np.random.seed uses, for Besiroglu et al.'s protocol
            self._stream = np.random.RandomState(self.seed) if self.method == "epoch" else np.random.default_rng(self.seed)
            self._pos = 0
        while self._pos < lo:  # skip ahead in bounded pieces
            step = min(lo - self._pos, 1024)
            self._draw(step)
            self._pos += step
        out = self._draw(hi - lo) if hi > lo else np.zeros((0, self.n))
        self._pos = hi
        return out


def plan_weights(data, n_rows: int, active, method: str, n: int, seed: int, groups=None, weights_matrix=None):
    """The resampling plan of a bootstrap over the ``active`` (positive-weight) rows of an
    ``n_rows`` table: a user's ``weights_matrix`` (B, active or all rows), or ``WeightRows`` of
    ``method`` with ``groups`` (a column name of ``data`` or labels per row); with its name."""
    if weights_matrix is not None:
        W = np.asarray(weights_matrix, float)
        if W.ndim != 2 or W.shape[1] not in (len(active), n_rows):
            raise OptionError(f"weights_matrix must have shape (B, {len(active)}) (one column per fitted point)")
        if W.shape[1] == n_rows:
            W = W[:, active]
        if not np.all(np.isfinite(W)) or np.any(W < 0):
            raise OptionError("weights_matrix must be finite and >= 0")
        return W, "user"
    g = None
    if groups is not None:
        if isinstance(groups, str):
            from ._data import get_column

            try:
                g = np.asarray(data[groups]) if hasattr(data, "__getitem__") else None
            except KeyError:
                g = None
            if g is None:
                get_column(data, groups)  # raises the standard missing-column error
        else:
            g = np.asarray(groups)
        g = used_labels(g, active, n_rows, f"group column {groups!r}" if isinstance(groups, str) else "groups")
    # generated a chunk at a time inside refit: memory does not grow with resamples x points
    return WeightRows(len(active), method, n, seed, g), method


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    B = idx.shape[0]
    W = np.zeros((B, n))
    np.add.at(W, (np.repeat(np.arange(B), idx.shape[1]), idx.reshape(-1)), 1.0)
    return W
