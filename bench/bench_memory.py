"""Memory of a bootstrap against its size: peak resident memory in a new process, jaxlaws (weights
generated a chunk at a time) against numpy building the whole resample-by-point weight matrix
(what a scipy loop over resamples, and jaxlaws before, hold), side by side.

    python bench/bench_memory.py            # writes bench/results/memory.json
    python bench/bench_memory.py --fits     # only the single-fit rows (10^5, 10^6 runs), merged in

Each row runs in its own process (cold: import, compile, run), so ru_maxrss is that job's own
peak. The numpy baseline draws the same resamples (numpy's default_rng(seed).integers over
(B, n)) and counts them into a (B, n) float matrix, as jaxlaws' own resample_weights does in
one call. Data: a synthetic Chinchilla-law table of n runs (1% log-normal noise).

The fit rows (flat in rows: tables from 65536 runs are evaluated in blocks of rows) compare one
jaxlaws.fit (the law's 4500-start grid, Huber on log residuals) with scipy's L-BFGS-B on the same
objective in numpy from a single start (Hoffmann et al.'s estimate): a lower bound on what a
scipy script of the same job needs.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r'''
import resource, sys, time
import numpy as np
n, B, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
N = 10 ** rng.uniform(7, 10, n); D = 10 ** rng.uniform(9, 11, n)
y = (1.8 + 400 / N**0.34 + 2000 / D**0.37) * np.exp(0.01 * rng.standard_normal(n))
t0 = time.perf_counter()
if which == "jaxlaws_fit":
    import jaxlaws as jl
    fit = jl.fit("chinchilla", {"N": N, "D": D, "loss": y})
    extra = {"status": fit.status, "objective": fit.objective, "alpha": fit.params["alpha"]}
elif which == "scipy_fit":
    import pandas as pd
    sys.path.insert(0, sys.argv[4])
    from _common import ScipyHuber, scipy_fit
    obj = ScipyHuber(pd.DataFrame({"N": N, "D": D, "loss": y}))
    f, th = scipy_fit(obj, [[0.5267228, 6.0073404, 6.0179186, 0.33917084, 0.2849083]])[:2]
    extra = {"objective": float(f), "alpha": float(th[3])}
elif which == "jaxlaws":
    import jaxlaws as jl
    boot = jl.bootstrap("chinchilla", {"N": N, "D": D, "loss": y}, n=B, seed=0, progress=False)
    extra = {"converged": int(boot.ok.sum())}
else:
    idx = np.random.default_rng(0).integers(0, n, size=(B, n))
    W = np.zeros((B, n))
    np.add.at(W, (np.repeat(np.arange(B), n), idx.reshape(-1)), 1.0)
    extra = {"converged": None}
print({"seconds": time.perf_counter() - t0, "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, **extra})
'''

SIZES = [(1_000, 20_000), (10_000, 2_000), (10_000, 20_000), (100_000, 2_000)]


def run(n, B, which):
    env = dict(os.environ, PYTHONPATH=REPO)
    r = subprocess.run([sys.executable, "-c", CHILD, str(n), str(B), which, os.path.join(REPO, "bench")],
                       capture_output=True, text=True, env=env,
                       timeout=3600)
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr else f"exit {r.returncode}"}
    import ast

    return ast.literal_eval(r.stdout.strip().splitlines()[-1])


FITS = [100_000, 1_000_000]


def main():
    out = os.path.join(REPO, "bench", "results", "memory.json")
    rows = []
    if "--fits" in sys.argv:  # keep the bootstrap rows of the last full run
        with open(out) as fh:
            rows = [r for r in json.load(fh) if "resamples" in r]
    for n in FITS:
        row = {"rows": n, "fit": run(n, 0, "jaxlaws_fit"), "scipy_one_start": run(n, 0, "scipy_fit")}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for n, B in (() if "--fits" in sys.argv else SIZES):
        jx = run(n, B, "jaxlaws")
        # the whole-matrix baseline needs ~24 bytes per cell: skip where that exceeds this machine
        npy = run(n, B, "numpy") if n * B * 24 < 12e9 else {"skipped": f"needs ~{n * B * 24 / 1e9:.0f} GB"}
        row = {"rows": n, "resamples": B, "jaxlaws": jx, "numpy_whole_matrix": npy}
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(out, "w") as fh:
        json.dump(rows, fh, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
