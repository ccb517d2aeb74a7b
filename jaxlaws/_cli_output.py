"""Where the CLI's results go: output paths checked before computing, finished results kept
when a write fails, and the command line recorded for methods cards."""

from __future__ import annotations

import json
import os

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


COMMAND = [None]  # the command line being run (set by _cli.main), for methods cards


def command_line() -> str | None:
    """The exact command being run, as the user could type it again."""
    return COMMAND[0]


def write_result(path: str, obj, force: bool):
    """Write a finished result as strict JSON, kept (temporary folder, else printed) if the write
    fails. A result without a methods card gets one with the versions and the command."""
    from ._util import json_safe, write_json_atomic

    if isinstance(obj, dict) and "methods" not in obj:
        from ._methods import methods_card

        obj = {**obj, "methods": methods_card(command=command_line())}

    def printed():
        print(json.dumps(json_safe(obj)))
        return "the result was printed above as JSON instead"

    keep_output(path, lambda p: write_json_atomic(p, obj, force=force or p != path), "result", printed)


def keep_table(path: str, table):
    """Write a finished table as CSV (atomically), kept in the temporary folder if the write fails,
    so a long ablation is not lost to an output error."""
    from ._util import write_atomic

    keep_output(path, lambda p: write_atomic(p, lambda tmp: table.to_csv(tmp, index=False)), "table")
