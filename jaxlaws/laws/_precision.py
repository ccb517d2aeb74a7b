"""Zoo laws for precision and quantization, and for hyperparameters (learning rate, batch size)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._constraints import free, positive
from .._law import CoefficientSet, Law, power_sum
from .._starts import grid
from ._common import bib, logspace


# ---- precision ------------------------------------------------------------------------------


KUMAR = bib("kumar2024scaling", "Scaling Laws for Precision", "Kumar, Tanishq and others", "arXiv:2411.04330", 2024)
# App. K Table 2 (alpha and beta tied in the fit).
KUMAR_TABLE2 = {"A": 4.299e3, "alpha": 0.4965, "B": 1.806e4, "beta": 0.4965, "E": 2.7648, "gamma_w": 2.6745,
                "n_w": 0.3037, "gamma_a": 2.2102, "n_a": 1.4072, "gamma_kv": 0.9578, "n_kv": 2.4185}


def precision_factor(P, gamma, n):
    """``1 - exp(-P/gamma + n)``: the share of a parameter's capacity kept at P bits (Eq. 4 with App. K's offset).

    ``-expm1`` keeps the factor exact when ``P/gamma - n`` is small (the factor near 0).
    """
    return -jnp.expm1(-P / gamma + n)


def effective_params(p, N, P_w, P_a, P_kv):
    """N_eff = N x the weight, activation and KV-cache factors (Kumar et al. Eq. 4)."""
    return (N * precision_factor(P_w, p["gamma_w"], p["n_w"]) * precision_factor(P_a, p["gamma_a"], p["n_a"])
            * precision_factor(P_kv, p["gamma_kv"], p["n_kv"]))


def _precision(p, N, D, P_w, P_a, P_kv):
    return p["A"] * effective_params(p, N, P_w, P_a, P_kv) ** -p["alpha"] + p["B"] * D ** -p["beta"] + p["E"]


precision = Law(
    _precision, name="precision", form_status="verified",
    source="Kumar et al. 2024, arXiv:2411.04330, Eq. 1 and 4, App. K Table 2; P* = 7 bits reproduced",
    inputs=("N", "D", "P_w", "P_a", "P_kv"),
    params={"A": positive(), "alpha": positive(), "B": positive(), "beta": positive(), "E": positive(),
            "gamma_w": positive(), "n_w": free(), "gamma_a": positive(), "n_a": free(),
            "gamma_kv": positive(), "n_kv": free()},
    starts=grid(A=[1e3, 1e4], alpha=[0.3, 0.5], B=[1e3, 2e4], beta=[0.3, 0.5], E=[2.0], gamma_w=[1.0, 3.0], n_w=[0.0],
                gamma_a=[1.0, 3.0], n_a=[0.0, 1.0], gamma_kv=[1.0, 3.0], n_kv=[0.0, 2.0]),
    citation=KUMAR,
    coefficients={"kumar2024": CoefficientSet(
        dict(KUMAR_TABLE2),
        "Kumar et al. 2024 App. K Table 2 (alpha = beta tied). The offsets n_x enter as 1 - exp(-P/gamma + n): "
        "App. K says the exponentials carry an offset left out of the main text; this placement is inferred "
        "and reproduces the paper's P* = 7 bits at C = 1e19..1e23 and N_eff/N = 0.19 at 4 bits",
        "verified", note="valid for P >= 4 bits (the factor turns negative below ~3 bits for activations)",
        units={"N": "parameters", "D": "tokens", "P_w": "bits", "P_a": "bits", "P_kv": "bits"})},
    description=(
        "Precision-aware law (Kumar et al. 2024, Eq. 1 without the post-training term, Eq. 4): "
        "L = A N_eff^-alpha + B D^-beta + E, N_eff = N (1 - e^(-P_w/gamma_w + n_w)) (1 - e^(-P_a/gamma_a + n_a)) "
        "(1 - e^(-P_kv/gamma_kv + n_kv)).\n\n"
        "Inputs: N = non-embedding parameters (raw count), D tokens, P_w, P_a, P_kv = training bits of "
        "weights, activations and KV cache (integer quantization of the forward pass). Compute is "
        "C = (6/16) N D P (Eq. 5). The offsets n_x are 0 in the main text's notation; fix them to 0 "
        "(fixed={'n_w': 0, ...}) for that form. Post-training quantization: precision_ptq."
    ),
    example=(dict(KUMAR_TABLE2), lambda seed=0: _precision_design(seed)),
)


def _ptq_log(p, N, D, P_post):
    return jnp.log(p["C_T"]) + p["gamma_D"] * jnp.log(D) - p["gamma_N"] * jnp.log(N) - P_post / p["gamma_post"]


precision_ptq = Law(
    lambda p, N, D, P_post: jnp.exp(_ptq_log(p, N, D, P_post)), name="precision_ptq", form_status="verified",
    source="Kumar et al. 2024, arXiv:2411.04330, Eq. 2, App. K Table 2",
    inputs=("N", "D", "P_post"), log_fn=_ptq_log,
    params={"C_T": positive(), "gamma_D": free(), "gamma_N": free(), "gamma_post": positive()},
    starts=grid(C_T=[1e-3, 1e-1, 10.0], gamma_D=[0.2, 0.6], gamma_N=[0.2, 0.6], gamma_post=[0.3, 1.0, 3.0]),
    citation=KUMAR,
    coefficients={"kumar2024": CoefficientSet(
        {"C_T": 0.0598, "gamma_D": 0.5068, "gamma_N": 0.3439, "gamma_post": 0.5907},
        "Kumar et al. 2024 App. K Table 2 (the PTQ constants)", "verified",
        units={"N": "parameters", "D": "tokens", "P_post": "bits"})},
    output="loss increase from post-training quantization",
    description=(
        "Post-training quantization degradation of a BF16-trained model (Kumar et al. 2024, Eq. 2): "
        "delta_PTQ = C_T D^gamma_D / N^gamma_N e^(-P_post/gamma_post).\n\n"
        "Inputs: N non-embedding parameters, D training tokens, P_post = bits after quantization. "
        "It grows with D: over-trained models degrade more when quantized."
    ),
    example=({"C_T": 0.0598, "gamma_D": 0.5068, "gamma_N": 0.3439, "gamma_post": 0.5907},
             lambda seed=0: {"N": logspace(7.5, 8.5, 60)(seed), "D": logspace(9, 10.5, 60, 1)(seed),
                             "P_post": np.random.default_rng(seed).choice([3.0, 4.0, 5.0, 6.0, 8.0], 60)}),
)


def _precision_design(seed=0):
    rng = np.random.default_rng(seed)
    n = 200
    # the paper's range: 30M-220M non-embedding parameters, 1.5B-26B tokens, 4 to 16 bits
    # (below ~4 bits the fitted factors turn negative; the paper drops those runs)
    bits = [4.0, 5.0, 6.0, 8.0, 16.0]
    return {"N": 10 ** rng.uniform(7.5, 8.4, n), "D": 10 ** rng.uniform(9.2, 10.4, n), "P_w": rng.choice(bits, n),
            "P_a": rng.choice(bits, n), "P_kv": rng.choice(bits, n)}


SUN_TABLE2 = {"n": 69.2343, "alpha": 0.2368, "d": 68973.0621, "beta": 0.5162, "eps": 1.9061, "gamma": 11334.5197,
              "delta": 3.1926, "nu": 2.9543}


def _fpq(p, N, D, B, Eb, Mb):
    base = p["n"] * N ** -p["alpha"] + p["d"] * D ** -p["beta"] + p["eps"]
    quant = (D ** p["beta"] / N ** p["alpha"]) * jnp.log2(B) / (p["gamma"] * (Eb + 0.5) ** p["delta"] * (Mb + 0.5) ** p["nu"])
    return base + quant


fp_quantization = Law(
    _fpq, name="fp_quantization", inputs={"N": "positive", "D": "positive", "B": "positive", "Eb": "real", "Mb": "real"},
    form_status="verified",
    source="Sun et al. 2025, arXiv:2501.02423, Eq. 18/26, App. B.1 Table 2; critical data sizes (Eq. 21) reproduced",
    params={"n": positive(), "alpha": positive(), "d": positive(), "beta": positive(), "eps": positive(),
            "gamma": positive(), "delta": positive(), "nu": positive()},
    starts=grid(n=[30.0, 3e2], alpha=[0.2, 0.4], d=[3e2, 3e4], beta=[0.3, 0.5], eps=[1.5],
                gamma=[1.0, 1e2, 1e4], delta=[0.5, 2.0, 3.0], nu=[0.5, 2.0, 3.0]),
    coefficients={"sun2025": CoefficientSet(
        dict(SUN_TABLE2), "Sun et al. 2025 App. B.1 Table 2 (the 'Capybara' law); reproduces the critical data "
        "sizes 1730T (E8M7), 27T (E4M3), 0.4T (E2M1) at N = 1e9, B = 128", "verified",
        note="channel-wise scaling: pass B = 2^13.1567",
        units={"N": "parameters", "D": "tokens", "B": "count", "Eb": "bits", "Mb": "bits"})},
    derived={"critical_data": lambda p, N, B, Eb, Mb: (p["d"] * p["gamma"] * N ** p["alpha"] * (Eb + 0.5) ** p["delta"]
                                                         * (Mb + 0.5) ** p["nu"] / jnp.log2(B)) ** (1 / (2 * p["beta"]))},
    citation=bib("sun2025scaling", "Scaling Laws for Floating-Point Quantization Training", "Sun, Xingwu and others",
                  "arXiv:2501.02423", 2025),
    description=(
        "Floating-point quantization training law (Sun et al. 2025, Eq. 18): "
        "L = n/N^alpha + d/D^beta + eps + (D^beta/N^alpha) log2(B) / (gamma (Eb+0.5)^delta (Mb+0.5)^nu).\n\n"
        "Inputs: N non-embedding parameters, D tokens, B = elements sharing one scale factor, Eb "
        "exponent bits, Mb mantissa bits (sign bit extra). critical_data(N, B, Eb, Mb) is Eq. 21. "
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
    form_status="verified", source="Ouyang et al. 2024, arXiv:2411.17691, Eq. 8 (Fig. 6 caption)",
    coefficients={"ouyang2024_pythia_gptq": CoefficientSet(
        {"k": 0.017, "alpha": 0.2261, "beta": 0.5251, "gamma": 5.4967},
        "Ouyang et al. 2024 Fig. 6 / Eq. 8: Pythia checkpoints, GPTQ, all bit widths", "verified",
        units={"N": "parameters", "D": "tokens", "P": "bits"})},
    params={"k": positive(), "alpha": free(), "beta": free(), "gamma": free()},
    starts=grid(k=[1e-3, 1e-1, 10.0], alpha=[0.2, 0.5], beta=[0.2, 0.5], gamma=[1.0, 3.0]),
    citation=bib("ouyang2024lowbit", "Low-Bit Quantization Favors Undertrained LLMs", "Ouyang, Xu and others", "arXiv:2411.17691", 2024),
    output="loss increase from quantization",
    description=(
        "Quantization-induced degradation (Ouyang et al. 2024, Eq. 8): dL = k D^beta / "
        "(N^alpha P^gamma).\n\nInputs: N non-embedding parameters, D training tokens, P bits. Degradation grows with D "
        "(well-trained models quantize worse) and falls with N and P."
    ),
    example=({"k": 0.017, "alpha": 0.2261, "beta": 0.5251, "gamma": 5.4967},
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
    form_status="verified", source="Li et al. 2025 (Step Law), step-law/steplaw data and code; bootstrap means reproduced",
    params={"c": positive(), "a": free(), "b": free()},
    starts=grid(c=[0.1, 1.0, 10.0], a=[-1.0, -0.5], b=[0.0, 0.5]),
    citation=STEP, output="optimal peak learning rate",
    coefficients={"li2025": CoefficientSet({"c": 1.79, "a": -0.713, "b": 0.307},
                                           "Li et al. 2025 (Step Law) README; the bootstrap means of their 1000 fits are "
                                           "exp(0.5863) = 1.797, -0.7129, 0.3075", "verified",
                                           units={"N": "parameters", "D": "tokens"})},
    description=("Step Law optimal learning rate (Li et al. 2025): eta_opt = c N^a D^b.\n\nInputs: N non-embedding "
                 "parameters, D tokens. Final learning rate fixed at 1e-5 in their runs."),
    example=({"c": 1.79, "a": -0.713, "b": 0.307}, lambda seed=0: {"N": logspace(7.5, 9.5, 40)(seed), "D": logspace(9.5, 11.5, 40, 1)(seed)}),
)

def _bs_log(p, D):
    return jnp.log(p["c"]) + p["b"] * jnp.log(D)


step_law_batch = Law(
    lambda p, D: jnp.exp(_bs_log(p, D)), name="step_law_batch", inputs=("D",), log_fn=_bs_log,
    form_status="verified", source="Li et al. 2025 (Step Law), step-law/steplaw data and code",
    params={"c": positive(), "b": free()},
    starts=grid(c=[0.01, 1.0, 100.0], b=[0.0, 0.5, 1.0]),
    citation=STEP, output="optimal batch size (tokens)",
    coefficients={"li2025": CoefficientSet({"c": 0.58, "b": 0.571},
                                           "Li et al. 2025 (Step Law): B_opt = 0.58 D^0.571; bootstrap means exp(-0.5435) = "
                                           "0.581, 0.5709", "verified", units={"D": "tokens"})},
    description=(
        "Step Law optimal batch size (Li et al. 2025): B_opt = c D^b, in the published sign convention "
        "(b = 0.571).\n\nInput: D training tokens. The batch size is in tokens (their code multiplies "
        "sequences by the 2048-token sequence length)."
    ),
    example=({"c": 0.58, "b": 0.571}, lambda seed=0: {"D": logspace(9.5, 12, 40)(seed)}),
)

power_lines_tau = power_sum(
    "power_lines_tau", [("c", "m", "TPP")], constant=None, exponents="free", form_status="abstract",
    source="Bergsma et al. 2025, arXiv:2505.13738, abstract (form); fitted values only in secondary notes",
    coefficients={"bergsma2025_secondary": CoefficientSet(
        {"c": 1.084, "m": 0.527}, "two independent secondary notes: tau_opt = 1.084 TPP^-0.527", "secondary",
        units={"TPP": "ratio"})},
    starts=grid(space="unconstrained", c=[-5.0, -2.0, 0.0, 2.0], m=[-1.0, 0.0, 0.5, 1.0]),
    citation=bib("bergsma2025power", "Power Lines: Scaling Laws for Weight Decay and Batch Size in LLM Pre-training",
                  "Bergsma, Shane and others", "arXiv:2505.13738", 2025),
    output="optimal AdamW timescale tau = B / (eta lambda D)",
    description=(
        "Power Lines (Bergsma et al. 2025): tau_opt = c TPP^(-m) as a power sum (the paper's tau_opt = c "
        "TPP^m with m ~ -0.5 is this m ~ +0.5); lambda_opt = B / (eta D tau_opt).\n\nInput: TPP = D/N "
        "tokens per parameter. B and D must be in the same unit (tokens, or sequences): tau is a "
        "fraction of training."
    ),
    derived={"weight_decay": lambda p, TPP, B, eta, D: B / (eta * D * p["c"] * TPP ** -p["m"])},
    example=({"c": 0.8, "m": 0.5}, lambda seed=0: {"TPP": logspace(0.5, 3, 30)(seed)}),
)

PRECISION_AND_HYPER = [precision, precision_ptq, quantization_degradation, fp_quantization, step_law_lr, step_law_batch, power_lines_tau]
