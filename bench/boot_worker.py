"""One row of the bootstrap benchmark, in its own process (see bench_bootstrap.py)."""

import sys
import time
import warnings

import numpy as np

from _common import EPOCH_GRID, ScipyHuber, chinchilla_points, emit, scipy_fit

row = sys.argv[1]
df, label = chinchilla_points()
HOFF = [0.5267228, 6.0073404, 6.0179186, 0.33917084, 0.2849083]  # (e, a, b, alpha, beta)

if row == "scipy_single":
    import scipy.optimize

    import jaxlaws as jl

    W = jl.resample_weights(len(df), "epoch", 200, seed=42)
    t0 = time.perf_counter()
    for w in W:
        obj = ScipyHuber(df, weights=w)
        scipy.optimize.minimize(obj, HOFF, jac=True, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
    per = (time.perf_counter() - t0) / len(W)
    emit({"row": row, "per_resample_s": per, "n_measured": len(W)})

elif row == "scipy_grid":
    import jaxlaws as jl

    W = jl.resample_weights(len(df), "ordinary", 1, seed=1)
    t0 = time.perf_counter()
    scipy_fit(ScipyHuber(df, weights=W[0]), EPOCH_GRID)
    emit({"row": row, "per_resample_s": time.perf_counter() - t0, "n_measured": 1})

else:
    import jax

    import jaxlaws as jl

    warnings.simplefilter("ignore")
    n = int(sys.argv[2])
    full = jl.fit("chinchilla", df)
    kw = {}
    if row == "single":
        kw = dict(method="epoch", seed=42, strategy="single", start=jl.laws.chinchilla.coefficient_set("hoffmann2022_unrounded"))
    elif row in ("grid", "fast", "grid_independent"):
        kw = dict(method="ordinary", seed=1, strategy=row)
    t0 = time.perf_counter()
    b = jl.bootstrap("chinchilla", df, n=n, full_fit=full, chunk_size=500, **kw)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = jl.bootstrap("chinchilla", df, n=n, full_fit=full, chunk_size=500, **kw) if n <= 1000 or row != "grid_independent" else b
    warm = time.perf_counter() - t0 if (n <= 1000 or row != "grid_independent") else None
    np.save(f"/tmp/jaxlaws_bench_{row}_{n}.npy", b.objective)
    emit({"row": row, "n": n, "first_call_s": first, "warm_s": warm, "n_failed": b.n_failed,
          "devices": jax.device_count(), "data": label})
