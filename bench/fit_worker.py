"""One row of the single-fit benchmark, in its own process (see bench_fit.py)."""

import sys

import numpy as np

from _common import EPOCH_GRID, ScipyHuber, chinchilla_points, emit, scipy_fit, timed

row = sys.argv[1]
df, label = chinchilla_points()

if row == "scipy_all":
    obj = ScipyHuber(df)
    # One pass over all 4500 starts: minutes, so no repeats.
    first, warm, (f, x, fs) = timed(lambda: scipy_fit(obj, EPOCH_GRID), repeats=0, warmup=False)
    reached = int(np.sum(np.abs(fs / f - 1) < 1e-6))
    emit({"row": row, "seconds": warm, "objective": f, "starts_reaching_best": reached, "n_starts": len(EPOCH_GRID)})

elif row == "scipy_screened":
    # jaxlaws' strategy, run by scipy: screen all starts by objective, 8 iterations on the
    # best 64, converge the best 16.
    obj = ScipyHuber(df)

    def run():
        f0 = np.array([obj(t)[0] for t in EPOCH_GRID])
        f0[~np.isfinite(f0)] = np.inf
        top = EPOCH_GRID[np.argsort(f0, kind="stable")[:64]]
        import scipy.optimize

        res = [scipy.optimize.minimize(obj, t, jac=True, method="L-BFGS-B", options={"maxiter": 8, "ftol": 1e-15, "gtol": 1e-12}) for t in top]
        keep = [res[i].x for i in np.argsort([r.fun for r in res], kind="stable")[:16]]
        return scipy_fit(obj, keep)

    first, warm, (f, x, fs) = timed(run, repeats=3)
    emit({"row": row, "seconds": warm, "objective": f, "n_starts": len(EPOCH_GRID)})

elif row == "jaxlaws":
    import jaxlaws as jl

    first, warm, res = timed(lambda: jl.fit("chinchilla", df), repeats=7)
    emit({
        "row": row, "seconds": warm, "first_call_seconds": first, "compile_seconds": first - warm,
        "objective": res.objective, "n_starts": res.n_starts, "start_counts": res.counts,
        "status": res.status, "data": label,
    })
else:
    raise SystemExit(f"unknown row {row}")
