"""The numpy/scipy side of bench_design: the same design computation, and a cold-process job.

``np_design``: closed-form Jacobians of the Chinchilla law, the target's gradient by central
differences of scipy's bounded scalar minimiser, and the greedy updates of kernels.design
vectorised over candidates per step (both rules, the lower final variance kept).
Run as a script (``python bench/design_np_cold.py runs.csv``): fit Huber on log residuals with
L-BFGS-B from 100 of Epoch's grid starts, build the same candidate grid as ``jaxlaws
design --candidates grid`` and choose 20 runs for N_opt(1e24) with 1e21 FLOPs.
"""

import sys

import numpy as np

NAMES = ("E", "A", "B", "alpha", "beta")


def _jac(N, D, q):
    # d log L / d (log E, log A, log B, alpha, beta), closed form
    tA, tB = q["A"] * N ** -q["alpha"], q["B"] * D ** -q["beta"]
    L = q["E"] + tA + tB
    return np.stack([q["E"] / L, tA / L, tB / L, -tA * np.log(N) / L, -tB * np.log(D) / L], 1)


def np_design(p, df, cand, noise, TARGET_C=1e24, budget=1e21, n_max=20):
    import scipy.optimize

    def log_nopt(phi):
        q = {k: (np.exp(v) if k in "EAB" else v) for k, v in zip(NAMES, phi)}

        def f(u):
            return np.log(q["E"] + q["A"] * np.exp(-q["alpha"] * u) + q["B"] * (TARGET_C / (6 * np.exp(u))) ** -q["beta"])

        return scipy.optimize.minimize_scalar(f, bounds=(np.log(1e2), np.log(1e18)), method="bounded",
                                              options={"xatol": 1e-12}).x

    phi = np.array([np.log(p[k]) if k in "EAB" else p[k] for k in NAMES])
    g = np.array([(log_nopt(phi + h) - log_nopt(phi - h)) / 2e-4 for h in np.eye(5) * 1e-4])
    J0 = _jac(np.asarray(df.N, float), np.asarray(df.D, float), p)
    s2 = noise**2
    A = J0.T @ J0 / s2
    Jc = _jac(np.asarray(cand.N, float), np.asarray(cand.D, float), p)
    cost = 6 * np.asarray(cand.N, float) * np.asarray(cand.D, float)
    best = None
    for per_cost in (True, False):
        Ainv, B, spent, taken, picks = np.linalg.inv(A), A.copy(), 0.0, np.zeros(len(cost), bool), []
        for _ in range(n_max):
            u = Ainv @ g
            S = Jc @ Ainv
            k = (1 / s2) / (1 + (1 / s2) * np.sum(S * Jc, 1))
            H = u[None] - (k * (S @ g))[:, None] * S
            v = np.einsum("mp,pq,mq->m", H, B, H) + (1 / s2) * np.sum(Jc * H, 1) ** 2
            gain = u @ B @ u - v
            ok = (spent + cost <= budget) & ~taken & (gain > 0)
            if not ok.any():
                break
            i = int(np.argmax(np.where(ok, gain / cost if per_cost else gain, -np.inf)))
            s = Ainv @ Jc[i]
            Ainv = Ainv - (1 / s2) / (1 + (1 / s2) * Jc[i] @ s) * np.outer(s, s)
            B = B + np.outer(Jc[i], Jc[i]) / s2
            spent += cost[i]
            taken[i] = True
            picks.append(i)
        var = g @ Ainv @ B @ Ainv @ g
        if best is None or var < best[0]:
            best = (var, picks)
    return best[1]


def main(path):
    import pandas as pd

    from _common import EPOCH_GRID, ScipyHuber, scipy_fit

    df = pd.read_csv(path)
    obj = ScipyHuber(df)
    f, t, _ = scipy_fit(obj, EPOCH_GRID[::45])
    p = {"E": np.exp(t[0]), "A": np.exp(t[1]), "B": np.exp(t[2]), "alpha": t[3], "beta": t[4]}
    r = np.log(p["E"] + p["A"] / df.N.values ** p["alpha"] + p["B"] / df.D.values ** p["beta"]) - np.log(df.loss.values)
    noise = 1.4826 * np.median(np.abs(r - np.median(r)))
    n0, d0 = df.N.min() / 10, df.D.min() / 10
    N = np.logspace(np.log10(n0), np.log10(min(10 * df.N.max(), 1e21 / (6 * d0))), 100)
    D = np.logspace(np.log10(d0), np.log10(min(10 * df.D.max(), 1e21 / (6 * n0))), 100)
    NN, DD = (a.ravel() for a in np.meshgrid(N, D, indexing="ij"))
    ratio = df.D.values / df.N.values
    keep = (6 * NN * DD <= 1e21) & (DD / NN >= ratio.min() / 3) & (DD / NN <= 3 * ratio.max())
    cand = pd.DataFrame({"N": NN[keep], "D": DD[keep]})
    picks = np_design(p, df, cand, noise)
    print(cand.iloc[picks].to_string())


if __name__ == "__main__":
    sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
    main(sys.argv[1])
