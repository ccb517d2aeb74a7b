"""Muennighoff et al. (2023): the data-constrained law with repeated data and excess parameters."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .._constraints import positive
from .._law import CoefficientSet, Law
from .._recipe import Recipe
from .._starts import grid
from ..kernels import lse

CITATION = """\
@inproceedings{muennighoff2023scaling,
  title     = {Scaling Data-Constrained Language Models},
  author    = {Muennighoff, Niklas and Rush, Alexander M. and Barak, Boaz and Le Scao, Teven and
               Piktus, Aleksandra and Tazi, Nouamane and Pyysalo, Sampo and Wolf, Thomas and
               Raffel, Colin},
  booktitle = {Advances in Neural Information Processing Systems},
  year      = {2023},
  note      = {arXiv:2305.16264}
}"""


def _n_opt_for_tokens(p, U):
    """Compute-optimal size for U tokens under the base Chinchilla law (their N_opt(C(U)))."""
    a, b, al, be = jnp.log(p["A"]), jnp.log(p["B"]), p["alpha"], p["beta"]
    logG = (jnp.log(al) + a - jnp.log(be) - b) / (al + be)
    # C(U) = 6 (G U)^((al+be)/al); N_opt(C) = G (C/6)^(be/(al+be)), all in logs.
    log_c6 = (al + be) / al * (logG + jnp.log(U))
    return jnp.exp(logG + be / (al + be) * log_c6)


def effective_data(p, D, U):
    """D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)), U_D = min(U, D), R_D = D/U_D - 1 repeated epochs.

    U_D = min(U, D): a run shorter than one epoch sees D unique tokens, not U (the authors'
    runs all repeat, D >= U, where this is their U_D = U).
    """
    U_D = jnp.minimum(U, D)
    R_D = jnp.maximum(D / U_D - 1.0, 0.0)
    return U_D + U_D * p["R_D"] * (-jnp.expm1(-R_D / p["R_D"]))


def effective_params(p, N, U, D=None):
    """N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)), U_N = min(N, N_opt(U_D)), R_N = max(N/U_N - 1, 0)."""
    U_D = U if D is None else jnp.minimum(U, D)
    U_N = jnp.minimum(N, _n_opt_for_tokens(p, U_D))
    R_N = jnp.maximum(N / U_N - 1.0, 0.0)
    return U_N + U_N * p["R_N"] * (-jnp.expm1(-R_N / p["R_N"]))


def _fn(p, N, D, U):
    Np = effective_params(p, N, U, D)
    Dp = effective_data(p, D, U)
    return p["E"] + p["A"] / Np ** p["alpha"] + p["B"] / Dp ** p["beta"]


def _log_fn(p, N, D, U):
    Np = effective_params(p, N, U, D)
    Dp = effective_data(p, D, U)
    z1 = jnp.log(p["A"]) - p["alpha"] * jnp.log(Np)
    z2 = jnp.log(p["B"]) - p["beta"] * jnp.log(Dp)
    return lse(z1, z2, jnp.broadcast_to(jnp.log(p["E"]), z1.shape))


def _design(seed=0):
    """Runs at several sizes, unique-data budgets and epoch counts (1 to 60), as in the paper."""
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(8, 9.5, 150)
    U = 10 ** rng.uniform(8.5, 10, 150)
    D = U * rng.choice([1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0], 150)
    return {"N": N, "D": D, "U": U}


_PUB = {
    "E": math.exp(0.6254804), "A": math.exp(6.255414), "B": math.exp(7.3049974),
    "alpha": 0.3526596, "beta": 0.3526596, "R_D": 15.387756, "R_N": 5.309743,
}

_STAGE1 = ("E", "A", "B", "alpha", "beta")
RECIPES = {
    "muennighoff2023": Recipe(
        "muennighoff2023", "Muennighoff et al. 2023, datablations utils/parametric_fit.ipynb, stage 2: with A, B, E, "
        "alpha = beta frozen at their stage-1 values, R_D*, R_N* fitted by Huber (delta 1e-3) on log loss, summed, "
        "over the 182 curated runs, from a 4 x 4 grid R_D*, R_N* in linspace(0, 20, 4)",
        loss="huber:1e-3", residual="log", fixed={k: _PUB[k] for k in _STAGE1},
        starts=grid(**{k: [_PUB[k]] for k in _STAGE1}, R_D=[0.01, 20 / 3, 40 / 3, 20.0], R_N=[0.01, 20 / 3, 40 / 3, 20.0]),
        where=("in_final_fit == 1",), units={"N": "parameters", "D": "tokens", "U": "tokens"},
        note="'in_final_fit' is the curated-run flag of the released table; the grid's 0 is 0.01 here (R* > 0). "
             "The optimum is flat along R_D* (about +-0.1)"),
}

muennighoff = Law(
    _fn,
    name="data_constrained", form_status="verified",
    source="Muennighoff et al. 2023, huggingface/datablations README and code; its L(6.34e9, 242e9, 25e9) reproduced",
    inputs=("N", "D", "U"),
    params={k: positive() for k in ("E", "A", "B", "alpha", "beta", "R_D", "R_N")},
    log_fn=_log_fn,
    # one corpus (a single U) is the usual case: repetition still varies through D / U
    constant_ok=("U",),
    starts=grid(E=[1.5, 2.0], A=[100.0, 1000.0], B=[300.0, 3000.0], alpha=[0.25, 0.4], beta=[0.25, 0.4],
                R_D=[5.0, 20.0], R_N=[2.0, 10.0]),
    example=(_PUB, lambda seed=0: _design(seed)),
    citation=CITATION,
    recipes=RECIPES,
    coefficients={
        "muennighoff2023": CoefficientSet(
            _PUB,
            "huggingface/datablations README 'Parametric Fit' (a=6.255414, b=7.3049974, e=0.6254804, "
            "alpha=beta=0.3526596, R_D*=15.387756, R_N*=5.309743)",
            "verified",
            "A, B, E, alpha, beta were fitted to Chinchilla's C4 isoFLOP points; R_D*, R_N* to 182 curated runs",
            units={"N": "parameters", "D": "tokens", "U": "tokens"}, recipe="muennighoff2023",
        ),
    },
    derived={
        "effective_data": effective_data,
        "effective_params": effective_params,
        "n_opt_for_tokens": _n_opt_for_tokens,
    },
    output="validation loss (nats/token, C4)",
    description=(
        "Data-constrained law (Muennighoff et al. 2023): L = E + A/N'^alpha + B/D'^beta with effective "
        "data D' = U_D + U_D R_D* (1 - exp(-R_D/R_D*)), U_D = min(U, D), R_D = D/U_D - 1 repeated epochs, "
        "and effective parameters N' = U_N + U_N R_N* (1 - exp(-R_N/R_N*)), U_N = min(N, N_opt(U_D)), "
        "R_N = N/U_N - 1.\n\n"
        "Inputs: N = parameters, D = total training tokens, U = unique tokens. R_D* ~ 15.4 means "
        "repeated tokens lose value with a half-life of about 15 epochs; up to ~4 epochs are "
        "almost as good as new data. Fit R_D*, R_N* with the base coefficients fixed, as the authors did "
        "(jaxlaws.fit(..., fixed={...}))."
    ),
)
