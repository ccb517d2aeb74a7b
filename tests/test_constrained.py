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


# ---- implicit derivatives of constrained allocations -------------------------------------------

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def _fd(fun, x0, h):
    return (fun(x0 + h) - fun(x0 - h)) / (2 * h)


def test_compute_optimal_as_a_constrained_problem_has_the_closed_form_derivatives():
    """Chinchilla's compute-optimal N written as a general problem (min log L s.t. 6ND = C):
    d log N*/d alpha, d beta, d log C from the KKT system equal the closed form's."""
    chin = jl.laws.chinchilla
    p0 = chin.coefficient_set("besiroglu2024")
    prob = jl.AllocationProblem.make(
        {"N": (1e6, 1e15), "D": (1e6, 1e16)},
        lambda x, p: chin.log_predict(p, x["N"], x["D"]),
        equalities=[lambda x, p: jnp.log(6 * x["N"] * x["D"]) - p["logC"]])

    @jax.jit
    def log_n(alpha, beta, logC):
        p = {**p0, "alpha": alpha, "beta": beta, "logC": logC}
        return jnp.log(jl.solve_allocation(prob, p)["x"]["N"])

    def closed(alpha, beta, logC):
        G = (alpha * p0["A"] / (beta * p0["B"])) ** (1 / (alpha + beta))
        return jnp.log(G) + beta / (alpha + beta) * (logC - jnp.log(6.0))

    args = (p0["alpha"], p0["beta"], np.log(1e23))
    assert float(log_n(*args)) == pytest.approx(float(closed(*args)), abs=1e-8)
    ours = jax.jit(jax.grad(log_n, argnums=(0, 1, 2)))(*args)
    ref = jax.grad(closed, argnums=(0, 1, 2))(*args)
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-6)
    # compute_optimal is this problem's fast path (the budget eliminated, a 1-D solve): the
    # general solver and the fast path agree, and both return the one Allocation type
    Cs = np.array([1e20, 1e23, 1e26])
    general = jl.allocate(prob, {**p0}, {"logC": np.log(Cs)})
    fast = jl.compute_optimal(chin, p0, Cs)
    assert type(general) is type(fast) is jl.Allocation
    assert list(general.status) == list(fast.status) == ["converged"] * 3
    np.testing.assert_allclose(general.N, fast.N, rtol=1e-7)
    np.testing.assert_allclose(general.D, fast.D, rtol=1e-7)
    np.testing.assert_allclose(np.exp(general.objective), fast.loss, rtol=1e-12)


@pytest.mark.e2e  # heavy (7-10 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_moe_allocation_derivatives_match_finite_differences_of_resolves():
    """MoE under an active memory cap (E pinned at its integer optimum): derivatives of N*,
    D* and the optimal loss with respect to the memory and compute budgets, by the KKT
    system, against central differences of full re-solves."""
    prob = jl.moe_problem()
    base = {**P, "C": 1e21, "M": 2e9}

    @jax.jit
    def out(logM, logC):
        r = jl.solve_allocation(prob, {**base, "M": jnp.exp(logM), "C": jnp.exp(logC)})
        return jnp.stack([jnp.log(r["x"]["N"]), jnp.log(r["x"]["D"]), r["objective"], r["x"]["E"]])

    lm, lc = np.log(2e9), np.log(1e21)
    r0 = np.asarray(out(lm, lc))
    # reverse mode, as jax.grad uses: (2 budgets, 4 outputs)
    J = np.asarray(jax.jit(jax.jacrev(out, argnums=(0, 1)))(lm, lc))
    for i, (dm, dc) in enumerate(((1e-4, 0.0), (0.0, 1e-4))):
        fd = (np.asarray(out(lm + dm, lc + dc)) - np.asarray(out(lm - dm, lc - dc))) / 2e-4
        assert np.all(np.asarray(out(lm + dm, lc + dc))[3] == r0[3])  # same expert count
        np.testing.assert_allclose(J[i, :3], fd[:3], rtol=2e-5, atol=1e-7)
        assert J[i, 3] == 0.0  # an integer choice has no derivative
    # on the memory cap, log N moves one-for-one with log M (total params = M)
    assert J[0, 0] == pytest.approx(1.0, abs=1e-9)
    # more memory lowers the optimal loss: the cap's shadow price is negative
    assert J[0, 2] < 0


