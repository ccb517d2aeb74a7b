"""Where the examples find the real data sets: ../shared/data beside the repository (or
$JAXLAWS_SHARED_DATA). Examples that need them exit cleanly when they are absent."""

import os
import pathlib
import sys

SHARED = pathlib.Path(os.environ.get("JAXLAWS_SHARED_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_file(*parts):
    p = SHARED.joinpath(*parts)
    if not p.exists():
        print(f"skipped: {p} not found (the example needs the shared data sets)")
        sys.exit(0)
    return p


QUICK = "--quick" in sys.argv
