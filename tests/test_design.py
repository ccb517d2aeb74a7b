"""Experiment design and decisions under uncertainty (issue #16), against independent references:
a numpy brute-force greedy, finite differences, covariance recomputed from finite-difference
Jacobians, a simulation with known truth, and brute-force grids over parameter draws."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

import jaxlaws as jl
from jaxlaws._cli import main
from jaxlaws._demo_data import TRUTH, demo_data
from jaxlaws.kernels import design as KD

TARGET = "N_opt(C=1e24)"


@pytest.fixture(scope="module")
def demo_fit():
    return jl.fit("chinchilla", demo_data())


@pytest.fixture(scope="module")
def demo_design(demo_fit):
    budget = 0.1 * float(demo_data().C.sum())  # an extra 10% of the ladder's compute
    cand = jl.candidate_runs(demo_fit, budget, n=60)
    return cand, jl.design(demo_fit, cand, TARGET, budget)


def _reference_greedy(J, A, B, g, a, b, cost, budget, n_max, per_cost):
    """Every candidate's post-run variance recomputed from scratch with explicit inverses."""
    A, B = A.copy(), B.copy()
    picks, variances, spent = [], [], 0.0
    for _ in range(n_max):
        Ai = np.linalg.inv(A)
        v0 = g @ Ai @ B @ Ai @ g
        best, best_score = None, -np.inf
        for c in range(len(J)):
            if c in picks or spent + cost[c] > budget:
                continue
            A1 = A + a * np.outer(J[c], J[c])
            B1 = B + b * np.outer(J[c], J[c])
            h = np.linalg.solve(A1, g)
            gain = v0 - h @ B1 @ h
            score = gain / cost[c] if per_cost else gain
            if gain > 0 and score > best_score:
                best, best_score = c, score
        if best is None:
            break
        picks.append(best)
        spent += cost[best]
        A += a * np.outer(J[best], J[best])
        B += b * np.outer(J[best], J[best])
        Ai = np.linalg.inv(A)
        variances.append(g @ Ai @ B @ Ai @ g)
    return picks, np.array(variances)


@pytest.mark.parametrize("per_cost", [True, False])
@pytest.mark.parametrize("sandwich", [False, True])
def test_greedy_matches_a_brute_force_reference(per_cost, sandwich):
    rng = np.random.default_rng(3)
    p, M = 4, 60
    J0 = rng.standard_normal((30, p))
    J = rng.standard_normal((M, p)) * rng.uniform(0.2, 2.0, (M, 1))
    A = J0.T @ J0
    # a sandwich: curvature and score variance weighted differently per run
    B = (J0 * rng.uniform(0.3, 3.0, 30)[:, None]).T @ J0 if sandwich else A.copy()
    a, b = (0.7, 1.9) if sandwich else (1.0, 1.0)
    g = rng.standard_normal(p)
    cost = rng.uniform(1.0, 10.0, M)
    ref_picks, ref_var = _reference_greedy(J, A, B, g, a, b, cost, 40.0, 8, per_cost)
    # the test session runs with jax_enable_x64 on (conftest)
    picks, var, gains = KD.greedy(*(jnp.asarray(x) for x in (J, np.linalg.inv(A), B, g, a, b, cost, 40.0)),
                                  n_max=8, per_cost=per_cost)
    picks, var = np.asarray(picks), np.asarray(var)
    n = len(ref_picks)
    assert n >= 3
    assert list(picks[:n]) == ref_picks and np.all(picks[n:] == -1)
    np.testing.assert_allclose(var[:n], ref_var, rtol=1e-9)
    assert cost[ref_picks].sum() <= 40.0


