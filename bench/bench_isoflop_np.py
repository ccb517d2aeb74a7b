"""The numpy baseline of bench_isoflop.py as a module, for the cold-process comparison."""

import numpy as np
import pandas as pd


def numpy_isoflop(df, n, seed):
    rng = np.random.default_rng(seed)
    budgets = np.unique(df.C)
    rows = [df.index[df.C == c][np.argsort(df.N[df.C == c].to_numpy(), kind="stable")] for c in budgets]
    counts = [rng.multinomial(len(r), np.full(len(r), 1 / len(r)), size=n) for r in rows]
    a = np.empty(n)
    for b in range(n):
        lc, ln = [], []
        for g, r in enumerate(rows):
            x, y, w = np.log(df.N[r].to_numpy()), np.log(df.loss[r].to_numpy()), counts[g][b]
            keep = w > 0
            if keep.sum() < 4:
                continue
            c2, c1, _ = np.polyfit(x[keep], y[keep], 2, w=np.sqrt(w[keep]))
            xs = -c1 / (2 * c2)
            if c2 > 0 and x[keep].min() < xs < x[keep].max():
                lc.append(np.log(budgets[g]))
                ln.append(xs)
        a[b] = np.polyfit(lc, ln, 1)[0] if len(lc) >= 2 else np.nan
    return a


def run(path, n=1000, seed=0):
    a = numpy_isoflop(pd.read_csv(path), n, seed)
    print(float(np.nanmedian(a)))
