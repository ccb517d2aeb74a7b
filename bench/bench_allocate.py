"""Benchmark: compute-optimal allocation for 10,000 parameter draws x 200 budgets.

jaxlaws solves all 2,000,000 one-dimensional problems in one compiled call (warm median of 3);
scipy's bounded scalar minimiser (minimize_scalar, 'bounded', xatol 1e-12) on the same
objective (log L over log N with D = C/6N) is timed per problem on 200 problems for scale.
Usage: python bench/bench_allocate.py   (2 host devices unless XLA_FLAGS is set)
"""

import os
import platform
import statistics
import time

# Both CPU cores, as host devices: compute_optimal shards the draws axis over them.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import numpy as np

from _common import peak_rss_mb, write_results

import jaxlaws as jl

law = jl.laws.chinchilla
p = law.coefficient_set("besiroglu2024")
rng = np.random.default_rng(0)
B, nC = 10_000, 200
draws = {k: v * np.exp(0.05 * rng.standard_normal(B)) for k, v in p.items()}
C = np.logspace(18, 28, nC)

t0 = time.perf_counter()
a = jl.compute_optimal(law, draws, C)
first = time.perf_counter() - t0
times = []
for _ in range(3):
    t0 = time.perf_counter()
    a = jl.compute_optimal(law, draws, C)
    times.append(time.perf_counter() - t0)
warm = statistics.median(times)
n_conv = int((a.status == "converged").sum())

import scipy.optimize  # noqa: E402


def scipy_one(q, c):
    def f(u):
        N = np.exp(u)
        D = c / (6 * N)
        return np.log(q["E"] + q["A"] / N ** q["alpha"] + q["B"] / D ** q["beta"])

    return scipy.optimize.minimize_scalar(f, bounds=(np.log(1e2), np.log(1e18)), method="bounded", options={"xatol": 1e-12}).x


t0 = time.perf_counter()
for i in range(200):
    q = {k: v[i % B] for k, v in draws.items()}
    scipy_one(q, C[i % nC])
per = (time.perf_counter() - t0) / 200
print(f"jaxlaws: {B} draws x {nC} budgets = {B * nC:,} problems: {warm:.2f} s warm (first call {first:.2f} s), "
      f"{n_conv:,} converged; peak RSS {peak_rss_mb():.0f} MB")
print(f"scipy minimize_scalar: {per * 1e3:.2f} ms per problem -> {per * B * nC:.0f} s for all ({per * B * nC / warm:.0f}x)")
out = write_results("allocate", {"machine": platform.platform(), "jaxlaws_warm_s": warm, "jaxlaws_first_s": first,
                                 "problems": B * nC, "converged": n_conv, "scipy_per_problem_s": per})
print(f"wrote {out}")
