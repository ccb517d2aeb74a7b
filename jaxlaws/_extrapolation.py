"""How far a prediction lies outside the data its law was fitted on, stated, never silent.

A law fitted on runs up to 3.7e10 parameters says little about 4e17: every prediction, band,
chained value and allocation carries, per row, how many decades it lies beyond the fitted
runs' range in each input (positive inputs, on a log scale) and in compute C = 6 N D (laws of
N and D), and the largest of these as ``decades_outside`` (0 inside the range). Inputs that
are not positive (fractions, real values) are compared on their own scale and named when
outside. Ranges come from the rows a fit used (weight > 0) and are saved with a fit
(``FitResult.to_dict()["input_ranges"]``) so saved results can state it too.

A second check is of the *output*: a predicted value outside what the fitted targets make
possible (negative where every fitted target was positive, e.g. an error rate below 0) is
flagged as invalid, not passed on as converged.
"""

from __future__ import annotations

import numpy as np

TOL = 0.01  # decades (2.3%): a row at the edge of the fitted range is not an extrapolation


def input_ranges(X, w=None) -> dict:
    """``{input: [lo, hi]}`` over the rows with positive weight ``w``, with ``"C"`` (6ND) when
    the inputs include N and D."""
    X = {k: np.asarray(v, float) for k, v in X.items()}
    n = len(next(iter(X.values()))) if X else 0
    used = np.ones(n, bool) if w is None else np.asarray(w, float)[:n] > 0
    out = {}
    for k, v in X.items():
        v = v[:n][used & np.isfinite(v[:n])]
        if v.size:
            out[k] = [float(v.min()), float(v.max())]
    if "N" in out and "D" in out:
        c = 6.0 * X["N"][:n] * X["D"][:n]
        c = c[used & np.isfinite(c)]
        if c.size:
            out["C"] = [float(c.min()), float(c.max())]
    return out


def outside(ranges: dict, X, domains=None):
    """Per row of ``X``: the decades beyond ``ranges`` (max over inputs and compute; 0 inside,
    nan when no range is known) and a text naming each input outside and by how much."""
    X = {k: np.asarray(v, float) for k, v in X.items()}
    n = len(next(iter(X.values()))) if X else 0
    if "N" in X and "D" in X:
        X = {**X, "C": 6.0 * X["N"] * X["D"]}
    dec = np.zeros(n)
    texts = [[] for _ in range(n)]
    if not ranges:
        return np.full(n, np.nan), ["fitted range unknown"] * n
    for k, (lo, hi) in ranges.items():
        if k not in X:
            continue
        v = X[k]
        positive = (domains or {}).get(k, "positive") == "positive" and lo > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            if positive:
                d = np.where(v > hi, np.log10(v / hi), np.where(v < lo, np.log10(lo / v), 0.0))
                d = np.where(d > TOL, d, 0.0)
            else:
                d = np.where((v > hi) | (v < lo), np.nan, 0.0)  # off the range, not in decades
        for i in np.flatnonzero((d > 0) | np.isnan(d)):
            side = "above" if v[i] > hi else "below"
            texts[i].append(f"{k} {d[i]:.2g} decades {side}" if positive else f"{k} {side} [{lo:.3g}, {hi:.3g}]")
        dec = np.fmax(dec, np.nan_to_num(d, nan=0.0))
    text = ["inside the fitted runs" if not t else ", ".join(t) + " the fitted runs" for t in texts]
    return dec, text


def with_extrapolation(table, ranges: dict, X, domains=None):
    """``table`` with ``decades_outside`` and ``extrapolation`` columns for the rows ``X``."""
    dec, text = outside(ranges, X, domains)
    out = table.copy()
    out["decades_outside"] = dec
    out["extrapolation"] = text
    return out


def summary(table) -> str:
    """One line for a printed table: how many rows extrapolate, and the farthest ('' if none)."""
    if "decades_outside" not in table.columns:
        return ""
    d = np.asarray(table["decades_outside"], float)
    far = d > 0
    if not far.any():
        return ""
    i = int(np.nanargmax(d))
    return (f"extrapolation: {int(far.sum())} of {len(d)} rows lie outside the fitted runs' range, up to "
            f"{d[i]:.2g} decades ({table['extrapolation'].iloc[i]}); a law's form is not tested there")


def invalid_outputs(values, y_fitted) -> np.ndarray:
    """Rows whose predicted value is impossible by the fitted targets' own range: negative (or
    zero) where every fitted target was positive."""
    v = np.asarray(values, float)
    y = np.asarray(y_fitted, float)
    y = y[np.isfinite(y)]
    if y.size and np.all(y > 0):
        return ~(v > 0)
    return ~np.isfinite(v)
