"""Progress of long jobs (bootstrap chunks, group refits): a line with the ETA on a terminal,
and one ``logging`` record per step (logger ``"jaxlaws"``, INFO) for logs and notebooks that
configure logging; nothing else is printed."""

from __future__ import annotations

import logging
import sys
import time

LOG = logging.getLogger("jaxlaws")
_QUIET = [False]  # set by the CLI's --quiet: no terminal line, whatever the caller asked


def set_quiet(quiet: bool = True):
    """Silence every terminal progress line (the CLI's ``--quiet``); log records stay."""
    _QUIET[0] = bool(quiet)


class Progress:
    """``update(done)`` after each step of ``total``; ``close()`` at the end. ``show``: the
    terminal line (default: when stderr is a terminal); the log record is always emitted."""

    def __init__(self, label: str, total: int, show: bool | None = None, start_done: int = 0):
        self.label, self.total = label, int(total)
        self.show = (sys.stderr.isatty() if show is None else bool(show)) and not _QUIET[0]
        self.t0, self.start_done = time.perf_counter(), int(start_done)

    def text(self, done: int) -> str:
        el = time.perf_counter() - self.t0
        new = done - self.start_done
        # remaining work at the rate of the steps done in this run (a resumed run's earlier
        # steps took no time here); the first step includes compilation, so the ETA falls
        eta = el / new * (self.total - done) if new > 0 else float("nan")
        return f"{self.label}: {done}/{self.total} ({100 * done / max(self.total, 1):.0f}%) {el:.1f} s, ETA {eta:.1f} s"

    def update(self, done: int):
        msg = self.text(done)
        LOG.info(msg)
        if self.show:
            print(f"\r{msg}   ", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.show:
            print(file=sys.stderr)
