"""One row of the solver benchmark, in its own process (see bench_solvers.py)."""

import sys

import numpy as np

from _common import EPOCH_GRID, ScipyHuber, chinchilla_points, emit, scipy_fit, timed

row, loss_name = sys.argv[1], sys.argv[2]
df, label = chinchilla_points()

if row == "scipy_screened":
    # the same start strategy (screen all, 8 iterations on the best 64, converge 16), run by
    # scipy L-BFGS-B on the same objective; squared loss is Huber with a delta beyond every residual
    import scipy.optimize

    obj = ScipyHuber(df, delta=1e-3 if loss_name == "huber" else 1e9)

    def run():
        f0 = np.array([obj(t)[0] for t in EPOCH_GRID])
        f0[~np.isfinite(f0)] = np.inf
        top = EPOCH_GRID[np.argsort(f0, kind="stable")[:64]]
        res = [scipy.optimize.minimize(obj, t, jac=True, method="L-BFGS-B",
                                       options={"maxiter": 8, "ftol": 1e-15, "gtol": 1e-12}) for t in top]
        keep = [res[i].x for i in np.argsort([r.fun for r in res], kind="stable")[:16]]
        return scipy_fit(obj, keep)

    first, warm, (f, x, fs) = timed(run, repeats=3)
    # ScipyHuber with a huge delta is 0.5 r^2 minus a constant offset per point: report 0.5 sum r^2
    emit({"row": row, "loss": loss_name, "seconds": warm, "objective": f, "iterations": None})
else:
    import jaxlaws as jl

    loss = jl.huber(1e-3) if loss_name == "huber" else jl.squared()
    strategy = jl.Strategy(solver=row)
    first, warm, res = timed(lambda: jl.fit("chinchilla", df, loss=loss, strategy=strategy), repeats=5)
    conv = res.start_status == 0
    emit({"row": row, "loss": loss_name, "seconds": warm, "first_call_seconds": first,
          "compile_seconds": first - warm, "objective": res.objective, "status": res.status,
          "iterations": int(res.iterations), "converged_starts": int(conv.sum()),
          "mean_iterations_kept": float(np.mean(res.start_iterations[res.start_iterations > 0])), "data": label})
