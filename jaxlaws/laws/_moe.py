"""Joint MoE scaling law (Ludziejewski et al. 2025): loss of dense and mixture-of-experts models."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._constraints import free, positive
from .._law import CoefficientSet, Law
from .._starts import grid
from ..kernels import lse

CITATION = """\
@article{ludziejewski2025joint,
  title   = {Joint MoE Scaling Laws: Mixture of Experts Can Be Memory Efficient},
  author  = {Ludziejewski, Jan and Pi{\\'o}ro, Maciej and Krajewski, Jakub and others},
  journal = {arXiv preprint arXiv:2502.05172},
  year    = {2025}
}"""


def _design(seed=0):
    rng = np.random.default_rng(seed)
    n = 240
    return {"N": 10 ** rng.uniform(7, 9.5, n), "D": 10 ** rng.uniform(9, 11.5, n),
            "E": rng.choice([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0], n)}


def _fn(p, N, D, E):
    # L = c + a E^delta N^-(alpha + gamma ln E) + b E^omega D^-(beta + zeta ln E); E = 1 is dense.
    lE = jnp.log(E)
    t1 = p["a"] * jnp.exp(p["delta"] * lE - (p["alpha"] + p["gamma"] * lE) * jnp.log(N))
    t2 = p["b"] * jnp.exp(p["omega"] * lE - (p["beta"] + p["zeta"] * lE) * jnp.log(D))
    return p["c"] + t1 + t2


def _log_fn(p, N, D, E):
    lE = jnp.log(E)
    z1 = jnp.log(p["a"]) + p["delta"] * lE - (p["alpha"] + p["gamma"] * lE) * jnp.log(N)
    z2 = jnp.log(p["b"]) + p["omega"] * lE - (p["beta"] + p["zeta"] * lE) * jnp.log(D)
    return lse(z1, z2, jnp.broadcast_to(jnp.log(p["c"]), z1.shape))


joint_moe = Law(
    _fn,
    name="joint_moe", form_status="secondary",
    inputs=("N", "D", "E"),
    params={"a": positive(), "alpha": free(), "gamma": free(), "delta": free(),
            "b": positive(), "beta": free(), "zeta": free(), "omega": free(), "c": positive()},
    log_fn=_log_fn,
    starts=grid(a=[10.0, 50.0], alpha=[0.15, 0.3], gamma=[-0.01, 0.01], delta=[0.0, 0.3], b=[10.0, 50.0],
                beta=[0.15, 0.3], zeta=[0.0, 0.03], omega=[-0.5, 0.0], c=[1.0, 1.5]),
    example=({"a": 35.91, "alpha": 0.1889, "gamma": -0.0098, "delta": 0.2285, "b": 35.98, "beta": 0.1775,
              "zeta": 0.0259, "omega": -0.5529, "c": 1.3637}, lambda seed=0: _design(seed)),
    citation=CITATION,
    coefficients={
        "ludziejewski2025_secondary": CoefficientSet(
            {"a": 35.91, "alpha": 0.1889, "gamma": -0.0098, "delta": 0.2285,
             "b": 35.98, "beta": 0.1775, "zeta": 0.0259, "omega": -0.5529, "c": 1.3637},
            "secondary summary of Ludziejewski et al. 2025 (arXiv:2502.05172); the copy dropped minus "
            "signs, so the exponents are read as decay rates (N^-(alpha + gamma ln E)); E enters raw, "
            "without the paper's saturating transform",
            "unverified",
            "verify against the paper before relying on these numbers",
        ),
    },
    output="final loss (nats/token)",
    description=(
        "Joint MoE law (Ludziejewski et al. 2025): L(N, D, E) = c + a E^delta N^-(alpha + gamma ln E) "
        "+ b E^omega D^-(beta + zeta ln E).\n\nInputs: N = active parameters (per token), D = training "
        "tokens, E = number of experts (E = 1 is a dense model). With a memory budget on total "
        "parameters and a compute budget 6 N D, it answers how many experts and how large an active "
        "model to train (jaxlaws.moe_optimal). The shipped coefficients are unverified."
    ),
)


# ---- Abnar et al. 2025: optimal sparsity ----------------------------------------------------

ABNAR = """\
@inproceedings{abnar2025parameters,
  title     = {Parameters vs {FLOP}s: Scaling Laws for Optimal Sparsity for Mixture-of-Experts Language Models},
  author    = {Abnar, Samira and Shah, Harshay and Busbridge, Dan and El-Nouby, Alaaeldin and
               Susskind, Joshua M. and Thilak, Vimal},
  booktitle = {Proceedings of the 42nd International Conference on Machine Learning},
  series    = {PMLR},
  volume    = {267},
  pages     = {204--230},
  year      = {2025},
  note      = {arXiv:2501.12370}
}"""


def _abnar_terms(p, N, D, S):
    # log(1 - S) as log1p(-S): exact for the small sparsities near dense (S -> 0), where
    # log(1 - S) would lose digits to cancellation.
    l1s = jnp.log1p(-S)
    lN = jnp.log(N)
    return (
        jnp.log(p["a"]) - p["alpha"] * lN,
        jnp.log(p["b"]) - p["beta"] * jnp.log(D),
        jnp.log(p["c"]) - p["lam"] * l1s,
        jnp.log(p["d"]) - p["delta"] * l1s - p["gamma"] * lN,
    )


def _abnar_log(p, N, D, S):
    zs = _abnar_terms(p, N, D, S)
    return lse(*zs, jnp.broadcast_to(jnp.log(p["e"]), zs[0].shape))


def _abnar_design(seed=0):
    """Total sizes 1e8..1e10, 1e9..1e11 tokens, sparsity from dense to 31/32 inactive experts."""
    rng = np.random.default_rng(seed)
    n = 240
    return {"N": 10 ** rng.uniform(8, 10, n), "D": 10 ** rng.uniform(9, 11, n),
            "S": rng.choice([0.0, 0.5, 0.75, 0.875, 0.9375, 0.96875], n)}


moe_sparsity = Law(
    lambda p, N, D, S: jnp.exp(_abnar_log(p, N, D, S)),
    name="moe_sparsity", form_status="secondary",
    inputs={"N": "positive", "D": "positive", "S": "fraction"},
    params={"a": positive(), "alpha": positive(), "b": positive(), "beta": positive(), "c": positive(),
            "lam": free(), "d": positive(), "delta": free(), "gamma": positive(), "e": positive()},
    log_fn=_abnar_log,
    starts=grid(a=[100.0, 1000.0], alpha=[0.2, 0.4], b=[100.0, 1000.0], beta=[0.2, 0.4], c=[0.01, 0.1],
                lam=[-0.3, 0.3], d=[10.0, 100.0], delta=[-0.3, 0.3], gamma=[0.2], e=[1.5]),
    example=({"a": 400.0, "alpha": 0.34, "b": 400.0, "beta": 0.28, "c": 0.15, "lam": 0.35, "d": 60.0,
              "delta": 0.5, "gamma": 0.3, "e": 1.7}, _abnar_design),
    citation=ABNAR,
    output="pre-training loss (nats/token)",
    description=(
        "MoE sparsity law (Abnar et al. 2025; form from two secondary summaries of the paper's Eq. 6: "
        "verify): L(N, D, S) = a/N^alpha + b/D^beta + c/(1-S)^lam + d/((1-S)^delta N^gamma) + e.\n\n"
        "Inputs: N = total parameters, D = training tokens, S = sparsity in [0, 1), the fraction of "
        "inactive experts (E - K)/E for top-K routing over E experts (S = 0 is dense; active "
        "parameters ~ N (1 - S) outside attention and embeddings). lam and delta are free: the "
        "summaries disagree on their sign convention. No coefficients ship: the paper's fitted "
        "values (its appendix) were not available to check. The paper's findings: at fixed "
        "compute the optimal sparsity rises with model size and tends to 1."
    ),
)
