"""Benchmark: a two-step chain (loss law -> 40 per-task links), 1000 joint bootstrap draws.

Simulated ladder: 24 runs of a Chinchilla loss law, 40 downstream tasks (each Err = eps - k
exp(-gamma L) with its own coefficients) measured on the same runs. jaxlaws: jl.chain, every
loss refit and every (task, draw) link refit in one compiled program (41,000 refits). Baseline:
the same joint bootstrap written with scipy (L-BFGS-B for the loss law from the full fit,
curve_fit per task per draw from the task's fit), timed on 20 draws and scaled.
Usage: python bench/bench_chain.py
"""

import platform
import time

import numpy as np
import pandas as pd
import scipy.optimize

from _common import peak_rss_mb, timed, write_results

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402

rng = np.random.default_rng(0)
T = dict(E=1.8, A=400.0, B=1200.0, alpha=0.34, beta=0.28)
N = np.geomspace(2e7, 1e9, 8).repeat(3)
D = N * np.tile([10.0, 20.0, 40.0], 8)
L = (T["E"] + T["A"] * N ** -T["alpha"] + T["B"] * D ** -T["beta"]) * np.exp(0.01 * rng.standard_normal(N.size))
runs = pd.DataFrame({"run": np.arange(N.size), "N": N, "D": D, "loss": L})
G = 40
coef = np.column_stack([0.8 + 0.15 * rng.random(G), 2.0 + 4.0 * rng.random(G), 0.6 + 0.6 * rng.random(G)])
link = pd.concat([pd.DataFrame({"run": runs.run, "task": f"t{g:02d}", "L": L,
                                "err": c[0] - c[1] * np.exp(-c[2] * L) + 0.005 * rng.standard_normal(N.size)})
                  for g, c in enumerate(coef)], ignore_index=True)
at = pd.DataFrame({"N": [7e9, 7e10], "D": [1.4e11, 1.4e12]})
lf = jl.fit("chinchilla", runs)
gf = jl.fit("downstream_error", link, y="err", by="task")
first, warm, res = timed(lambda: jl.chain(lf, gf, at, n=1000, runs=(runs.run, link.run)), repeats=3)
print(f"jl.chain: {G} tasks x 1000 joint draws ({1000 * (G + 1):,} refits, one program): "
      f"{warm:.2f} s warm ({first:.1f} s first); draws used {res.ok.mean():.3f}")

# scipy: the same joint bootstrap, 20 draws
lN, lD, ly = np.log(N), np.log(D), np.log(L)
p = lf.params
x0 = np.array([np.log(p["E"]), np.log(p["A"]), np.log(p["B"]), p["alpha"], p["beta"]])


def huber_obj(t, w):
    z = np.logaddexp(np.logaddexp(t[0], t[1] - t[3] * lN), t[2] - t[4] * lD) - ly
    a = np.abs(z)
    q = np.minimum(a, 1e-3)
    return np.sum(w * q * (a - 0.5 * q))


def link_fn(Lv, e, k, g):
    return e - k * np.exp(-g * Lv)


starts = gf.params
t0 = time.perf_counter()
for b in range(20):
    w = rng.multinomial(N.size, np.full(N.size, 1 / N.size)).astype(float)
    t = scipy.optimize.minimize(huber_obj, x0, args=(w,), method="L-BFGS-B").x
    Lat = np.exp(np.logaddexp(np.logaddexp(t[0], t[1] - t[3] * np.log(at.N)), t[2] - t[4] * np.log(at.D)))
    idx = np.repeat(np.arange(N.size), w.astype(int))
    for g in range(G):
        sub = link[link.task == f"t{g:02d}"]
        try:
            pg, _ = scipy.optimize.curve_fit(link_fn, sub.L.values[idx], sub.err.values[idx], p0=starts[g], maxfev=2000)
            link_fn(Lat, *pg)
        except RuntimeError:
            pass
per = (time.perf_counter() - t0) / 20
print(f"scipy loop: {per:.3f} s per draw -> {per * 1000:.0f} s for 1000 draws ({per * 1000 / warm:.0f}x)")
write_results("chain", {"machine": platform.platform(), "warm_s": warm, "first_s": first, "scipy_per_draw_s": per,
                        "ratio": per * 1000 / warm, "draws_used": float(res.ok.mean()), "peak_rss_mb": peak_rss_mb()})
