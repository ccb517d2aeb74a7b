"""Benchmark: experiment design and decisions under uncertainty against numpy/scipy of the same math.

1. ``jl.design`` with 10,000 candidate runs, the target N_opt(1e24) (its gradient by implicit
   differentiation) and greedy selection of 20 runs (both greedy rules), on the Chinchilla
   points; against numpy doing the same computation (closed-form Jacobians of the Chinchilla law,
   the target's gradient by central differences of scipy's bounded scalar minimiser, the same
   greedy updates vectorised over candidates per step). The picks are compared.
2. The simulation study (the README's table): the design's runs against one more isoFLOP profile
   and random runs of the same compute, 1000 replications per design in one compiled call;
   the scipy side refits 20 replications with L-BFGS-B and is scaled to the same count.
3. Expected-loss allocation over 4000 parameter draws at 2 budgets, against a numpy grid.
4. Cold processes: ``jaxlaws design`` (compilation cache filled) against a python process
   running the numpy version.
Writes bench/results/design.json and docs/img/design_runs.png.
Usage: python bench/bench_design.py
"""

import os
import platform
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from _common import REPO, chinchilla_points, peak_rss_mb, timed, wall, write_results
from design_np_cold import np_design

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402

TARGET, C_STAR, BUDGET = "N_opt(C=1e24)", 1e24, 1e21
df, label = chinchilla_points()
fit = jl.fit("chinchilla", df)
print(f"data: {label}; fit {fit.status}")
rng = np.random.default_rng(0)
cand = pd.DataFrame({"N": 10 ** rng.uniform(7.7, 10.5, 10_000), "D": 10 ** rng.uniform(8.4, 11.5, 10_000)})
cand = cand[6 * cand.N * cand.D <= BUDGET].reset_index(drop=True)
while len(cand) < 10_000:  # top up to exactly 10,000 affordable candidates
    more = pd.DataFrame({"N": 10 ** rng.uniform(7.7, 10.5, 20_000), "D": 10 ** rng.uniform(8.4, 11.5, 20_000)})
    cand = pd.concat([cand, more[6 * more.N * more.D <= BUDGET]], ignore_index=True)
cand = cand.iloc[:10_000]
first, warm, d = timed(lambda: jl.design(fit, cand, TARGET, BUDGET), repeats=5)


t0 = time.perf_counter()
np_picks = np_design(fit.params, df, cand, d.noise, TARGET_C=C_STAR, budget=BUDGET)
np_s = time.perf_counter() - t0
same = list(d.runs["candidate"]) == list(np_picks)
print(f"design, 10,000 candidates, target gradient, greedy 20 runs (x2 rules): jaxlaws {warm:.3f} s warm "
      f"({first:.2f} s first call), numpy/scipy {np_s:.2f} s ({np_s / warm:.1f}x); same picks: {same}")

# ---- the simulation study on the README's setting -----------------------------------------
grid = jl.candidate_runs(fit, BUDGET)
dd = jl.design(fit, grid, TARGET, BUDGET)
designs = {"design (20 runs)": dd, "one more isoFLOP profile": jl.isoflop_extension(fit, dd.spent),
           **{f"random runs {i + 1}": jl.random_runs(grid, dd.spent, seed=i) for i in range(3)}}
s_first, s_warm, sim = timed(lambda: jl.compare_designs(fit, designs, TARGET, n_rep=1000), repeats=1)
n_fits = len(designs) * 1000 + 1000
print(dd.summary())
print(sim.to_string(index=False, float_format=lambda x: f"{x:.4g}"))

import scipy.optimize  # noqa: E402


