"""The table of an isoFLOP analysis: runs grouped by budget, each budget's sizes on a centred
log scale, padded to one length (the batched profiles of ``_isoflop`` read it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._data import load_arrays
from ._errors import OptionError


@dataclass(frozen=True)
class Design:
    """The runs of an isoFLOP table grouped by budget (see the module docstring)."""

    C: np.ndarray  # (G,) budgets
    x: np.ndarray  # (G, m) log N scaled to [-1, 1] per budget (padded)
    y: np.ndarray  # (G, m) log loss (padded)
    w: np.ndarray  # (G, m) 1 for a run, 0 for padding
    mid: np.ndarray  # (G,)
    half: np.ndarray  # (G,)
    logN: np.ndarray  # (G, m)
    n_runs: np.ndarray  # (G,)
    N: np.ndarray  # (rows,) as given (for Approach 3)
    D: np.ndarray
    L: np.ndarray
    rows_of: list  # per budget, the row indices in the table
    fpt: float  # FLOPs per token: as given, or read off the table's tokens column


def isoflop_design(data, budget, size, loss, tokens, flops_per_token, where=()) -> Design:
    """The ``Design`` of ``data``'s runs: ``budget``, ``size``, ``loss``, ``tokens`` are columns or
    expressions; ``where`` filters rows; without a size column, N = C / (flops_per_token D)."""
    from ._select import as_frame, derive_columns, row_mask

    # columns given as expressions (--map N='params - 50304*width', --y '1 - acc') are computed,
    # and rows outside every where= are dropped before the profiles are formed
    data = derive_columns(data, [budget, size, loss] + ([tokens] if tokens else []))
    where = (where,) if isinstance(where, str) else tuple(where or ())
    if where:
        df = as_frame(data)
        keep = np.ones(len(df), bool)
        for expr in where:
            keep &= row_mask(df, expr)
        if not keep.any():
            raise OptionError(f"no run is left after where {list(where)}")
        data = df.loc[keep].reset_index(drop=True)
    cols = set(getattr(data, "columns", None) if hasattr(data, "columns") else data)
    # the size from the tokens when the table has no size column: N = C / (flops_per_token D)
    derive_n = tokens is not None and size not in cols
    cols = {"C": budget} if derive_n else {"C": budget, "N": size}
    doms = {"C": "positive"} if derive_n else {"C": "positive", "N": "positive"}
    if tokens is not None:
        cols["D"], doms["D"] = tokens, "positive"
    X, L, _ = load_arrays(data, doms, loss, columns=cols)
    C = np.asarray(X["C"], float)
    N = C / (flops_per_token * np.asarray(X["D"], float)) if derive_n else np.asarray(X["N"], float)
    D = np.asarray(X["D"], float) if tokens is not None else C / (flops_per_token * N)
    budgets = np.unique(C)
    rows_of = [np.flatnonzero(C == c) for c in budgets]
    rows_of = [r[np.argsort(N[r], kind="stable")] for r in rows_of]
    m = max(len(r) for r in rows_of)
    G = len(budgets)
    x, y, w, lg = np.zeros((G, m)), np.zeros((G, m)), np.zeros((G, m)), np.zeros((G, m))
    mid, half = np.zeros(G), np.ones(G)
    for g, r in enumerate(rows_of):
        ln = np.log(N[r])
        lo, hi = ln.min(), ln.max()
        mid[g], half[g] = 0.5 * (lo + hi), max(0.5 * (hi - lo), 1e-12)
        k = len(r)
        x[g, :k], y[g, :k], w[g, :k], lg[g, :k] = (ln - mid[g]) / half[g], np.log(L[r]), 1.0, ln
        x[g, k:] = x[g, k - 1]  # padding repeats a run at weight 0
    fpt = flops_per_token if tokens is None else float(np.median(C / (N * D)))
    return Design(budgets, x, y, w, mid, half, lg, np.array([len(r) for r in rows_of]), N, D, L, rows_of, fpt)
