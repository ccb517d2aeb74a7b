"""Benchmark: isoFLOP analysis and per-group fits against numpy/scipy loops of the same recipe.

1. Approach 2 on 10 budgets x 10 runs with 1000 bootstrap resamples through both stages
   (runs resampled within budgets, a parabola per budget, the power law per resample):
   jaxlaws.isoflop (one compiled call) against a numpy loop (np.polyfit per budget per
   resample, then np.polyfit of log N* on log C) on the *same* resamples; the exponents of
   every resample are compared.
2. Per-group fits: 40 tasks x 12 runs of y = E + A x^-alpha (a nonlinear law), jaxlaws.fit(...,
   by="task") against scipy L-BFGS-B from the same start grid, group by group.
3. The command line, cold processes: `jaxlaws isoflop` (persistent compilation cache off and
   on) against a python process running the numpy loop.
Usage: python bench/bench_isoflop.py
"""

import os
import platform
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from _common import peak_rss_mb, timed, wall, write_results
from bench_isoflop_np import numpy_isoflop

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402

H = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def ladder(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for C in np.geomspace(1e18, 1e21, 10):
        G = (H["alpha"] * H["A"] / (H["beta"] * H["B"])) ** (1 / 0.62)
        n0 = G * (C / 6) ** (H["beta"] / 0.62)
        for n in n0 * np.geomspace(1 / 4, 4, 10):
            d = C / (6 * n)
            L = H["E"] + H["A"] / n ** H["alpha"] + H["B"] / d ** H["beta"]
            rows.append({"C": C, "N": n, "loss": L * np.exp(0.005 * rng.standard_normal())})
    return pd.DataFrame(rows)


df = ladder()
first, warm, r = timed(lambda: jl.isoflop(df, n=1000, seed=0), repeats=5)
t0 = time.perf_counter()
a_np = numpy_isoflop(df, 1000, 0)
np_s = time.perf_counter() - t0
diff = float(np.nanmax(np.abs(r.draws_a - a_np)))
print(f"isoflop, 10 budgets x 10 runs, 1000 resamples through both stages: jaxlaws {warm:.3f} s warm "
      f"({first:.2f} s first call), numpy loop {np_s:.2f} s ({np_s / warm:.0f}x); max |a_jaxlaws - a_numpy| "
      f"over resamples {diff:.1e}")


def tasks(n_tasks=40, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n_tasks):
        x = np.geomspace(1, 1e4, 12)
        E, A, al = rng.uniform(0.2, 1.0), rng.uniform(1, 5), rng.uniform(0.2, 0.6)
        out.append(pd.DataFrame({"task": t, "x": x, "y": (E + A * x**-al) * np.exp(0.01 * rng.standard_normal(12))}))
    return pd.concat(out, ignore_index=True)


law = jl.laws.get_law("power_law_constant")
tk = tasks()
g_first, g_warm, g = timed(lambda: jl.fit(law, tk, "y", by="task"), repeats=3)

import scipy.optimize  # noqa: E402

starts = law.starts.resolve(law)  # unconstrained (log E, log A, alpha) grid, the same starts


def scipy_group(sub):
    lx, ly = np.log(sub.x.to_numpy()), np.log(sub.y.to_numpy())
    d = 1e-3

    def f(t):
        z = np.logaddexp(t[0], t[1] - t[2] * lx) - ly
        a = np.abs(z)
        q = np.minimum(a, d)
        return np.sum(q * (a - 0.5 * q))

    best = min((scipy.optimize.minimize(f, s, method="L-BFGS-B") for s in starts), key=lambda r: r.fun)
    return best.fun


t0 = time.perf_counter()
sp = np.array([scipy_group(tk[tk.task == t]) for t in range(40)])
sp_s = time.perf_counter() - t0
worse = int(np.sum(g.objective > sp * (1 + 1e-6) + 1e-15))
print(f"per-group fits, 40 tasks x 12 runs, {len(starts)} starts each: jaxlaws {g_warm:.3f} s warm ({g_first:.2f} s first), "
      f"scipy L-BFGS-B loop {sp_s:.2f} s ({sp_s / g_warm:.0f}x); groups where jaxlaws' objective is above scipy's: {worse}")

# cold processes: the CLI against a python process running the numpy recipe
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "ladder.csv")
df.to_csv(path, index=False)
cli = [sys.executable, "-m", "jaxlaws._cli", "isoflop", path, "--n", "1000"]
np_script = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); import pandas as pd; "
             f"import bench_isoflop_np as b; b.run({path!r})")


env_off = {**os.environ, "JAXLAWS_CACHE": "0"}
env_on = {**os.environ, "XDG_CACHE_HOME": tmp}
cold_off = wall(cli, env_off)
wall(cli, env_on, k=1)  # fill the cache
cold_on = wall(cli, env_on)
cold_np = wall([sys.executable, "-c", np_script])
print(f"cold process, isoflop with 1000 resamples: jaxlaws CLI {cold_off[1]:.2f} s (no compilation cache), "
      f"{cold_on[1]:.2f} s (cache filled); numpy script {cold_np[1]:.2f} s (median of 3)")
print(f"peak RSS {peak_rss_mb():.0f} MB")
write_results("isoflop", {
    "machine": platform.platform(), "isoflop_warm_s": warm, "isoflop_first_s": first, "numpy_loop_s": np_s,
    "max_abs_diff_a": diff, "groups_warm_s": g_warm, "groups_first_s": g_first, "scipy_groups_s": sp_s,
    "groups_worse_than_scipy": worse, "cli_cold_nocache_s": cold_off, "cli_cold_cache_s": cold_on,
    "numpy_cold_s": cold_np, "peak_rss_mb": peak_rss_mb(),
})
