"""Per-group fits (``fit(..., by=)``, ``jaxlaws fit --by``): many independent fits in one compiled call."""

import json

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main

from conftest import shared_file
from test_compile_once import count_lowerings


def _tasks(n_tasks, seed, n_rows=12):
    """Per-task power laws y = c x^a with known truths: one group per task."""
    rng = np.random.default_rng(seed)
    rows = []
    truth = {}
    for t in range(n_tasks):
        c, a = 10 ** rng.uniform(-2, 1), rng.uniform(-0.5, 0.5)
        truth[f"task{t}"] = (c, a)
        x = np.geomspace(1e18, 1e22, n_rows)
        y = c * (x / 1e20) ** a * np.exp(0.02 * rng.standard_normal(n_rows))
        rows.append(pd.DataFrame({"task": f"task{t}", "x": x / 1e20, "y": y}))
    return pd.concat(rows, ignore_index=True), truth


def test_forty_groups_equal_forty_single_fits_and_compile_once():
    df, truth = _tasks(40, 0)
    g = jl.fit("power_law", df, "y", by="task")
    assert g.n_groups == 40 and g.converged.all() and (g.n_points == 12).all()
    for t in ("task0", "task17", "task39"):
        one = jl.fit("power_law", df[df.task == t], "y")
        p = g.group_params(t)
        assert p["a"] == pytest.approx(one.params["a"], rel=1e-8, abs=1e-10)
        assert p["c"] == pytest.approx(one.params["c"], rel=1e-8)
        # and against the closed form of log-log least squares (the law's default recipe)
        sub = df[df.task == t]
        slope, icpt = np.polyfit(np.log(sub.x), np.log(sub.y), 1)
        assert p["a"] == pytest.approx(slope, abs=1e-8) and p["c"] == pytest.approx(np.exp(icpt), rel=1e-7)
    # 39 other tasks (the same buckets: 40 groups, 480 rows): nothing is compiled again
    df2, _ = _tasks(39, 1)
    with count_lowerings() as lowered:
        g2 = jl.fit("power_law", df2, "y", by="task")
    assert lowered == [], f"lowered {len(lowered)} programs"
    assert g2.n_groups == 39 and g2.converged.all()


def test_porian_exponents_for_all_configurations_in_one_call():
    pairs = pd.read_csv(shared_file("porian_resolving_discrepancies", "optimal_pairs.csv"))
    fits = pd.read_csv(shared_file("porian_resolving_discrepancies", "fits.csv"))
    g = jl.fit("power_law", pairs, "n", recipe="porian2024", columns={"x": "flops"}, by=["source_file", "config_label"])
    m = g.table().merge(fits, on=["source_file", "config_label"])
    assert len(m) == 15 and (m.status == "converged").all()
    np.testing.assert_allclose(m.a, m["bs_median_weighted.n_exponent"], atol=1e-8)


def test_a_group_the_data_cannot_determine_is_degenerate_not_converged():
    df, _ = _tasks(3, 2)
    one_point = pd.DataFrame({"task": ["lonely"], "x": [1.0], "y": [2.0]})
    g = jl.fit("power_law", pd.concat([df, one_point], ignore_index=True), "y", by="task")
    tab = g.table().set_index("task")
    assert tab.loc["lonely", "status"] == "degenerate" and "points" in tab.loc["lonely", "reasons"]
    assert (tab.drop(index="lonely").status == "converged").all()


def test_group_predict_and_errors():
    df, truth = _tasks(4, 3)
    g = jl.fit("power_law", df, "y", by="task")
    pred = g.predict(df)
    own = np.concatenate([jl.fit("power_law", df[df.task == t], "y").predict(df[df.task == t]) for t in sorted(truth)])
    np.testing.assert_allclose(pred[np.argsort(df.task.to_numpy(), kind="stable")], own, rtol=1e-7)
    with pytest.raises(jl.OptionError, match="not fitted"):
        g.predict(pd.DataFrame({"task": ["other"], "x": [1.0]}))
    with pytest.raises(jl.OptionError, match="not a column"):
        jl.fit("power_law", df, "y", by="nosuch")


def test_cli_by(capsys, tmp_path):
    df, _ = _tasks(5, 4)
    path = tmp_path / "tasks.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "g.json"
    code = main(["fit", str(path), "--law", "power_law", "--y", "y", "--by", "task", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "groups: 5 by task" in text and "task4" in text
    res = json.loads(out.read_text())
    assert res["n_groups"] == 5 and {r["status"] for r in res["groups"]} == {"converged"}
    code = main(["fit", str(path), "--law", "power_law", "--y", "y", "--by", "nosuch"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not a column" in err


def test_per_group_bootstrap_matches_each_groups_own_bootstrap():
    df, truth = _tasks(3, 6, n_rows=15)
    gb = jl.bootstrap("power_law", df, "y", by="task", n=300, seed=0)
    tab = gb.table().set_index(["task", "parameter"])
    assert (tab.n_used == 300).all()
    for t in ("task0", "task2"):
        sub = df[df.task == t].reset_index(drop=True)
        g = sorted(truth).index(t)
        ref = jl.bootstrap("power_law", sub, "y", n=300, weights_matrix=jl.resample_weights(15, "ordinary", 300, 0 + g))
        for k in ("a", "c"):
            iv = ref.interval(k, level=0.95)
            assert tab.loc[(t, k), "se"] == pytest.approx(iv.se, rel=1e-6)
            assert tab.loc[(t, k), "lower"] == pytest.approx(iv.lower, rel=1e-6)


def test_cli_bootstrap_by(capsys, tmp_path):
    df, _ = _tasks(3, 7)
    path = tmp_path / "tasks.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "gb.json"
    code = main(["bootstrap", str(path), "--law", "power_law", "--y", "y", "--by", "task", "--n", "100", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "groups: 3" in text
    res = json.loads(out.read_text())
    assert len(res["intervals"]) == 6 and all(r["n_used"] == 100 for r in res["intervals"])
