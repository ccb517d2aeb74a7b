"""Which runs a fit uses: row filters, best-run selection, dropped outliers, weights.

Published recipes choose runs before fitting: Epoch drops the 5 highest-loss points,
Muennighoff et al. fit 182 curated runs, others keep runs below a compute cutoff or the best
learning rate per (N, D). Every choice here becomes a per-row weight (0 = not used), so row
positions never change: predictions, group labels and influence stay aligned with the
user's table. Rows a filter excludes are not validated (a run with a missing loss may be
filtered out) and carry a kept row's values at weight 0, which adds exactly 0 to the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._data import get_column
from ._errors import DataError, OptionError
from ._expr import evaluate


@dataclass(frozen=True)
class Selection:
    """The outcome of row selection: the table to fit (same rows), weights, and what was excluded."""

    data: object
    weights: np.ndarray | None
    excluded: dict  # reason -> number of rows


def as_frame(data):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    try:
        return pd.DataFrame({k: np.asarray(v) for k, v in dict(data).items()})
    except (TypeError, ValueError) as e:
        raise DataError(f"data must be a DataFrame or a dict of equal-length columns: {e}") from None


def derive_columns(data, names):
    """``data`` with a column for each of ``names`` that is an expression over its columns
    rather than a column (``y="1 - acc1"``, ``columns={"N": "params - 50304*width"}``),
    computed by ``_expr`` (no code runs) and stored under the expression's own text, so the
    fit, its JSON and its methods card name exactly what was fitted. Plain names, and text that
    is not an expression, are left for the column lookup to report."""
    import ast

    from ._expr import parse

    cols = set(getattr(data, "columns", None) if hasattr(data, "columns") else (data or {}))
    todo = []
    for name in names:
        if not isinstance(name, str) or name in cols or name in todo:
            continue
        try:
            ast.parse(name.strip(), mode="eval")
        except SyntaxError:
            continue  # not an expression ('val loss (nats)'): the column lookup names the missing column
        try:
            tree, _ = parse(name)
        except OptionError as e:  # an expression, but not one the evaluator allows: say both
            raise OptionError(f"{name!r} is not a column, nor an allowed expression ({str(e).split(': ', 1)[-1]})"
                              ) from None
        if not isinstance(tree.body, ast.Name):
            todo.append(name)
    if not todo:
        return data
    df = as_frame(data).copy()
    for name in todo:
        v = evaluate(name, df, "column expression")
        if v.dtype.kind not in "biuf":
            raise OptionError(f"column expression {name!r} must give a number per row, got {v.dtype}")
        df[name] = v.astype(float)
    return df


def row_mask(df, expr: str) -> np.ndarray:
    """The rows of a DataFrame where the expression ``expr`` holds (``_expr``: a whitelist that
    cannot run code; one-line errors)."""
    keep = evaluate(expr, df, "where")
    if keep.shape != (len(df),) or keep.dtype != bool:
        raise OptionError(f"where {expr!r} must give one true/false per row, got {keep.dtype} {keep.shape}")
    return keep


def row_weights(df, weights) -> np.ndarray | None:
    """Weights from an array, a column name, or an expression over columns (``1 / sd**2``)."""
    if weights is None or not isinstance(weights, str):
        return None if weights is None else np.asarray(weights, dtype=float)
    if weights in df.columns:
        return np.asarray(get_column(df, weights), dtype=float)
    w = evaluate(weights, df, "weights")
    if w.dtype.kind not in "biuf":
        raise OptionError(f"weights {weights!r} must give a number per row, got {w.dtype}")
    w = np.asarray(w, dtype=float)
    if w.shape != (len(df),):
        raise OptionError(f"weights {weights!r} must give one number per row")
    return w


def select(data, y: str, needed, *, where=(), best_per=(), drop_highest: int = 0, weights=None) -> Selection:
    """Apply row filters (``where``: expressions of ``_expr``, all must hold), keep the lowest-``y``
    row per group of ``best_per`` columns (lowest of another column with an entry ``"by=COLUMN"``), drop the ``drop_highest`` highest-``y`` kept rows,
    and fold it all into per-row weights. ``needed``: the columns a fit reads (filled in
    excluded rows)."""
    if where is not None and not isinstance(where, (str, list, tuple)):
        raise OptionError(f"where={where!r} must be an expression or a list of expressions, e.g. \"6*N*D < 1e21\"")
    where = (where,) if isinstance(where, str) else tuple(where or ())
    best_per = (best_per,) if isinstance(best_per, str) else tuple(best_per or ())
    if drop_highest is None:
        drop_highest = 0
    if not isinstance(drop_highest, (int, np.integer)) or drop_highest < 0:
        raise OptionError(f"drop_highest={drop_highest!r} must be an integer >= 0")
    if not where and not best_per and not drop_highest and not isinstance(weights, str):
        return Selection(data, None if weights is None else np.asarray(weights, dtype=float), {})
    df = as_frame(data)
    n = len(df)
    keep = np.ones(n, dtype=bool)
    excluded = {}
    for expr in where:
        k = row_mask(df, expr)
        excluded[f"where {expr}"] = int((keep & ~k).sum())
        keep &= k
    if best_per:
        # an entry "by=COLUMN" ranks the runs of a group by that column instead of the target:
        # fit the learning rate of the lowest-loss run per (N, D) (Step Law's recipe)
        rank = next((c[3:] for c in best_per if c.startswith("by=")), y)
        best_per = tuple(c for c in best_per if not c.startswith("by="))
        missing = [c for c in best_per + (rank,) if c not in df.columns]
        if missing or not best_per:
            raise OptionError(f"best-per columns {missing or list(best_per)} are not in the table {list(df.columns)}")
        try:
            rv = np.asarray(df[rank], dtype=float)
        except (TypeError, ValueError):
            raise OptionError(f"best-per ranks by {rank!r}, which is not numeric") from None
        sub = df.loc[keep & np.isfinite(rv)].assign(**{"__rank__": rv[keep & np.isfinite(rv)]})
        best = sub.groupby(list(best_per), sort=False)["__rank__"].idxmin()
        chosen = np.zeros(n, dtype=bool)
        chosen[df.index.get_indexer(best.values)] = True
        excluded[f"not the lowest {rank} per {','.join(best_per)}"] = int((keep & ~chosen).sum())
        keep &= chosen
    w = row_weights(df, weights)
    if w is not None:
        w = np.where(keep, w, 0.0)
    if drop_highest:
        yv = np.asarray(df[y], dtype=float)
        live = np.flatnonzero(keep & (w > 0 if w is not None else True))
        drop = live[np.argsort(-yv[live], kind="stable")[:drop_highest]]
        keep[drop] = False
        excluded[f"the {drop_highest} highest {y}"] = len(drop)
    if not keep.any():
        raise DataError(f"no row is left after the row selection ({'; '.join(f'{k}: {v}' for k, v in excluded.items())})")
    w = keep.astype(float) if w is None else np.where(keep, w, 0.0)
    if not keep.all():
        # excluded rows take the first kept row's values (never validated, never fitted: weight 0)
        df = df.copy()
        cols = [c for c in needed if c in df.columns]
        first = int(np.flatnonzero(keep)[0])
        for c in cols:
            col = df[c].to_numpy(copy=True)
            col[~keep] = col[first]
            df[c] = col
    return Selection(df, w, excluded)
