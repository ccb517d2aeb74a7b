"""Rolling extrapolation: fit below each of several cutoffs, predict everything above, per law form.

A law is judged by how well it predicts runs it has not seen, at larger scale, not by its
in-sample objective. ``rolling_extrapolation`` fits each law below every cutoff (in compute
6ND, in N, or in any column) and predicts every run above it. The cutoffs of one law are rows
of a weight matrix (1 below the cutoff, 0 above) refitted in one batched, compiled call
(``_refit``, the bootstrap's machinery) with the full multi-start strategy of a single fit, so
the rolling version at one cutoff reproduces ``extrapolate`` at that cutoff. Cutoffs that
leave too few runs to identify the law are flagged ``degenerate`` and their errors are not
used in any summary.

Returns a ``RollingExtrapolation``: ``summary`` (law x cutoff: runs used and held out, status,
mean absolute and RMS log error) and ``errors`` (every held-out run: the law, the cutoff, the
run's distance beyond it in decades of the cutoff variable, its log and relative error).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._data import get_column
from ._errors import OptionError
from ._prepare import prepare, resolve_law
from ._refit import refit, to_draws
from ._util import x64

BY = {"compute": "6ND", "C": "6ND"}


@dataclass(frozen=True)
class RollingExtrapolation:
    """``summary``: one row per (law, cutoff); ``errors``: one row per (law, cutoff, held-out run)."""

    summary: object
    errors: object
    by: str

    def table(self):
        return self.summary


def _by_values(data, by, columns=None):
    """The axis the cutoffs apply to: compute (a C column, else 6ND from the columns the law's
    N and D are mapped to), N (its mapped column) or any column."""
    columns = dict(columns or {})
    if by in (None, "compute", "C", "6ND"):
        if isinstance(data, dict) or "C" not in getattr(data, "columns", ()):
            return 6.0 * get_column(data, columns.get("N", "N")) * get_column(data, columns.get("D", "D")), "6ND"
        return get_column(data, "C"), "C"
    if isinstance(by, str):
        return get_column(data, columns.get(by, by)), by
    raise OptionError(f"by={by!r}: give 'compute' (6ND), 'N' or a column name")


@x64
def rolling_extrapolation(laws, data, cutoffs, *, y: str = "loss", by=None, **fit_kw) -> RollingExtrapolation:
    """Fit each of ``laws`` below each of ``cutoffs`` and predict the runs at or above it.

    ``laws``: a law or name, or a list of them (compared on the same held-out runs); ``by``:
    ``"compute"`` (default: a ``C`` column if present, else 6ND), ``"N"`` or another column;
    ``fit_kw``: the options of ``fit`` (loss, residual, starts, recipe, ...), used for every law.
    """
    import pandas as pd

    laws = [resolve_law(l) for l in (laws if isinstance(laws, (list, tuple)) else [laws])]
    cut = np.sort(np.atleast_1d(np.asarray(cutoffs, float)))
    if cut.size == 0 or not np.all(np.isfinite(cut) & (cut > 0)):
        raise OptionError(f"cutoffs {cutoffs!r} must be positive finite numbers")
    bv, by_name = _by_values(data, by, fit_kw.get("columns"))
    rows, errs = [], []
    for law in laws:
        prep = prepare(law, data, y, **fit_kw)
        Xa, _, active = prep.used()
        W = (bv[active][None, :] < cut[:, None]).astype(float)
        n_train = W.sum(axis=1).astype(int)
        if np.any(n_train == 0) or np.any(n_train == len(active)):
            bad = cut[(n_train == 0) | (n_train == len(active))][0]
            raise OptionError(f"cutoff {bad:g} leaves {int((bv[active] < bad).sum())} runs below it and "
                              f"{int((bv[active] >= bad).sum())} above: nothing to fit or nothing to predict")
        # identified as a single fit is: a converged optimum with a flat direction is degenerate
        out = to_draws(prep, refit(prep, W, active=active, progress=False, label="extrapolate"), W, active,
                       curvature=True)
        xs = [jnp.asarray(Xa[k]) for k in law.inputs]
        draws = jnp.asarray(out["draws"])
        logp = np.asarray(jax.vmap(lambda th: law.log_predict(dict(zip(law.param_names, th)), *xs))(draws))
        logy = np.log(np.asarray(prep.y)[active])
        for j, c in enumerate(cut):
            held = W[j] == 0
            st = str(out["status"][j])
            e = logp[j, held] - logy[held]
            ok = st == "converged"
            rows.append({"law": law.name, "cutoff": c, "n_train": int(n_train[j]), "n_heldout": int(held.sum()),
                         "status": st, "mae_log": float(np.mean(np.abs(e))) if ok else np.nan,
                         "rmse_log": float(np.sqrt(np.mean(e**2))) if ok else np.nan,
                         "max_abs_log": float(np.max(np.abs(e))) if ok else np.nan})
            errs.append(pd.DataFrame({"law": law.name, "cutoff": c, "row": active[held], "distance": np.log10(bv[active][held] / c),
                                      "log_error": e if ok else np.nan, "rel_error": np.expm1(e) if ok else np.nan,
                                      "status": st}))
    return RollingExtrapolation(pd.DataFrame(rows), pd.concat(errs, ignore_index=True), by_name)
