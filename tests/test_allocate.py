"""Allocation against closed forms, published examples and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlaws as jl

law = jl.laws.chinchilla


@pytest.mark.parametrize("coeffs", ["hoffmann2022", "hoffmann2022_unrounded", "besiroglu2024"])
def test_compute_optimal_equals_closed_form(coeffs):
    p = law.coefficient_set(coeffs)
    C = np.logspace(18, 28, 51)
    a = jl.compute_optimal(law, coeffs, C)
    s = p["alpha"] + p["beta"]
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / s)
    n_ref = G * (C / 6) ** (p["beta"] / s)
    d_ref = (C / 6) ** (p["alpha"] / s) / G
    np.testing.assert_allclose(a.N, n_ref, rtol=1e-9)
    np.testing.assert_allclose(a.D, d_ref, rtol=1e-9)
    assert set(a.status) == {"converged"}


def test_besiroglu_tokens_per_param_and_exponent():
    a = jl.compute_optimal(law, "besiroglu2024", 5.88e23)
    assert a.tokens_per_param[0] == pytest.approx(18.3, abs=0.1)
    p = law.coefficient_set("besiroglu2024")
    assert float(law.derived["a"](p)) == pytest.approx(0.513, abs=5e-4)
    # rounding Hoffmann's coefficients moves the answer a lot (the survey's ~93 tokens/param)
    assert jl.compute_optimal(law, "hoffmann2022", 5.76e23).tokens_per_param[0] == pytest.approx(92.6, abs=0.5)


def test_data_constrained_reproduces_datablations_example():
    dc = jl.laws.data_constrained
    p = dc.coefficient_set("muennighoff2023")
    assert float(dc(p, 6.34e9, 242e9, 25e9)) == pytest.approx(2.2256440889984477, abs=1e-12)
    assert float(dc(p, 8.67e9, 178e9, 25e9)) == pytest.approx(2.2269634075087867, abs=1e-12)
    C = 6 * 8.67e9 * 178e9
    a = jl.compute_optimal(dc, p, C, inputs={"U": 25e9})
    # their grid: N = 8.67e9/i, D = 178e9 i for i in linspace(1.0001, 3, 500) (and the reverse)
    i = np.linspace(1.0001, 3, 500)
    Ns, Ds = np.r_[8.67e9 / i, 8.67e9 * i], np.r_[178e9 * i, 178e9 / i]
    Ls = np.asarray(dc(p, Ns, Ds, 25e9))
    j = np.argmin(Ls)
    step = (3 - 1.0001) / 499  # the grid's resolution in i, i.e. in D/178e9
    assert a.N[0] == pytest.approx(6.8e9, rel=0.01) and a.D[0] == pytest.approx(227e9, rel=0.01)
    assert a.D[0] / 25e9 == pytest.approx(9.1, abs=0.05)
    assert abs(a.D[0] / 178e9 - Ds[j] / 178e9) <= step
    assert a.loss[0] <= Ls[j] + 1e-15


def test_gradient_of_n_opt_wrt_exponents_matches_finite_differences():
    p0 = {k: jnp.asarray(v) for k, v in law.coefficient_set("besiroglu2024").items()}

    def n_opt(al, be):
        return jnp.exp(jl.optimal_log_n(law, {**p0, "alpha": al, "beta": be}, 1e24)[0])

    g = jax.grad(n_opt, argnums=(0, 1))(p0["alpha"], p0["beta"])
    h = 1e-6
    for k, gk in enumerate(g):
        e = (h, 0.0) if k == 0 else (0.0, h)
        fd = (n_opt(p0["alpha"] + e[0], p0["beta"] + e[1]) - n_opt(p0["alpha"] - e[0], p0["beta"] - e[1])) / (2 * h)
        assert float(gk) == pytest.approx(float(fd), rel=1e-6)
    # against the closed form's derivative too
    def closed(al, be):
        s = al + be
        G = jnp.exp((jnp.log(al * p0["A"]) - jnp.log(be * p0["B"])) / s)
        return G * (1e24 / 6) ** (be / s)

    gc = jax.grad(closed, argnums=(0, 1))(p0["alpha"], p0["beta"])
    np.testing.assert_allclose(np.array(g), np.array(gc), rtol=1e-9)


def test_allocation_over_draws_gives_bands():
    rng = np.random.default_rng(0)
    p = law.coefficient_set("besiroglu2024")
    draws = {k: v * np.exp(0.02 * rng.standard_normal(300)) for k, v in p.items()}
    C = np.logspace(18, 28, 11)
    a = jl.compute_optimal(law, draws, C)
    assert a.N.shape == (300, 11)
    # every draw's allocation equals its own closed form
    for b in (0, 17, 299):
        q = {k: v[b] for k, v in draws.items()}
        np.testing.assert_allclose(a.N[b], np.asarray(law.derived["N_opt"](q, C)), rtol=1e-9)
    qt = a.quantiles((0.1, 0.5, 0.9))
    assert list(qt.C) == list(C)
    assert np.all(qt["N_opt_q0.1"] < qt["N_opt_q0.5"]) and np.all(qt["N_opt_q0.5"] < qt["N_opt_q0.9"])


def test_at_bound_is_flagged_and_bad_budgets_refused():
    a = jl.compute_optimal(law, "besiroglu2024", 1e24, n_bounds=(1e3, 1e9))
    assert a.status[0] == "at_bound"
    with pytest.raises(jl.OptionError, match="C must be"):
        jl.compute_optimal(law, "besiroglu2024", -1.0)
    with pytest.raises(jl.OptionError, match="inputs"):
        jl.compute_optimal(jl.laws.data_constrained, "muennighoff2023", 1e21)


def test_muennighoff_stage2_objective_and_refit():
    """Published stage-2 objective on the 182 curated runs, and refits with the base law frozen."""
    import pandas as pd

    from conftest import shared_file

    dc = jl.laws.data_constrained
    p = dc.coefficient_set()
    d = pd.read_csv(shared_file("muennighoff_data_constrained", "runs.csv"))
    d = d[d.in_final_fit == 1].reset_index(drop=True)
    assert len(d) == 182
    pred = np.asarray(dc(p, d.params_N.values, d.tokens_D.values, d.unique_tokens_U.values))
    import scipy.special

    obj = scipy.special.huber(1e-3, np.log(pred) - np.log(d.val_loss.values)).sum()
    assert obj == pytest.approx(0.015825936570763588, rel=1e-7)
    cols = {"N": "params_N", "D": "tokens_D", "U": "unique_tokens_U"}
    fixed = {k: p[k] for k in ("E", "A", "B", "alpha", "beta")}
    local = jl.fit(dc, d, y="val_loss", columns=cols, fixed=fixed, starts=jl.grid(R_D=[15.0], R_N=[5.0]))
    assert local.objective <= obj
    assert local.params["R_D"] == pytest.approx(15.4, abs=0.2) and local.params["R_N"] == pytest.approx(5.3, abs=0.1)
    g = np.linspace(0, 20, 4)
    g[0] = 1e-3
    wide = jl.fit(dc, d, y="val_loss", columns=cols, fixed=fixed, starts=jl.grid(R_D=g, R_N=g))
    # a lower optimum than the published one exists along the flat R_D* direction
    assert wide.objective < local.objective - 1e-5
    pw = {**p, "R_D": wide.params["R_D"], "R_N": wide.params["R_N"]}
    pred_w = np.asarray(dc(pw, d.params_N.values, d.tokens_D.values, d.unique_tokens_U.values))
    assert scipy.special.huber(1e-3, np.log(pred_w) - np.log(d.val_loss.values)).sum() == pytest.approx(wide.objective, rel=1e-10)
