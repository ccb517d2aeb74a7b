"""Rolling extrapolation (issue #15 part 5): every cutoff of a law refitted in one batched call,
equal to the single-cutoff fit, with cutoffs the data cannot support flagged, not summarised."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main
from jaxlaws._demo_data import demo_data
from conftest import SHARED


def test_rolling_equals_single_cutoff_fits_and_flags_degenerate_cutoffs():
    df = demo_data()
    r = jl.rolling_extrapolation(["chinchilla"], df, [7e18, 2e20])
    s = r.summary.set_index(["law", "cutoff"])
    n_conv = 0
    for law in ("chinchilla",):
        for c in (2e20,):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", jl.ConvergenceWarning)
                f, held = jl.extrapolate(law, df, cutoff=c)
            ref = held.attrs["summary"]
            row = s.loc[(law, c)]
            # the same honest status as the single fit
            assert row.status == f.status and row.n_train == ref["n_train"] and row.n_heldout == ref["n_heldout"]
            if f.status == "converged":
                n_conv += 1
                np.testing.assert_allclose([row.mae_log, row.rmse_log], [ref["mae_log"], ref["rmse_log"]], rtol=1e-6)
            else:
                assert np.isnan(row.rmse_log)
        # one isoFLOP budget below 7e18: N and D move together, the law is not identified
        assert s.loc[(law, 7e18)].status == "degenerate" and np.isnan(s.loc[(law, 7e18)].rmse_log)
    assert n_conv == 1
    e = r.errors
    assert e[(e.law == "chinchilla") & (e.cutoff == 2e20)].shape[0] == 40
    assert (e.distance >= 0).all() and e[e.status == "degenerate"].log_error.isna().all()
    with pytest.raises(jl.OptionError, match="nothing to predict"):
        jl.rolling_extrapolation("chinchilla", df, [1e30])


@pytest.mark.skipif(not (SHARED / "chinchilla_epoch.csv").exists(), reason="needs ../shared/data")
def test_cli_reproduces_the_readme_single_cutoff_table_and_compares_forms(tmp_path, capsys):
    data = str(SHARED / "chinchilla_epoch.csv")
    js, csv = tmp_path / "roll.json", tmp_path / "e.csv"
    assert main(["extrapolate", data, "--law", "chinchilla,kaplan", "--cutoffs", "1e20,1e21", "--drop-highest", "5",
                 "--json", str(js), "--csv", str(csv)]) == 0
    rows = pd.DataFrame(json.loads(js.read_text())["summary"]).set_index(["law", "cutoff"])
    # the README's single-cutoff table: 217 runs below 1e21 FLOPs, 23 above, 1.25% RMS log error
    # (Chinchilla form) against 2.7% (Kaplan form)
    c21 = rows.loc[("chinchilla", 1e21)]
    assert (c21.n_train, c21.n_heldout) == (217, 23) and c21.rmse_log == pytest.approx(0.01249, abs=1e-5)
    assert rows.loc[("kaplan", 1e21)].rmse_log == pytest.approx(0.0272, abs=5e-4)
    err = pd.read_csv(csv)
    assert len(err) == 2 * (104 + 23)
    df = pd.read_csv(data)
    mine = err[(err.law == "chinchilla") & (err.cutoff == 1e21)].set_index("row")
    # its rows: N = 1.257e10, D = 1.345e10, loss 2.417 predicted 2.363 (-2.2%)
    r = df[(df.N.round(-7) == 1.257e10) & (df.D.round(-7) == 1.345e10)].index[0]
    assert mine.loc[r].rel_error == pytest.approx(2.363 / 2.417 - 1, abs=1e-3)
    # out of sample, the Chinchilla form beats Kaplan's at every cutoff
    for c in (1e20, 1e21):
        assert rows.loc[("chinchilla", c)].rmse_log < 0.6 * rows.loc[("kaplan", c)].rmse_log
    assert "kaplan" in capsys.readouterr().out


def test_cli_one_law_one_cutoff_lists_the_held_out_runs_of_a_table_with_its_own_compute_column(tmp_path, capsys):
    # the held-out table adds the compute axis as a column unless the table has one (a C
    # column made it fail with pandas' "cannot insert C, already exists")
    import jaxlaws as jl

    runs = tmp_path / "runs.csv"
    df = jl.example_data()["runs"]
    assert "C" in df.columns
    df.to_csv(runs, index=False)
    assert main(["extrapolate", str(runs), "--law", "chinchilla", "--cutoffs", "1e20", "--quiet"]) == 0
    out = capsys.readouterr().out
    held = out.split("held-out runs:")[1].strip().splitlines()
    assert held[0].split().count("C") == 1 and len(held) - 1 == int((df.C >= 1e20).sum())