def test_target_gradient_is_the_implicit_derivative_of_n_opt(demo_fit):
    """d log N_opt / d phi from the implicit function theorem = central finite differences of
    compute_optimal itself."""
    from jaxlaws._design import design_programs
    from jaxlaws._information import Coordinates
    from jaxlaws._target import parse_target

    law = demo_fit.law
    co = Coordinates(law, demo_fit.params)
    _, grad, value, _ = design_programs(law, "log", co.names, co.log, (), parse_target(law, TARGET))
    g = np.asarray(grad(jnp.asarray(co.phi), ()))
    h = 1e-5
    fd = []
    for i in range(len(co.phi)):
        vals = []
        for s in (1, -1):
            phi = co.phi.copy()
            phi[i] += s * h
            p = {k: float(v) for k, v in co.params(jnp.asarray(phi)).items()}
            vals.append(np.log(jl.compute_optimal(law, p, 1e24).N[0]))
        fd.append((vals[0] - vals[1]) / (2 * h))
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-7)


def test_design_spends_within_budget_and_its_variance_is_the_textbook_one(demo_fit, demo_design):
    """The reported SEs equal g^T (J^T J / s^2)^-1 g with J by finite differences of the law."""
    cand, d = demo_design
    budget = d.budget
    assert 0 < len(d.runs["cost"]) <= 20 and d.spent <= budget * (1 + 1e-12)
    assert np.isclose(d.spent, d.runs["cost"].sum())
    np.testing.assert_allclose(d.runs["cost"], 6 * d.runs["N"] * d.runs["D"], rtol=1e-12)
    assert d.se_after < d.se_before and np.isclose(d.se_after, d.se_after_linear, rtol=1e-10)  # Fisher: exact first order
    law, p = demo_fit.law, demo_fit.params
    names = ["E", "A", "B", "alpha", "beta"]
    logs = [True, True, True, False, False]

    def logpred(phi, N, D):
        q = {k: (np.exp(v) if lg else v) for k, v, lg in zip(names, phi, logs)}
        return np.log(q["E"] + q["A"] / N ** q["alpha"] + q["B"] / D ** q["beta"])

    def jac(N, D):
        phi0 = np.array([np.log(p[k]) if lg else p[k] for k, lg in zip(names, logs)])
        cols = []
        for i in range(5):
            e = np.zeros(5)
            e[i] = 1e-6
            cols.append((logpred(phi0 + e, N, D) - logpred(phi0 - e, N, D)) / 2e-6)
        return np.stack(cols, 1)

    df = demo_data()
    s2 = jl.effective_noise(demo_fit) ** 2
    info = jac(df.N.values, df.D.values).T @ jac(df.N.values, df.D.values) / s2
    Ja = jac(d.runs["N"], d.runs["D"])
    # the target's gradient, by finite differences of compute_optimal (as in the test above)
    g = []
    phi0 = np.array([np.log(p[k]) if lg else p[k] for k, lg in zip(names, logs)])
    for i in range(5):
        e = np.zeros(5)
        e[i] = 1e-5
        up = {k: (np.exp(v) if lg else v) for k, v, lg in zip(names, phi0 + e, logs)}
        dn = {k: (np.exp(v) if lg else v) for k, v, lg in zip(names, phi0 - e, logs)}
        g.append((np.log(jl.compute_optimal(law, up, 1e24).N[0]) - np.log(jl.compute_optimal(law, dn, 1e24).N[0])) / 2e-5)
    g = np.array(g)
    se0 = np.sqrt(g @ np.linalg.solve(info, g))
    se1 = np.sqrt(g @ np.linalg.solve(info + Ja.T @ Ja / s2, g))
    np.testing.assert_allclose([d.se_before, d.se_after], [se0, se1], rtol=1e-4)
    lo, hi = d.interval(0.8)
    assert lo < d.estimate < hi and np.isclose(np.log(hi / lo), 2 * 1.2815515655446004 * d.se_before)


