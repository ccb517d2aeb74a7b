"""Over-training and downstream-error laws (Gadre et al. 2024), with the authors' recipe."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._constraints import bounded, positive
from .._law import Law
from .._recipe import Recipe
from .._starts import NaturalPoints, grid
from ..kernels import lse
from ._common import bib, logspace

# ---- over-training and downstream (Gadre et al. 2024) --------------------------------------

GADRE = bib("gadre2024language", "Language models scale reliably with over-training and on downstream tasks",
             "Gadre, Samir Yitzhak and others", "arXiv:2403.08540", 2024)


def _overtrain_log(p, C, M):
    eta = p["eta"]
    inner = lse(jnp.log(p["a"]) + eta * jnp.log(M), jnp.log(p["b"]) - eta * jnp.log(M)) - eta * jnp.log(C)
    return lse(jnp.broadcast_to(jnp.log(p["E"]), inner.shape), inner)


def overtraining_from_authors(E: float, alpha: float, beta: float, b: float) -> dict:
    """Gadre et al.'s released parameterisation to this law's.

    Their code (mlfoundations/scaling ``scaling/laws.py``) writes the law in (N, M) as
    ``L = E + alpha N^b + beta 6^(b/2) (M N)^b`` with ``b < 0``. With ``N = sqrt(C / (6 M))``
    and ``D = M N = sqrt(C M / 6)`` this is ``E + (a M^eta + b' M^-eta) C^-eta`` with
    ``eta = -b/2``, ``a = alpha 6^eta`` and ``b' = beta``.
    """
    eta = -0.5 * b
    return {"E": E, "a": alpha * 6.0**eta, "b": beta, "eta": eta}


def _gadre_starts():
    # their curve_fit grid in their parameters: amplitudes {1e2, 3e2, 1e3, 3e3}, exponent b in
    # {-0.1, -0.3}, E in {0, 1, 2, 10} (E = 0 becomes 1e-3: E is positive here), converted
    pts = [overtraining_from_authors(E, al, be, b) for E in (1e-3, 1.0, 2.0, 10.0) for al in (1e2, 3e2, 1e3, 3e3)
           for be in (1e2, 3e2, 1e3, 3e3) for b in (-0.1, -0.3)]
    return NaturalPoints([[p[k] for k in ("E", "a", "b", "eta")] for p in pts])


_GADRE_LS = ("Gadre et al. 2024, mlfoundations/scaling: scipy curve_fit (least squares on raw values) from a grid of "
             "initial values, the fit with the lowest RMS residual kept")
overtraining = Law(
    lambda p, C, M: p["E"] + (p["a"] * M ** p["eta"] + p["b"] * M ** -p["eta"]) * C ** -p["eta"],
    name="overtraining", form_status="verified", inputs=("C", "M"), log_fn=_overtrain_log,
    source='Gadre et al. 2024, mlfoundations/scaling scaling/laws.py (the (N, M) form, converted)',
    params={"E": positive(), "a": positive(), "b": positive(), "eta": positive()},
    starts=grid(E=[1.0, 2.0], a=[1e2, 1e4, 1e6], b=[1e2, 1e4, 1e6], eta=[0.05, 0.15, 0.3]),
    citation=GADRE,
    recipes={"gadre2024": Recipe("gadre2024", _GADRE_LS + " (their grid, converted by overtraining_from_authors)",
                                 loss="squared", residual="raw", starts=_gadre_starts())},
    default_recipe="gadre2024",
    description=(
        "Over-training law (Gadre et al. 2024): L(C, M) = E + (a M^eta + b M^-eta) C^-eta.\n\n"
        "Inputs: C = training FLOPs (6ND), M = D/N tokens per parameter. With N = sqrt(C/(6M)) and "
        "D = sqrt(CM/6) it is Chinchilla's E + A N^-alpha + B D^-beta with alpha = beta = 2 eta "
        "(not eta), A = a 6^-eta, B = b 6^-eta; M* = (b/a)^(1/(2 eta)) minimises loss at fixed C."
    ),
    derived={"optimal_multiplier": lambda p: (p["b"] / p["a"]) ** (0.5 / p["eta"])},
    example=({"E": 1.8, "a": 3e3, "b": 2e5, "eta": 0.15},
             lambda seed=0: {"C": logspace(18, 22, 60)(seed), "M": logspace(0.5, 2.7, 60, 1)(seed)}),
)

downstream_error = Law(
    lambda p, L: p["epsilon"] - p["k"] * jnp.exp(-p["gamma"] * L), name="downstream_error", form_status="verified",
    source='Gadre et al. 2024, mlfoundations/scaling (decay_ours)',
    inputs={"L": "positive"}, params={"epsilon": bounded(0.0, 1.0), "k": positive(), "gamma": positive()},
    starts=grid(epsilon=[0.6, 0.8, 0.95], k=[1.0, 10.0, 100.0], gamma=[0.5, 1.0, 2.0]),
    citation=GADRE, output="average top-1 error",
    recipes={"gadre2024": Recipe("gadre2024", _GADRE_LS, loss="squared", residual="raw")},
    default_recipe="gadre2024",
    description=(
        "Loss-to-error link (Gadre et al. 2024): Err(L) = epsilon - k exp(-gamma L).\n\n"
        "Input: L = validation loss (nats/token). epsilon is the error at chance-like loss."
    ),
    example=({"epsilon": 0.85, "k": 5.0, "gamma": 1.0}, lambda seed=0: {"L": np.linspace(2.0, 4.0, 40)}),
)