def test_inference_allocation_derivatives_under_vmap():
    chin = jl.laws.chinchilla
    p = chin.coefficient_set("besiroglu2024")
    prob = jl.inference_problem(chin)

    @jax.jit
    def log_n(T, target):
        return jnp.log(jl.solve_allocation(prob, {**p, "T": T, "target": target})["x"]["N"])

    Ts = jnp.array([1e11, 1e12, 1e13])
    g = jax.jit(jax.vmap(jax.grad(log_n, argnums=(0, 1)), in_axes=(0, None)))(Ts, 2.0)
    for j, T in enumerate(np.asarray(Ts)):
        fd_T = _fd(lambda t: float(log_n(t, 2.0)), T, T * 1e-4)
        fd_L = _fd(lambda L: float(log_n(T, L)), 2.0, 1e-5)
        assert float(g[0][j]) == pytest.approx(fd_T, rel=1e-5)
        assert float(g[1][j]) == pytest.approx(fd_L, rel=1e-5)
    assert np.all(np.asarray(g[0]) < 0)  # serving more tokens favours smaller models


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_moe_allocation_over_parameter_draws_carries_intervals():
    """Every budget solved under every parameter draw in one call: each draw's answer equals
    its own solve, and quantiles summarise the converged draws per budget."""
    rng = np.random.default_rng(0)
    n = 12
    draws = {k: P[k] * (1 + 0.02 * rng.standard_normal(n)) for k in ("a", "alpha", "b", "beta")}
    prob = jl.moe_problem()
    batch = {"C": [1e20, 1e21], "M": [2e9, 2e9]}
    r = jl.allocate(prob, P, batch, draws=draws)
    assert r.objective.shape == (n, 2) and r.x["E"].shape == (n, 2)
    for i in (0, 5, 11):
        one = jl.allocate(prob, {**P, **{k: v[i] for k, v in draws.items()}}, batch)
        for k in ("N", "D", "E"):
            np.testing.assert_allclose(r.x[k][i], one.x[k], rtol=1e-8)
        assert list(r.status[i]) == list(one.status)
    q = r.quantiles((0.1, 0.5, 0.9))
    assert list(q.C) == [1e20, 1e21] and list(q.n_draws) == list((r.status == "converged").sum(axis=0))
    ok = r.status[:, 1] == "converged"
    assert q["N_q0.5"][1] == pytest.approx(np.quantile(r.x["N"][ok, 1], 0.5))
    assert np.all(q["N_q0.1"] <= q["N_q0.5"]) and np.all(q["N_q0.5"] <= q["N_q0.9"])
    with pytest.raises(jl.OptionError, match="draws must be 1-D arrays"):
        jl.allocate(prob, P, batch, draws={"a": np.ones((2, 2))})
    with pytest.raises(jl.OptionError, match="quantiles"):
        jl.allocate(prob, P, batch).quantiles()


def test_budget_lists_of_different_lengths_share_one_compiled_program():
    """Batches are padded to a power of two: 3 and 4 budgets run the program compiled for 4,
    and the padding never leaks into the results."""
    from jaxlaws._constrained import _compiled

    chin = jl.laws.chinchilla
    p = {**chin.coefficient_set("besiroglu2024"), "target": 2.0}
    prob = jl.inference_problem(chin)
    r3 = jl.allocate(prob, p, {"T": [0.0, 1e12, 1e13]})
    r4 = jl.allocate(prob, p, {"T": [0.0, 1e12, 1e13, 3e13]})
    assert r3.objective.shape == (3,) and r4.objective.shape == (4,)
    np.testing.assert_array_equal(r3.x["N"], r4.x["N"][:3])
    assert _compiled(prob, 12, ("T",), ())._cache_size() == 1
    assert len(r3.to_frame()) == 3
