"""The zoo against its primary sources: numbers the papers state, reproduced from the shipped
coefficients and forms (see ../shared/ZOO_VERIFICATION.md for where each comes from)."""

import numpy as np
import pytest
import scipy.optimize

import jaxlaws as jl
from jaxlaws.laws import REGISTRY


def test_every_law_names_its_source_and_every_coefficient_set_its_units():
    for name, law in REGISTRY.items():
        assert law.source, f"{name}: say what the form was checked against (or why it was not)"
        if law.form_status == "unverified":
            assert law.source.startswith("not verified"), name
        for set_name, cs in law.coefficients.items():
            assert cs.source, (name, set_name)
            missing = [k for k in law.inputs if k not in cs.units]
            assert not missing, f"{name}/{set_name}: no units for inputs {missing}"


def _joint_moe():
    law = REGISTRY["joint_moe"]
    return law, law.coefficient_set("ludziejewski2025")


def test_joint_moe_reproduces_table_4_per_expert_count():
    # Table 4: for each E, L = c + m N^mu + n D^nu
    import jax.numpy as jnp

    from jaxlaws.laws._moe import log_e_hat

    _, p = _joint_moe()
    paper = (30.364, -0.1817, 53.98, -0.1965)  # E = 1
    le = float(log_e_hat({k: jnp.asarray(v) for k, v in p.items()}, jnp.asarray(1.0)))
    m = p["a"] * np.exp(p["delta"] * le)
    mu = -(p["alpha"] + p["gamma"] * le)
    n = p["b"] * np.exp(p["omega"] * le)
    nu = -(p["beta"] + p["zeta"] * le)
    for ours, theirs in zip((m, mu, n, nu), paper):
        assert ours == pytest.approx(theirs, rel=3e-3)
    assert np.exp(le) == pytest.approx(p["E_start"], rel=1e-12)  # dense maps to E_start


@pytest.mark.parametrize("F, E, N_paper, D_paper", [(1e20, 1.0, 1.7e9, 9.7e9), (1e20, 32.0, 669e6, 24.9e9),
                                                     (1e22, 1.0, 18.8e9, 88.6e9)])
def test_joint_moe_reproduces_table_1_compute_optimal_sizes(F, E, N_paper, D_paper):
    law, p = _joint_moe()
    a = jl.compute_optimal(law, p, F, inputs={"E": E})
    assert a.status[0] == "converged"
    assert a.N[0] == pytest.approx(N_paper, rel=0.02)
    assert a.D[0] == pytest.approx(D_paper, rel=0.01)


def test_joint_moe_is_more_memory_efficient_than_dense():
    # The paper's finding: with memory capped at what the compute-optimal dense model needs,
    # an MoE (E > 1, smaller active model, more tokens) reaches a lower loss at the same compute.
    law, p = _joint_moe()
    prob = jl.moe_problem(law)
    for C in (1e20, 1e22):
        dense = jl.compute_optimal(law, p, C, inputs={"E": 1.0})
        r = jl.allocate(prob, p, {"C": [C], "M": [float(dense.N[0])]})
        assert r.status[0] == "converged" and r.x["E"][0] >= 2
        assert jl.total_params(r.x["N"][0], r.x["E"][0]) <= dense.N[0] * (1 + 1e-6)
        assert np.exp(r.objective[0]) < dense.loss[0] - 0.01


def test_precision_reproduces_seven_bit_optimum_and_effective_params():
    law = REGISTRY["precision"]
    p = law.coefficient_set("kumar2024")
    assert float(law(p, 1e8, 1e10, 16.0, 16.0, 16.0)) == pytest.approx(3.42, abs=5e-3)
    # "4-bit needs > 4x larger models": N_eff / N = 0.19 at 4 bits everywhere
    from jaxlaws.laws._precision import effective_params

    assert float(effective_params(p, 1.0, 4.0, 4.0, 4.0)) == pytest.approx(0.19, abs=5e-3)
    # Eq. 5: at compute C = (6/16) N D P the loss-optimal training precision is 7 bits
    bits = np.arange(4.0, 16.01, 0.5)
    for C in (1e19, 1e21, 1e23):
        best = []
        for P in bits:
            f = lambda u, P=P: float(law(p, np.exp(u), C / (6 / 16 * np.exp(u) * P), P, P, P))  # noqa: E731
            best.append(scipy.optimize.minimize_scalar(f, bounds=(np.log(1e5), np.log(1e14)), method="bounded").fun)
        assert bits[int(np.argmin(best))] == 7.0


