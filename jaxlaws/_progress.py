"""Progress of long jobs (bootstrap chunks, group refits, ablation groups, simulation studies).

Three displays, picked by where the job runs:

* a terminal (stderr is a TTY): one line, rewritten in place, with the elapsed time and ETA;
* a notebook (an IPython kernel, stderr not a TTY) with ``tqdm`` installed: a ``tqdm.auto``
  widget bar (``pip install 'jaxlaws[progress]'``);
* anything else: nothing is drawn, but every step is one ``logging`` record (logger
  ``"jaxlaws"``, INFO), so a batch log or a notebook that configures logging gets one line per
  chunk. The CLI sends those records to stderr when stderr is not a terminal (SLURM logs).

``set_quiet()`` (the CLI's ``--quiet``) silences the line and the bar; records are still emitted.
"""

from __future__ import annotations

import logging
import sys
import time

LOG = logging.getLogger("jaxlaws")
_QUIET = [False]  # set by the CLI's --quiet: no terminal line, whatever the caller asked
_CLI_HANDLER = [None]


def set_quiet(quiet: bool = True):
    """Silence every terminal progress line and notebook bar (the CLI's ``--quiet``); log records stay."""
    _QUIET[0] = bool(quiet)


def log_to_stderr(enable: bool):
    """The CLI's one-line-per-chunk log: progress records to the current stderr as
    ``jaxlaws: <job>: 3/8 (38%) ...`` when stderr is not a terminal. Replaces an earlier handler;
    ``log_to_stderr(False)`` removes it and restores the logger's level (the CLI does so on
    return, so a process that runs ``main`` more than once never logs to a stream since closed)."""
    if _CLI_HANDLER[0] is not None:
        handler, level = _CLI_HANDLER[0]
        LOG.removeHandler(handler)
        LOG.setLevel(level)
        _CLI_HANDLER[0] = None
    if enable:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("jaxlaws: %(message)s"))
        _CLI_HANDLER[0] = (h, LOG.level)
        LOG.addHandler(h)
        LOG.setLevel(logging.INFO)


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules and not sys.stderr.isatty()


class Progress:
    """``update(done)`` after each step of ``total``; ``close()`` at the end. ``show``: draw a
    line or bar (default: on a terminal or in a notebook); ``log``: emit the records (off for a
    job done in one step, which has no progress to report)."""

    def __init__(self, label: str, total: int, show: bool | None = None, start_done: int = 0, log: bool = True):
        self.label, self.total, self.log = label, int(total), bool(log)
        interactive = sys.stderr.isatty() or _in_notebook()
        self.show = (interactive if show is None else bool(show)) and not _QUIET[0]
        self.t0, self.start_done = time.perf_counter(), int(start_done)
        self.bar = None
        if self.show and _in_notebook():
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=self.total, initial=self.start_done, desc=label, leave=True)
            except ImportError:  # no tqdm: the plain line (a notebook shows stderr text too)
                pass

    def text(self, done: int) -> str:
        el = time.perf_counter() - self.t0
        new = done - self.start_done
        # remaining work at the rate of the steps done in this run (a resumed run's earlier
        # steps took no time here); the first step includes compilation, so the ETA falls
        eta = el / new * (self.total - done) if new > 0 else float("nan")
        return f"{self.label}: {done}/{self.total} ({100 * done / max(self.total, 1):.0f}%) {el:.1f} s, ETA {eta:.1f} s"

    def update(self, done: int):
        msg = self.text(done)
        if self.log:
            LOG.info(msg)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif self.show:
            print(f"\r{msg}   ", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.show:
            print(file=sys.stderr)
