"""Joint MoE scaling law (Ludziejewski et al. 2025): loss of dense and mixture-of-experts models."""

from __future__ import annotations

import jax.numpy as jnp

from .._constraints import free, positive
from .._law import CoefficientSet, Law
from .._starts import grid

CITATION = """\
@article{ludziejewski2025joint,
  title   = {Joint MoE Scaling Laws: Mixture of Experts Can Be Memory Efficient},
  author  = {Ludziejewski, Jan and Pi{\\'o}ro, Maciej and Krajewski, Jakub and others},
  journal = {arXiv preprint arXiv:2502.05172},
  year    = {2025}
}"""


def _design(seed=0):
    import numpy as np

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
    from ..kernels import lse

    lE = jnp.log(E)
    z1 = jnp.log(p["a"]) + p["delta"] * lE - (p["alpha"] + p["gamma"] * lE) * jnp.log(N)
    z2 = jnp.log(p["b"]) + p["omega"] * lE - (p["beta"] + p["zeta"] * lE) * jnp.log(D)
    return lse(z1, z2, jnp.broadcast_to(jnp.log(p["c"]), z1.shape))


joint_moe = Law(
    _fn,
    name="joint_moe",
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
