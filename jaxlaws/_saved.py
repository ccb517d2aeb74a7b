"""Saved studies: ``jaxlaws.save`` writes a fit or a bootstrap to JSON, ``jaxlaws.load`` reads it
back as the result it was written from.

A saved fit carries everything needed to rebuild it: the law's name, the objective (loss,
residual space, fixed parameters, bounds, solver settings), the recipe, the units, the rows the
fit used (inputs in the parameters' units, targets, weights) and their fingerprint. Loading
re-prepares those rows and re-solves from the saved optimum (one start; a converged optimum
is a fixed point, so this takes a Newton step or two), then checks that it lands on the saved
parameters and the saved fingerprint: a file edited by hand, or a law whose code changed since,
is an error rather than a silently different fit. A saved bootstrap adds every resample's
parameters, objective, status and iterations to its fit. ``jaxlaws fit --json`` and ``jaxlaws
bootstrap --json`` write the same files, so ``jaxlaws.load`` reads the CLI's results too.

An edge module (files): it imports the core, never the reverse.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ._errors import DataError, LawError, OptionError

FORMAT = 1  # the saved-file format; bumped when a field changes meaning


def _version() -> str:
    from . import __version__

    return __version__


def fit_record(res, command: str | None = None) -> dict:
    """A fit as a JSON-ready dict: its ``to_dict()``, its methods card, and what ``load`` needs
    to rebuild it."""
    from ._methods import methods_card

    out = res.to_dict()
    out["methods"] = methods_card(res, command=command)
    prep = res.prepared
    X, w, idx = prep.used()
    out.update({
        "kind": "fit", "format": FORMAT, "jaxlaws_version": _version(),
        "loss_spec": res.loss.spec(),
        "strategy_fields": dataclasses.asdict(res.strategy),
        "data": {"rows": [int(i) for i in idx], "inputs": {k: v.tolist() for k, v in X.items()},
                 "y": np.asarray(prep.y)[idx].tolist(), "weights": w.tolist()},
    })
    return out


def bootstrap_record(boot, command: str | None = None) -> dict:
    """A bootstrap as a JSON-ready dict: its fit's record, its methods card, every resample."""
    from ._methods import methods_card

    return {"kind": "bootstrap", "format": FORMAT, "jaxlaws_version": _version(), "law": boot.fit.law.name,
            "methods": methods_card(boot.fit, boot, command=command), "fit": fit_record(boot.fit, command),
            "params": list(boot.params), "method": boot.weights_method, "strategy": boot.strategy, "seed": boot.seed, "chunk_size": boot.chunk_size, "timings": dict(boot.timings),
            "resamples": {"draws": np.asarray(boot.draws).tolist(), "objective": np.asarray(boot.objective).tolist(),
                          "status": [str(s) for s in boot.status], "iterations": np.asarray(boot.iterations).tolist()},
            "calibration": None if boot.calibration is None else boot.calibration.to_dict()}


def save(result, path: str, force: bool = False) -> str:
    """Write a :class:`FitResult` or :class:`BootstrapResult` to ``path`` (JSON, atomically);
    an existing file is not overwritten unless ``force``. ``jaxlaws.load(path)`` reads it back."""
    from ._bootstrap import BootstrapResult
    from ._result import FitResult
    from ._util import write_json_atomic

    if isinstance(result, FitResult):
        rec = fit_record(result)
    elif isinstance(result, BootstrapResult):
        rec = bootstrap_record(result)
    else:
        raise OptionError(f"save() takes a FitResult or a BootstrapResult, got {type(result).__name__}")
    write_json_atomic(path, rec, force=force)
    return path


def read_json_file(path: str, what: str = "saved result", error=DataError):
    """A JSON file's content, or ``error`` naming ``what`` and the file (missing, a folder, not JSON)."""
    if not os.path.isfile(path):
        raise error(f"{what} file {path!r} " + ("is a folder" if os.path.isdir(path) else "does not exist"))
    try:
        with open(path) as fh:
            rec = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{what} file {path!r} is not valid JSON: {e}") from None
    check_version(rec, path, what, error)
    return rec