def scipy_refits(k=20):
    """k simulated data sets refitted with L-BFGS-B (Huber on log residuals) from the truth."""
    r = np.random.default_rng(1)
    p = fit.params
    lN, lD = np.log(df.N.values), np.log(df.D.values)
    t_true = np.log(p["E"] + p["A"] / df.N.values ** p["alpha"] + p["B"] / df.D.values ** p["beta"])
    x0 = np.array([np.log(p["E"]), np.log(p["A"]), np.log(p["B"]), p["alpha"], p["beta"]])
    for _ in range(k):
        y = t_true + dd.noise * r.standard_normal(len(t_true))

        def f(t):
            z = np.logaddexp(np.logaddexp(t[0], t[1] - t[3] * lN), t[2] - t[4] * lD) - y
            a = np.abs(z)
            q = np.minimum(a, 1e-3)
            return np.sum(q * (a - 0.5 * q))

        scipy.optimize.minimize(f, x0, method="L-BFGS-B")


t0 = time.perf_counter()
scipy_refits(20)
scipy_per_fit = (time.perf_counter() - t0) / 20
print(f"simulation: {n_fits} refits in {s_warm:.2f} s (jaxlaws, one compiled call, incl. compile {s_first:.2f} s); "
      f"scipy L-BFGS-B {scipy_per_fit * 1e3:.1f} ms per refit -> {scipy_per_fit * n_fits:.0f} s ({scipy_per_fit * n_fits / s_warm:.0f}x)")

# ---- decisions under uncertainty -----------------------------------------------------
boot = jl.bootstrap("chinchilla", df, n=4000, seed=0)
dc_first, dc_warm, dec = timed(lambda: jl.decide("chinchilla", boot, [1e22, 1e24]), repeats=3)
P = boot.converged_draws()


def np_decide():
    out = []
    for C in (1e22, 1e24):
        n0 = jl.compute_optimal("chinchilla", fit, C).N[0]
        u = np.linspace(np.log(n0) - 2, np.log(n0) + 2, 8001)
        N = np.exp(u)[:, None]
        L = P["E"] + P["A"] / N ** P["alpha"] + P["B"] / (C / (6 * N)) ** P["beta"]
        out.append(np.exp(u[np.argmin(L.mean(1))]))
    return np.array(out)


t0 = time.perf_counter()
np_dec = np_decide()
npd_s = time.perf_counter() - t0
print(f"expected-loss allocation, {dec.n_draws} draws x 2 budgets: jaxlaws {dc_warm:.3f} s warm ({dc_first:.2f} s first), "
      f"numpy grid (8001 points) {npd_s:.2f} s; max relative difference in N {np.max(np.abs(dec.N / np_dec - 1)):.1e}")
print(dec.to_frame().to_string(index=False, float_format=lambda x: f"{x:.5g}"))

# ---- the figure ------------------------------------------------------------------------
from jaxlaws._plots_study import design_runs  # noqa: E402

design_runs(fit, dd, str(REPO / "docs" / "img" / "design_runs.png"))

# ---- cold processes --------------------------------------------------------------------
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "runs.csv")
df.to_csv(path, index=False)
cli = [sys.executable, "-m", "jaxlaws._cli", "design", path, "--law", "chinchilla", "--target", TARGET,
       "--budget", str(BUDGET)]
env_on = {**os.environ, "XDG_CACHE_HOME": tmp}


wall(cli, env_on, k=1)  # fill the cache
cold_on = wall(cli, env_on)
cold_np = wall([sys.executable, str(REPO / "bench" / "design_np_cold.py"), path])
print(f"cold process, design (fit + grid candidates + greedy): jaxlaws CLI {cold_on[1]:.2f} s (cache filled); "
      f"numpy/scipy script {cold_np[1]:.2f} s (median of 3)")
print(f"peak RSS {peak_rss_mb():.0f} MB")
write_results("design", {
    "machine": platform.platform(), "data": label, "design_warm_s": warm, "design_first_s": first,
    "numpy_design_s": np_s, "same_picks": same, "simulation_warm_s": s_warm, "simulation_first_s": s_first,
    "simulation_refits": n_fits, "scipy_per_refit_s": scipy_per_fit, "simulation": sim.to_dict(orient="records"),
    "decide_warm_s": dc_warm, "decide_first_s": dc_first, "numpy_decide_s": npd_s,
    "cli_cold_cache_s": cold_on, "numpy_cold_s": cold_np, "peak_rss_mb": peak_rss_mb(),
    "design_summary": dd.summary(),
})
