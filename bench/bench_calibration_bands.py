"""Calibration of bands and derived intervals: simulation with known truth.

Two parts, each writing a JSON under ``bench/results`` that ``bench_calibration.py --render``
turns into README tables:

- ``--part chain``: two-stage data (a loss law L(x) = E + A x^-alpha on 15 runs over five
  decades of x with 1% log noise, then a link Err = epsilon - k exp(-gamma L) with noise 0.01),
  as in tests/test_chain.py. Per simulated data set: ``jl.chain`` with 200 joint draws; the
  coverage of the mean band of the loss (stage 1) and of the chained metric's band, at the
  largest run (interpolation) and at 10x and 100x its compute (extrapolation), at 80/90/95%.
- ``--part isoflop``: Approach 2 on Hoffmann et al.'s law at a textbook isoFLOP design (5
  budgets 1e18..1e22, 8 sizes each at 1/4..4x the optimal N, 1% log noise): the coverage of
  the percentile bootstrap interval of the exponent a of N*(C) = k C^a (its truth beta /
  (alpha + beta)), and of the design-simulated interval ``bias=`` gives (the estimate minus the
  quantiles of the simulated estimates' errors around the Approach-3 law's own a).

Monte Carlo SE of a coverage p over S data sets: sqrt(p (1 - p) / S) (2.1 points at 90%, 200).

    python bench/bench_calibration_bands.py --part chain
    python bench/bench_calibration_bands.py --part isoflop
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

import numpy as np

LEVELS = (0.8, 0.9, 0.95)
TL = dict(E=2.0, A=6e4, alpha=0.3)
TK = dict(epsilon=0.85, k=4.0, gamma=1.0)
X = np.geomspace(1e15, 1e20, 15)
AT = {"at the largest run": 1e20, "10x beyond": 1e21, "100x beyond": 1e22}
HOFF = dict(E=1.69, A=406.4, B=410.7, alpha=0.3392, beta=0.2849)


def _loss(x):
    return TL["E"] + TL["A"] * x ** -TL["alpha"]


def _metric(L):
    return TK["epsilon"] - TK["k"] * np.exp(-TK["gamma"] * L)


def simulate_chain(sims: int = 200, n_draws: int = 200, seed: int = 0) -> dict:
    import pandas as pd

    import jaxlaws as jl

    at = pd.DataFrame({"label": list(AT), "x": list(AT.values())})
    true_L = _loss(at.x.to_numpy())
    true_m = _metric(true_L)
    hits = {(q, j, lv): 0 for q in ("loss", "metric") for j in range(len(at)) for lv in LEVELS}
    used = {j: 0 for j in range(len(at))}
    n_used = []
    rng = np.random.default_rng(seed)
    for s in range(sims):
        L = _loss(X) * np.exp(0.01 * rng.standard_normal(X.size))
        runs = pd.DataFrame({"run": np.arange(X.size), "x": X, "loss": L})
        link = pd.DataFrame({"run": runs.run, "L": L, "err": _metric(L) + 0.01 * rng.standard_normal(X.size)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lf = jl.fit("power_law_constant", runs)
            kf = jl.fit("downstream_error", link, y="err")
            c = jl.chain(lf, kf, at, n=n_draws, seed=s)
        n_used.append(int(c.ok.all(0).sum()))
        tabs = {lv: c.table(lv) for lv in LEVELS}
        for j in range(len(at)):
            t9 = tabs[0.9]
            if not np.isfinite(t9.loc[j, "lower_0.9"]):
                continue  # refused (too few draws): counted apart
            used[j] += 1
            for lv, t in tabs.items():
                hits["loss", j, lv] += bool(t.loc[j, f"loss_lower_{lv:g}"] <= true_L[j] <= t.loc[j, f"loss_upper_{lv:g}"])
                hits["metric", j, lv] += bool(t.loc[j, f"lower_{lv:g}"] <= true_m[j] <= t.loc[j, f"upper_{lv:g}"])
    rows = []
    for q in ("loss", "metric"):
        for j, label in enumerate(AT):
            rows.append({"quantity": "loss mean band" if q == "loss" else "chained metric band", "where": label,
                         "used": used[j], "coverage": {str(lv): hits[q, j, lv] / max(used[j], 1) for lv in LEVELS}})
    return {"sims": sims, "n_draws": n_draws, "median_draws_used": float(np.median(n_used)), "rows": rows,
            "design": "15 runs x = 1e15..1e20; L = 2 + 6e4 x^-0.3, 1% log noise; Err = 0.85 - 4 exp(-L) + N(0, 0.01)"}


def simulate_isoflop(sims: int = 200, n_boot: int = 200, seed: int = 0, bias: int = 200) -> dict:
    import pandas as pd

    import jaxlaws as jl

    a_true = HOFF["beta"] / (HOFF["alpha"] + HOFF["beta"])
    G = (HOFF["alpha"] * HOFF["A"] / (HOFF["beta"] * HOFF["B"])) ** (1 / (HOFF["alpha"] + HOFF["beta"]))
    rows = []
    for C in np.geomspace(1e18, 1e22, 5):
        n_opt = G * (C / 6) ** a_true
        for N in n_opt * np.geomspace(0.25, 4, 8):
            rows.append((C, N, C / (6 * N)))
    base = pd.DataFrame(rows, columns=["C", "N", "D"])
    Lt = HOFF["E"] + HOFF["A"] / base.N ** HOFF["alpha"] + HOFF["B"] / base.D ** HOFF["beta"]
    rng = np.random.default_rng(seed)
    hits = {lv: 0 for lv in LEVELS}
    hits_sim = {lv: 0 for lv in LEVELS}
    hits_corr = 0
    used = refused = 0
    est, biases = [], []
    for s in range(sims):
        d = base.assign(loss=Lt * np.exp(0.01 * rng.standard_normal(len(base))))
        res = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lv in LEVELS:
                res[lv] = jl.isoflop(d, n=n_boot, seed=s, level=lv, bias=bias)
        a, lo, hi = res[0.9].a
        if not (np.isfinite(a) and np.isfinite(lo)):
            refused += 1
            continue
        used += 1
        est.append(a)
        for lv, r in res.items():
            hits[lv] += bool(r.a[1] <= a_true <= r.a[2])
            lo_s, hi_s = (r.bias or {}).get("a_interval_simulated", (np.nan, np.nan))
            hits_sim[lv] += bool(lo_s <= a_true <= hi_s)
        b = res[0.9].bias or {}
        if np.isfinite(b.get("bias_a", np.nan)):
            biases.append(b["bias_a"])
            hits_corr += bool(lo - b["bias_a"] <= a_true <= hi - b["bias_a"])
    return {"sims": sims, "n_boot": n_boot, "a_true": a_true, "used": used, "refused": refused,
            "coverage": {str(lv): hits[lv] / max(used, 1) for lv in LEVELS},
            "coverage_90_bias_shifted": hits_corr / len(biases) if biases else None,
            "coverage_simulated": {str(lv): hits_sim[lv] / max(used, 1) for lv in LEVELS},
            "mean_a": float(np.mean(est)) if est else None, "sd_a": float(np.std(est, ddof=1)) if len(est) > 1 else None,
            "mean_reported_bias": float(np.mean(biases)) if biases else None,
            "design": "Hoffmann's law; budgets 1e18..1e22 (5), 8 sizes at 1/4..4x N_opt; 1% log noise; parabola"}


def simulate_bootstrap_chinchilla(sims: int = 200, n_boot: int = 200, seed: int = 0) -> dict:
    """Percentile against BCa bootstrap intervals at the textbook isoFLOP design of the issue
    (Hoffmann's law, 5 budgets 1e18..1e22 x 8 sizes at 1/4..4x N_opt, 1% log noise, the default
    Huber fit): coverage of alpha, beta and a = beta / (alpha + beta) at 80/90/95%."""
    import pandas as pd

    import jaxlaws as jl

    a_true = HOFF["beta"] / (HOFF["alpha"] + HOFF["beta"])
    G = (HOFF["alpha"] * HOFF["A"] / (HOFF["beta"] * HOFF["B"])) ** (1 / (HOFF["alpha"] + HOFF["beta"]))
    rows = [(C, N, C / (6 * N)) for C in np.geomspace(1e18, 1e22, 5)
            for N in G * (C / 6) ** a_true * np.geomspace(0.25, 4, 8)]
    base = pd.DataFrame(rows, columns=["C", "N", "D"])
    Lt = HOFF["E"] + HOFF["A"] / base.N ** HOFF["alpha"] + HOFF["B"] / base.D ** HOFF["beta"]
    truth = {"alpha": HOFF["alpha"], "beta": HOFF["beta"], "a": a_true}
    rng = np.random.default_rng(seed)
    hits = {(q, m, lv): 0 for q in truth for m in ("percentile", "bca") for lv in LEVELS}
    used = 0
    for s in range(sims):
        d = base.assign(loss=Lt * np.exp(0.01 * rng.standard_normal(len(base))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = jl.bootstrap("chinchilla", d, n=n_boot, seed=s, progress=False)
        if b.fit.status != "converged":
            continue
        used += 1
        for q, t in truth.items():
            for m in ("percentile", "bca"):
                for lv in LEVELS:
                    iv = b.interval(q, level=lv, method=m)
                    hits[q, m, lv] += bool(iv.lower <= t <= iv.upper)
    return {"sims": sims, "n_boot": n_boot, "used": used,
            "coverage": {f"{q} {m}": {str(lv): hits[q, m, lv] / max(used, 1) for lv in LEVELS}
                         for q in truth for m in ("percentile", "bca")},
            "design": "Hoffmann's law; 5 budgets x 8 sizes (1/4..4x N_opt); 1% log noise; Huber 1e-3 (default)"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("chain", "isoflop", "bootstrap_chinchilla"), required=True)
    ap.add_argument("--sims", type=int, default=200)
    args = ap.parse_args()
    t0 = time.time()
    res = {"chain": simulate_chain, "isoflop": simulate_isoflop,
           "bootstrap_chinchilla": simulate_bootstrap_chinchilla}[args.part](args.sims)
    res["seconds"] = time.time() - t0
    out = pathlib.Path(__file__).parent / "results" / f"calibration_{args.part}.json"
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
