"""One process of the 2-process test (tests/test_multihost.py): joins the JAX distributed
runtime on localhost with CPU collectives (gloo), runs a bootstrap sharded over both processes'
devices and allocations over its draws, saves what it got, then runs the same bootstrap through
the CLI (JAXLAWS_DISTRIBUTED set: process 0 prints and writes, process 1 stays silent)."""

import os
import sys

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")
port, pid, out, runs_csv, json_out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=2, process_id=pid)

import numpy as np  # noqa: E402

from _multihost_jobs import jobs  # noqa: E402

res = jobs()
np.savez(out, devices=len(jax.devices()), processes=jax.process_count(), **res)
os.environ["JAXLAWS_DISTRIBUTED"] = f"localhost:{port},2,{pid}"
from jaxlaws._cli import main  # noqa: E402

sys.exit(main(["bootstrap", runs_csv, "--law", "chinchilla", "--n", "40", "--chunk-size", "20", "--seed", "3",
               "--json", json_out]))
