"""Candidate runs for experiment design, and the baselines a design is compared with.

``candidate_runs`` builds the set ``design`` chooses from: a log grid over (N, D) spanning the
fitted runs' sizes and what the budget affords, or isoFLOP ladders (runs of equal compute C
spread around the law's own N_opt(C)). ``isoflop_extension`` and ``random_runs`` are the two
ways of spending the same compute that a chosen design has to beat: one more isoFLOP profile,
as a lab would add, and affordable candidates drawn at random.
"""

from __future__ import annotations

import numpy as np

from ._errors import OptionError
from ._util import x64

KINDS = ("grid", "isoflop")


def _frame(N, D, k, inputs):
    import pandas as pd

    df = pd.DataFrame({"N": np.asarray(N, float), "D": np.asarray(D, float)})
    for name, v in dict(inputs or {}).items():
        df[name] = float(v)
    df["C"] = k * df["N"] * df["D"]
    return df


def _range(x):
    return float(np.min(x)), float(np.max(x))


@x64
def candidate_runs(fit, budget: float, *, kind: str = "grid", n: int = 100, flops_per_token: float = 6.0,
                   inputs=None, n_budgets: int = 7, decades: float = 3.0):
    """Candidate runs (a DataFrame with N, D, the held inputs and their cost C = k N D).

    ``grid``: ``n`` x ``n`` log-spaced N and D from a tenth of the fitted runs' smallest sizes up
    to what one run within ``budget`` can reach (at most 10x the largest fitted N and D), keeping
    runs that cost at most ``budget`` and whose tokens per parameter D/N lie within 3x of the
    fitted runs' range. ``isoflop``: ``n_budgets`` compute levels log-spaced over ``decades``
    below ``budget``, each a ladder of ``n`` sizes over one decade either side of the law's own
    N_opt(C) (the compute-optimal point, from ``compute_optimal``).
    """
    if kind not in KINDS:
        raise OptionError(f"candidates kind {kind!r} must be one of {KINDS} (or give a table of runs)")
    if not {"N", "D"} <= set(fit.law.inputs):
        raise OptionError(f"candidate_runs builds (N, D) runs; {fit.law.name} has inputs {list(fit.law.inputs)}: give a table")
    if not (budget > 0) or int(n) < 2:
        raise OptionError(f"budget={budget!r} must be positive and n={n!r} at least 2")
    k = float(flops_per_token)
    if kind == "grid":
        X = fit.prepared.used()[0]
        (n0, n1), (d0, d1) = _range(X["N"]), _range(X["D"])
        # a decade below the smallest fitted runs (small runs are cheap and pin the size terms,
        # as the low end of an isoFLOP profile does) up to 10x the largest
        n0, d0 = n0 / 10, d0 / 10
        N = np.logspace(np.log10(n0), np.log10(max(min(10 * n1, budget / (k * d0)), n0)), int(n))
        D = np.logspace(np.log10(d0), np.log10(max(min(10 * d1, budget / (k * n0)), d0)), int(n))
        NN, DD = np.meshgrid(N, D, indexing="ij")
        NN, DD = NN.ravel(), DD.ravel()
        # tokens per parameter within 3x of the range the fitted runs cover: the law was never
        # checked at, say, 0.01 tokens per parameter, so a design should not bet on it there
        r = _range(X["D"] / X["N"])
        keep = (k * NN * DD <= budget * (1 + 1e-12)) & (DD / NN >= r[0] / 3) & (DD / NN <= 3 * r[1])
        return _frame(NN[keep], DD[keep], k, inputs).reset_index(drop=True)
    from ._allocate import compute_optimal

    Cs = np.logspace(np.log10(budget) - decades, np.log10(budget), int(n_budgets))
    opt = compute_optimal(fit.law, fit, Cs, flops_per_token=k, inputs=inputs)
    steps = np.linspace(-1.0, 1.0, int(n))
    NN = (opt.N[:, None] * 10.0 ** steps[None, :]).ravel()
    DD = (Cs[:, None] / (k * NN.reshape(len(Cs), -1))).ravel()
    return _frame(NN, DD, k, inputs)


@x64
def isoflop_extension(fit, budget: float, *, n_points: int = 8, flops_per_token: float = 6.0, inputs=None,
                      span: float = 1.0):
    """One new isoFLOP profile costing ``budget`` in total: ``n_points`` runs of compute
    ``budget / n_points`` each, log-spaced over ``span`` decades either side of the law's own
    N_opt at that compute."""
    from ._allocate import compute_optimal

    if int(n_points) < 2:
        raise OptionError(f"n_points={n_points!r}: an isoFLOP profile needs at least 2 runs")
    C = budget / int(n_points)
    k = float(flops_per_token)
    opt = compute_optimal(fit.law, fit, [C], flops_per_token=k, inputs=inputs)
    N = opt.N[0] * 10.0 ** np.linspace(-span, span, int(n_points))
    return _frame(N, C / (k * N), k, inputs)


def random_runs(candidates, budget: float, *, n_max: int | None = None, seed: int = 0, cost: str = "C"):
    """Candidates drawn at random (without replacement), each kept while it fits in what is left
    of ``budget`` (up to ``n_max`` runs when given): the no-model baseline of the same compute."""
    c = np.asarray(candidates[cost], float)
    order = np.random.default_rng(seed).permutation(len(c))
    keep, spent = [], 0.0
    for i in order:
        if spent + c[i] <= budget:
            keep.append(i)
            spent += c[i]
            if n_max is not None and len(keep) >= n_max:
                break
    return candidates.iloc[keep].reset_index(drop=True)