def _release(v) -> tuple:
    """``"0.1.0"`` -> (0, 1, 0); anything unparsable -> () (not compared)."""
    try:
        return tuple(int(p) for p in str(v).split("+")[0].split(".")[:3])
    except ValueError:
        return ()


def check_version(rec, path: str, what: str, error=DataError):
    """Refuse a result written in a newer saved-file format, or by a newer jaxlaws release than
    this one: its fields may mean something this version does not know (read silently, a
    format-99 file gave answers as if it were ours)."""
    if not isinstance(rec, dict):
        return
    for r in (rec, rec.get("fit") if isinstance(rec.get("fit"), dict) else {}):
        fmt = r.get("format")
        if fmt is not None and (not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > FORMAT):
            raise error(f"{what} file {path!r} is in saved-file format {fmt!r} (jaxlaws {r.get('jaxlaws_version')}); "
                        f"this jaxlaws {_version()} reads format {FORMAT}: upgrade jaxlaws to read it")
        newer, ours = _release(r.get("jaxlaws_version")), _release(_version())
        if newer and ours and newer[:2] > ours[:2]:
            raise error(f"{what} file {path!r} was written by jaxlaws {r.get('jaxlaws_version')}, newer than this "
                        f"jaxlaws {_version()}: upgrade jaxlaws to read it")


def load(path: str, law=None, loss=None):
    """The fit or bootstrap saved at ``path`` (by ``jaxlaws.save`` or the CLI's ``--json``).

    ``law``: the law object, needed when the file holds a user law (a built-in is found by its
    name; a given law must have the saved name). ``loss``: the loss function, needed when the
    fit used a custom one. Raises ``DataError`` if the file is not a saved result, or if the
    rebuilt fit does not reproduce the saved parameters and data fingerprint.
    """
    rec = read_json_file(path)
    kind = rec.get("kind") if isinstance(rec, dict) else None
    if kind == "fit":
        return _load_fit(rec, path, law, loss)
    if kind == "bootstrap":
        return _load_bootstrap(rec, path, law, loss)
    if isinstance(rec, dict) and "fit" in rec and "draws" in rec:
        raise DataError(f"{path} was written by an older jaxlaws (no resamples saved): rerun the bootstrap with --json")
    raise DataError(f"{path} holds no saved jaxlaws fit or bootstrap (its 'kind' is {kind!r})")


def _law_for(rec, path, law):
    from ._prepare import resolve_law

    name = rec.get("law")
    if law is None:
        try:
            return resolve_law(name)
        except (LawError, OptionError):
            raise LawError(f"{path} holds a fit of {name!r}, which is not a built-in law: pass law= to load()") from None
    law = resolve_law(law)
    if law.name != name:
        raise LawError(f"{path} holds a fit of {name!r}, but law={law.name!r} was given")
    return law


def _bounds(saved: dict) -> dict:
    # strict JSON has no infinity: an open end was written as null
    return {k: (-np.inf if lo is None else float(lo), np.inf if hi is None else float(hi)) for k, (lo, hi) in saved.items()}


