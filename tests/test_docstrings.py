"""Every zoo docstring states the formula the code evaluates.

Each law's description states its equation; this test reads the formula from the docstring
text, turns it into Python mechanically (``^`` is a power, a space between two operands is a
product) and evaluates it against the law at its example parameters over its example design.
A docstring that drifts from its formula (an exponent of eta instead of 2 eta, a sign
convention) fails here. Laws defined by several equations are checked against the authors'
code or the paper's numbers by the tests named in ``ELSEWHERE``.
"""

import math
import re

import numpy as np
import pytest

import jax.numpy as jnp

from jaxlaws.laws import get_law, list_laws

# law -> (the formula as its docstring writes it, docstring symbol -> law name)
FORMULAS = {
    "chinchilla": ("E + A / N^alpha + B / D^beta", {}),
    "kaplan": ("[(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D", {}),
    "power_law": ("c x^a", {}),
    "power_law_constant": ("E + A x^-alpha", {}),
    "broken_power_law": ("a + b x^-c0 (1 + (x/d)^(1/f))^(-c1 f)", {}),
    "kaplan_steps": ("(N_c/N)^alpha_N + (S_c/S_min)^alpha_S", {"S_min": "S"}),
    "critical_batch": ("B* / L^(1/alpha_B)", {"B*": "B_star"}),
    "overtraining": ("E + (a M^eta + b M^-eta) C^-eta", {}),
    "downstream_error": ("epsilon - k exp(-gamma L)", {}),
    "weight_sparsity": ("(a (1-S)^b + c) N^-d + e D^-f + g", {}),
    "precision_ptq": ("C_T D^gamma_D / N^gamma_N e^(-P_post/gamma_post)", {}),
    "quantization_degradation": ("k D^beta / (N^alpha P^gamma)", {}),
    "fp_quantization": ("n/N^alpha + d/D^beta + eps + (D^beta/N^alpha) log2(B) / (gamma (Eb+0.5)^delta (Mb+0.5)^nu)", {}),
    "step_law_lr": ("c N^a D^b", {}),
    "step_law_batch": ("c D^b", {}),
    "power_lines_tau": ("c TPP^(-m)", {}),
    "data_mixture": ("c + k exp(t r)", {}),
    "two_step_downstream": ("d + c / (1 + exp(gamma (L - l)))", {}),
    "loss_to_loss": ("K (L_x - E_x)^kappa + E_y", {"L_x": "Lx"}),
    "observational_sigmoid": ("sigmoid(beta S + alpha)", {}),
    "rectified_finetune": ("B / (D_l + D^beta) + E", {}),
    "multiplicative_finetune": ("A X^-alpha D_f^-beta + E", {"D_f": "D"}),
    "upcycling": ("A D1^-alpha1 D2^(-alpha2 + alpha3 log D1) + E", {}),
    "moe_sparsity": ("a/N^alpha + b/D^beta + c/(1-S)^lam + d/((1-S)^delta N^gamma) + e", {}),
}
# Several equations each: checked against the authors' code or the paper's printed numbers.
ELSEWHERE = {
    "data_constrained": "tests/test_zoo.py (the datablations README values) and tests/test_recipes.py",
    "joint_moe": "tests/test_zoo_verified.py::test_joint_moe_reproduces_table_4_per_expert_count and table 1",
    "data_filtering": "tests/test_zoo.py::test_data_filtering_matches_the_authors_recursion",
    "routed_lm": "tests/test_zoo_verified.py::test_forms_equal_the_authors_code",
    "precision": "tests/test_zoo_verified.py::test_precision_reproduces_seven_bit_optimum_and_effective_params",
}

_FUNCS = {"exp": np.exp, "log": np.log, "ln": np.log, "log2": np.log2, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}


def to_python(formula: str, symbols: dict) -> str:
    """``^`` -> ``**``, brackets -> parentheses, a space between two operands -> ``*``, ``e^`` -> ``exp``."""
    s = formula.replace("[", "(").replace("]", ")")
    for a, b in sorted(symbols.items(), key=lambda kv: -len(kv[0])):
        s = s.replace(a, b)
    s = re.sub(r"(?<![\w.])e\^", "exp", s)  # e^(...) is the exponential
    s = s.replace("^", "**")
    s = re.sub(r"\b(log|ln)\s+(\w+)", r"\1(\2)", s)  # 'log D1' is log(D1)
    # implicit products: an operand, spaces, an operand (a name, a number or a bracket)
    s = re.sub(r"([\w.)])\s+(?=[\w(])", r"\1*", s)
    for f in _FUNCS:  # a function name followed by '*' came from 'exp (' style spacing: undo
        s = s.replace(f"{f}*(", f"{f}(")
    return s


def test_every_law_is_audited_here_or_elsewhere():
    assert {law.name for law in list_laws()} == set(FORMULAS) | set(ELSEWHERE)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_docstring_formula_equals_the_code(name):
    law = get_law(name)
    formula, symbols = FORMULAS[name]
    assert formula in law.description.split("\n")[0], f"{name}: the docstring no longer states {formula!r}"
    truth, design = law.example
    X = {k: np.asarray(v, dtype=float) for k, v in design(0).items()}
    env = {**_FUNCS, **{k: float(v) for k, v in truth.items()}, **X}
    expected = eval(to_python(formula, symbols), {"__builtins__": {}}, env)  # noqa: S307 - our own test table
    got = np.asarray(law({k: jnp.asarray(v) for k, v in truth.items()}, *[X[k] for k in law.inputs]))
    np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-9, atol=0)
    assert math.isfinite(float(np.sum(got)))
