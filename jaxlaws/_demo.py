"""``jaxlaws demo``: the built-in synthetic isoFLOP data, fitted, bootstrapped and used for an
allocation with intervals, with where the time went (compile vs run)."""

from __future__ import annotations

import os

import time
import warnings

import numpy as np


def _timed(timings, label, fn):
    t0 = time.perf_counter()
    out = fn()
    timings[label] = time.perf_counter() - t0
    return out


def miss_note(missed, total, level, what, shared=False) -> str:
    """How often a truth outside a band is expected: a ``level`` band misses in ``1 - level`` of
    data sets like this one; bands computed from the same draws (one per budget) miss together."""
    if not missed:
        return f"the truth is inside all {total} {what}"
    rate = f"a band at {level:.0%} misses the truth in {1 - level:.0%} of data sets like this one"
    if shared:
        return (f"the truth is outside {len(missed)} of {total} {what} ({', '.join(missed)}): {rate}, and these bands "
                f"all come from the same bootstrap draws, so they miss together (one miss of the fit, not "
                f"{len(missed)})")
    expect = total * (1 - level)
    return (f"the truth is outside {len(missed)} of {total} {what} ({', '.join(missed)}): {rate}, so about "
            f"{expect:.1f} of {total} would miss if they were independent (they are correlated)")


def run_demo(out_dir: str | None = None, n_boot: int = 1000, seed: int = 0) -> dict:
    import jax

    from ._allocate import compute_optimal
    from ._bootstrap import bootstrap
    from ._demo_data import TRUTH, demo_data
    from ._errors import ConvergenceWarning
    from ._fit import fit

    timings = {}
    df = demo_data(seed=seed)
    print(f"demo data: {len(df)} synthetic runs at {df.C.nunique()} isoFLOP budgets "
          f"(Hoffmann et al.'s law, 1% log-normal noise, {int(df.outlier.sum())} outliers; seed {seed})")
    _timed(timings, "fit: first call (compile + run)", lambda: fit("chinchilla", df))
    res = _timed(timings, "fit: warm", lambda: fit("chinchilla", df))
    print(f"\nfit: Huber(1e-3) on log loss, {res.n_starts} starts ({res.counts['converged']} converged, "
          f"{res.counts['pruned_screen'] + res.counts['pruned_halving']} pruned), status {res.status}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        boot = _timed(timings, f"bootstrap {n_boot}: first call", lambda: bootstrap("chinchilla", df, n=n_boot, seed=seed, full_fit=res))
        boot = _timed(timings, f"bootstrap {n_boot}: warm", lambda: bootstrap("chinchilla", df, n=n_boot, seed=seed, full_fit=res))
    print(f"bootstrap: {boot.n_resamples} resamples, {boot.n_resamples - boot.n_failed} converged")
    print(f"\n{'parameter':>10} {'estimate':>11} {'SE':>9} {'95% interval':>24} {'truth':>10}")
    a_true = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    misses = []
    for k, truth in [*((k, TRUTH[k]) for k in boot.params), ("a", a_true)]:
        iv = boot.interval(k)
        out = not (iv.lower <= truth <= iv.upper)
        misses += [k] if out else []
        print(f"{k:>10} {iv.estimate:>11.5g} {iv.se:>9.3g}   [{iv.lower:>9.5g}, {iv.upper:>9.5g}] {truth:>10.5g}"
              + ("  <- truth outside" if out else ""))
    print(miss_note(misses, len(boot.params) + 1, 0.95, "intervals"))

    C = np.array([1e20, 1e21, 1e22, 1e23, 1e24, 1e25])
    point = _timed(timings, "allocation: point", lambda: compute_optimal("chinchilla", res, C))
    band = _timed(timings, "allocation: over bootstrap draws", lambda: compute_optimal("chinchilla", boot, C)).quantiles((0.1, 0.5, 0.9))
    truth = compute_optimal("chinchilla", TRUTH, C)
    print("\ncompute-optimal allocation under C = 6 N D (80% bands from the bootstrap draws)")
    print(f"{'C':>8} {'N_opt':>10} {'80% band':>23} {'D/N':>7} {'80% band':>16} {'true D/N':>9}")
    out = []
    for j, c in enumerate(C):
        r = band.iloc[j]
        lo, hi = r['tokens_per_param_q0.1'], r['tokens_per_param_q0.9']
        out += [f"{c:.0e}"] if not lo <= truth.tokens_per_param[j] <= hi else []
        print(f"{c:>8.0e} {point.N[j]:>10.3g} [{r['N_opt_q0.1']:>9.3g}, {r['N_opt_q0.9']:>9.3g}] "
              f"{point.tokens_per_param[j]:>7.1f} [{lo:>6.1f}, {hi:>6.1f}] {truth.tokens_per_param[j]:>9.1f}"
              + ("  <- truth outside" if out and out[-1] == f"{c:.0e}" else ""))
    print(miss_note(out, len(C), 0.8, "D/N bands", shared=True))
    plots = []
    if out_dir:
        try:
            from ._plots import fit_figures

            from ._cli_output import staged_folder

            with staged_folder(out_dir) as tmp:  # all figures or none (see staged_folder)
                plots = _timed(timings, "plots", lambda: fit_figures(tmp, df, res, boot))
            plots = [os.path.join(out_dir, os.path.basename(p)) for p in plots]
        except ImportError:
            print("\n(plots skipped: pip install 'jaxlaws[plot]' for matplotlib)")
    if plots:
        print(f"\nwrote {len(plots)} plots to {out_dir}/: " + ", ".join(p.rsplit('/', 1)[-1] for p in plots))
    print(f"\nbackend: {jax.default_backend()} ({jax.device_count()} device(s))")
    print("where the time went:")
    for k, v in timings.items():
        print(f"  {k:<36} {v:8.2f} s")
    print(f"  {'total':<36} {sum(timings.values()):8.2f} s")
    return {"fit": res, "bootstrap": boot, "allocation": point, "timings": timings, "plots": plots}
