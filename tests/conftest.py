"""Shared fixtures. The real data sets live in ../shared/data beside the repository; tests
that need them skip cleanly when that folder is absent (as on a user's machine)."""

from __future__ import annotations

import os
import pathlib
import tempfile

# One XLA compilation cache per test run, shared by the xdist workers and by the
# subprocesses the tests start (examples, CLI, kill-and-resume), which compile many of the
# same programs. It is a fresh directory each run (set before JAX is imported, inherited
# through the environment), so nothing carries over between runs and every program is
# still compiled at least once per run. Set JAXLAWS_TEST_NO_CACHE=1 to turn it off.
_OWN_CACHE = None
if not os.environ.get("JAXLAWS_TEST_NO_CACHE") and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxlaws-test-xla-cache-")
    # every program, however quick to compile (JAX caches only those over 1 s by default): the
    # two workers and the subprocesses then compile each program once between them (a full run
    # 8:51 -> 8:32 on 2 cores)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


# The suite compiles hundreds of small programs and runs each for milliseconds: XLA's LLVM
# backend optimisation is most of a compile and buys nothing here, so the test run turns it
# off (a full run: 12:19 -> about 9:45; the same numerics to the tolerances every test states).
# JAXLAWS_TEST_FULL_OPT=1 compiles as library users do (neither this nor the next option).
if not os.environ.get("JAXLAWS_TEST_FULL_OPT") and "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()


def pytest_configure(config):
    # The default run also compiles with XLA:CPU's classic loop emitters instead of its fusion
    # emitters, which take most of the rest of a compile at that level (the suite's three most
    # compile-bound test groups: 75 s -> 27 s of backend compilation; the whole default run
    # 7:04 -> 4:30 on 2 cores), as `JAXLAWS_FAST_COMPILE=1` does for the CLI. Not in the e2e
    # run: it checks that results are bit-identical across device counts and processes, which
    # holds with XLA's default emitters but not with the classic ones (their code depends on
    # each device's batch shape: draws differed by ~6e-14 relative between 1 and 4 devices).
    # Set here, before the first compilation (XLA reads its flags once); xdist's workers get
    # the same marker expression.
    if not os.environ.get("JAXLAWS_TEST_FULL_OPT") and "not e2e" in (config.option.markexpr or ""):
        from jaxlaws._xla_flags import classic_emitters

        classic_emitters()


def pytest_unconfigure(config):
    # only the process that made the cache (the xdist controller) removes it, at the very end
    if _OWN_CACHE is not None:
        import shutil

        shutil.rmtree(_OWN_CACHE, ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Every compiled XLA CPU program keeps its code mapped into the process, and a test worker
# compiles thousands of them (every law, strategy and shape the suite tries). Linux caps a
# process at vm.max_map_count mappings (65530 by default); past it a compile aborts or
# segfaults inside XLA (seen in full runs, in the compilation-cache write). Between test
# modules, a worker that has used more than half of the cap drops its compiled programs (JAX's
# caches and jaxlaws' own lru_caches of compiled solvers); later modules reload what they need
# from the run's persistent compilation cache instead of compiling it again.
MAP_LIMIT = float(os.environ.get("JAXLAWS_TEST_MAP_LIMIT", "0.5"))  # fraction of the cap


def _map_count() -> int:
    try:
        with open("/proc/self/maps") as fh:
            return sum(1 for _ in fh)
    except OSError:  # not Linux: no such cap to watch
        return 0


def _max_maps() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 1 << 62


def drop_compiled_programs():
    """Clear JAX's caches and every functools cache in jaxlaws' modules (compiled solvers)."""
    import sys

    jax.clear_caches()
    for name, mod in list(sys.modules.items()):
        if name == "jaxlaws" or name.startswith("jaxlaws."):
            for obj in list(vars(mod).values()):
                clear = getattr(obj, "cache_clear", None)
                if callable(clear):
                    clear()
    import gc

    gc.collect()


@pytest.fixture(autouse=True, scope="module")
def _bounded_program_maps():
    yield
    if _map_count() > MAP_LIMIT * _max_maps():
        drop_compiled_programs()

import jax  # noqa: E402

import jaxlaws  # noqa: E402

# jaxlaws itself never changes jax_enable_x64 (test_layering checks that in a fresh process);
# the tests build float64 reference arrays, so they switch it on for the test process, as
# optimistix's test suite does.
jax.config.update("jax_enable_x64", True)

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("JAXLAWS_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(*parts) -> pathlib.Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data {p} not present")
    return p


@pytest.fixture(scope="session")
def chinchilla_240():
    """Epoch's 240 points: the digitised Chinchilla runs minus the 5 highest-loss rows."""
    import pandas as pd

    df = pd.read_csv(shared_file("chinchilla_epoch.csv"))
    keep = df.loss < np.sort(df.loss.values)[-5]
    return df[keep].reset_index(drop=True)


@pytest.fixture(scope="session")
def chinchilla_fit(chinchilla_240):
    return jaxlaws.fit("chinchilla", chinchilla_240)


def chinchilla_design(n_sizes=12, budgets=(1e19, 1e20, 1e21, 1e22), span=8.0):
    """An isoFLOP design: model sizes around each budget's optimum, D = C / 6N."""
    N, D = [], []
    for C in budgets:
        n0 = 0.6 * (C / 6) ** 0.5
        for n in n0 * np.logspace(-np.log10(span), np.log10(span), n_sizes):
            N.append(n)
            D.append(C / (6 * n))
    return np.array(N), np.array(D)


def one_line(capsys, argv, fragments, code=2):
    """Run the CLI: exit ``code`` and exactly one stderr line, the tool's own error, holding each
    of ``fragments`` (the shape every bad-input test asks of the CLI)."""
    from jaxlaws._cli import main

    got = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert got == code, (argv, err)
    assert len(err) == 1 and err[0].startswith("jaxlaws: error:"), err
    for f in fragments:
        assert f in err[0], (f, err[0])
