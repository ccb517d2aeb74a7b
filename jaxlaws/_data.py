"""Turning user data (a DataFrame, a dict of arrays) into validated float arrays.

This is the edge where bad input is caught: every check names the column and the first
offending rows and says what to do, so nothing malformed reaches the compiled core (where
it would surface as a silent nan or a traceback from inside JAX).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ._errors import DataError, OptionError

# Beyond these magnitudes a float64 log-law fit is meaningless (and x^alpha overflows).
_MAX_ABS = 1e150
_MIN_POS = 1e-150


def rows_text(mask, limit=5) -> str:
    """The first offending row numbers, for error messages."""
    idx = np.flatnonzero(mask)
    s = ", ".join(str(i) for i in idx[:limit])
    return s + (f" (and {len(idx) - limit} more)" if len(idx) > limit else "")


def _near(col: str, cols) -> str:
    """A hint naming the column that differs from ``col`` only in case or surrounding spaces."""
    key = str(col).strip().lower()
    near = [c for c in cols if c.strip().lower() == key]
    return f" (did you mean {near[0]!r}? names are matched exactly)" if near else ""


def get_column(data, col: str, n_rows_hint=None) -> np.ndarray:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns]
        if len(set(cols)) != len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise DataError(f"duplicate column names {dup}: rename them so each column is unique")
        if col not in cols:
            raise DataError(f"column {col!r} not found; available columns: {cols}{_near(col, cols)}")
        series = data[data.columns[cols.index(col)]]
        values = series.to_numpy()
    elif isinstance(data, Mapping):
        if col not in data:
            raise DataError(f"column {col!r} not found; available keys: {sorted(map(str, data))}")
        values = data[col]
        try:
            values = np.asarray(values)
        except Exception as e:  # ragged lists and the like
            raise DataError(f"column {col!r} cannot be read as a 1-D array: {e}") from None
    else:
        raise DataError(
            f"data must be a pandas DataFrame or a dict of arrays, got {type(data).__name__}"
        )
    values = np.asarray(values)
    if values.ndim == 0:
        values = values.reshape(1)
    if values.ndim != 1:
        raise DataError(f"column {col!r} must be 1-D, got shape {values.shape}")
    if values.dtype == bool:
        raise DataError(f"column {col!r} is boolean; a numeric column is needed")
    if values.dtype.kind in "mM":  # numpy would turn them into nanosecond counts without a word
        raise DataError(f"column {col!r} holds dates or durations; a numeric column is needed")
    if values.dtype.kind in "iuf":
        return values.astype(float)
    # Objects / strings: convert elementwise and report the first row that fails.
    out = np.empty(values.shape[0], dtype=float)
    for i, v in enumerate(values):
        try:
            if isinstance(v, (bool, np.bool_)):
                raise TypeError
            out[i] = float(v)
        except (TypeError, ValueError):
            raise DataError(
                f"column {col!r} has a non-numeric value {v!r} at row {i}; convert or drop it"
            ) from None
    return out


def check_values(col: str, x: np.ndarray, domain: str):
    """Finite, not absurd, and positive where a log is taken."""
    bad = ~np.isfinite(x)
    if bad.any():
        kind = "nan" if np.isnan(x[bad][0]) else "inf"
        raise DataError(f"column {col!r} has {kind} values at rows {rows_text(bad)}; drop or fill them")
    if domain == "fraction":
        # A share such as a sparsity S: the laws raise (1 - S) to a power, so S must be in
        # [0, 1); a percentage (S = 50) or S = 1 (a model with no weights) is caught here.
        bad = (x < 0) | (x >= 1)
        if bad.any():
            raise DataError(
                f"column {col!r} is a fraction and must be in [0, 1) but has {float(x[bad][0]):g} "
                f"at rows {rows_text(bad)}"
            )
    if domain == "nonnegative":
        bad = x < 0
        if bad.any():
            raise DataError(f"column {col!r} must be >= 0 (log(1 + y) is taken) but has {float(x[bad][0]):g} "
                            f"at rows {rows_text(bad)}")
    if domain == "positive":
        bad = x <= 0
        if bad.any():
            raise DataError(
                f"column {col!r} must be > 0 (its logarithm is taken) but has {float(x[bad][0]):g} "
                f"at rows {rows_text(bad)}"
            )
        tiny = x < _MIN_POS
        if tiny.any():
            raise DataError(f"column {col!r} has absurdly small values (< {_MIN_POS:g}) at rows {rows_text(tiny)}")
    big = np.abs(x) > _MAX_ABS
    if big.any():
        raise DataError(
            f"column {col!r} has absurd magnitudes (|x| > {_MAX_ABS:g}) at rows {rows_text(big)}; "
            f"check its units"
        )


def load_arrays(
    data,
    inputs: Mapping[str, str],
    y: str | None,
    *,
    columns: Mapping[str, str] | None = None,
    y_domain: str = "positive",
    weights=None,
    check=None,
) -> tuple[dict, np.ndarray | None, np.ndarray]:
    """Extract and validate ``inputs`` (name -> domain) and the target ``y``.

    ``columns`` maps a law input name to the data column holding it. Returns
    ``(X, y, w)`` as float64 numpy arrays (``y`` is ``None`` when not requested).
    ``check(X, columns)``, when given, validates constraints across inputs (a law's
    ``check_inputs``).
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise OptionError(f"columns={columns!r} must be a dict {{input: column}}, e.g. {{'N': 'params'}}")
    columns = dict(columns or {})
    X = {}
    n = None
    for name, domain in inputs.items():
        col = columns.get(name, name)
        x = get_column(data, col)
        if n is not None and x.shape[0] != n:
            raise DataError(f"column {col!r} has {x.shape[0]} rows but others have {n}")
        n = x.shape[0]
        check_values(col, x, domain)
        X[name] = x
    if check is not None and X:
        check(X, columns)
    yv = None
    if y is not None:
        yv = get_column(data, y)
        if n is not None and yv.shape[0] != n:
            raise DataError(f"column {y!r} has {yv.shape[0]} rows but the inputs have {n}")
        n = yv.shape[0]
        check_values(y, yv, y_domain)
    if n == 0 or n is None:
        raise DataError("the data has no rows")
    if weights is None:
        w = np.ones(n)
    else:
        if isinstance(weights, str):
            w = get_column(data, weights)
            wname = f"weights column {weights!r}"
        else:
            w = np.asarray(weights, dtype=float).reshape(-1)
            wname = "weights"
        if w.shape[0] != n:
            raise OptionError(f"{wname} has {w.shape[0]} entries for {n} rows")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise OptionError(f"{wname} must be finite and >= 0 (rows {rows_text(~np.isfinite(w) | (w < 0))})")
        if not np.any(w > 0):
            raise OptionError(f"{wname} are all zero: nothing to fit")
    return X, yv, w


