"""General constrained allocation: MoE under memory, inference-aware training, integer handling."""

import numpy as np
import pytest
import scipy.optimize

import jaxlaws as jl

moe = jl.laws.joint_moe
P = moe.coefficient_set()


def _loss(N, D, E):
    return float(moe(P, N, D, E))


def _best_for_fixed_E(E, C, M):
    """Brute-force reference: for a fixed integer E, the best N on the compute line under memory."""
    n_max = M / (1 / 3 + 2 / 3 * E)
    f = lambda u: np.log(_loss(np.exp(u), C / (6 * np.exp(u)), E))  # noqa: E731
    hi = min(np.log(n_max), np.log(C / 6 / 1e8))
    r = scipy.optimize.minimize_scalar(f, bounds=(np.log(1e6), hi), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(r.fun)), float(np.exp(r.x))


def test_moe_memory_budget_is_active_and_beats_every_integer_expert_count():
    C, M = 1e21, 2e9
    prob = jl.moe_problem()
    free = jl.allocate(prob, {**P, "C": C, "M": 1e15})
    assert jl.total_params(free.x["N"][0], free.x["E"][0]) > M  # the unconstrained optimum does not fit
    r = jl.allocate(prob, {**P, "C": C, "M": M})
    N, D, E = r.x["N"][0], r.x["D"][0], r.x["E"][0]
    assert r.status[0] == "converged" and E == np.round(E)
    assert 6 * N * D == pytest.approx(C, rel=1e-6)
    assert jl.total_params(N, E) == pytest.approx(M, rel=1e-6)  # memory constraint active
    loss = _loss(N, D, E)
    grid = {e: _best_for_fixed_E(e, C, M)[0] for e in range(1, 33)}
    assert loss <= min(grid.values()) * (1 + 1e-9)


def test_inference_aware_allocation_matches_one_dimensional_reference():
    chin = jl.laws.chinchilla
    p = chin.coefficient_set("besiroglu2024")
    target = 2.0
    prob = jl.inference_problem(chin)
    r = jl.allocate(prob, {**p, "target": target}, {"T": [0.0, 1e13]})
    assert list(r.status) == ["converged", "converged"]
    for j, T in enumerate((0.0, 1e13)):
        def cost(u):
            N = np.exp(u)
            rest = target - p["E"] - p["A"] / N ** p["alpha"]
            if rest <= 0:
                return np.inf
            D = (p["B"] / rest) ** (1 / p["beta"])
            return np.log(6 * N * D + 2 * N * T)

        ref = scipy.optimize.minimize_scalar(cost, bounds=(np.log(1e8), np.log(1e13)), method="bounded", options={"xatol": 1e-12})
        assert r.x["N"][j] == pytest.approx(np.exp(ref.x), rel=1e-4)
        assert r.objective[j] == pytest.approx(ref.fun, abs=1e-9)
        assert float(chin(p, r.x["N"][j], r.x["D"][j])) == pytest.approx(target, rel=1e-7)
    # serving 1e13 tokens makes the compute-optimal model smaller and longer-trained
    assert r.x["N"][1] < r.x["N"][0] and r.x["D"][1] / r.x["N"][1] > r.x["D"][0] / r.x["N"][0]


def test_infeasible_problem_is_flagged():
    prob = jl.AllocationProblem.make(
        {"x": (1.0, 10.0)}, lambda x, p: (x["x"] - 3.0) ** 2, equalities=[lambda x, p: x["x"] - 20.0])
    r = jl.allocate(prob, {})
    assert r.status[0] == "infeasible" and r.violation[0] > 1


def test_bad_bounds_refused():
    with pytest.raises(jl.OptionError, match="bounds"):
        jl.AllocationProblem.make({"x": (0.0, 1.0)}, lambda x, p: x["x"])
