"""The rest of the zoo: published law families beyond Chinchilla, Kaplan, data-constrained and
Joint MoE. Each is a pure JAX function with named, constrained parameters, a default start
grid, a citation, and, where the survey could verify them, published coefficients with
their status. Forms marked [K] in the project's law survey are shipped as forms only:
no coefficients are made up.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._constraints import bounded, free, positive
from .._law import CoefficientSet, Law, power_sum
from .._recipe import Recipe
from .._starts import grid
from ..kernels import lse
from ._common import bib, logspace
from ._moe import log_e_hat
from ._gadre import downstream_error, overtraining
from ._precision import PRECISION_AND_HYPER


# ---- generic forms ------------------------------------------------------------------------

power_law_constant = power_sum(
    "power_law_constant",
    [("A", "alpha", "x")],
    form_status="generic", source="a generic form (Hestness et al. 2017), nothing to verify",
    constant="E",
    starts=grid(space="unconstrained", E=[-2.0, -1.0, 0.0, 0.5, 1.0, 2.0], A=[0.0, 2.0, 5.0, 10.0, 15.0],
                alpha=[0.05, 0.1, 0.3, 0.5, 1.0]),
    citation=bib("hestness2017deep", "Deep Learning Scaling is Predictable, Empirically", "Hestness, Joel and others",
                  "arXiv:1712.00409", 2017),
    output="loss or error",
    description=(
        "Power law plus constant (Hestness et al. 2017; Henighan et al. 2020): y = E + A x^-alpha.\n\n"
        "Input: x = any positive scale (parameters, data, compute). E is the irreducible floor. "
        "Fitted in log space as LSE(log A - alpha log x, log E). Porian et al.'s loss envelope "
        "L(C) is this law in compute."
    ),
    example=({"E": 1.7, "A": 80.0, "alpha": 0.3}, lambda seed=0: {"x": logspace(6, 11, 40)(seed)}),
)


def _broken(p, x):
    # y = a + b x^-c0 (1 + (x/d)^(1/f))^(-c1 f), Caballero et al.'s broken neural scaling law
    # with one break; the bracket is computed as softplus in log space: no overflow for large x/d.
    lx = jnp.log(x)
    return p["a"] + p["b"] * jnp.exp(-p["c0"] * lx - p["c1"] * p["f"] * jax.nn.softplus((lx - jnp.log(p["d"])) / p["f"]))


broken_power_law = Law(
    _broken, name="broken_power_law", form_status="verified", inputs=("x",),
    source="Caballero et al. 2023, ethancaballero/broken_neural_scaling_laws (one-break function, identical algebra)",
    params={"a": positive(), "b": positive(), "c0": free(), "c1": free(), "d": positive(), "f": positive()},
    starts=grid(a=[0.5, 1.5], b=[1.0, 10.0, 100.0], c0=[0.0, 0.3], c1=[0.1, 0.5], d=[1e3, 1e5, 1e7], f=[0.3, 1.0]),
    citation=bib("caballero2023broken", "Broken Neural Scaling Laws", "Caballero, Ethan and Gupta, Kshitij and Rish, Irina and Krueger, David",
                  "ICLR", 2023),
    recipes={"caballero2023": Recipe(
        "caballero2023", "Caballero et al. 2023, broken_neural_scaling_laws: scipy curve_fit (least squares) of "
        "log(y + 1) after a coarse grid", loss="squared", residual="log1p")},
    default_recipe="caballero2023",
    description=(
        "Broken neural scaling law with one break (Caballero et al. 2023): y = a + b x^-c0 "
        "(1 + (x/d)^(1/f))^(-c1 f).\n\nInput: x = scale. Below the break d the slope is c0, above "
        "it c0 + c1; f sets the sharpness of the break. The authors fit log(y + 1) with curve_fit after a "
        "coarse grid; their n-break form multiplies one such factor per break."
    ),
    example=({"a": 1.0, "b": 20.0, "c0": 0.1, "c1": 0.4, "d": 1e5, "f": 0.5}, lambda seed=0: {"x": logspace(2, 8, 60)(seed)}),
)

# ---- Kaplan et al. 2020: steps and critical batch -----------------------------------------

KAPLAN = bib("kaplan2020scaling", "Scaling Laws for Neural Language Models", "Kaplan, Jared and McCandlish, Sam and others",
              "arXiv:2001.08361", 2020)


def _kaplan_steps(p, N, S):
    return (p["N_c"] / N) ** p["alpha_N"] + (p["S_c"] / S) ** p["alpha_S"]


def _kaplan_steps_log(p, N, S):
    return lse(p["alpha_N"] * (jnp.log(p["N_c"]) - jnp.log(N)), p["alpha_S"] * (jnp.log(p["S_c"]) - jnp.log(S)))


kaplan_steps = Law(
    _kaplan_steps, name="kaplan_steps", form_status="verified", inputs=("N", "S"), log_fn=_kaplan_steps_log,
    source="Kaplan et al. 2020, arXiv:2001.08361, Eq. 5.6 and Table 3 (fits to L(N, S))",
    params={"N_c": positive(), "alpha_N": positive(), "S_c": positive(), "alpha_S": positive()},
    starts=grid(N_c=[1e12, 1e14, 1e16], alpha_N=[0.03, 0.07, 0.15], S_c=[1e2, 1e3, 1e4], alpha_S=[0.3, 0.7, 1.2]),
    citation=KAPLAN,
    coefficients={"kaplan2020": CoefficientSet(
        {"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76},
        "Kaplan et al. 2020 Table 3, 'Fits to L(N, S)' (all steps after warmup). Until 2026-12 this set held "
        "N_c = 8.8e13, alpha_N = 0.076, which belong to the separate converged L(N) law (Eq. 1.1)", "verified",
        units={"N": "parameters", "S": "steps"})},
    description=(
        "Kaplan et al. 2020 learning-curve law: L(N, S_min) = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S.\n\n"
        "Inputs: N = non-embedding parameters, S = S_min, the steps at a batch far above critical "
        "(S_min = S / (1 + B_crit/B)). Output: loss in nats/token."
    ),
    example=({"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76},
             lambda seed=0: {"N": logspace(6, 9.5, 50)(seed), "S": logspace(3, 5.5, 50, 1)(seed)}),
)

critical_batch = Law(
    lambda p, L: p["B_star"] / L ** (1.0 / p["alpha_B"]), name="critical_batch", form_status="verified", inputs=("L",),
    source="Kaplan et al. 2020, arXiv:2001.08361, Eq. 5.3",
    params={"B_star": positive(), "alpha_B": positive()},
    log_fn=lambda p, L: jnp.log(p["B_star"]) - jnp.log(L) / p["alpha_B"],
    starts=grid(B_star=[1e6, 1e8, 1e10], alpha_B=[0.1, 0.2, 0.4, 0.8]),
    citation=KAPLAN,
    coefficients={"kaplan2020": CoefficientSet({"B_star": 2e8, "alpha_B": 0.21},
                                               "Kaplan et al. 2020 Eq. 5.3: B* ~ 2e8 tokens, alpha_B ~ 0.21", "verified",
                                               units={"L": "nats/token"})},
    derived={"s_min": lambda p, S, B, L: S / (1.0 + p["B_star"] / L ** (1.0 / p["alpha_B"]) / B)},
    output="critical batch size (tokens)",
    description="Critical batch size (Kaplan et al. 2020): B_crit(L) = B* / L^(1/alpha_B).\n\nInput: L = loss (nats/token).",
    example=({"B_star": 2e8, "alpha_B": 0.21}, lambda seed=0: {"L": np.linspace(2.2, 5.0, 30)}),
)

# ---- MoE and sparsity ----------------------------------------------------------------------


def _routed_log(p, N, E):
    # the saturating expert count of Clark et al. (the same transform as Joint MoE's Eq. 4)
    lN, lE = jnp.log(N), log_e_hat(p, E)
    return p["a"] * lN + p["b"] * lE + p["c"] * lN * lE + p["d"]


routed_lm = Law(
    lambda p, N, E: jnp.exp(_routed_log(p, N, E)), name="routed_lm", inputs=("N", "E"), log_fn=_routed_log,
    form_status="verified",
    source="Clark et al. 2022, google-deepmind/scaling_laws_for_routing example.ipynb (Eq. 1 with the E-hat "
           "transform); the paper body was not read, and no published coefficients were found",
    params={"a": free(), "b": free(), "c": free(), "d": free(), "E_start": positive(), "E_max": positive()},
    starts=grid(a=[-0.1, -0.05], b=[-0.15, -0.05], c=[0.0, 0.005], d=[1.0, 2.0, 3.0], E_start=[1.5, 3.0],
                E_max=[100.0, 500.0]),
    citation=bib("clark2022unified", "Unified Scaling Laws for Routed Language Models", "Clark, Aidan and others",
                  "ICML", 2022),
    description=(
        "Routed LM law (Clark et al. 2022): log L = a log N + b log Ê + c log N log Ê + d, with the "
        "saturating expert count 1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max.\n\n"
        "Inputs: N = dense parameters a token sees, E = number of experts (dense: E = 1, Ê = E_start). "
        "Logs here are natural; the authors' code uses log10, so their c and d convert as "
        "c_ln = c_10 / ln 10 and d_ln = d_10 ln 10 (a, b unchanged). c > 0 means routing gains shrink with scale."
    ),
    # the authors' recipe refitted on their released S-Base runs (not published values), in natural logs
    example=({"a": -0.0829, "b": -0.1164, "c": 0.00425, "d": 2.559, "E_start": 2.0, "E_max": 251.0},
             lambda seed=0: {"N": logspace(6.5, 9.5, 60)(seed), "E": np.exp(np.random.default_rng(seed).uniform(0, np.log(512), 60))}),
)


def _sparsity(p, S, N, D):
    return (p["a"] * (1.0 - S) ** p["b"] + p["c"]) * N ** -p["d"] + p["e"] * D ** -p["f"] + p["g"]


weight_sparsity = Law(
    _sparsity, name="weight_sparsity", inputs={"S": "fraction", "N": "positive", "D": "positive"},
    source='Frantar et al. 2023, jaxpruner projects/bigsparse sparsity-scaling.ipynb; the published ViT values reproduced',
    form_status="verified",
    params={k: positive() for k in "abcdefg"},
    starts=grid(a=[0.5, 2.0], b=[0.5, 1.0], c=[1.0, 3.0], d=[0.2, 0.5], e=[0.1, 0.5], f=[0.5, 1.0], g=[3.0, 5.0]),
    citation=bib("frantar2023scaling", "Scaling Laws for Sparsely-Connected Foundation Models",
                  "Frantar, Elias and Riquelme, Carlos and Houlsby, Neil and Alistarh, Dan and Evci, Utku", "arXiv:2309.08520", 2023),
    recipes={"frantar2023": Recipe(
        "frantar2023", "Frantar et al. 2023, jaxpruner projects/bigsparse sparsity-scaling.ipynb: Huber (delta 0.01) "
        "on raw loss, 25 random restarts, N in millions of non-zero parameters, D in billions of images",
        loss="huber:0.01", residual="raw",
        starts=None, units={"N": "millions of parameters", "D": "billions of images"},
        note="data in other units are converted when their units are stated (units=, --units); the restarts' "
             "ranges are not stated, the law's start grid is used")},
    default_recipe="frantar2023",
    coefficients={"frantar2023_vit": CoefficientSet(
        {"a": 1.305, "b": 0.821, "c": 2.075, "d": 0.392, "e": 0.278, "f": 0.890, "g": 4.517},
        "jaxpruner projects/bigsparse sparsity-scaling.ipynb (ViT on JFT-4B; N in 1e6 non-zero params, D in 1e9 images)",
        "verified", units={"S": "fraction", "N": "millions of parameters", "D": "billions of images"},
        recipe="frantar2023")},
    description=(
        "Weight-sparsity law (Frantar et al. 2023): L(S, N, D) = (a (1-S)^b + c) N^-d + e D^-f + g.\n\n"
        "Inputs: S = weight sparsity in [0, 1), N = non-zero parameters (1e6 units in the published "
        "fit), D = training data (1e9 examples). Optimal sparsity rises with D at fixed non-zero N."
    ),
    example=({"a": 1.305, "b": 0.821, "c": 2.075, "d": 0.392, "e": 0.278, "f": 0.890, "g": 4.517},
             lambda seed=0: {"S": np.tile([0.0, 0.5, 0.75, 0.875], 24), "N": np.repeat(np.logspace(0.5, 3, 8), 12),
                             "D": np.tile(np.repeat(np.logspace(-0.5, 1, 3), 4), 8)}),
)

# ---- data mixtures and downstream ----------------------------------------------------------

data_mixture = Law(
    lambda p, r: p["c"] + p["k"] * jnp.exp(p["t"] * r), name="data_mixture", inputs={"r": "real"},
    source='not verified: a secondary summary of Ye et al. 2024 only',
    form_status="secondary",
    params={"c": positive(), "k": positive(), "t": free()},
    starts=grid(c=[0.5, 1.5, 3.0], k=[0.1, 1.0], t=[-3.0, -1.0, 1.0]),
    citation=bib("ye2024datamixing", "Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling Performance",
                  "Ye, Jiasheng and others", "arXiv:2403.16952", 2024),
    description=(
        "Data-mixing law (Ye et al. 2024, one varied domain): L(r) = c + k exp(t r).\n\n"
        "Input: r = proportion of the domain in the training mixture, in [0, 1]."
    ),
    example=({"c": 2.2, "k": 0.6, "t": -2.5}, lambda seed=0: {"r": np.linspace(0.0, 1.0, 21)}),
)

two_step_downstream = Law(
    lambda p, L: p["d"] + p["c"] / (1.0 + jnp.exp(p["gamma"] * (L - p["l"]))), name="two_step_downstream",
    source="OLMo ladder two-step fit as in allenai/DataDecide scaling_laws/ (read by the project's survey); the Densing-law paper's own form was not read",
    form_status="verified",
    inputs=("L",), params={"c": positive(), "gamma": positive(), "l": positive(), "d": bounded(0.0, 1.0)},
    starts=grid(c=[0.3, 0.7], gamma=[2.0, 5.0, 10.0], l=[2.0, 2.5, 3.0], d=[0.1, 0.25, 0.5]),
    citation=bib("xiao2024densing", "Densing Law of LLMs", "Xiao, Chaojun and others", "arXiv:2412.04315", 2024),
    output="downstream accuracy",
    description=(
        "Two-step downstream link (OLMo ladder / Densing law): accuracy(L) = d + c / (1 + exp(gamma (L - l))).\n\n"
        "Input: L = task loss (from a loss law such as Chinchilla). d is chance accuracy, d + c the ceiling."
    ),
    example=({"c": 0.6, "gamma": 6.0, "l": 2.6, "d": 0.25}, lambda seed=0: {"L": np.linspace(1.9, 3.4, 40)}),
)


def _l2l(p, Lx):
    return p["K"] * (Lx - p["E_x"]) ** p["kappa"] + p["E_y"]


loss_to_loss = Law(
    _l2l, name="loss_to_loss", inputs=("Lx",), params={"K": positive(), "kappa": positive(), "E_x": positive(), "E_y": positive()},
    form_status="verified", source="Mayilvahanan et al. 2025, brendel-group/llm-line figures/figs.py",
    starts=grid(K=[0.5, 1.0, 2.0], kappa=[0.5, 1.0, 1.5], E_x=[0.5, 1.0, 1.5], E_y=[0.5, 1.0, 1.5]),
    citation=bib("mayilvahanan2025llms", "LLMs on the Line: Data Determines Loss-to-Loss Scaling Laws",
                  "Mayilvahanan, Prasanna and others", "arXiv:2502.12120", 2025),
    output="loss on a second distribution",
    description=(
        "Loss-to-loss shifted power law (Mayilvahanan et al. 2025): L_y = K (L_x - E_x)^kappa + E_y.\n\n"
        "Input: Lx = loss on one distribution (must exceed E_x); E_x, E_y are the irreducible losses. "
        "The authors fit E_x and E_y first (each the constant of a compute law on its own data) and then "
        "only K and kappa; fitting all four jointly is poorly identified, so pass fixed={'E_x': ..., 'E_y': ...}."
    ),
    example=({"K": 1.2, "kappa": 1.3, "E_x": 1.6, "E_y": 1.1}, lambda seed=0: {"Lx": np.linspace(2.0, 4.0, 40)}),
)

observational_sigmoid = Law(
    lambda p, S: jax.nn.sigmoid(p["beta"] * S + p["alpha"]), name="observational_sigmoid", inputs={"S": "real"},
    source="Ruan et al. 2024, ryoungj/ObsScaling README (read by the project's survey)",
    form_status="verified",
    params={"beta": free(), "alpha": free()}, starts=grid(beta=[-2.0, 0.5, 2.0], alpha=[-2.0, 0.0, 2.0]),
    log_fn=lambda p, S: jax.nn.log_sigmoid(p["beta"] * S + p["alpha"]),
    citation=bib("ruan2024observational", "Observational Scaling Laws and the Predictability of Language Model Performance",
                  "Ruan, Yangjun and Maddison, Chris J. and Hashimoto, Tatsunori", "arXiv:2405.10938", 2024),
    output="benchmark accuracy",
    description=(
        "Observational scaling (Ruan et al. 2024): Y = sigmoid(beta S + alpha).\n\nInput: S = capability "
        "score (e.g. the first principal component of standard benchmarks)."
    ),
    example=({"beta": 1.7, "alpha": -0.4}, lambda seed=0: {"S": np.linspace(-3.0, 3.0, 40)}),
)

# ---- fine-tuning and upcycling ---------------------------------------------------------------

rectified_finetune = Law(
    lambda p, D: p["B"] / (p["D_l"] + D ** p["beta"]) + p["E"], name="rectified_finetune", inputs=("D",),
    form_status="verified", source="Lin et al. 2024, linhaowei1/Fine-tuning-Scaling-Law src/fit_law.py",
    params={"B": positive(), "D_l": positive(), "beta": positive(), "E": positive()},
    starts=grid(B=[10.0, 100.0, 1000.0], D_l=[1.0, 10.0, 100.0], beta=[0.2, 0.5, 1.0], E=[0.5, 1.0, 2.0]),
    citation=bib("lin2024selecting", "Selecting Large Language Model to Fine-tune via Rectified Scaling Law",
                  "Lin, Haowei and others", "arXiv:2402.02314", 2024),
    description=(
        "Rectified fine-tuning law (Lin et al. 2024): L(D) = B / (D_l + D^beta) + E.\n\n"
        "Input: D = fine-tuning examples. D_l is the pre-learned data size: small D sits in the flat "
        "'pre-power' phase. The authors' code writes it L = (A - E) / (1 + e^B' D^beta) + E with "
        "A = L(0): D_l = e^-B', B = (A - E) e^-B'. Fitted per (model, data set): no universal coefficients."
    ),
    example=({"B": 300.0, "D_l": 30.0, "beta": 0.6, "E": 1.2}, lambda seed=0: {"D": logspace(1, 6, 40)(seed)}),
)


def _mult_log(p, X, D):
    inner = jnp.log(p["A"]) - p["alpha"] * jnp.log(X) - p["beta"] * jnp.log(D)
    return lse(inner, jnp.broadcast_to(jnp.log(p["E"]), inner.shape))


multiplicative_finetune = Law(
    lambda p, X, D: p["A"] * X ** -p["alpha"] * D ** -p["beta"] + p["E"], name="multiplicative_finetune",
    form_status="verified", source="Zhang et al. 2024, arXiv:2402.17193, Eq. 1 and App. Table 4",
    inputs=("X", "D"), log_fn=_mult_log,
    # alpha is free in sign: Table 4 has alpha_t = -0.0017 (WMT19 En-Zh, prompt tuning)
    params={"A": positive(), "alpha": free(), "beta": positive(), "E": positive()},
    starts=grid(A=[1e1, 1e3, 1e5], alpha=[0.05, 0.2, 0.5], beta=[0.05, 0.2, 0.5], E=[0.5, 1.0, 2.0]),
    citation=bib("zhang2024when", "When Scaling Meets LLM Finetuning: The Effect of Data, Model and Finetuning Method",
                  "Zhang, Biao and Liu, Zhongtao and Cherry, Colin and Firat, Orhan", "ICLR", 2024),
    description=(
        "Multiplicative joint fine-tuning law (Zhang et al. 2024, Eq. 1): L = A X^-alpha "
        "D_f^-beta + E.\n\nInputs: X = the scaled factor (raw model size, pre-training tokens or PET "
        "parameters), D = fine-tuning examples. The authors fit Huber (delta 1e-3) with L-BFGS from a grid, "
        "estimate beta and E jointly across factors, then fix them and refit A, alpha per factor."
    ),
    example=({"A": 200.0, "alpha": 0.15, "beta": 0.1, "E": 1.0},
             lambda seed=0: {"X": logspace(8, 10.5, 60)(seed), "D": logspace(3, 6, 60, 1)(seed)}),
)


def _upcycle_log(p, D1, D2):
    l1, l2 = jnp.log(D1), jnp.log(D2)
    inner = jnp.log(p["A"]) - p["alpha1"] * l1 + (-p["alpha2"] + p["alpha3"] * l1) * l2
    return lse(inner, jnp.broadcast_to(jnp.log(p["E"]), inner.shape))


upcycling = Law(
    lambda p, D1, D2: jnp.exp(_upcycle_log(p, D1, D2)), name="upcycling", inputs=("D1", "D2"), log_fn=_upcycle_log,
    form_status="unverified",
    source="not verified: the paper body and the authors' code (sbintuitions/sparse-upcycling-scaling-laws) "
           "could not be read; the form follows the abstract's description of a multiplicative law with an interaction",
    params={"A": positive(), "alpha1": free(), "alpha2": free(), "alpha3": free(), "E": positive()},
    starts=grid(A=[1e1, 1e3, 1e5], alpha1=[0.05, 0.2], alpha2=[0.1, 0.3], alpha3=[0.0, 0.01], E=[1.0, 2.0]),
    citation=bib("liew2025scaling", "Scaling Laws for Upcycling Mixture-of-Experts Language Models", "Liew, Seng Pei and others",
                  "arXiv:2502.03009", 2025),
    description=(
        "Upcycling law (Liew et al. 2025, UNVERIFIED form: see source): L(D1, D2) = A D1^-alpha1 "
        "D2^(-alpha2 + alpha3 log D1) + E.\n\nInputs: D1 = dense pre-training tokens, D2 = tokens after "
        "upcycling to MoE. alpha3 > 0 is the interaction that limits upcycling at large D1."
    ),
    example=({"A": 60.0, "alpha1": 0.08, "alpha2": 0.2, "alpha3": 0.004, "E": 1.6},
             lambda seed=0: {"D1": logspace(9, 11.5, 60)(seed), "D2": logspace(9, 11.5, 60, 1)(seed)}),
)

def _pl_log(p, x):
    return jnp.log(p["c"]) + p["a"] * jnp.log(x)


power_law = Law(
    lambda p, x: jnp.exp(_pl_log(p, x)), name="power_law", form_status="generic", inputs=("x",), log_fn=_pl_log,
    source="a generic form (log-log regression, as Porian et al. use for N*(C) = k C^a)",
    params={"c": positive(), "a": free()},
    starts=grid(c=[1e-8, 1e-4, 1.0, 1e4], a=[-1.0, 0.0, 0.5, 1.0]),
    recipes={
        "log_least_squares": Recipe("log_least_squares", "ordinary least squares of log y on log x (log-log regression)",
                                    loss="squared", residual="log"),
        "porian2024": Recipe(
            "porian2024", "Porian et al. 2024, resolving-scaling-law-discrepancies analysis: weighted least squares of "
            "log N* on log C with weights 1/std(log N*)^2 over budgets with an interior minimum",
            loss="squared", residual="log", weights="1 / n_star_std**2", where=("n == n",),
            note="column names of their released optimal_pairs table: n (N*), n_star_std; 'n == n' drops the "
                 "budgets without an interior minimum (empty n)"),
    },
    default_recipe="log_least_squares",
    citation=bib("porian2024resolving", "Resolving Discrepancies in Compute-Optimal Scaling of Language Models",
                  "Porian, Tomer and Wortsman, Mitchell and Jitsev, Jenia and Schmidt, Ludwig and Carmon, Yair", "NeurIPS", 2024),
    output="y",
    description=(
        "Pure power law: y = c x^a (a line in log-log). With squared loss on log residuals and weights "
        "1/sigma^2 it is the weighted log-log regression Porian et al. use for N*(C) = k C^a.\n\n"
        "Input: x = any positive scale, e.g. compute C."
    ),
    example=({"c": 0.1, "a": 0.5}, lambda seed=0: {"x": logspace(16, 20, 12)(seed)}),
)

ZOO = [power_law, power_law_constant, broken_power_law, kaplan_steps, critical_batch, overtraining, downstream_error, routed_lm,
       weight_sparsity, *PRECISION_AND_HYPER,
       data_mixture, two_step_downstream, loss_to_loss, observational_sigmoid, rectified_finetune,
       multiplicative_finetune, upcycling]
