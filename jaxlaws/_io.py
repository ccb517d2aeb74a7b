"""File input for the command line and scripts: tables and user law files.

An edge module: it imports the core, never the reverse.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from ._errors import DataError, LawError
from ._law import Law


def read_table(path: str):
    """Read a CSV, TSV, Parquet, JSON Lines or JSON-array file into a DataFrame (by extension,
    or by content for JSON), with one-line errors for bad files."""
    import pandas as pd

    if not os.path.exists(path):
        raise DataError(f"data file {path!r} does not exist")
    if os.path.isdir(path):
        raise DataError(f"data path {path!r} is a directory, not a file")
    if os.path.getsize(path) == 0:
        raise DataError(f"data file {path!r} is empty")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".parquet", ".pq"):
            try:
                df = pd.read_parquet(path)
            except ImportError:
                raise DataError("reading Parquet needs pyarrow: pip install 'jaxlaws[parquet]'") from None
        elif ext in (".jsonl", ".ndjson", ".json") or _starts_json(path):
            df = _read_json_records(path)
        else:
            sep, names = _header(path, ext)
            df = pd.read_csv(path, sep=sep)
            if sep == ";" and _comma_decimals(df):
                # the same locale writes 3,14 for 3.14
                df = pd.read_csv(path, sep=sep, decimal=",")
            _check_names(path, names)
    except UnicodeDecodeError as e:
        raise DataError(f"data file {path!r} is not UTF-8 text ({e.reason} at byte {e.start}); re-save it as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path!r} has no columns") from None
    except pd.errors.ParserError as e:
        first = str(e).strip().splitlines()[0]
        raise DataError(f"data file {path!r} is not a well-formed CSV: {first}") from None
    except DataError:
        raise
    except Exception as e:  # pyarrow errors etc.
        raise DataError(f"data file {path!r} could not be read: {type(e).__name__}: {e}") from None
    if df.shape[0] == 0:
        raise DataError(f"data file {path!r} has a header but no rows")
    return df


def _starts_json(path: str) -> bool:
    """A file whose first non-blank character opens a JSON object or array (JSON Lines or a
    JSON array of records saved as .csv or .txt): read as JSON, not as a one-column CSV."""
    with open(path, "rb") as fh:
        head = fh.read(256).lstrip()
    return head[:1] in (b"{", b"[")


def _read_json_records(path: str):
    """JSON Lines (one object per line) or a JSON array of records, one row per object."""
    import json

    import pandas as pd

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            recs = json.loads(stripped)
        else:
            recs = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise DataError(f"data file {path!r} is not JSON Lines or a JSON array of records: {e}") from None
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise DataError(f"data file {path!r}: JSON data must be records (objects), one per run")
    if not recs:
        raise DataError(f"data file {path!r} has no records")
    return pd.DataFrame.from_records(recs)


def _header(path: str, ext: str) -> tuple[str, list]:
    """The field separator and the header's column names. The separator is a tab for
    ``.tsv``/``.tab`` files; otherwise a comma, unless the header line has no comma but has
    semicolons or tabs (a European-locale spreadsheet's CSV, or a TSV saved as .csv), whose
    whole header pandas would read as one column name."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as fh:
        line = fh.readline()
        sep = "\t" if ext in (".tsv", ".tab") else ","
        if sep == "," and "," not in line:
            sep = next((s for s in (";", "\t") if s in line), ",")
        fh.seek(0)
        names = next(csv.reader(fh, delimiter=sep), [])
    return sep, names


def _comma_decimals(df) -> bool:
    """Whether some text column holds only numbers written with a decimal comma (``3,14``)."""
    import re

    import pandas as pd

    pattern = re.compile(r"^\s*[-+]?\d+,\d*([eE][-+]?\d+)?\s*$")
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            vals = df[col].dropna().astype(str)
            if len(vals) and all(pattern.match(v) for v in vals):
                return True
    return False


def _check_names(path: str, header: list):
    """Refuse a CSV whose header repeats a column name (pandas would silently rename it ``N.1``)."""
    seen, dup = set(), []
    for name in (h.strip() for h in header):
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    if dup:
        raise DataError(f"data file {path!r} has duplicate column names {dup}: rename or drop the copies")


def top_level_names(path: str):
    """The names a Python file binds at its top level (functions, classes, assignments, imports,
    also inside top-level if/try/with/for blocks), read with ``ast`` without running it; None
    when it cannot tell (a ``from m import *``, or a file that is not valid Python: the import
    then reports it)."""
    import ast

    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (SyntaxError, ValueError, OSError):
        return None
    names = set()

    def targets(t):
        if isinstance(t, ast.Name):
            names.add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                targets(e)
        elif isinstance(t, ast.Starred):
            targets(t.value)

    def visit(body):
        for st in body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(st.name)
            elif isinstance(st, ast.Assign):
                for t in st.targets:
                    targets(t)
            elif isinstance(st, (ast.AnnAssign, ast.AugAssign)):
                targets(st.target)
            elif isinstance(st, (ast.Import, ast.ImportFrom)):
                for a in st.names:
                    if a.name == "*":
                        raise LookupError  # cannot tell what a star import binds
                    names.add(a.asname or a.name.split(".")[0])
            elif isinstance(st, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                targets(getattr(st, "target", None))
                for item in getattr(st, "items", ()):
                    targets(item.optional_vars)
            for field in ("body", "orelse", "finalbody"):
                if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit(getattr(st, field, ()) or ())
            for h in getattr(st, "handlers", ()) or ():
                if h.name:
                    names.add(h.name)
                visit(h.body)
        # a walrus at top level binds too
        for node in ast.walk(ast.Module(body=list(body), type_ignores=[])):
            if isinstance(node, ast.NamedExpr):
                targets(node.target)

    try:
        visit(tree.body)
    except LookupError:
        return None
    return names


def load_law_file(spec: str) -> Law:
    """Load a user law from ``path/to/file.py:object``: this imports the file, running all of
    its code as Python (only use law files you trust); a name the file does not bind at its top
    level is refused before it runs (``top_level_names``)."""
    path, sep, obj = spec.rpartition(":")
    if not sep or not path or not obj:
        raise LawError(f"law {spec!r}: give a built-in name or path/to/file.py:object")
    if not os.path.exists(path):
        raise LawError(f"law file {path!r} does not exist")
    defined = top_level_names(path)
    if defined is not None and obj not in defined:
        # read, not run: a missing name is reported before any of the file's code executes
        raise LawError(f"law file {path!r} defines no object {obj!r} at its top level (it defines "
                       f"{sorted(n for n in defined if not n.startswith('_'))[:12]}); the file was not run")
    name = "_jaxlaws_user_law_" + os.path.splitext(os.path.basename(path))[0]
    mod_spec = importlib.util.spec_from_file_location(name, path)
    if mod_spec is None or mod_spec.loader is None:
        raise LawError(f"law file {path!r} cannot be imported as Python")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = module
    try:
        mod_spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # a law file that calls sys.exit() must not end the CLI silently
        raise LawError(f"law file {path!r} failed to import: {type(e).__name__}: {e}") from None
    if not hasattr(module, obj):
        raise LawError(f"law file {path!r} defines no object {obj!r}")
    law = getattr(module, obj)
    if not isinstance(law, Law):
        raise LawError(f"{spec!r} is a {type(law).__name__}, not a jaxlaws Law (decorate it with @jaxlaws.law)")
    return law


def resolve_law_spec(spec: str) -> Law:
    """A built-in law name or a ``file.py:object`` spec."""
    if ":" in spec and (spec.endswith(".py") is False):
        return load_law_file(spec)
    from .laws import get_law

    return get_law(spec)
