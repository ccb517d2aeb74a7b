"""Beyond one machine: two processes on localhost join JAX's distributed runtime (CPU
collectives), run a bootstrap sharded over both and allocations over its draws, and get results
bit-identical to one process (results spread over processes are gathered on every host)."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(__file__), "_multihost_worker.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # one CPU device per process: the devices are the processes'
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(WORKER)), env.get("PYTHONPATH", "")])
    return env


def test_two_processes_give_the_one_process_numbers(tmp_path):
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, WORKER, str(port), "2", str(i), str(tmp_path / f"p{i}.npz")],
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    try:
        logs = [p.communicate(timeout=300)[0] for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail("the two processes did not finish in 300 s")
    if any(p.returncode for p in procs) and any("gloo" in log.lower() and "not" in log.lower() for log in logs):
        pytest.skip("this jaxlib has no CPU collectives (gloo)")
    assert all(p.returncode == 0 for p in procs), logs[0][-2000:] + logs[1][-2000:]
    one = subprocess.run([sys.executable, WORKER, "0", "1", "0", str(tmp_path / "single.npz")], env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    single = np.load(tmp_path / "single.npz")
    assert int(single["devices"]) == 1
    for i in range(2):
        multi = np.load(tmp_path / f"p{i}.npz")
        assert int(multi["devices"]) == 2 and int(multi["processes"]) == 2  # the mesh spans both processes
        for key in ("draws", "N", "moe_N", "moe_E"):
            assert np.array_equal(multi[key], single[key], equal_nan=True), key
        assert (multi["status"] == single["status"]).all()


def test_the_cli_across_two_processes_prints_and_writes_once(tmp_path):
    """``JAXLAWS_DISTRIBUTED=HOST:PORT,N,I jaxlaws bootstrap ...`` in two processes: process 0
    prints the table and writes the JSON, process 1 prints nothing; the draws equal one process's."""
    import json

    import jaxlaws as jl

    jl.example_data()["runs"].to_csv(tmp_path / "runs.csv", index=False)
    port = _free_port()

    def cmd(out):
        return [sys.executable, "-m", "jaxlaws", "bootstrap", str(tmp_path / "runs.csv"), "--law", "chinchilla",
                "--n", "40", "--chunk-size", "20", "--seed", "3", "--json", str(tmp_path / out)]

    procs = [subprocess.Popen(cmd("multi.json"), env={**_env(), "JAXLAWS_DISTRIBUTED": f"localhost:{port},2,{i}"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "alpha" in outs[0][0] and outs[1][0] == ""  # process 0 prints, process 1 does not
    one = subprocess.run(cmd("single.json"), env=_env(), capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    multi, single = (json.loads((tmp_path / f).read_text()) for f in ("multi.json", "single.json"))
    assert multi["resamples"]["draws"] == single["resamples"]["draws"]
    assert multi["methods"]["versions"]["backend"].startswith("cpu (2 device")
