"""Benchmark: one Chinchilla fit from Hoffmann et al.'s 4500-start grid, jaxlaws vs scipy.

Rows, each in its own process, all in this one run on this machine:
  scipy_all       scipy L-BFGS-B (exact gradient, ftol 1e-15, gtol 1e-12) from all 4500 starts:
                  how the fit is done today (Besiroglu et al.'s protocol);
  scipy_screened  scipy given jaxlaws' own start strategy (screen, 8 iterations on 64, converge 16);
  jaxlaws         jaxlaws.fit (same strategy, one compiled call), warm median of 7, compile separate.
Usage: python bench/bench_fit.py [--quick]   (--quick skips the multi-minute scipy_all row)
"""

import platform
import sys

from _common import run_worker, write_results

quick = "--quick" in sys.argv
rows = {}
for row in (["scipy_screened", "jaxlaws"] if quick else ["scipy_all", "scipy_screened", "jaxlaws"]):
    rows[row] = run_worker("fit_worker.py", row)
    print(row, rows[row], flush=True)

jx = rows["jaxlaws"]
print()
print(f"data: {jx['data']}")
print(f"{'row':<16} {'seconds':>10} {'vs jaxlaws':>11} {'objective':>22} {'peak RSS MB':>12}")
for name, r in rows.items():
    print(f"{name:<16} {r['seconds']:>10.4f} {r['seconds'] / jx['seconds']:>10.1f}x {r['objective']:>22.13e} {r['peak_rss_mb']:>12.0f}")
print(f"jaxlaws compile (first call minus warm): {jx['compile_seconds']:.2f} s; starts: {jx['start_counts']}")
out = write_results("fit", {"machine": platform.platform(), "python": platform.python_version(), "rows": rows})
print(f"wrote {out}")
