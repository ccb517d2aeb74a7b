"""XLA:CPU compile options for processes that jaxlaws owns (the CLI; the test run uses it too).

Why: a short-lived process spends most of its time compiling, not running. XLA:CPU compiles
fused loops with its MLIR "fusion emitters" by default; its classic LLVM loop emitters compile
the same programs ~3x faster and ran jaxlaws' programs as fast, to the same bits (measured on
jaxlib 0.10.2, 2 cores: a first-ever `jaxlaws fit` of 240 runs 5.4 s -> 4.0 s, its output
byte-identical; `jaxlaws bootstrap --n 4000` 1.31 s -> 1.23 s of resampling, the same numbers).

XLA aborts the whole process on a flag it does not know, so the option is added only for
jaxlib versions that are known to have it, and never when the user's ``XLA_FLAGS`` already
says anything about it. ``JAXLAWS_FAST_COMPILE=0`` turns it off. Library imports never
change XLA's flags: only the CLI's ``main`` calls ``fast_cpu_compile``, before its first
compile (XLA reads ``XLA_FLAGS`` once, at the first compilation).
"""

from __future__ import annotations

import os

FLAG = "xla_cpu_use_fusion_emitters"
# jaxlib releases whose XLA has the flag (found in the libraries of 0.7.0, 0.8.0 and 0.9.0;
# run on 0.10.2).
# Upstream XLA is retiring the classic emitters, so a later release may drop the flag.
KNOWN = ((0, 7), (0, 11))


def _jaxlib_version() -> tuple[int, int] | None:
    from importlib import metadata

    try:
        major, minor = metadata.version("jaxlib").split(".")[:2]
        return int(major), int(minor)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def fast_cpu_compile(environ=None) -> bool:
    """Add ``--xla_cpu_use_fusion_emitters=false`` to ``XLA_FLAGS`` when that is safe (see
    module doc); returns whether it was added. Call before the process's first compilation."""
    env = os.environ if environ is None else environ
    flags = env.get("XLA_FLAGS", "")
    if env.get("JAXLAWS_FAST_COMPILE", "1") == "0" or FLAG in flags:
        return False
    v = _jaxlib_version()
    if v is None or not KNOWN[0] <= v < KNOWN[1]:
        return False
    env["XLA_FLAGS"] = (flags + f" --{FLAG}=false").strip()
    return True
