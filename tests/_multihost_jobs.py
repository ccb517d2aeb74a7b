"""The jobs the 2-process test runs, shared by the worker processes and the one-process reference."""

import numpy as np

import jaxlaws as jl


def jobs() -> dict:
    runs = jl.example_data()["runs"]
    boot = jl.bootstrap("chinchilla", runs, n=40, seed=3, chunk_size=20)
    point = jl.compute_optimal("chinchilla", boot, [1e22, 1e24])
    coef = jl.laws.joint_moe.coefficients["ludziejewski2025"].values
    draws = {k: np.full(6, v) * (1 + 0.01 * np.arange(6)) if k in ("a", "b") else np.full(6, v) for k, v in coef.items()}
    moe = jl.allocate(jl.moe_problem(), {"C": 1e21, "M": 2e9}, draws=draws)
    return {"draws": boot.draws, "status": boot.status.astype(str), "N": point.N, "moe_N": moe.x["N"],
            "moe_E": moe.x["E"]}
