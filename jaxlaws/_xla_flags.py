"""XLA:CPU's classic loop emitters for short-lived processes: faster first compiles, opt-in.

Why: a short-lived process spends most of its time compiling, not running. XLA:CPU compiles
fused loops with its MLIR "fusion emitters" by default; its classic LLVM loop emitters compile
jaxlaws' programs ~3x faster and run them as fast (measured on jaxlib 0.10.2, 2 cores: a
first-ever `jaxlaws fit` of 240 runs 5.4 s -> 4.0 s with byte-identical output; the test
suite 7:04 -> 4:30).

Why opt-in: with the classic emitters a sharded bootstrap is no longer bit-identical across
device counts (the generated code depends on each device's batch shape: draws differed by
~6e-14 relative between 1 and 4 devices). jaxlaws' default promises the same bits from a seed
on any number of devices, so the CLI uses them only when ``JAXLAWS_FAST_COMPILE=1``; results
are then reproducible on a given device count. The test run uses them for its default run.

XLA aborts the whole process on a flag it does not know, so the option is added only for
jaxlib releases known to have it, and never when the user's ``XLA_FLAGS`` already says
anything about it. Library imports never change XLA's flags. XLA reads ``XLA_FLAGS`` once, at
the process's first compilation: call ``classic_emitters`` before that.
"""

from __future__ import annotations

import os

FLAG = "xla_cpu_use_fusion_emitters"
# jaxlib releases whose XLA has the flag (found in the libraries of 0.7.0, 0.8.0 and 0.9.0;
# run on 0.10.2). Upstream XLA is retiring the classic emitters, so a later release may drop it.
KNOWN = ((0, 7), (0, 11))


def _jaxlib_version() -> tuple[int, int] | None:
    from importlib import metadata

    try:
        major, minor = metadata.version("jaxlib").split(".")[:2]
        return int(major), int(minor)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def classic_emitters(environ=None) -> bool:
    """Add ``--xla_cpu_use_fusion_emitters=false`` to ``XLA_FLAGS`` (of ``environ``, default
    ``os.environ``) when that is safe (see module doc); returns whether it was added."""
    env = os.environ if environ is None else environ
    flags = env.get("XLA_FLAGS", "")
    if FLAG in flags:
        return False
    v = _jaxlib_version()
    if v is None or not KNOWN[0] <= v < KNOWN[1]:
        return False
    env["XLA_FLAGS"] = (flags + f" --{FLAG}=false").strip()
    return True
