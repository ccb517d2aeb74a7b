"""Per-group fits: an independent copy of a law fitted to each group of rows, in one compiled call.

IsoFLOP profiles (one parabola per budget), per-pool data-filtering fits, per-task downstream
fits and per-dataset ladders all fit the same law to many groups. A Python loop over groups
compiles once per group size and runs the groups one after another; here every group is one
row of a weight matrix over the whole table (1 on its rows, 0 elsewhere), and all groups are
refitted in one batched, compiled call (``_refit``): one program for any number of groups.
Each group gets ``fit``'s multi-start strategy and its own honest status (a group with fewer
points than parameters, or one value of an input, is ``degenerate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._data import load_arrays
from ._errors import OptionError
from ._law import Law
from ._loss import Loss
from ._prepare import Prepared, prepare
from ._refit import refit, to_draws
from ._select import as_frame
from ._stats import finite_interval
from ._units import convert, factors
from ._util import bucket_size, x64


@dataclass(frozen=True)
class GroupFit:
    """The fits of one law to each group of rows (``jaxlaws.fit(..., by=COLUMN)``).

    ``keys`` label the groups (tuples of the ``by`` columns' values); ``params`` is
    ``(groups, parameters)`` in natural values; ``status`` per group uses the vocabulary of
    single fits (``converged``, ``degenerate``, ``max_iter``, ...); ``reasons`` say why a group
    is degenerate. ``table()`` is the tidy one-row-per-group view.
    """

    law: Law
    by: tuple
    keys: list
    params: np.ndarray
    objective: np.ndarray
    status: np.ndarray
    n_points: np.ndarray
    reasons: list
    loss: Loss
    residual: str
    y: str
    columns: dict
    weights: np.ndarray = field(repr=False)
    prepared: Prepared | None = field(default=None, repr=False, compare=False)

    @property
    def n_groups(self) -> int:
        return len(self.keys)

    @property
    def converged(self) -> np.ndarray:
        return self.status == "converged"

    @property
    def objective_description(self) -> str:
        return self.loss.describe(self.residual)

    def table(self):
        """One row per group: its labels, parameters, objective, status, points used, reasons."""
        import pandas as pd

        rows = []
        for g, key in enumerate(self.keys):
            row = dict(zip(self.by, key))
            row.update({k: float(self.params[g, j]) for j, k in enumerate(self.law.param_names)})
            row.update(objective=float(self.objective[g]), status=str(self.status[g]), n_points=int(self.n_points[g]),
                       reasons="; ".join(self.reasons[g]))
            rows.append(row)
        return pd.DataFrame(rows)

    def group_params(self, key) -> dict:
        """The natural parameters fitted to group ``key`` (a value, or a tuple for several columns)."""
        key = key if isinstance(key, tuple) else (key,)
        try:
            g = self.keys.index(key)
        except ValueError:
            raise OptionError(f"no group {key!r} among {self.keys}") from None
        return dict(zip(self.law.param_names, (float(v) for v in self.params[g])))

    @x64
    def predict(self, data, columns=None) -> np.ndarray:
        """Each row of ``data`` predicted by its own group's fit (rows of unknown groups: an error)."""
        import jax.numpy as jnp

        df = as_frame(data)
        missing = [c for c in self.by if c not in df.columns]
        if missing:
            raise OptionError(f"predict: the table lacks the group columns {missing}")
        X, _, _ = load_arrays(df, self.law.input_domains, None, columns=columns or self.columns,
                              check=self.law.check_inputs)
        prep = self.prepared
        X = convert(X, factors(self.law.inputs, prep.data_units, prep.units))
        index = {k: g for g, k in enumerate(self.keys)}
        labels = list(zip(*(df[c].tolist() for c in self.by)))
        unknown = sorted({lab for lab in labels if lab not in index}, key=str)
        if unknown:
            raise OptionError(f"predict: rows of groups {unknown[:5]} that were not fitted")
        P = self.params[[index[lab] for lab in labels]]
        p = {k: jnp.asarray(P[:, j]) for j, k in enumerate(self.law.param_names)}
        xs = [jnp.asarray(X[k]) for k in self.law.inputs]
        if self.residual == "log":
            return np.exp(np.asarray(self.law.log_predict(p, *xs)))
        return np.asarray(self.law(p, *xs))

    def to_dict(self) -> dict:
        return {"law": self.law.name, "by": list(self.by), "objective_minimised": self.objective_description,
                "n_groups": self.n_groups, "groups": self.table().to_dict(orient="records")}


def group_labels(data, by) -> tuple[tuple, list, np.ndarray]:
    """``(by, keys, index)``: the group columns, the distinct groups (sorted) and each row's group."""
    by = (by,) if isinstance(by, str) else tuple(by)
    if not by:
        raise OptionError("by= needs at least one column")
    df = as_frame(data)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise OptionError(f"by={missing} {'is' if len(missing) == 1 else 'are'} not a column of the table "
                          f"(columns: {list(df.columns)})")
    for c in by:
        if df[c].isna().any():
            rows = np.flatnonzero(df[c].isna().to_numpy())[:5].tolist()
            raise OptionError(f"group column {c!r} has missing values at rows {rows}")
    labels = list(zip(*(df[c].tolist() for c in by)))
    try:
        keys = sorted(set(labels))
    except TypeError:  # mixed types: keep the order of first appearance
        keys = list(dict.fromkeys(labels))
    pos = {k: i for i, k in enumerate(keys)}
    return by, keys, np.array([pos[lab] for lab in labels])


@x64
def fit_by(law, data, by, y: str = "loss", *, chunk_size: int = 256, **options) -> GroupFit:
    """Fit ``law`` to each group of rows sharing the values of ``by`` (one compiled call).

    ``options`` are those of ``fit`` (loss, residual, starts, recipe, where, weights, ...);
    row selection applies to the whole table before grouping.
    """
    by, keys, idx = group_labels(data, by)
    prep = prepare(law, data, y, **options)
    n = prep.n_rows
    G = len(keys)
    # group count padded to a bucket (extra rows repeat group 0 and are dropped): 33 to 36
    # groups, say, share one compiled program
    W = np.zeros((bucket_size(G), len(prep.w)))
    W[idx, np.arange(n)] = 1.0  # refit multiplies by the table's own weights (row selection, weights=)
    W[G:] = W[0]
    raw = refit(prep, W, chunk_size=min(chunk_size, len(W)), progress=False, label="groups")
    out = to_draws(prep, raw, W)  # on the padded rows too: the same array shapes, no new programs
    W = W[:G]
    return GroupFit(law=prep.problem.law, by=by, keys=keys, params=out["draws"][:G],
                    objective=np.asarray(out["objective"])[:G], status=np.asarray(out["status"])[:G],
                    n_points=((W * prep.w[None, :]) > 0).sum(1), reasons=out["reasons"][:G], loss=prep.loss,
                    residual=prep.problem.residual, y=y, columns=dict(options.get("columns") or {}), weights=W,
                    prepared=prep)


@dataclass(frozen=True)
class GroupBootstrap:
    """Bootstrap intervals per group (``bootstrap_by``): ``draws`` is (groups, resamples, params);
    ``status`` (groups, resamples) names each refit; only converged refits enter the intervals."""

    fit: GroupFit
    draws: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)
    level: float = 0.95

    def table(self, level: float | None = None):
        """One row per (group, parameter): estimate, SE, interval and how many resamples it used."""
        import pandas as pd

        level = self.level if level is None else level
        rows = []
        for g, key in enumerate(self.fit.keys):
            ok = self.status[g] == "converged"
            for j, k in enumerate(self.fit.law.param_names):
                v = self.draws[g, ok, j]
                row = dict(zip(self.fit.by, key))
                row.update(parameter=k, estimate=float(self.fit.params[g, j]), fit_status=str(self.fit.status[g]),
                           n_used=int(ok.sum()), n_resamples=int(self.draws.shape[1]))
                if v.size >= 2:
                    lo, hi = finite_interval(v, level)
                    row.update(se=float(v.std(ddof=1)), lower=lo, upper=hi)
                else:
                    row.update(se=np.nan, lower=np.nan, upper=np.nan)
                rows.append(row)
        return pd.DataFrame(rows)


