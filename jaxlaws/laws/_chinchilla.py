"""Hoffmann et al. (2022) Approach 3: ``L(N, D) = E + A / N^alpha + B / D^beta``."""

from __future__ import annotations

import math

import jax.numpy as jnp

from .._law import CoefficientSet, power_sum
from .._recipe import Recipe
from .._starts import grid

CITATION = """\
@article{hoffmann2022chinchilla,
  title   = {Training Compute-Optimal Large Language Models},
  author  = {Hoffmann, Jordan and Borgeaud, Sebastian and Mensch, Arthur and others},
  journal = {arXiv preprint arXiv:2203.15556},
  year    = {2022}
}
@article{besiroglu2024chinchilla,
  title   = {Chinchilla Scaling: A replication attempt},
  author  = {Besiroglu, Tamay and Erdil, Ege and Barnett, Matthew and You, Josh},
  journal = {arXiv preprint arXiv:2404.10102},
  year    = {2024}
}"""


def _exponent_a(p):
    """a = beta / (alpha + beta): N_opt grows as C^a under C = 6 N D."""
    return p["beta"] / (p["alpha"] + p["beta"])


def _exponent_b(p):
    """b = alpha / (alpha + beta): D_opt grows as C^b."""
    return p["alpha"] / (p["alpha"] + p["beta"])


def _G(p):
    """G = (alpha A / (beta B))^(1 / (alpha + beta)), in log space for range safety."""
    s = p["alpha"] + p["beta"]
    return jnp.exp((jnp.log(p["alpha"] * p["A"]) - jnp.log(p["beta"] * p["B"])) / s)


def n_opt(p, C):
    """Compute-optimal parameters under C = 6 N D: N_opt = G (C/6)^a."""
    return _G(p) * (C / 6.0) ** _exponent_a(p)


def d_opt(p, C):
    """Compute-optimal tokens under C = 6 N D: D_opt = (C/6)^b / G."""
    return (C / 6.0) ** _exponent_b(p) / _G(p)


def tokens_per_param(p, C):
    """D_opt / N_opt at compute C."""
    return d_opt(p, C) / n_opt(p, C)


def _design(seed=0):
    """An isoFLOP design: 12 sizes around the optimum at each of 6 budgets, D = C / 6N."""
    import numpy as np

    N, D = [], []
    for C in (1e18, 1e19, 1e20, 1e21, 1e22, 1e23):
        n0 = 0.6 * (C / 6) ** 0.5
        for n in n0 * np.logspace(-1, 1, 12):
            N.append(n)
            D.append(C / (6 * n))
    return {"N": np.array(N), "D": np.array(D)}


_HOFFMANN_SOURCE = ("Hoffmann et al. 2022, App. D.2: Huber (delta 1e-3) on log loss, summed; L-BFGS from a grid "
                    "alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}; the best kept")
RECIPES = {
    "hoffmann2022": Recipe("hoffmann2022", _HOFFMANN_SOURCE, loss="huber:1e-3", residual="log",
                           note="our damped Newton from the same grid replaces L-BFGS (it reaches the same or a lower optimum)"),
    "besiroglu2024": Recipe(
        "besiroglu2024", "Besiroglu et al. 2024 (Epoch AI), analyzing-chinchilla: Hoffmann's objective and grid on the "
        "points digitised from Hoffmann's Fig. 4, the 5 highest-loss points dropped (240 kept)",
        loss="huber:1e-3", residual="log", drop_highest=5,
        note="their published estimate maximises a Huber likelihood with a free scale from one start; the grid "
             "fit here reaches objective 1.01827e-3 (A=477.8, B=2143, E=1.8172, alpha=0.3473, beta=0.3672)"),
}

chinchilla = power_sum(
    "chinchilla",
    [("A", "alpha", "N"), ("B", "beta", "D")],
    form_status="verified",
    source="Hoffmann et al. 2022, Eq. 2 and Approach 3; Epoch's refit (Besiroglu et al. 2024) reproduced to the printed digits",
    constant="E",
    exponents="free",
    starts=grid(
        space="unconstrained",
        E=[-1.0, -0.5, 0.0, 0.5, 1.0],
        A=[0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
        B=[0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
        alpha=[0.0, 0.5, 1.0, 1.5, 2.0],
        beta=[0.0, 0.5, 1.0, 1.5, 2.0],
    ),
    citation=CITATION,
    recipes=RECIPES,
    coefficients={
        "hoffmann2022": CoefficientSet(
            {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
            "Hoffmann et al. 2022, eq. 10 (rounded as printed)",
            "verified", units={"N": "parameters", "D": "tokens"}, recipe="hoffmann2022",
        ),
        "hoffmann2022_unrounded": CoefficientSet(
            {
                "E": math.exp(0.5267228),
                "A": math.exp(6.0073404),
                "B": math.exp(6.0179186),
                "alpha": 0.33917084,
                "beta": 0.2849083,
            },
            "unrounded values (a=6.0073404, b=6.0179186, e=0.5267228) used by Besiroglu et al. "
            "2024 as their bootstrap start",
            "secondary", units={"N": "parameters", "D": "tokens"}, recipe="hoffmann2022",
        ),
        "besiroglu2024": CoefficientSet(
            {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658},
            "Besiroglu et al. 2024, refit to 240 points digitised from Hoffmann et al. Fig. 4",
            "secondary",
            "SEs: E 0.03, A 124.58, B 1293.23, alpha 0.02, beta 0.02", units={"N": "parameters", "D": "tokens"},
            recipe="besiroglu2024",
        ),
    },
    derived={
        "a": _exponent_a,
        "b": _exponent_b,
        "G": _G,
        "N_opt": n_opt,
        "D_opt": d_opt,
        "tokens_per_param": tokens_per_param,
    },
    output="loss (nats/token)",
    example=({"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}, lambda seed=0: _design(seed)),
    description=(
        "Chinchilla (Hoffmann et al. 2022, Approach 3): L(N, D) = E + A / N^alpha + B / D^beta.\n\n"
        "Inputs: N = total parameters (Hoffmann count, including embeddings), D = training "
        "tokens. Output: final training loss in nats/token. Fitted as log L = LSE(log A - "
        "alpha log N, log B - beta log D, log E) with a Huber(1e-3) loss summed over points. "
        "The default start grid is Hoffmann et al.'s: alpha, beta in {0, .5, ..., 2}, "
        "log E in {-1, -.5, ..., 1}, log A, log B in {0, 5, ..., 25} (4500 starts).\n\n"
        "Derived: a = beta/(alpha+beta), b = alpha/(alpha+beta), G = (alpha A/(beta B))^(1/(alpha+beta)), "
        "N_opt(C) = G (C/6)^a, D_opt(C) = (C/6)^b / G under C = 6 N D."
    ),
)
