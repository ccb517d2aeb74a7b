"""Time to first answer: the CLI as a new process against a scipy script of the same job.

Most people meet jaxlaws as a command run once. Every row is a new process (import, read,
compile or load from the compilation cache, fit, print), timed wall-clock over several runs
(min and median), on Epoch's 240 Chinchilla points (Huber delta 1e-3 on log residuals):

  fit, first ever          `jaxlaws fit` with an empty compilation cache (a new cache each run)
  ... JAXLAWS_FAST_COMPILE=1  the same, compiled with XLA:CPU's classic emitters (opt-in), and
                          again with its cache filled
  fit, later              `jaxlaws fit` again: the programs come from the cache
  fit, another table      a different table of the same size bucket (238 runs): no new program
                          (the cache's file count is checked before and after)
  fit, cache off          `JAXLAWS_CACHE=0`: compiles every time
  bootstrap, later        `jaxlaws bootstrap --n 4000` (fast strategy), cache filled
  scipy, Epoch's grid     a python script: pandas, L-BFGS-B from all 4500 grid starts (the
                          published practice)
  scipy, screened         the same script from the 16 best of the 4500 starts by objective
                          (jaxlaws' start strategy, screened in numpy)
  scipy, bootstrap        the screened fit, then 4000 ordinary resamples each refitted from its
                          optimum (L-BFGS-B)

Usage: python bench/bench_cold.py [--runs K]   (default 5; writes bench/results/cold.json)
"""

import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile

from _common import REPO, SHARED, wall, write_results

K = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
src = SHARED / "chinchilla_epoch.csv"
if not src.exists():
    sys.exit(f"needs {src} (the shared data); skipped")

SCIPY = r'''
import sys
import numpy as np, pandas as pd, scipy.optimize
sys.path.insert(0, sys.argv[1])
from _common import EPOCH_GRID, ScipyHuber, scipy_fit
df = pd.read_csv(sys.argv[2])
df = df[df.loss < np.sort(df.loss.values)[-5]].reset_index(drop=True)
obj = ScipyHuber(df)
starts = EPOCH_GRID
if sys.argv[3] != "grid":  # the 16 best starts by objective, as jaxlaws screens
    f0 = np.array([obj(t)[0] for t in EPOCH_GRID])
    starts = EPOCH_GRID[np.argsort(f0)[:16]]
f, th, _ = scipy_fit(obj, starts)
print("objective", f, "params", th)
if sys.argv[3] == "bootstrap":
    rng = np.random.default_rng(0)
    n = len(df)
    for b in range(4000):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        scipy.optimize.minimize(ScipyHuber(df, weights=w), th, jac=True, method="L-BFGS-B",
                                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
'''


def cache_files(d):
    return sum(len(f) for _, _, f in os.walk(d))


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="jaxlaws-bench-cold-"))
    other = tmp / "other.csv"  # 238 runs: the 7 highest-loss rows dropped instead of 5
    import pandas as pd

    pd.read_csv(src).sort_values("loss").iloc[:-2].to_csv(other, index=False)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("XLA_FLAGS", None)
    fit = [sys.executable, "-m", "jaxlaws", "fit", str(src), "--law", "chinchilla", "--drop-highest", "5", "--quiet"]
    rows = {}

    firsts = []
    for i in range(K):  # a new, empty cache for each run
        firsts.append(wall(fit, dict(env, JAX_COMPILATION_CACHE_DIR=str(tmp / f"first{i}")), k=1)[0])
    rows["fit, first ever"] = {"min": min(firsts), "median": sorted(firsts)[len(firsts) // 2]}
    fast = []  # the same with XLA:CPU's classic emitters (opt-in: jaxlaws/_xla_flags.py)
    for i in range(K):
        fast.append(wall(fit, dict(env, JAXLAWS_FAST_COMPILE="1", JAX_COMPILATION_CACHE_DIR=str(tmp / f"fast{i}")),
                         k=1)[0])
    rows["fit, first ever, JAXLAWS_FAST_COMPILE=1"] = {"min": min(fast), "median": sorted(fast)[len(fast) // 2]}
    rows["fit, later, JAXLAWS_FAST_COMPILE=1"] = dict(zip(("min", "median"), wall(
        fit, dict(env, JAXLAWS_FAST_COMPILE="1", JAX_COMPILATION_CACHE_DIR=str(tmp / "fast0")), k=K)))
    cache = dict(env, JAX_COMPILATION_CACHE_DIR=str(tmp / "first0"))
    rows["fit, later"] = dict(zip(("min", "median"), wall(fit, cache, k=K)))
    before = cache_files(tmp / "first0")
    other_fit = [sys.executable, "-m", "jaxlaws", "fit", str(other), "--law", "chinchilla", "--drop-highest", "5",
                 "--quiet"]
    rows["fit, another table (238 runs)"] = dict(zip(("min", "median"), wall(other_fit, cache, k=K)))
    rows["fit, another table (238 runs)"]["new_programs"] = cache_files(tmp / "first0") - before
    rows["fit, cache off"] = dict(zip(("min", "median"), wall(fit, dict(env, JAXLAWS_CACHE="0"), k=K)))
    boot = [sys.executable, "-m", "jaxlaws", "bootstrap", str(src), "--law", "chinchilla", "--drop-highest", "5",
            "--n", "4000", "--quiet"]
    wall(boot, cache, k=1)  # fill the cache with the bootstrap's programs
    rows["bootstrap 4000, later"] = dict(zip(("min", "median"), wall(boot, cache, k=K)))
    sc = [sys.executable, "-c", SCIPY, str(REPO / "bench"), str(src)]
    rows["scipy, Epoch's 4500-start grid"] = dict(zip(("min", "median"), wall(sc + ["grid"], env, k=max(1, K // 2))))
    rows["scipy, 16 screened starts"] = dict(zip(("min", "median"), wall(sc + ["screened"], env, k=K)))
    rows["scipy, screened fit + 4000-resample bootstrap"] = dict(
        zip(("min", "median"), wall(sc + ["bootstrap"], env, k=max(1, K // 2))))

    print(f"{'cold process (wall s)':<48} {'min':>7} {'median':>7}")
    for name, r in rows.items():
        extra = f"  new programs compiled: {r['new_programs']}" if "new_programs" in r else ""
        print(f"{name:<48} {r['min']:>7.2f} {r['median']:>7.2f}{extra}")
    out = write_results("cold", {"machine": platform.platform(), "runs": K, "rows": rows})
    print(f"wrote {out}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
