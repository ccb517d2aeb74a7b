"""One process of the 2-process test (tests/test_multihost.py): joins the JAX distributed
runtime on localhost with CPU collectives (gloo), runs a bootstrap sharded over both processes'
devices and allocations over its draws, and saves what it got."""

import sys

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")
port, n_proc, pid, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if n_proc > 1:
    jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=n_proc, process_id=pid)

import numpy as np  # noqa: E402

import jaxlaws as jl  # noqa: E402

runs = jl.example_data()["runs"]
boot = jl.bootstrap("chinchilla", runs, n=40, seed=3, chunk_size=20)
point = jl.compute_optimal("chinchilla", boot, [1e22, 1e24])
moe = jl.allocate(jl.moe_problem(), {"C": 1e21, "M": 2e9},
                  draws={k: np.full(6, v) * (1 + 0.01 * np.arange(6)) if k in ("a", "b") else np.full(6, v)
                         for k, v in jl.laws.joint_moe.coefficients["ludziejewski2025"].values.items()})
np.savez(out, devices=len(jax.devices()), processes=jax.process_count(), draws=boot.draws,
         status=boot.status.astype(str), N=point.N, moe_N=moe.x["N"], moe_E=moe.x["E"])
