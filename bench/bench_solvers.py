"""Benchmark: the two built-in minimisers (damped Newton, BFGS) on the Chinchilla fit, with scipy.

Both solvers plug into the same multi-start pipeline (screen 4500 starts, 8 steps on the
best 64, converge 16) through the solver interface; scipy L-BFGS-B runs the same strategy.
Rows per loss (Huber 1e-3, squared), each in its own process, all in this one run:
warm median seconds, first call, the objective reached, iterations of the winner.
Usage: python bench/bench_solvers.py
"""

import platform

from _common import run_worker, write_results

rows = {}
for loss in ("huber", "squared"):
    for row in ("newton", "bfgs", "scipy_screened"):
        r = run_worker("solver_worker.py", row, loss)
        rows[f"{row}/{loss}"] = r
        print(f"{row}/{loss}", r, flush=True)

print()
print(f"{'row':<22} {'seconds':>9} {'vs newton':>10} {'first call':>11} {'objective':>22} {'winner iters':>13} {'RSS MB':>7}")
for name, r in rows.items():
    base = rows[f"newton/{r['loss']}"]["seconds"]
    first = r.get("first_call_seconds")
    print(f"{name:<22} {r['seconds']:>9.4f} {r['seconds'] / base:>9.1f}x {first if first is None else round(first, 2)!s:>11} "
          f"{r['objective']:>22.13e} {r['iterations']!s:>13} {r['peak_rss_mb']:>7.0f}")
out = write_results("solvers", {"machine": platform.platform(), "python": platform.python_version(), "rows": rows})
print(f"wrote {out}")
