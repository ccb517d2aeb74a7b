"""``jaxlaws demo``: the built-in synthetic isoFLOP data, fitted end to end, with timings."""

from __future__ import annotations

import time


def run_demo(out_dir: str | None = None, n_boot: int = 1000, seed: int = 0, plots: bool = True) -> dict:
    import jax

    from ._demo_data import TRUTH, demo_data
    from ._fit import fit

    timings = {}
    df = demo_data(seed=seed)
    print(f"demo data: {len(df)} synthetic runs at {df.C.nunique()} isoFLOP budgets "
          f"(Hoffmann et al.'s law, 1% log-normal noise, {int(df.outlier.sum())} outliers; seed {seed})")
    t0 = time.perf_counter()
    res = fit("chinchilla", df)
    timings["fit (first call: compile + run)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = fit("chinchilla", df)
    timings["fit (warm)"] = time.perf_counter() - t0
    print(f"\nfit: Huber(1e-3) on log loss, {res.n_starts} starts ({res.counts['converged']} converged, "
          f"{res.counts['pruned_screen'] + res.counts['pruned_halving']} pruned), status {res.status}")
    print(f"{'parameter':>10} {'estimate':>12} {'truth':>12}")
    for k, v in res.params.items():
        print(f"{k:>10} {v:>12.5g} {TRUTH[k]:>12.5g}")
    print(f"\nbackend: {jax.default_backend()} ({jax.device_count()} device(s))")
    print("where the time went:")
    for k, v in timings.items():
        print(f"  {k:<34} {v:8.2f} s")
    return {"fit": res, "timings": timings}
