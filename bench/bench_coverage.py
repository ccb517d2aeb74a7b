"""Benchmark and README table: coverage of the bootstrap's percentile and calibrated intervals.

On the Chinchilla points (or the demo design without ../shared), on the built-in demo design and
on a small design (40 Chinchilla points drawn at random): 200 simulated data
sets x (200 resamples + 1 fit), i.e. 40,200 refits in one compiled call per chunk, against a
scipy L-BFGS-B refit timed on 20 resamples and scaled to the same count. The calibrated interval
(jl.calibrate, 1000 simulations, seed 11) is scored on the coverage study's own simulations (seed 0): independent.
Usage: python bench/bench_coverage.py
"""

import platform
import time

import numpy as np
import pandas as pd
import scipy.optimize

from _common import chinchilla_points, peak_rss_mb, timed, write_results

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402
from jaxlaws._demo_data import demo_data  # noqa: E402

NEW = pd.DataFrame({"N": [1e9, 7e10], "D": [2e10, 1.4e12]})
out = {"machine": platform.platform()}
TG = ("a", "N_opt(C=1e24)")
designs = (("chinchilla", chinchilla_points()[0]), ("demo", demo_data()),
           ("chinchilla_40", chinchilla_points()[0].sample(40, random_state=0)))
for label, df in designs:
    f = jl.fit("chinchilla", df)
    boot = jl.bootstrap("chinchilla", df, n=200, progress=False)
    cal = jl.calibrate(boot, targets=TG, n_sim=1000, n_boot=200, seed=11).calibration
    first, warm, tab = timed(lambda: jl.coverage(f, n_sim=200, n_boot=200, targets=TG, new_runs=NEW, calibration=cal),
                             repeats=1)
    print(f"{label}: {len(df)} runs, 200 x 201 refits: {warm:.1f} s warm ({first:.1f} s first)")
    print(tab.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    out[label] = {"warm_s": warm, "first_s": first, "table": tab.to_dict(orient="records")}

# scipy: one refit of the Chinchilla objective (Huber on log residuals) from the truth
df = chinchilla_points()[0]
f = jl.fit("chinchilla", df)
p = f.params
lN, lD, ly = np.log(df.N.values), np.log(df.D.values), np.log(df.loss.values)
x0 = np.array([np.log(p["E"]), np.log(p["A"]), np.log(p["B"]), p["alpha"], p["beta"]])
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for _ in range(20):
    w = rng.multinomial(len(ly), np.full(len(ly), 1 / len(ly)))

    def obj(t):
        z = np.logaddexp(np.logaddexp(t[0], t[1] - t[3] * lN), t[2] - t[4] * lD) - ly
        a = np.abs(z)
        q = np.minimum(a, 1e-3)
        return np.sum(w * q * (a - 0.5 * q))

    scipy.optimize.minimize(obj, x0, method="L-BFGS-B")
per = (time.perf_counter() - t0) / 20
print(f"scipy L-BFGS-B: {per * 1e3:.1f} ms per refit -> {per * 40200:.0f} s for 40,200 "
      f"({per * 40200 / out['chinchilla']['warm_s']:.0f}x)")
out["scipy_per_refit_s"] = per
out["peak_rss_mb"] = peak_rss_mb()
write_results("coverage", out)