def check_identifiable(X: Mapping[str, np.ndarray], w: np.ndarray, n_params: int, law_name: str,
                       constant_ok=()):
    """Refuse data that cannot determine the law: too few points, or a constant input
    (except inputs in ``constant_ok``, which the law can be fitted without varying)."""
    used = w > 0
    n_used = int(used.sum())
    if n_used < n_params:
        raise DataError(
            f"{law_name} has {n_params} parameters but only {n_used} data points carry weight; "
            f"need at least {n_params}"
        )
    for name, x in X.items():
        if name in constant_ok:
            continue
        xs = x[used]
        if xs.size and np.all(xs == xs[0]):
            raise DataError(
                f"input {name!r} is constant ({xs[0]:g}) over all points, so {law_name}'s "
                f"dependence on it cannot be identified; vary it or fix those parameters"
            )


def number(name: str, v, positive: bool = False):
    """``v`` as a float (or float array), or an OptionError naming ``name``: a text where a
    number belongs is the caller's mistake, not a numpy ValueError."""
    try:
        x = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise OptionError(f"{name}={v!r} must be a number") from None
    if positive and not np.all(np.isfinite(x) & (x > 0)):
        raise OptionError(f"{name}={v!r} must be a positive finite number")
    return float(x) if x.ndim == 0 else x


def positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise OptionError(f"{name} must be a positive integer, got {v!r}")
    return int(v)