def _load_fit(rec, path, law, loss):
    import pandas as pd

    from ._fit import fit
    from ._prepare import Strategy
    from ._recipe import resolve_recipe

    try:
        data, params = rec["data"], rec["params"]
    except KeyError as e:
        raise DataError(f"{path}: a saved fit needs {e.args[0]!r} (written by an older jaxlaws? refit with --json)") from None
    law = _law_for(rec, path, law)
    if loss is None and rec.get("loss_spec") is None:
        raise OptionError(f"{path} was fitted with a custom loss ({rec.get('loss')}): pass loss= to load()")
    y = rec.get("y") or "loss"
    table = pd.DataFrame({**{k: np.asarray(v, float) for k, v in data["inputs"].items()}, y: np.asarray(data["y"], float)})
    fixed = {k: float(v) for k, v in (rec.get("fixed") or {}).items()}
    # the saved rows are the used rows, already in the parameters' units: no recipe (its row
    # filters ran before saving), no unit conversion; the recipe and units are put back below
    res = fit(law, table, y, loss=loss if loss is not None else rec["loss_spec"], residual=rec["residual"],
              fixed=fixed or None, bounds=_bounds(rec.get("bounds") or {}) or None,
              weights=np.asarray(data["weights"], float), starts=[{k: float(v) for k, v in params.items()}],
              strategy=Strategy(**rec["strategy_fields"]))
    recipe = rec.get("recipe")
    if recipe is not None:
        try:
            recipe = resolve_recipe(law, recipe["name"])
        except (KeyError, OptionError, LawError):
            recipe = None  # a Recipe of the user's own, not among the law's: its record stays in the file
    res = dataclasses.replace(
        res, recipe=recipe, units=dict(rec.get("units") or {}),
        data_units=dict(rec.get("data_units") or {}), excluded=dict(rec.get("rows_excluded") or {}),
        columns=dict(rec.get("columns") or {}), timings=dict(rec.get("timings") or {}))
    got = res.prepared.data_fingerprint()
    if rec.get("data_fingerprint") not in (None, got):
        raise DataError(f"{path}: its rows do not match its data fingerprint ({got} vs {rec['data_fingerprint']}): "
                        f"the file was changed after it was written")
    for k, v in params.items():
        if v is not None and not np.isclose(res.params[k], v, rtol=1e-6, atol=1e-12):
            raise DataError(f"{path}: refitting from the saved optimum gives {k} = {res.params[k]:.8g}, not the saved "
                            f"{v:.8g} (was the law's code changed since it was saved?)")
    if any(v is None for v in params.values()) or rec.get("status") != res.status:
        return res  # a non-finite saved optimum, or a status the re-solve did not reproduce: the re-solve as it is
    # the re-solve agrees to 1e-6; the loaded fit holds the saved numbers exactly (bit-identical reloads)
    saved = {k: float(v) for k, v in params.items()}
    theta = np.array([float(res.law.params[k].inverse(np.asarray(saved[k]))) for k in res.law.param_names])
    # "objective" is the stated loss's exact value; "objective_smoothed" what the solver minimised
    # (files written before the two were told apart hold only the latter, as "objective")
    smoothed = float(rec.get("objective_smoothed", rec["objective"]))
    exact = float(rec["objective"]) if "objective_smoothed" in rec and res.loss.smoothed else res.exact_objective
    return dataclasses.replace(res, params=saved, theta=theta, objective=smoothed, exact_objective=exact)


def _load_bootstrap(rec, path, law, loss):
    from ._bootstrap import BootstrapResult
    from .kernels import results as R

    fit = _load_fit(rec["fit"], path, law, loss)
    r = rec["resamples"]
    # strict JSON wrote non-finite numbers as null; numpy reads None back as nan
    draws = np.array(r["draws"], float).reshape(-1, len(rec["params"]))
    cal = None
    if rec.get("calibration"):
        from ._coverage import Calibration

        cal = Calibration.from_dict(rec["calibration"])
    return BootstrapResult(fit=fit, params=tuple(rec["params"]), draws=draws, objective=np.array(r["objective"], float),
                           status=np.asarray(r["status"], dtype=np.asarray(R.NAMES).dtype), iterations=np.asarray(r["iterations"], int),
                           weights_method=rec["method"], strategy=rec["strategy"], seed=int(rec["seed"]),
                           timings=dict(rec.get("timings") or {}), prepared=fit.prepared,
                           chunk_size=int(rec.get("chunk_size", 500)), calibration=cal)
