"""``ablate``: every combination of fitting choices, as one tidy table (a specification curve).

Choices: loss, Huber delta, residual space, dropped outliers, data range, start grid, law
form, which column is N. Specifications that share a law, loss kind, residual space,
start grid and N column differ only in point weights and loss parameters, so each such
group is one weight matrix refitted in one batched, compiled call (``_refit``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from typing import Mapping

import jax.numpy as jnp
import numpy as np

from ._progress import Progress
from ._data import get_column
from ._errors import CheckpointError, OptionError
from ._prepare import as_strategy, prepare, resolve_law
from ._loss import as_loss, huber
from ._refit import refit, to_draws
from ._select import as_frame, row_mask
from ._util import write_atomic, x64


def _loss_of(sel):
    """The loss of one specification: its ``loss`` choice, with its ``delta`` for Huber."""
    kind = sel.get("loss", "huber")
    if kind == "huber" or kind is None:
        return huber(sel.get("delta", 1e-3) or 1e-3)
    return as_loss(kind)


_HUBER_FAMILY = ("huber", "sum")


def _family(loss):
    """Which compiled objective a specification's loss needs: Huber and squared (summed) share
    one, every other loss has its own (its function and normalisation)."""
    if loss.kind in ("huber", "squared") and loss.normalise == "sum":
        return _HUBER_FAMILY
    return loss.key


def _loss_row(loss) -> np.ndarray:
    """A specification's loss parameters as data of its group's program. The squared loss is
    Huber with delta = inf: ``q = min(|r|, inf) = |r|`` and ``q (|r| - q/2) = r^2 / 2`` exactly
    (halving is exact in floating point), with gradient ``r`` and curvature 1 wherever r != 0."""
    if loss.kind == "squared" and _family(loss) == _HUBER_FAMILY:
        return np.array([np.inf])
    return loss.array()


def _choice_grid(choices: Mapping) -> list[dict]:
    keys = list(choices)
    for k in keys:
        if k not in ABLATION_KEYS:
            raise OptionError(f"ablate: unknown choice {k!r}; choose from {sorted(ABLATION_KEYS)}")
        if isinstance(choices[k], (str, bytes)) or not hasattr(choices[k], "__iter__"):
            raise OptionError(f"ablate: choices[{k!r}] must be a list of options")
    vals = [list(choices[k].items()) if isinstance(choices[k], Mapping) else [(v, v) for v in choices[k]] for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*vals)]


# The fitting choices ablate() can vary, in the order tables and plots show them.
ABLATION_KEYS = ("loss", "delta", "residual", "where", "drop_top", "max_compute", "min_compute", "min_N", "starts", "law",
                 "N_column")


def _ablate_fingerprint(data, y, choices, derived, base_weights) -> str:
    h = hashlib.sha256()
    cols = [y, "N", "D"] + [c for c in choices.get("N_column", []) if isinstance(c, str)]
    for c in dict.fromkeys(cols):
        try:
            h.update(np.ascontiguousarray(get_column(data, c)).tobytes())
        except Exception:
            h.update(c.encode())
    if base_weights is not None:
        h.update(np.ascontiguousarray(np.asarray(base_weights, float)).tobytes())
    h.update(repr(sorted((k, [repr(v) for v in (vs.keys() if isinstance(vs, Mapping) else vs)]) for k, vs in choices.items())).encode())
    h.update(json.dumps(sorted((derived or {}).keys())).encode())
    return h.hexdigest()


def _load_ablate_checkpoint(path, fingerprint):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as fh:
            d = json.load(fh)
        groups = {int(k): v for k, v in d["groups"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(f"ablation checkpoint {path!r} is corrupt or partial; delete it to start over") from None
    if d.get("fingerprint") != fingerprint:
        raise CheckpointError(f"ablation checkpoint {path!r} belongs to a different ablation (data or choices differ)")
    return groups


def _save_ablate_checkpoint(path, fingerprint, groups):
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump({"fingerprint": fingerprint, "groups": {str(k): v for k, v in groups.items()}}, fh,
                      default=_json_default)

    write_atomic(path, write)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


@x64
def ablate(law, data, choices: Mapping, *, y: str = "loss", derived=None, compute=None, base_weights=None,
           checkpoint: str | None = None, strategy=None):
    """Fit every combination of ``choices`` and return one row per specification.

    ``choices`` keys (each a list of options; ``law``/``starts`` may be dicts label -> value):
    ``loss`` ("huber"/"squared"), ``delta`` (Huber deltas), ``residual`` ("log"/"raw"),
    ``drop_top`` (drop the k highest-loss points), ``min_compute``/``max_compute`` (keep
    runs with 6ND in range; ``None`` for no bound), ``min_N``, ``starts`` (start grids),
    ``law`` (law forms), ``N_column`` (which column is N), ``where`` (row filters: ``_expr``
    expressions, ``None`` for all rows). ``derived`` is
    ``{label: (name, kwargs)}``, evaluated for each specification's fit.
    Specifications that share law, loss, residual, starts and N column differ only in point
    weights and are fitted together in one batched call. With ``checkpoint=FILE.json`` each
    finished group is saved, and a rerun resumes from the file with identical results.
    ``strategy``: each specification's multi-start strategy (default: ``fit``'s).
    """
    strategy = as_strategy(strategy)
    import pandas as pd

    specs = _choice_grid(choices)
    if not specs:
        raise OptionError("ablate: no specifications")
    # Huber's delta means nothing to the squared loss: such specifications would differ only
    # in a label, and fitting and counting the copies would overweight squared loss in the
    # multiverse. Keep one of each (its delta shown as missing).
    seen, unique = set(), []
    for s in specs:
        if "delta" in s and s.get("loss", ("huber", "huber"))[1] == "squared":
            s = {**s, "delta": (None, None)}
        key = tuple((k, repr(v[0])) for k, v in s.items())
        if key not in seen:
            seen.add(key)
            unique.append(s)
    specs = unique
    yv = get_column(data, y)
    frame = as_frame(data) if "where" in choices else None
    n = len(yv)
    base_w = np.ones(n) if base_weights is None else np.asarray(base_weights, float)
    groups: dict = {}
    for s in specs:
        sel = {k: v[1] for k, v in s.items()}
        lw = sel.get("law", law)
        # Huber's delta is data of the compiled objective (a per-row loss parameter), so
        # specifications that differ only in delta share one group and one program; the
        # squared loss joins them as Huber with delta = inf (see _loss_row)
        key = (id(resolve_law(lw)), _family(_loss_of(sel)), sel.get("residual", "log"),
               s["starts"][0] if "starts" in s else None, sel.get("N_column", "N"))
        groups.setdefault(key, []).append(s)
    rows = []
    fp = _ablate_fingerprint(data, y, choices, derived, base_weights) if checkpoint else None
    done = _load_ablate_checkpoint(checkpoint, fp)
    n_specs = sum(len(ss) for ss in groups.values())
    bar = Progress(f"ablate ({len(groups)} groups)", n_specs, start_done=sum(len(v) for v in done.values()),
                   log=len(groups) > 1)
    for gi, (key, ss) in enumerate(groups.items()):
        if gi in done:
            rows.extend(done[gi])
            continue
        group_rows = []
        sel0 = {k: v[1] for k, v in ss[0].items()}
        L = resolve_law(sel0.get("law", law))
        Ncol = sel0.get("N_column", "N")
        Nv = get_column(data, Ncol)
        Dv = get_column(data, "D") if "D" in L.inputs else None
        C = compute(data) if compute is not None else (6 * Nv * Dv if Dv is not None else None)
        W = []
        for s in ss:
            sel = {k: v[1] for k, v in s.items()}
            wv = base_w.copy()
            for name, op in (("min_compute", np.greater_equal), ("max_compute", np.less)):
                if sel.get(name) is not None:
                    if C is None:
                        raise OptionError(f"ablate: {name} needs a compute column (pass compute=)")
                    wv *= op(C, sel[name])
            if sel.get("min_N") is not None:
                wv *= Nv >= sel["min_N"]
            if sel.get("where") is not None:
                wv *= row_mask(frame, sel["where"])
            k = int(sel.get("drop_top", 0) or 0)
            if k:
                live = np.flatnonzero(wv > 0)
                wv[live[np.argsort(-yv[live], kind="stable")[:k]]] = 0.0
            W.append(wv)
        W = np.array(W)
        losses = [_loss_of({k: v[1] for k, v in s.items()}) for s in ss]
        program_loss = huber() if _family(losses[0]) == _HUBER_FAMILY else losses[0]
        common = dict(loss=program_loss, residual=sel0.get("residual", "log"), starts=sel0.get("starts"),
                      columns={"N": Ncol} if Ncol != "N" else None)
        # Every specification of the group is one row of a weight matrix and one row of loss
        # parameters: one batched call, each row screening the whole start grid with the same
        # strategy and convergence control as ``fit`` (no shared warm start across choices).
        prep = prepare(L, data, y, strategy=strategy, **common)
        LP = np.stack([_loss_row(lo) for lo in losses])
        W = np.pad(W, ((0, 0), (0, len(prep.w) - W.shape[1])))  # prep's rows are padded to a bucket size
        out = to_draws(prep, refit(prep, W, LP=LP, chunk_size=max(len(W), 1), progress=False, label="ablate"), W)
        for i, s in enumerate(ss):
            row = {k: v[0] for k, v in s.items()}
            row["n_points"] = int((W[i] > 0).sum())
            p = {k: float(out["draws"][i, j]) for j, k in enumerate(L.param_names)}
            row.update(p)
            row["objective"] = float(out["objective"][i])
            row["status"] = out["status"][i]
            for label, spec in (derived or {}).items():
                name, kw = spec if isinstance(spec, tuple) else (spec, {})
                if isinstance(name, str) and name not in L.derived:
                    row[label] = np.nan  # this law form does not define the quantity
                    continue
                fn = L.derived[name] if isinstance(name, str) else name
                try:
                    row[label] = float(fn({k: jnp.asarray(v) for k, v in p.items()}, **kw))
                except KeyError:
                    row[label] = np.nan
            group_rows.append({k: _json_default(v) if isinstance(v, (np.generic,)) else v for k, v in row.items()})
        rows.extend(group_rows)
        if checkpoint:
            done[gi] = group_rows
            _save_ablate_checkpoint(checkpoint, fp, done)
        bar.update(len(rows))
    bar.close()
    return pd.DataFrame(rows)


