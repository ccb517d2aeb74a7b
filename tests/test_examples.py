"""Every example runs (small settings) and prints the numbers it claims.

The example runs are end-to-end (``e2e``: each is a whole study, 10-20 s): CI runs them in its
``pytest -m e2e`` step, beside the default run, which stays under 5 minutes on 2 cores."""

import os
import subprocess
import sys

import pytest

EX = os.path.join(os.path.dirname(__file__), "..", "examples")
from conftest import SHARED

HAVE_SHARED = (SHARED / "chinchilla_epoch.csv").exists()


def run(name):
    """Run an example as ``python examples/NAME --quick`` would, but in this test process: the
    programs it compiles are those other tests compiled already (a new process would compile
    them again), which keeps the suite's time down. Its stdout is returned."""
    import contextlib
    import io
    import runpy

    out = io.StringIO()
    argv, path = sys.argv, list(sys.path)
    sys.argv = [os.path.join(EX, name), "--quick"]
    sys.path.insert(0, EX)
    try:
        with contextlib.redirect_stdout(out):
            try:
                runpy.run_path(os.path.join(EX, name), run_name="__main__")
            except SystemExit as e:
                assert e.code in (0, None), f"{name} exited with {e.code}"
    finally:
        sys.argv, sys.path[:] = argv, path
        sys.modules.pop("_shared", None)
    return out.getvalue()


def run_subprocess(name):
    """``python examples/NAME --quick`` in a new process."""
    r = subprocess.run([sys.executable, os.path.join(EX, name), "--quick"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


@pytest.mark.skipif(not HAVE_SHARED, reason="needs ../shared/data")
@pytest.mark.e2e
def test_chinchilla_replication():
    out = run("chinchilla_replication.py")
    assert "objective 0.001018274017801" in out
    assert "Epoch SE" in out and "D/N at 5.88e23" in out


@pytest.mark.skipif(not HAVE_SHARED, reason="needs ../shared/data")
@pytest.mark.e2e
def test_data_constrained():
    out = run("data_constrained.py")
    assert "= 2.2256440889984477  (README" in out
    assert "N = 6.80B, D = 226.9B tokens, 9.07 epochs" in out
    assert "R_D* = 15.37" in out


@pytest.mark.skipif(not HAVE_SHARED, reason="needs ../shared/data")
@pytest.mark.e2e
def test_sensitivity_study():
    out = run("sensitivity_study.py")
    assert "D/N at C = 5.88e23 across 4 specifications" in out
    assert "Hessian condition number" in out and "extrapolation: fit on 217 runs" in out


@pytest.mark.e2e
def test_jax_embedding():
    out = run("jax_embedding.py")
    lines = [l for l in out.splitlines() if l.startswith("  run ")]
    first = float(lines[0].rsplit("=", 1)[1])
    fd = float([l for l in out.splitlines() if l.startswith("finite difference")][0].rsplit(":", 1)[1])
    assert abs(first - fd) <= 1e-4 * abs(fd) + 1e-7


@pytest.mark.e2e
def test_moe_memory_budget():
    out = run("moe_memory_budget.py")
    assert "memory cap" in out and out.count("converged") + out.count("at_bound") == 5
    line = [l for l in out.splitlines() if "d log(loss) / d log(cap)" in l][0]
    implicit = float(line.split("=")[1].split("(")[0])
    fd = float(line.split("),")[1].split("(")[0])
    assert implicit < 0 and abs(implicit - fd) <= 1e-4 * abs(fd)


@pytest.mark.e2e
def test_data_filtering():
    out = run_subprocess("data_filtering.py")  # one example as the script a user runs, in its own process
    rows = [l.split() for l in out.splitlines() if l.strip()[:1].isdigit() and len(l.split()) == 7]
    assert len(rows) == 4
    # the published pools and the refitted ones both pick the top bucket alone at 32M and 64M
    # samples and the top two buckets at 128M and 640M (the paper's compute-dependence)
    assert [int(r[1]) for r in rows] == [1, 1, 2, 2] and [int(r[2]) for r in rows] == [1, 1, 2, 2]
    for r in rows:
        assert abs(sum(float(s) for s in r[3:]) - 1.0) < 1e-9


@pytest.mark.e2e
def test_two_step_downstream():
    """Gadre et al.'s recipe with built-in laws: both fits converge, the simulated large runs'
    loss is predicted within 5% and their error inside the 90% joint band."""
    out = run("two_step_downstream.py")
    assert "loss law: converged" in out and "link: converged" in out
    rows = [ln for ln in out.splitlines() if "tokens)" in ln]
    assert len(rows) == 2 and all(ln.split()[-2] == "True" for ln in rows), out
    assert all(abs(float(ln.split()[6])) < 0.05 for ln in rows), out  # loss_rel_error


def test_demo_says_when_the_truth_is_outside_a_band_and_how_often_that_is_expected(capsys):
    """The demo flags every interval or band that misses the truth (checked here against the
    truth itself) and says how often a miss is expected at that level."""
    import re

    from jaxlaws._demo import miss_note, run_demo

    res = run_demo(out_dir=None, n_boot=300, seed=0)
    out = capsys.readouterr().out
    boot = res["bootstrap"]
    from jaxlaws._demo_data import TRUTH

    for k in boot.params:
        iv = boot.interval(k)
        line = next(ln for ln in out.splitlines() if ln.split() and ln.split()[0] == k)
        assert ("truth outside" in line) == (not iv.lower <= TRUTH[k] <= iv.upper)
    flagged = [ln for ln in out.splitlines() if re.match(r"\s+1e\+\d\d ", ln) and "truth outside" in ln]
    if flagged:
        assert f"outside {len(flagged)} of 6 D/N bands" in out and "misses the truth in 20%" in out
    assert miss_note([], 6, 0.95, "intervals") == "the truth is inside all 6 intervals"
    note = miss_note(["A", "B"], 6, 0.95, "intervals")
    assert "in 5% of data sets" in note and "about 0.3 of 6" in note


def test_example_tables_do_not_depend_on_the_callers_precision_setting():
    """jl.example_data() gives the same numbers with jax_enable_x64 off (a user's default) and on
    (the CLI's): the data-filtering curves are evaluated in float64 either way."""
    import jax

    import jaxlaws as jl

    before = jax.config.jax_enable_x64
    try:
        jax.config.update("jax_enable_x64", False)
        off = jl.example_data()
        jax.config.update("jax_enable_x64", True)
        on = jl.example_data()
    finally:
        jax.config.update("jax_enable_x64", before)
    for name in off:
        assert off[name].equals(on[name]), name
