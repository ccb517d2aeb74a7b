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
