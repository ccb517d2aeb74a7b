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


TABLE3 = {"a": 35.91, "alpha": 0.1889, "gamma": -0.0098, "delta": -0.2285, "b": 35.98, "beta": 0.1775,
          "zeta": 0.0259, "omega": 0.5529, "E_start": 2.0732, "E_max": 290.4521, "c": 1.3637}


def _design(seed=0):
    rng = np.random.default_rng(seed)
    n = 240
    return {"N": 10 ** rng.uniform(7, 9.5, n), "D": 10 ** rng.uniform(9, 11.5, n),
            "E": rng.choice([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0], n)}


def log_e_hat(p, E):
    """``ln Ê``: the saturating expert count of Eq. 4, ``1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max``.

    Dense (E = 1) maps to Ê = E_start; Ê tends to E_max as E grows, so the benefit of more
    experts saturates. Written with the inverse counts so it stays finite for any E >= 1.
    """
    offset = 1.0 / (1.0 / p["E_start"] - 1.0 / p["E_max"])
    return -jnp.log(1.0 / (E - 1.0 + offset) + 1.0 / p["E_max"])


def _log_terms(p, N, D, E):
    # L = c + a Ê^delta N^-(alpha + gamma ln Ê) + b Ê^omega D^-(beta + zeta ln Ê), all in log
    # space (a log-sum-exp), so extreme N, D or E never overflow.
    lE = log_e_hat(p, E)
    z1 = jnp.log(p["a"]) + p["delta"] * lE - (p["alpha"] + p["gamma"] * lE) * jnp.log(N)
    z2 = jnp.log(p["b"]) + p["omega"] * lE - (p["beta"] + p["zeta"] * lE) * jnp.log(D)
    return z1, z2


def _fn(p, N, D, E):
    z1, z2 = _log_terms(p, N, D, E)
    return p["c"] + jnp.exp(z1) + jnp.exp(z2)


def _log_fn(p, N, D, E):
    z1, z2 = _log_terms(p, N, D, E)
    return lse(z1, z2, jnp.broadcast_to(jnp.log(p["c"]), z1.shape))


joint_moe = Law(
    _fn,
    name="joint_moe", form_status="verified",
    source="Ludziejewski et al. 2025, arXiv:2502.05172, Eq. 6 and Eq. 4 (Ê); App. B Table 3; Tables 1 and 4 reproduced",
    inputs=("N", "D", "E"),
    params={"a": positive(), "alpha": free(), "gamma": free(), "delta": free(),
            "b": positive(), "beta": free(), "zeta": free(), "omega": free(),
            "E_start": positive(), "E_max": positive(), "c": positive()},
    log_fn=_log_fn,
    starts=grid(a=[10.0, 50.0], alpha=[0.15, 0.3], gamma=[-0.01, 0.01], delta=[-0.3, 0.0], b=[10.0, 50.0],
                beta=[0.15, 0.3], zeta=[0.0, 0.03], omega=[0.0, 0.5], E_start=[2.0], E_max=[300.0], c=[1.0, 1.5]),
    example=(dict(TABLE3), lambda seed=0: _design(seed)),
    citation=CITATION,
    coefficients={
        "ludziejewski2025": CoefficientSet(
            dict(TABLE3),
            "Ludziejewski et al. 2025 (arXiv:2502.05172) App. B Table 3, in this law's decay-rate convention "
            "(the paper's signed exponents are -alpha, -gamma, -beta, -zeta); fitted with L-BFGS on Huber "
            "(delta 0.01) in log space. Reproduces Table 4 (E = 1: m = 30.40, mu = -0.1818) and Table 1 "
            "(F = 1e20, E = 1: N = 1.73B, D = 9.7B)",
            "verified",
            units={"N": "parameters", "D": "tokens", "E": "count"},
        ),
    },
    output="final loss (nats/token)",
    description=(
        "Joint MoE law (Ludziejewski et al. 2025, Eq. 6): L(N, D, E) = c + a Ê^delta N^-(alpha + gamma ln Ê) "
        "+ b Ê^omega D^-(beta + zeta ln Ê), with the saturating expert count of Eq. 4, "
        "1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max.\n\n"
        "Inputs: N = active parameters per token, including embedding and unembedding (App. A.1), "
        "D = training tokens, E = number of experts, Switch top-1 routing (E = 1 is a dense model, "
        "Ê = E_start). Training FLOPs are 6 N D. With a memory budget on total parameters and a "
        "compute budget it answers how many experts and how large an active model to train "
        "(jaxlaws.moe_problem): the paper's finding is that MoE can be more memory-efficient than "
        "dense. The exponents are decay rates (the paper writes them signed: alpha_paper = -alpha)."
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
    name="moe_sparsity", form_status="verified",
    source="Abnar et al. 2025, arXiv:2501.12370, Sec. 5 Eq. 6 (form); App. F Table 3 (coefficients) not available",
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
        "MoE sparsity law (Abnar et al. 2025, Eq. 6): "
        "L(N, D, S) = a/N^alpha + b/D^beta + c/(1-S)^lam + d/((1-S)^delta N^gamma) + e.\n\n"
        "Inputs: N = total parameters, D = training tokens, S = sparsity in [0, 1), the fraction of "
        "inactive experts (E - K)/E for top-K routing over E experts (S = 0 is dense; active "
        "parameters ~ N (1 - S) outside attention and embeddings). lam and delta are free; the paper "
        "reports lam < 0. The authors fit L-BFGS on Huber (delta 1e-3) from a grid of starts and hold "
        "out S = 0.98. No coefficients ship: the paper's fitted values (App. F Table 3) were not "
        "available to check. The paper's findings: at fixed "
        "compute the optimal sparsity rises with model size and tends to 1."
    ),
)
