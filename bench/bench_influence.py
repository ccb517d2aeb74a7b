"""Benchmark: leave-one-out influence on the 240 Chinchilla points.

jaxlaws.influence (one Newton step from the optimum for each point, batched; warm median of 5)
against the exact leave-one-out refits it approximates (240 batched warm-started refits), and
scipy refitting each leave-one-out set from the full-data optimum (L-BFGS-B, exact gradient),
in the same run. Reports the Spearman rank agreement per parameter.
Usage: python bench/bench_influence.py
"""

import platform
import statistics
import time

import numpy as np

from _common import ScipyHuber, chinchilla_points, peak_rss_mb, write_results

import jaxlaws as jl

df, label = chinchilla_points()
fit = jl.fit("chinchilla", df)
jl.influence(fit)  # compile
times = []
for _ in range(5):
    t0 = time.perf_counter()
    inf = jl.influence(fit)
    times.append(time.perf_counter() - t0)
warm = statistics.median(times)
t0 = time.perf_counter()
ex = jl.influence(fit, exact=True)
exact_s = time.perf_counter() - t0
rho = ex.spearman()

import scipy.optimize  # noqa: E402

th = np.array([np.log(fit.params["E"]), np.log(fit.params["A"]), np.log(fit.params["B"]), fit.params["alpha"], fit.params["beta"]])
t0 = time.perf_counter()
for i in range(40):
    w = np.ones(len(df))
    w[i] = 0
    scipy.optimize.minimize(ScipyHuber(df, weights=w), th, jac=True, method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
scipy_per = (time.perf_counter() - t0) / 40
print(f"data: {label}")
print(f"jaxlaws.influence (one-step, all {len(df)} points): {warm * 1e3:.1f} ms warm")
print(f"exact leave-one-out refits (batched, incl. comparison): {exact_s:.2f} s")
print(f"scipy warm-started refit: {scipy_per * 1e3:.1f} ms per point -> {scipy_per * len(df):.2f} s for all "
      f"({scipy_per * len(df) / warm:.0f}x the one-step influence)")
print("Spearman(one-step, exact):", {k: round(v, 4) for k, v in rho.items()})
print(f"peak RSS {peak_rss_mb():.0f} MB")
write_results("influence", {"machine": platform.platform(), "influence_warm_s": warm, "exact_loo_s": exact_s,
                            "scipy_per_point_s": scipy_per, "spearman": rho})
