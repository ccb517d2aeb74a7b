"""Helpers shared by the command-line subcommands: option parsing, table and law loading."""

from __future__ import annotations

import json
import os

from ._errors import OptionError


def parse_map(items) -> dict:
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k or not v:
            raise OptionError(f"--map {it!r}: use INPUT=COLUMN, e.g. --map N=params")
        out[k] = v
    return out


def assignments(items, option, example, what="NAME") -> dict:
    """``NAME=VALUE`` options (repeatable) as a dict of floats; one-line errors otherwise."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise OptionError(f"{option} {it!r}: use {what}=VALUE, e.g. {option} {example}")
        out[k] = float_opt(f"{option} {k}", v)
    return out


def float_opt(name, text):
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"{name} {text!r} is not a number") from None


def law_and_data(args):
    from ._io import read_table, resolve_law_spec

    law = resolve_law_spec(args.law)
    df = read_table(args.data)
    return law, df


def fit_kwargs(args, law, df):
    """Options shared by fit-like subcommands: loss, mapping, dropped rows."""
    import numpy as np

    from ._data import load_arrays
    from ._loss import huber, squared

    columns = parse_map(args.map)
    unknown = [k for k in columns if k not in law.inputs]
    if unknown:
        raise OptionError(f"--map names {unknown} that are not inputs of {law.name} {list(law.inputs)}")
    loss = squared() if args.loss == "squared" else huber(float_opt("--delta", args.delta))
    weights = None
    if args.drop_highest:
        if args.drop_highest < 0:
            raise OptionError("--drop-highest must be >= 0")
        _, yv, _ = load_arrays(df, {}, args.y, y_domain="real")
        weights = np.ones(len(yv))
        weights[np.argsort(-yv, kind="stable")[: args.drop_highest]] = 0.0
    fixed = assignments(args.fix, "--fix", "d=0.1", what="PARAM")
    unknown = [k for k in fixed if k not in law.params]
    if unknown:
        raise OptionError(f"--fix {unknown[0]!r} is not a parameter of {law.name} {list(law.param_names)}")
    return dict(y=args.y, columns=columns, loss=loss, residual=args.residual, weights=weights, fixed=fixed or None)


def check_output(path: str, force: bool):
    """Check an output path before computing: its folder exists and is writable, and it is not
    overwritten without ``--force``; a long computation must not end in a write error."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OptionError(f"output {path!r} is a directory; give a file name")
    if not os.path.isdir(folder):
        raise OptionError(f"output folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise OptionError(f"output folder {folder!r} is not writable")
    if os.path.exists(path) and not force:
        raise OptionError(f"{path} exists; pass --force to overwrite it")


def check_output_folder(folder: str, names, force: bool):
    """Check a folder of outputs before computing: it is (or can be made) a writable folder,
    and none of ``names`` in it is overwritten without ``--force``."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OptionError(f"--out {folder!r} is a file; give a folder")
    parent = os.path.dirname(os.path.abspath(folder))
    target = folder if os.path.isdir(folder) else parent
    if not os.path.isdir(target) or not os.access(target, os.W_OK):
        raise OptionError(f"output folder {folder!r} cannot be written (is {target!r} a writable folder?)")
    existing = [n for n in names if os.path.exists(os.path.join(folder, n))]
    if existing and not force:
        raise OptionError(f"{folder}/ already holds {', '.join(existing)}; pass --force to overwrite")


def keep_output(path: str, write, what: str, last_resort=None):
    """``write(path)``; if that fails (full disk, a folder removed meanwhile), keep the finished
    ``what``: write it to the temporary folder instead (or, failing that too, call
    ``last_resort``, which prints it and returns where it went) and say where in one line."""
    import tempfile

    try:
        write(path)
        print(f"wrote {path}")
        return
    except OSError as e:
        reason = e.strerror or str(e)
    fallback = os.path.join(tempfile.gettempdir(), f"jaxlaws-unsaved-{os.getpid()}-{os.path.basename(path)}")
    try:
        write(fallback)
        where = f"the {what} was written to {fallback} instead"
    except OSError:
        if last_resort is None:
            raise
        where = last_resort()
    raise OptionError(f"could not write {path} ({reason}); {where}")


def write_result(path: str, obj, force: bool):
    """Write a finished result as strict JSON, kept (temporary folder, else printed) if the write fails."""
    from ._util import json_safe, write_json_atomic

    def printed():
        print(json.dumps(json_safe(obj)))
        return "the result was printed above as JSON instead"

    keep_output(path, lambda p: write_json_atomic(p, obj, force=force or p != path), "result", printed)


def keep_table(path: str, table):
    """Write a finished table as CSV (atomically), kept in the temporary folder if the write fails,
    so a long ablation is not lost to an output error."""
    from ._util import write_atomic

    keep_output(path, lambda p: write_atomic(p, lambda tmp: table.to_csv(tmp, index=False)), "table")


def add_fit_options(p):
    p.add_argument("data", help="CSV or Parquet file, one row per training run")
    p.add_argument("--law", required=True, help="built-in law name or path/to/file.py:object")
    p.add_argument("--y", default="loss", help="target column (default: loss)")
    p.add_argument("--map", action="append", metavar="INPUT=COLUMN", help="map a law input to a column; repeatable")
    p.add_argument("--delta", default="1e-3", help="Huber delta (default 1e-3)")
    p.add_argument("--loss", choices=("huber", "squared"), default="huber")
    p.add_argument("--residual", choices=("log", "raw"), default="log")
    p.add_argument("--drop-highest", type=int, default=0, metavar="K", help="give zero weight to the K highest-target rows")
    p.add_argument("--fix", action="append", metavar="PARAM=VALUE",
                   help="hold a parameter at a value while fitting (e.g. --fix d=0.1); repeatable")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def read_json(path, what):
    if not os.path.exists(path):
        raise OptionError(f"{what} file {path!r} does not exist")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OptionError(f"{what} file {path!r} is not valid JSON: {e}") from None


def list_opt(name, text, conv):
    out = []
    for t in text.split(","):
        t = t.strip()
        if t.lower() in ("inf", "none", ""):
            out.append(None)
            continue
        try:
            out.append(conv(t))
        except ValueError:
            raise OptionError(f"{name} {text!r}: {t!r} is not valid") from None
    return out
