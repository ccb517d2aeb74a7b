"""Where the CLI's results go: output paths checked before computing, finished results kept
when a write fails, and the command line recorded for methods cards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

from ._errors import OptionError


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


def check_output_folder(folder: str, names, force: bool, option: str = "--out"):
    """Check a folder of outputs before computing: it is (or can be made) a writable folder,
    and none of ``names`` in it is overwritten without ``--force``."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OptionError(f"{option} {folder!r} is a file; give a folder")
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


COMMAND = [None]  # the command line being run (set by _cli.main), for methods cards


def command_line() -> str | None:
    """The exact command being run, as the user could type it again."""
    return COMMAND[0]


def write_result(path: str, obj, force: bool):
    """Write a finished result as strict JSON, kept (temporary folder, else printed) if the write
    fails. A result without a methods card gets one with the versions and the command."""
    from ._util import json_safe, write_json_atomic

    obj = with_card(obj)

    def printed():
        print(json.dumps(json_safe(obj)))
        return "the result was printed above as JSON instead"

    keep_output(path, lambda p: write_json_atomic(p, obj, force=force or p != path), "result", printed)


def with_card(obj):
    """``obj`` with a methods card (the versions and the command) if it has none."""
    if isinstance(obj, dict) and "methods" not in obj:
        from ._methods import methods_card

        obj = {**obj, "methods": methods_card(command=command_line())}
    return obj


def keep_table(path: str, table):
    """Write a finished table as CSV (atomically), kept in the temporary folder if the write fails,
    so a long ablation is not lost to an output error."""
    from ._util import write_atomic

    keep_output(path, lambda p: write_atomic(p, lambda tmp: table.to_csv(tmp, index=False)), "table")


# Options naming files a command reads, and files (or folders) it writes.
INPUTS = ("data", "at", "link", "params", "draws", "predict", "candidates", "starts", "calibration")
OUTPUTS = ("json", "csv", "plot", "out", "checkpoint", "write_data")


def _same(a: str, b: str) -> bool:
    """Two paths name one file (the same real path, or the same existing file through a link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct_paths(args):
    """Before computing: no output path is an input path (``isoflop data.csv --json data.csv
    --force`` overwrote the data) or another output's (``design --json o.png --plot o.png``
    wrote one, then failed on the other). A checkpoint is read and written, but never the data."""
    ins = [(f"--{a.replace('_', '-')}" if a != "data" else "the data file", getattr(args, a))
           for a in INPUTS if isinstance(getattr(args, a, None), str)]
    ins = [(n, p) for n, p in ins if os.path.exists(p)]  # 'grid', a start spec: not files
    outs = [(f"--{a.replace('_', '-')}", getattr(args, a)) for a in OUTPUTS if isinstance(getattr(args, a, None), str)]
    for i, (name, path) in enumerate(outs):
        for in_name, in_path in ins:
            if _same(path, in_path):
                raise OptionError(f"{name} {path} is also {in_name}: an output must not overwrite an input; "
                                  f"give another file name")
        for other, opath in outs[i + 1:]:
            if _same(path, opath):
                raise OptionError(f"{name} and {other} are the same file {path}: give each output its own name")


@contextlib.contextmanager
def _scratch(what: str):
    """A fresh folder in the system's temporary directory for a command's outputs; removed if
    the block fails (a write error there is one line), kept on success for the caller to move."""
    tmp = tempfile.mkdtemp(prefix="jaxlaws-")
    try:
        yield tmp
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OptionError(f"could not write the {what} ({e.strerror or e}) in the temporary folder") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_folder(folder: str, what: str = "figures"):
    """All of a command's files in ``folder``, or none: they are written into a fresh folder
    in the system's temporary directory, copied beside ``folder`` (same file system), then
    renamed into it. Interrupted or failed while computing, ``folder`` is untouched (old
    figures stay, no half set). A full disk at ``folder``: nothing there changes and the error
    names the temporary folder that holds the finished set."""
    parent = os.path.dirname(os.path.abspath(folder))
    with _scratch(what) as tmp:
        yield tmp
    names = sorted(os.listdir(tmp))
    side = None
    try:
        side = tempfile.mkdtemp(prefix=".jaxlaws-partial-", dir=parent)
        for name in names:
            shutil.copy2(os.path.join(tmp, name), os.path.join(side, name))
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        if side is not None:
            shutil.rmtree(side, ignore_errors=True)
        raise OptionError(f"could not write the {what} to {folder} ({e.strerror or e}); all {len(names)} are in "
                          f"{tmp}") from None
    except BaseException:
        if side is not None:
            shutil.rmtree(side, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for name in names:  # renames within one file system: no space needed, nothing half-copied
        os.replace(os.path.join(side, name), os.path.join(folder, name))
    os.rmdir(side)
    shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def staged_files(paths: dict, what: str = "outputs"):
    """All of a command's output files, or none (``design --json o.json --plot o.png``: the
    figure was written, then the JSON failed). ``paths``: option -> final path (None: not
    asked for); yields option -> a path in a fresh temporary folder to write instead. After the
    block every file is copied beside its target and then all are renamed in; a full disk
    leaves every target as it was and names the temporary folder with the finished set."""
    paths = {k: p for k, p in paths.items() if p}
    with _scratch(what) as tmp:
        staged = {k: os.path.join(tmp, f"{i}-{os.path.basename(p)}") for i, (k, p) in enumerate(paths.items())}
        yield staged
    sides = []
    try:
        for k, p in paths.items():
            side = f"{p}.tmp-{os.getpid()}"  # the atomic writers' temporary name (cleaned up if killed)
            sides.append((side, p))  # before the copy: a copy that fails half-way is removed too
            shutil.copy2(staged[k], side)
    except (OSError, KeyboardInterrupt) as e:
        for side, _ in sides:
            with contextlib.suppress(OSError):
                os.remove(side)
        if isinstance(e, KeyboardInterrupt):
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        raise OptionError(f"could not write {p} ({e.strerror or e}); all {len(paths)} outputs are in {tmp}") from None
    for side, p in sides:
        os.replace(side, p)
        print(f"wrote {p}")
    shutil.rmtree(tmp, ignore_errors=True)