def test_quantization_degradation_and_ptq_published_sets():
    q = REGISTRY["quantization_degradation"]
    assert float(q(q.coefficient_set(), 1e9, 1e12, 4.0)) == pytest.approx(0.1540, abs=5e-4)
    ptq = REGISTRY["precision_ptq"]
    p = ptq.coefficient_set()
    # more data, larger degradation at the same bits (over-trained models quantize worse)
    assert float(ptq(p, 1e8, 1e11, 4.0)) > float(ptq(p, 1e8, 1e10, 4.0)) > 0


def test_fp_quantization_reproduces_critical_data_sizes():
    law = REGISTRY["fp_quantization"]
    p = law.coefficient_set("sun2025")
    crit = law.derived["critical_data"]
    for (Eb, Mb), paper_T in (((8.0, 7.0), 1730.0), ((4.0, 3.0), 27.0), ((2.0, 1.0), 0.4)):
        ours = float(crit(p, 1e9, 128.0, Eb, Mb)) / 1e12
        assert ours == pytest.approx(paper_T, rel=0.03), (Eb, Mb, ours)


def test_multiplicative_finetune_admits_negative_exponent():
    law = REGISTRY["multiplicative_finetune"]
    assert bool(law.params["alpha"].contains(np.asarray(-0.0017)))


def test_forms_equal_the_authors_code():
    """Forms verified against released code (no published coefficients): our law equals a
    transcription of the authors' function at random points."""
    rng = np.random.default_rng(0)
    x = 10 ** rng.uniform(2, 8, 20)
    # Caballero et al.: y = a + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1)
    bp = REGISTRY["broken_power_law"]
    p = {"a": 1.0, "b": 20.0, "c0": 0.1, "c1": 0.4, "d": 1e5, "f": 0.5}
    ref = p["a"] + p["b"] * x ** -p["c0"] * (1 + (x / p["d"]) ** (1 / p["f"])) ** (-p["c1"] * p["f"])
    np.testing.assert_allclose(np.asarray(bp(p, x)), ref, rtol=1e-12)
    # Lin et al.'s code: L = (A - E) / (1 + e^B' D^beta) + E, with D_l = e^-B', B = (A - E) e^-B'
    rf = REGISTRY["rectified_finetune"]
    A, E, Bp, beta = 3.2, 1.1, -2.0, 0.6
    ours = {"B": (A - E) * np.exp(-Bp), "D_l": np.exp(-Bp), "beta": beta, "E": E}
    np.testing.assert_allclose(np.asarray(rf(ours, x)), (A - E) / (1 + np.exp(Bp) * x**beta) + E, rtol=1e-12)
    # Clark et al.'s notebook: log10 L = a log10 N + b log10 Ê + c log10 N log10 Ê + d, Ê saturating
    rl = REGISTRY["routed_lm"]
    a, b, c10, d10, Es, Em = -0.0829, -0.1164, 0.00979, 1.1115, 2.0, 251.0
    N, E = 10 ** rng.uniform(7, 9, 20), rng.choice([1.0, 8.0, 64.0, 512.0], 20)
    Eh = 1 / (1 / (E - 1 + 1 / (1 / Es - 1 / Em)) + 1 / Em)
    ref = 10 ** (a * np.log10(N) + b * np.log10(Eh) + c10 * np.log10(N) * np.log10(Eh) + d10)
    ours = {"a": a, "b": b, "c": c10 / np.log(10), "d": d10 * np.log(10), "E_start": Es, "E_max": Em}
    np.testing.assert_allclose(np.asarray(rl(ours, N, E)), ref, rtol=1e-10)
    # Mayilvahanan et al.'s code: y = K (x - E_x)^kappa + E_y
    ll = REGISTRY["loss_to_loss"]
    lx = rng.uniform(2.0, 4.0, 20)
    q = {"K": 1.2, "kappa": 1.3, "E_x": 1.6, "E_y": 1.1}
    np.testing.assert_allclose(np.asarray(ll(q, lx)), q["K"] * (lx - q["E_x"]) ** q["kappa"] + q["E_y"], rtol=1e-12)


def test_overtraining_is_chinchilla_with_twice_its_exponent():
    # the docstring's conversion: alpha = beta = 2 eta, A = a 6^-eta, B = b 6^-eta
    ot, ch = REGISTRY["overtraining"], REGISTRY["chinchilla"]
    p = {"E": 1.8, "a": 3e3, "b": 2e5, "eta": 0.15}
    q = {"E": 1.8, "A": 3e3 * 6**-0.15, "B": 2e5 * 6**-0.15, "alpha": 0.3, "beta": 0.3}
    N, D = 10 ** np.random.default_rng(1).uniform(8, 10, (2, 10))
    np.testing.assert_allclose(np.asarray(ot(p, 6 * N * D, D / N)), np.asarray(ch(q, N, D)), rtol=1e-12)