def test_design_beats_one_more_isoflop_profile_and_random_runs_in_simulation(demo_fit, demo_design):
    """Known truth (the fit), i.i.d. noise, 300 replications of fit-and-extrapolate per design in
    one compiled call: the chosen runs shrink the 80% interval of N_opt(1e24) as much as
    predicted (within 3 bootstrap SEs) and more than an isoFLOP profile or random runs of the
    same compute."""
    cand, d = demo_design
    designs = {"design": d, "isoflop": jl.isoflop_extension(demo_fit, d.spent),
               **{f"random {i}": jl.random_runs(cand, d.spent, seed=i) for i in range(3)}}
    for name, runs in designs.items():
        if name != "design":
            assert np.sum(6 * runs.N * runs.D) <= d.spent * (1 + 1e-9)
    tab = jl.compare_designs(demo_fit, designs, TARGET, n_rep=300).set_index("design")
    assert (tab.converged >= 295).all()
    row = tab.loc["design"]
    assert abs(row.ratio - d.shrinkage) <= 3 * row.ratio_se, tab
    assert abs(row.ratio - row.predicted_ratio) <= 3 * row.ratio_se
    assert row.ratio < 0.85
    assert row.ratio < tab.loc["isoflop"].ratio - 0.1
    randoms = tab.loc[[f"random {i}" for i in range(3)]]
    assert row.ratio < randoms.ratio.mean() - 0.05, tab


def _draws(seed=0, n=400, sd=0.03):
    rng = np.random.default_rng(seed)
    D = {k: np.full(n, v) for k, v in TRUTH.items()}
    D["alpha"] = TRUTH["alpha"] + sd * rng.standard_normal(n)
    D["beta"] = TRUTH["beta"] + sd * rng.standard_normal(n)
    return D


def _brute_force(draws, C, q=None):
    # the optimum lies within a factor e of the plug-in N_opt here: a grid of step 5e-5 in log N
    n0 = jl.compute_optimal("chinchilla", TRUTH, C).N[0]
    u = np.linspace(np.log(n0) - 1, np.log(n0) + 1, 40001)
    N = np.exp(u)[:, None]
    Dt = C / (6 * N)
    L = draws["E"] + draws["A"] / N ** draws["alpha"] + draws["B"] / Dt ** draws["beta"]
    crit = L.mean(axis=1) if q is None else np.quantile(L, q, axis=1)
    return float(np.exp(u[np.argmin(crit)]))


def test_expected_loss_allocation_collapses_to_the_plug_in_one():
    draws = {k: np.full(5, v) for k, v in TRUTH.items()}
    d = jl.decide("chinchilla", draws, [1e21, 1e24], point=TRUTH)
    ref = jl.compute_optimal("chinchilla", TRUTH, [1e21, 1e24])
    np.testing.assert_allclose(d.N, ref.N, rtol=1e-6)
    np.testing.assert_allclose(d.regret_plugin, 0.0, atol=1e-12)
    np.testing.assert_allclose(d.evpi, 0.0, atol=1e-12)


@pytest.mark.parametrize("objective,q", [("expected", None), ("quantile:0.9", 0.9)])
def test_allocation_under_uncertain_exponents_matches_a_brute_force_grid(objective, q):
    draws = _draws()
    C = 1e24
    d = jl.decide("chinchilla", draws, C, objective=objective, point=TRUTH)
    ref = _brute_force(draws, C, q)
    np.testing.assert_allclose(d.N[0], ref, rtol=2e-4)
    plug = d.N_plugin[0]
    # it moves away from the plug-in allocation, in the direction the brute force says
    assert abs(np.log(ref / plug)) > 0.01 and np.sign(d.N[0] - plug) == np.sign(ref - plug)
    assert d.regret_plugin[0] > 0
    if q is None:
        assert d.evpi[0] > 0


def test_value_of_information_of_a_batch(demo_fit, demo_design):
    cand, d = demo_design
    rng = np.random.default_rng(1)
    # draws spread as the design's own covariance says
    phi = d_phi = rng.multivariate_normal(np.zeros(5), d.cov_before, 300)
    from jaxlaws._information import Coordinates

    co = Coordinates(demo_fit.law, demo_fit.params)
    draws = {k: np.asarray(v) for k, v in co.params(jnp.asarray(co.phi + d_phi)).items()}
    v = jl.value_of_information(d, draws, [1e24])
    assert v.evpi_now[0] > v.evpi_after[0] > 0 and v.value_of_information[0] > 0
    # a batch that adds nothing is worth nothing
    with pytest.warns(UserWarning, match="no candidate"):
        empty = jl.design(demo_fit, cand, TARGET, 1.0)
    v0 = jl.value_of_information(empty, draws, [1e24])
    np.testing.assert_allclose(v0.value_of_information, 0.0, atol=1e-12)
    assert phi.shape == (300, 5)


