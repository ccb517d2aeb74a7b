"""Kaplan et al. (2020): ``L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D``."""

from __future__ import annotations

import jax.numpy as jnp

from .._constraints import positive
from .._law import CoefficientSet, Law
from .._starts import grid
from ..kernels import lse

CITATION = """\
@article{kaplan2020scaling,
  title   = {Scaling Laws for Neural Language Models},
  author  = {Kaplan, Jared and McCandlish, Sam and Henighan, Tom and Brown, Tom B. and
             Chess, Benjamin and Child, Rewon and Gray, Scott and Radford, Alec and
             Wu, Jeffrey and Amodei, Dario},
  journal = {arXiv preprint arXiv:2001.08361},
  year    = {2020}
}"""


def _fn(p, N, D):
    return ((p["N_c"] / N) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / D) ** p["alpha_D"]


def _log_fn(p, N, D):
    # log L = alpha_D * LSE((alpha_N/alpha_D) (log N_c - log N), log D_c - log D): the two
    # terms are summed in log space, so huge N_c (~1e13) or tiny ratios cannot overflow.
    z1 = p["alpha_N"] / p["alpha_D"] * (jnp.log(p["N_c"]) - jnp.log(N))
    z2 = jnp.log(p["D_c"]) - jnp.log(D)
    return p["alpha_D"] * lse(z1, z2)


def _design(seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return {"N": 10 ** rng.uniform(6, 10, 120), "D": 10 ** rng.uniform(8, 11.5, 120)}


kaplan = Law(
    _fn,
    name="kaplan", form_status="secondary",
    source="Kaplan et al. 2020 Eq. 1.5, from the project's survey; not re-read against the paper text in this round",
    inputs=("N", "D"),
    params={"N_c": positive(), "D_c": positive(), "alpha_N": positive(), "alpha_D": positive()},
    log_fn=_log_fn,
    starts=grid(
        N_c=[1e11, 1e12, 1e13, 1e14, 1e15],
        D_c=[1e10, 1e11, 1e12, 1e13, 1e14],
        alpha_N=[0.03, 0.06, 0.1, 0.2, 0.4],
        alpha_D=[0.03, 0.06, 0.1, 0.2, 0.4],
    ),
    citation=CITATION,
    coefficients={
        "kaplan2020": CoefficientSet(
            {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
            "Kaplan et al. 2020, eq. 1.5 / Table 2 (joint L(N, D) fit)",
            "verified", units={"N": "parameters", "D": "tokens"},
        ),
    },
    derived={"data_exponent": lambda p: p["alpha_N"] / p["alpha_D"]},
    output="loss (nats/token)",
    example=({"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}, lambda seed=0: _design(seed)),
    description=(
        "Kaplan et al. 2020 joint law: L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.\n\n"
        "Inputs: N = non-embedding parameters, D = training tokens. Output: test loss in "
        "nats/token. No irreducible term: the law tends to 0 as N, D grow. "
        "Derived: data_exponent = alpha_N/alpha_D (over-fitting rule D ~ N^0.74)."
    ),
)
