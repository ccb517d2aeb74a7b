"""The ``jaxlaws`` command's entry point, outside the package on purpose.

Importing ``jaxlaws._cli`` first imports the package, and with it JAX (seconds). A Ctrl-C in
that window raised a 28-line traceback from deep inside an import, or, inside JAX's own
import, was swallowed and the run went on to write its output. Here a SIGINT handler is in
place before any of that. It only records the interrupt: raising there lands the exception in
whatever runs at that moment (a garbage-collection callback of XLA's printed "Exception
ignored" with a traceback), so the import finishes (a second or two) and the command then
stops with one line and exit status 130, before it reads or writes anything.
"""

import signal
import sys


def main() -> int:
    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        from jaxlaws._cli import main as cli_main
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    if interrupted:  # raised, or swallowed by a library's import: either way, stop now
        print("jaxlaws: interrupted", file=sys.stderr)
        return 130
    signal.signal(signal.SIGINT, previous)
    return cli_main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