@x64
def bootstrap_by(law, data, by, y: str = "loss", *, n: int = 1000, seed: int = 0, level: float = 0.95,
                 chunk_size: int = 512, **options) -> GroupBootstrap:
    """Per-group bootstrap: ``n`` ordinary resamples of each group's rows, every refit of every
    group in one batched call (a weight matrix of groups x resamples rows), each with ``fit``'s
    multi-start strategy. Resample ``g, b`` draws ``n_g`` of group ``g``'s used rows with
    replacement (``numpy.random.default_rng(seed)``, groups in ``keys`` order)."""
    from ._resample import resample_weights

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OptionError(f"n={n!r} must be a positive integer")
    gf = fit_by(law, data, by, y, **options)
    prep = gf.prepared
    keys = gf.keys
    rows = []
    for g in range(len(keys)):
        members = np.flatnonzero((gf.weights[g] > 0) & (prep.w > 0))  # the group's used rows
        Wg = np.zeros((n, len(prep.w)))
        if members.size:
            Wg[:, members] = resample_weights(members.size, "ordinary", n, seed + g)
        rows.append(Wg)
    W = np.concatenate(rows)
    out = to_draws(prep, refit(prep, W, chunk_size=chunk_size, progress=False, label="group bootstrap"), W)
    G = len(keys)
    return GroupBootstrap(fit=gf, draws=out["draws"].reshape(G, n, -1), status=np.asarray(out["status"]).reshape(G, n),
                          level=level)
