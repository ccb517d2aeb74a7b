"""The built-in demo data set: synthetic isoFLOP runs generated from Hoffmann et al.'s law.

It is the project's own data (nothing digitised or copied), so it ships with the package and
``jaxlaws demo`` works on a fresh install. How it is made (``demo_data(seed=0)``):

* Law and truth: Chinchilla's form with Hoffmann et al.'s unrounded coefficients
  (E = e^0.5267228, A = e^6.0073404, B = e^6.0179186, alpha = 0.33917084, beta = 0.2849083).
* Design: Hoffmann et al.'s nine isoFLOP budgets, 6e18 ... 3e21 FLOPs; at each, 10 model
  sizes log-spaced from 1/10 to 10 times the budget's compute-optimal size under the true law,
  D = C / (6 N). 90 runs.
* Noise: multiplicative log-normal, sigma = 0.01 (about the scatter of Hoffmann et al.'s
  Figure 4 around their fit), plus 3 outlier runs whose loss is raised by 8-15%
  (diverged or badly tuned runs), chosen at random. numpy ``default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np

BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)
TRUTH = {
    "E": float(np.exp(0.5267228)),
    "A": float(np.exp(6.0073404)),
    "B": float(np.exp(6.0179186)),
    "alpha": 0.33917084,
    "beta": 0.2849083,
}


def demo_data(seed: int = 0, sizes_per_budget: int = 10, sigma: float = 0.01, n_outliers: int = 3):
    """Return the demo runs as a DataFrame with columns N, D, C, loss, outlier."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    p = TRUTH
    a = p["beta"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1.0 / (p["alpha"] + p["beta"]))
    rows = []
    for C in BUDGETS:
        n_opt = G * (C / 6.0) ** a
        for N in n_opt * np.logspace(-1, 1, sizes_per_budget):
            D = C / (6.0 * N)
            loss = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
            rows.append((N, D, C, loss))
    N, D, C, loss = (np.array(c) for c in zip(*rows))
    loss = loss * np.exp(sigma * rng.standard_normal(loss.shape))
    outlier = np.zeros(loss.shape, bool)
    idx = rng.choice(loss.size, size=n_outliers, replace=False)
    outlier[idx] = True
    loss[idx] *= 1.0 + rng.uniform(0.08, 0.15, size=n_outliers)
    return pd.DataFrame({"N": N, "D": D, "C": C, "loss": loss, "outlier": outlier})


# ---- the example kit: every file the README's commands read (``jaxlaws demo --write-examples``)

# Gadre et al. (2024)'s two-step design, simulated from a known truth (their runs are not
# shipped): over-training law with alpha = beta = 2 eta = 0.3, link Err = eps - k exp(-gamma L).
DOWNSTREAM_TRUTH = {"E": 1.8, "a": 200 * 6**0.15, "b": 500 * 6**0.15, "eta": 0.15}
LINK_TRUTH = {"epsilon": 0.85, "k": 3.0, "gamma": 0.7}
_SMALL_SIZES = (0.011e9, 0.079e9, 0.154e9, 0.411e9)


def downstream_runs(N, M, rng, label=None):
    """Runs of ``N`` parameters trained on ``M`` tokens per parameter under the downstream truth:
    loss with 1% log-normal noise, average top-1 error with 0.5 points of Gaussian noise.
    Columns run, N, M, C, loss, err."""
    import pandas as pd

    N, M = np.asarray(N, float), np.asarray(M, float)
    p, q = DOWNSTREAM_TRUTH, LINK_TRUTH
    C = 6 * N * (N * M)
    # the over-training law in closed form: E + (a M^eta + b M^-eta) C^-eta
    loss = p["E"] + (p["a"] * M ** p["eta"] + p["b"] * M ** -p["eta"]) * C ** -p["eta"]
    loss = loss * np.exp(0.01 * rng.standard_normal(N.size))
    err = q["epsilon"] - q["k"] * np.exp(-q["gamma"] * loss) + 0.005 * rng.standard_normal(N.size)
    run = label if label is not None else [f"{n / 1e9:.3f}B x{m:g}" for n, m in zip(N, M)]
    return pd.DataFrame({"run": run, "N": N, "M": M, "C": C, "loss": loss, "err": err})


