"""Beyond one machine: two processes on localhost join JAX's distributed runtime (CPU
collectives), run a bootstrap sharded over both, a compute-optimal allocation over its draws and
a constrained (MoE) allocation over parameter draws, and get results bit-identical to one
process (results spread over processes are gathered on every host); the same bootstrap through
the CLI prints and writes once."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
from _multihost_jobs import jobs  # noqa: E402

import jaxlaws as jl  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.e2e
def test_two_processes_give_the_one_process_numbers(tmp_path):
    runs_csv = tmp_path / "runs.csv"
    jl.example_data()["runs"].to_csv(runs_csv, index=False)
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None) if "device_count" in env.get("XLA_FLAGS", "") else None  # one device per process
    env["PYTHONPATH"] = os.pathsep.join([HERE, os.path.dirname(HERE), env.get("PYTHONPATH", "")])
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "_multihost_worker.py"), str(port), str(i),
                               str(tmp_path / f"p{i}.npz"), str(runs_csv), str(tmp_path / "boot.json")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        outs = [p.communicate(timeout=300) for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail("the two processes did not finish in 300 s")
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    single = jobs()  # the same jobs in this process, on its one device
    for i in range(2):
        multi = np.load(tmp_path / f"p{i}.npz")
        assert int(multi["devices"]) == 2 and int(multi["processes"]) == 2  # the mesh spans both processes
        for key in ("draws", "N", "moe_N", "moe_E"):
            assert np.array_equal(multi[key], single[key], equal_nan=True), key
        assert (multi["status"] == single["status"]).all()
    # the CLI: process 0 printed the table and wrote the JSON, process 1 printed nothing
    assert "alpha" in outs[0][0] and "alpha" not in outs[1][0] and "wrote" not in outs[1][0]
    saved = json.loads((tmp_path / "boot.json").read_text())
    assert np.array_equal(np.array(saved["resamples"]["draws"], float), single["draws"])
    assert saved["methods"]["versions"]["backend"].startswith("cpu (2 device")
