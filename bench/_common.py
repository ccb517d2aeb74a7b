"""Shared benchmark helpers: data, the scipy baseline objective, timing and memory.

Every workload runs in its own subprocess so that its peak resident memory (ru_maxrss) is its
own; timings are medians over repeats after a warm-up call, and compile time is reported
separately.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("JAXLAWS_SHARED_DATA", REPO.parent / "shared" / "data"))
EPOCH_GRID = np.array(
    list(itertools.product([-1, -0.5, 0, 0.5, 1], [0, 5, 10, 15, 20, 25], [0, 5, 10, 15, 20, 25],
                           [0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2])),
    dtype=float,
)  # columns (e, a, b, alpha, beta): the order of jaxlaws' chinchilla parameters (E, A, B, alpha, beta)


def chinchilla_points():
    """Epoch's 240 points if ../shared is present, else the built-in demo data (labelled)."""
    import pandas as pd

    p = SHARED / "chinchilla_epoch.csv"
    if p.exists():
        df = pd.read_csv(p)
        df = df[df.loss < np.sort(df.loss.values)[-5]].reset_index(drop=True)
        return df, "chinchilla_epoch.csv (240 points)"
    from jaxlaws._demo_data import demo_data

    return demo_data(), "built-in demo data (90 points; ../shared absent)"


class ScipyHuber:
    """Hoffmann et al.'s objective in numpy with an exact gradient (the scipy baseline).

    theta = (e, a, b, alpha, beta) in the raw coordinates Epoch and Hoffmann use.
    """

    def __init__(self, df, delta=1e-3, weights=None):
        self.lN = np.log(df.N.values)
        self.lD = np.log(df.D.values)
        self.ly = np.log(df.loss.values)
        self.delta = delta
        self.w = np.ones_like(self.ly) if weights is None else np.asarray(weights, float)

    def __call__(self, t):
        e, a, b, al, be = t
        z1, z2 = a - al * self.lN, b - be * self.lD
        m = np.maximum(np.maximum(z1, z2), e)
        s1, s2, s3 = np.exp(z1 - m), np.exp(z2 - m), np.exp(e - m)
        tot = s1 + s2 + s3
        r = m + np.log(tot) - self.ly
        d = self.delta
        ar = np.abs(r)
        q = np.minimum(ar, d)
        f = np.sum(self.w * q * (ar - 0.5 * q))
        psi = self.w * np.clip(r, -d, d)
        s1, s2, s3 = s1 / tot, s2 / tot, s3 / tot
        g = np.array([
            np.sum(psi * s3), np.sum(psi * s1), np.sum(psi * s2),
            -np.sum(psi * s1 * self.lN), -np.sum(psi * s2 * self.lD),
        ])
        return f, g


def scipy_fit(obj, starts, maxiter=2000):
    """L-BFGS-B from each start with tolerances tight enough for objectives ~1e-3."""
    import scipy.optimize

    best = (np.inf, None)
    fs = np.empty(len(starts))
    for i, t0 in enumerate(starts):
        r = scipy.optimize.minimize(obj, t0, jac=True, method="L-BFGS-B",
                                    options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": maxiter})
        fs[i] = r.fun
        if r.fun < best[0]:
            best = (r.fun, r.x)
    return best[0], best[1], fs


def timed(fn, repeats=3, warmup=True):
    """(first-call seconds, median warm seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats if warmup else 0):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return first, (statistics.median(times) if times else first), out


def wall(cmd, env=None, k=3):
    """(min, median) wall seconds of ``k`` runs of ``cmd`` as new processes (cold starts)."""
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_worker(script: str, *args, timeout=3600) -> dict:
    """Run ``bench/<script> args`` in a subprocess; it prints one JSON line last."""
    cmd = [sys.executable, str(REPO / "bench" / script), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def emit(d: dict):
    d["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(d))


def write_results(name: str, payload: dict):
    out = REPO / "bench" / "results" / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out
