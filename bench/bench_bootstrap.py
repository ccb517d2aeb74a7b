"""Benchmark: bootstrap of the Chinchilla fit, jaxlaws vs scipy, on this machine, one run.

Rows (each in its own process; jaxlaws rows shard resamples over 2 host devices, which is
how both CPU cores are used):
  scipy_single  scipy L-BFGS-B (exact gradient, tight tolerances) from Hoffmann's estimate,
                per resample, measured on 200 of Besiroglu et al.'s resamples;
  scipy_grid    scipy over the full 4500-start grid for one resample (multiplied out);
  single        jaxlaws, Besiroglu et al.'s protocol: 4000 x 1 start;
  fast          jaxlaws, warm starts at the full fit's distinct optima: 250 / 1000 / 4000;
  grid          jaxlaws, every resample screens the whole 4500-start grid, the solves shared
                across resamples done once (see jaxlaws/_grid_starts.py): 250 / 1000 / 4000;
  grid_independent  jaxlaws, every resample runs the screen, halving and convergence alone
                (the grid strategy before it shared solves): 4000 (1000 with --quick).
The grid and fast strategies are compared with grid_independent on every resample.
Usage: python bench/bench_bootstrap.py [--quick]   (--quick: 1000 resamples at most)
"""

import os
import platform
import sys

import numpy as np

from _common import run_worker, write_results

quick = "--quick" in sys.argv
sizes = [250, 1000] if quick else [250, 1000, 4000]
env2 = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
os.environ.update(env2)
rows = {}
for name, args in [("scipy_single", []), ("scipy_grid", [])]:
    rows[name] = run_worker("boot_worker.py", name)
    print(name, rows[name], flush=True)
rows["single_4000"] = run_worker("boot_worker.py", "single", 4000)
print(rows["single_4000"], flush=True)
for strat in ("fast", "grid"):
    for n in sizes:
        rows[f"{strat}_{n}"] = run_worker("boot_worker.py", strat, n)
        print(rows[f"{strat}_{n}"], flush=True)
N = sizes[-1]
rows[f"grid_independent_{N}"] = run_worker("boot_worker.py", "grid_independent", N)
print(rows[f"grid_independent_{N}"], flush=True)

ref = np.load(f"/tmp/jaxlaws_bench_grid_independent_{N}.npy")
disagree = {}
for strat in ("fast", "grid"):
    rel = np.load(f"/tmp/jaxlaws_bench_{strat}_{N}.npy") / ref - 1
    disagree[strat] = {f"{strat}_worse": int(np.sum(rel > 1e-6)), "independent_worse": int(np.sum(rel < -1e-6)),
                       "max_abs_rel": float(np.max(np.abs(rel))), "n": int(N)}

s1 = rows["scipy_single"]["per_resample_s"]
sg = rows["scipy_grid"]["per_resample_s"]
print()
print(f"{'workload':<34} {'jaxlaws s':>10} {'scipy s (est.)':>15} {'ratio':>8} {'peak RSS MB':>12}")
r = rows["single_4000"]
t = r["warm_s"]
print(f"{'Epoch protocol, 4000 x 1 start':<34} {t:>10.2f} {s1 * 4000:>15.1f} {s1 * 4000 / t:>7.1f}x {r['peak_rss_mb']:>12.0f}")
for strat, ns in (("fast", sizes), ("grid", sizes), ("grid_independent", [N])):
    for n in ns:
        r = rows[f"{strat}_{n}"]
        t = r["warm_s"] or r["first_call_s"]
        print(f"{strat + f', {n} resamples':<34} {t:>10.2f} {sg * n:>15.0f} {sg * n / t:>7.0f}x {r['peak_rss_mb']:>12.0f}")
print(f"scipy per resample: {s1 * 1000:.2f} ms (1 start), {sg:.1f} s (4500 starts)")
print(f"against grid_independent on {N} resamples: {disagree}")
out = write_results("bootstrap", {"machine": platform.platform(), "rows": rows, "vs_grid_independent": disagree})
print(f"wrote {out}")
