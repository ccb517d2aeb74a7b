"""Zoo laws for precision and quantization, and for hyperparameters (learning rate, batch size)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._constraints import free, positive
from .._law import CoefficientSet, Law, power_sum
from .._starts import grid
from ._common import bib, logspace


# ---- precision ------------------------------------------------------------------------------


def _precision(p, N, D, P_w, P_a, P_kv):
    eff = N * (-jnp.expm1(-P_w / p["gamma_w"])) * (-jnp.expm1(-P_a / p["gamma_a"])) * (-jnp.expm1(-P_kv / p["gamma_kv"]))
    return p["A"] * eff ** -p["alpha"] + p["B"] * D ** -p["beta"] + p["E"]


precision = Law(
    _precision, name="precision", form_status="unverified", inputs=("N", "D", "P_w", "P_a", "P_kv"),
    params={"A": positive(), "alpha": positive(), "B": positive(), "beta": positive(), "E": positive(),
            "gamma_w": positive(), "gamma_a": positive(), "gamma_kv": positive()},
    starts=grid(A=[1e2, 1e3], alpha=[0.2, 0.4], B=[1e2, 1e3], beta=[0.2, 0.4], E=[1.5], gamma_w=[1.0, 3.0],
                gamma_a=[1.0, 3.0], gamma_kv=[1.0, 3.0]),
    citation=bib("kumar2024scaling", "Scaling Laws for Precision", "Kumar, Tanishq and others", "arXiv:2411.04330", 2024),
    description=(
        "Precision-aware law (Kumar et al. 2024, form from memory in the survey: verify): L = A N_eff^-alpha "
        "+ B D^-beta + E, N_eff = N (1 - e^(-P_w/gamma_w)) (1 - e^(-P_a/gamma_a)) (1 - e^(-P_kv/gamma_kv)).\n\n"
        "Inputs: N parameters, D tokens, P_w, P_a, P_kv = bits of weights, activations and KV cache."
    ),
    example=({"A": 400.0, "alpha": 0.34, "B": 400.0, "beta": 0.28, "E": 1.7, "gamma_w": 2.5, "gamma_a": 2.0, "gamma_kv": 1.5},
             lambda seed=0: _precision_design(seed)),
)


def _precision_design(seed=0):
    rng = np.random.default_rng(seed)
    n = 200
    return {"N": 10 ** rng.uniform(7, 9.5, n), "D": 10 ** rng.uniform(9, 11, n), "P_w": rng.choice([2, 3, 4, 6, 8, 16], n).astype(float),
            "P_a": rng.choice([3, 4, 6, 8, 16], n).astype(float), "P_kv": rng.choice([2, 3, 4, 8, 16], n).astype(float)}


def _fpq(p, N, D, B, Eb, Mb):
    base = p["n"] * N ** -p["alpha"] + p["d"] * D ** -p["beta"] + p["eps"]
    quant = (D ** p["beta"] / N ** p["alpha"]) * jnp.log2(B) / (p["gamma"] * (Eb + 0.5) ** p["delta"] * (Mb + 0.5) ** p["nu"])
    return base + quant


fp_quantization = Law(
    _fpq, name="fp_quantization", inputs={"N": "positive", "D": "positive", "B": "positive", "Eb": "real", "Mb": "real"},
    form_status="unverified",
    params={"n": positive(), "alpha": positive(), "d": positive(), "beta": positive(), "eps": positive(),
            "gamma": positive(), "delta": positive(), "nu": positive()},
    starts=grid(n=[1e2, 1e3], alpha=[0.2, 0.4], d=[1e2, 1e3], beta=[0.2, 0.4], eps=[1.5],
                gamma=[1.0, 1e2, 1e4], delta=[0.5, 2.0], nu=[0.5, 2.0]),
    citation=bib("sun2025scaling", "Scaling Laws for Floating-Point Quantization Training", "Sun, Xingwu and others",
                  "arXiv:2501.02423", 2025),
    description=(
        "Floating-point quantization training law (Sun et al. 2025, form from memory in the survey: verify): "
        "L = n/N^alpha + d/D^beta + eps + (D^beta/N^alpha) log2(B) / (gamma (Eb+0.5)^delta (Mb+0.5)^nu).\n\n"
        "Inputs: N parameters, D tokens, B quantization block size, Eb exponent bits, Mb mantissa bits. "
        "The last term is the precision penalty: it grows with data (a critical data size exists) and "
        "shrinks with more exponent and mantissa bits."
    ),
    example=({"n": 400.0, "alpha": 0.34, "d": 400.0, "beta": 0.28, "eps": 1.7, "gamma": 10.0, "delta": 1.5, "nu": 1.0},
             lambda seed=0: _fpq_design(seed)),
)


def _fpq_design(seed=0):
    rng = np.random.default_rng(seed)
    n = 240
    return {"N": 10 ** rng.uniform(7.5, 9.5, n), "D": 10 ** rng.uniform(9, 11.5, n),
            "B": rng.choice([32.0, 64.0, 128.0, 512.0], n), "Eb": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], n),
            "Mb": rng.choice([0.0, 1.0, 2.0, 3.0, 7.0], n)}


def _qid_log(p, N, D, P):
    return jnp.log(p["k"]) + p["beta"] * jnp.log(D) - p["alpha"] * jnp.log(N) - p["gamma"] * jnp.log(P)


quantization_degradation = Law(
    lambda p, N, D, P: jnp.exp(_qid_log(p, N, D, P)), name="quantization_degradation", inputs=("N", "D", "P"), log_fn=_qid_log,
    form_status="unverified",
    params={"k": positive(), "alpha": free(), "beta": free(), "gamma": free()},
    starts=grid(k=[1e-3, 1e-1, 10.0], alpha=[0.2, 0.5], beta=[0.2, 0.5], gamma=[1.0, 3.0]),
    citation=bib("ouyang2024lowbit", "Low-Bit Quantization Favors Undertrained LLMs", "Ouyang, Xu and others", "arXiv:2411.17691", 2024),
    output="loss increase from quantization",
    description=(
        "Quantization-induced degradation (Ouyang et al. 2024, form from memory: verify): dL = k D^beta / "
        "(N^alpha P^gamma).\n\nInputs: N parameters, D training tokens, P bits. Degradation grows with D "
        "(well-trained models quantize worse) and falls with N and P."
    ),
    example=({"k": 0.05, "alpha": 0.5, "beta": 0.4, "gamma": 2.5},
             lambda seed=0: {"N": logspace(8, 10.5, 80)(seed), "D": logspace(10, 12.5, 80, 1)(seed),
                             "P": np.random.default_rng(seed).choice([2.0, 3.0, 4.0, 8.0], 80)}),
)

# ---- hyperparameters --------------------------------------------------------------------------

STEP = bib("li2025predictable", "Predictable Scale: Part I -- Optimal Hyperparameter Scaling Law in Large Language Model Pretraining",
            "Li, Houyi and others", "arXiv:2503.04715", 2025)


def _lr_log(p, N, D):
    return jnp.log(p["c"]) + p["a"] * jnp.log(N) + p["b"] * jnp.log(D)


step_law_lr = Law(
    lambda p, N, D: jnp.exp(_lr_log(p, N, D)), name="step_law_lr", inputs=("N", "D"), log_fn=_lr_log,
    form_status="secondary",
    params={"c": positive(), "a": free(), "b": free()},
    starts=grid(c=[0.1, 1.0, 10.0], a=[-1.0, -0.5], b=[0.0, 0.5]),
    citation=STEP, output="optimal peak learning rate",
    coefficients={"li2025": CoefficientSet({"c": 1.79, "a": -0.713, "b": 0.307}, "Li et al. 2025 (Step Law), consistent with the abstract",
                                           "secondary")},
    description="Step Law optimal learning rate (Li et al. 2025): eta_opt = c N^a D^b.\n\nInputs: N non-embedding parameters, D tokens.",
    example=({"c": 1.79, "a": -0.713, "b": 0.307}, lambda seed=0: {"N": logspace(7.5, 9.5, 40)(seed), "D": logspace(9.5, 11.5, 40, 1)(seed)}),
)

step_law_batch = power_sum(
    "step_law_batch", [("c", "b", "D")], constant=None, exponents="free", form_status="secondary",
    starts=grid(space="unconstrained", c=[-5.0, 0.0, 5.0], b=[-1.0, -0.5, 0.0]),
    citation=STEP, output="optimal batch size (tokens)",
    coefficients={"li2025": CoefficientSet({"c": 0.58, "b": -0.571}, "Li et al. 2025 (Step Law): B_opt = 0.58 D^0.571", "secondary")},
    description=(
        "Step Law optimal batch size (Li et al. 2025): B_opt = c D^(-b) as a power sum, i.e. the published "
        "B_opt = 0.58 D^0.571 is b = -0.571.\n\nInput: D training tokens."
    ),
    example=({"c": 0.58, "b": -0.571}, lambda seed=0: {"D": logspace(9.5, 12, 40)(seed)}),
)

power_lines_tau = power_sum(
    "power_lines_tau", [("c", "m", "TPP")], constant=None, exponents="free", form_status="abstract",
    starts=grid(space="unconstrained", c=[-5.0, -2.0, 0.0, 2.0], m=[-1.0, 0.0, 0.5, 1.0]),
    citation=bib("bergsma2025power", "Power Lines: Scaling Laws for Weight Decay and Batch Size in LLM Pre-training",
                  "Bergsma, Shane and others", "arXiv:2505.13738", 2025),
    output="optimal AdamW timescale tau = B / (eta lambda D)",
    description=(
        "Power Lines (Bergsma et al. 2025): tau_opt = c TPP^(-m) as a power sum (the paper's tau_opt = c "
        "TPP^m with m ~ -0.5 is this m ~ +0.5); lambda_opt = B / (eta D tau_opt).\n\nInput: TPP = D/N "
        "tokens per parameter."
    ),
    derived={"weight_decay": lambda p, TPP, B, eta, D: B / (eta * D * p["c"] * TPP ** -p["m"])},
    example=({"c": 0.8, "m": 0.5}, lambda seed=0: {"TPP": logspace(0.5, 3, 30)(seed)}),
)

PRECISION_AND_HYPER = [precision, quantization_degradation, fp_quantization, step_law_lr, step_law_batch, power_lines_tau]