def downstream_data(seed: int = 2024):
    """Gadre et al.'s fit set (four sizes at M = 20, the two smallest also at M = 40 ... 640) and
    the two large runs they predicted (1.4B at M = 640, 6.9B at M = 20), simulated."""
    rng = np.random.default_rng(seed)
    design = [(n, 20.0) for n in _SMALL_SIZES] + [(n, m) for n in _SMALL_SIZES[:2] for m in (40, 80, 160, 320, 640)]
    small = downstream_runs([d[0] for d in design], [d[1] for d in design], rng)
    big = downstream_runs([1.4e9, 6.9e9], [640.0, 20.0], rng, label=["1.4B x640 (896B tokens)", "6.9B x20 (138B tokens)"])
    return small, big


def task_data(seed: int = 3):
    """Three downstream tasks' error falling as a power law of compute (error = c C^a, 2%
    log-normal noise), eight budgets each: columns task, C, error."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    C = np.logspace(19, 22, 8)
    truth = {"arc": (40.0, -0.08), "hellaswag": (120.0, -0.11), "piqa": (9.0, -0.05)}
    frames = [pd.DataFrame({"task": t, "C": C, "error": c * C**a * np.exp(0.02 * rng.standard_normal(C.size))})
              for t, (c, a) in truth.items()]
    return pd.concat(frames, ignore_index=True)


def filtering_data(seed: int = 4):
    """Error after n samples from pools of P samples under Goyal et al.'s data-filtering law
    (their T-MARS top 0-10% pool's coefficients), 1% log-normal noise: columns n, P, error."""
    import jax.numpy as jnp
    import pandas as pd

    from ._util import x64
    from .laws import data_filtering

    rng = np.random.default_rng(seed)
    n, P = np.meshgrid(np.logspace(7, 9.5, 6), np.array([3e7, 3e8, 3e9]))  # at most 100 passes over a pool
    n, P = n.ravel(), P.ravel()
    truth = data_filtering.coefficients["goyal2024_tmars_top0to10p"].values
    @x64  # float64 whatever the caller's jax_enable_x64: the same table from the CLI and from Python
    def errors():
        return np.asarray(data_filtering(truth, jnp.asarray(n), jnp.asarray(P)))

    err = errors()
    return pd.DataFrame({"n": n, "P": P, "error": err * np.exp(0.01 * rng.standard_normal(n.size))})


USER_LAW = '''"""A user law for ``jaxlaws fit runs.csv --law my_laws.py:my_law`` (the README's Quickstart)."""
import jaxlaws as jl


@jl.law(inputs=("N", "D"),
        params={"E": jl.positive(), "A": jl.positive(), "B": jl.positive(),
                "alpha": jl.positive(), "beta": jl.positive()})
def my_law(p, N, D):
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
'''


def example_data(seed: int = 0) -> dict:
    """The project's own example tables, by name (each synthetic, from a known truth):

    ``runs`` (the demo's isoFLOP runs), ``bigger`` (larger (N, D) to predict at), ``tasks``
    (three tasks' error vs compute), ``curves`` (data-filtering curves), ``downstream`` and
    ``big`` (Gadre et al.'s two-step design and the two runs it predicts). ``jaxlaws demo
    --write-examples DIR`` writes them as CSV files, with ``my_laws.py``, for the README's
    commands.
    """
    import pandas as pd

    small, big = downstream_data()
    N = np.array([1e9, 7e9, 7e10])
    return {"runs": demo_data(seed=seed), "bigger": pd.DataFrame({"N": N, "D": 20 * N}), "tasks": task_data(),
            "curves": filtering_data(), "downstream": small, "big": big}


def example_files(seed: int = 0) -> dict:
    """Every file the README's commands read, by file name: the tables of ``example_data`` (to be
    written as CSV) and ``my_laws.py`` (text)."""
    files = {f"{name}.csv": table for name, table in example_data(seed).items()}
    files["my_laws.py"] = USER_LAW
    return files