def test_cli_design_and_allocate_objective(tmp_path, capsys):
    runs = tmp_path / "runs.csv"
    demo_data().to_csv(runs, index=False)
    out = tmp_path / "design.json"
    assert main(["design", str(runs), "--law", "chinchilla", "--target", TARGET, "--budget", "5e21",
                 "--candidates", "isoflop", "--json", str(out)]) == 0
    res = json.loads(out.read_text())["design"]
    assert res["spent"] <= 5e21 and 0 < len(res["runs"]) <= 20 and res["se_after"] < res["se_before"]
    assert "80% interval" in capsys.readouterr().out
    draws = tmp_path / "boot.json"
    draws.write_text(json.dumps({"draws": {k: list(v) for k, v in _draws(n=50).items()}}))
    params = tmp_path / "fit.json"
    params.write_text(json.dumps({"params": TRUTH}))
    assert main(["allocate", "--law", "chinchilla", "--params", str(params), "--draws", str(draws), "--compute", "1e24",
                 "--objective", "quantile:0.9", "--json", str(tmp_path / "a.json")]) == 0
    got = json.loads((tmp_path / "a.json").read_text())["decisions"][0]
    ref = jl.decide("chinchilla", _draws(n=50), 1e24, objective="quantile:0.9", point=TRUTH)
    np.testing.assert_allclose(got["N"], ref.N[0], rtol=1e-9)


@pytest.mark.parametrize("argv,match", [
    (["--target", "N_opt(C=-1)", "--budget", "1e21"], "N_opt(C=1e24)"),
    (["--target", "gamma", "--budget", "1e21"], "not N_opt"),
    (["--target", TARGET, "--budget", "0"], "--budget"),
    (["--target", TARGET, "--budget", "1e21", "--candidates", "nope.csv"], "--candidates"),
    (["--target", TARGET, "--budget", "1e21", "--simulate", "1"], "--simulate"),
])
def test_cli_design_bad_options_are_one_line_errors(tmp_path, capsys, argv, match):
    runs = tmp_path / "runs.csv"
    demo_data().head(20).to_csv(runs, index=False)
    code = main(["design", str(runs), "--law", "chinchilla", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("jaxlaws: error:") and match in err[0], err


def test_allocate_objective_needs_draws(tmp_path, capsys):
    params = tmp_path / "fit.json"
    params.write_text(json.dumps({"params": TRUTH}))
    code = main(["allocate", "--law", "chinchilla", "--params", str(params), "--compute", "1e24", "--objective", "expected"])
    err = capsys.readouterr().err
    assert code == 2 and "--draws" in err


def test_design_before_any_run_from_a_prior_over_the_parameters():
    """No runs yet: the prior's draws set the covariance; its SE of log N_opt is the draws' own
    spread of log N_opt (to first order) and the chosen runs shrink it."""
    rng = np.random.default_rng(2)
    n = 2000
    prior = {"E": TRUTH["E"] * np.exp(0.02 * rng.standard_normal(n)), "A": TRUTH["A"] * np.exp(0.05 * rng.standard_normal(n)),
             "B": TRUTH["B"] * np.exp(0.05 * rng.standard_normal(n)), "alpha": TRUTH["alpha"] + 0.005 * rng.standard_normal(n),
             "beta": TRUTH["beta"] + 0.005 * rng.standard_normal(n)}
    spread = np.std(np.log(jl.compute_optimal("chinchilla", prior, 1e24).N[:, 0]))
    N = np.geomspace(1e8, 1e10, 30)
    cand = {"N": np.repeat(N, 30), "D": np.tile(np.geomspace(2e9, 2e11, 30), 30)}
    d = jl.design(prior, cand, TARGET, 1e21, law="chinchilla", noise=0.01)
    assert d.se_before == pytest.approx(spread, rel=0.05)
    assert d.se_after < 0.8 * d.se_before and d.spent <= 1e21
    with pytest.raises(jl.OptionError, match="noise="):
        jl.design(prior, cand, TARGET, 1e21, law="chinchilla")
