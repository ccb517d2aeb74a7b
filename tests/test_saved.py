"""Saved studies reload: jl.save / jl.load and the CLI's --json files give back the results they
were written from, and results of different data or laws do not combine."""

import json

import numpy as np
import pytest

import jaxlaws as jl
from jaxlaws._demo_data import USER_LAW, demo_data


@pytest.fixture(scope="module")
def runs():
    return demo_data()


def test_a_fit_reloads_bit_for_bit(runs, tmp_path):
    f = jl.fit("chinchilla", runs, drop_highest=3, bounds={"A": (1.0, np.inf)}, fixed={"E": 1.7})
    path = jl.save(f, str(tmp_path / "f.json"))
    g = jl.load(path)
    assert g.params == f.params and np.array_equal(g.theta, f.theta) and g.objective == f.objective
    assert g.status == f.status and g.excluded == f.excluded and g.law.bounds == f.law.bounds and g.fixed == f.fixed
    assert g.prepared.data_fingerprint() == f.prepared.data_fingerprint()
    assert np.array_equal(g.predict(runs), f.predict(runs))
    assert np.allclose(g.report().table.se, f.report().table.se, rtol=1e-9)
    with pytest.raises(jl.OptionError, match="exists"):
        jl.save(f, path)  # nothing is overwritten without force
    # and a folder is never a file to write, with force or without (the rename failed after the work)
    for force in (False, True):
        with pytest.raises(jl.OptionError, match="is a directory; give a file name"):
            jl.save(f, str(tmp_path), force=force)


@pytest.mark.e2e  # heavy (7-10 s): CI runs it with the e2e set; the default run stays under 5 minutes
@pytest.mark.filterwarnings("ignore::jaxlaws.ConvergenceWarning")
def test_a_bootstrap_reloads_with_its_calibration(runs, tmp_path):
    import dataclasses

    # a calibration as jl.calibrate attaches one (its simulation is tested in test_chain.py):
    # ranks of the truth in 40 simulated bootstraps
    ranks = {"a": np.random.default_rng(0).uniform(0.02, 0.98, 40)}
    cal = jl.Calibration(ranks=ranks, n_sim=40, n_boot=50, seed=1, noise="gaussian")
    b = dataclasses.replace(jl.bootstrap("chinchilla", runs, n=200, seed=3), calibration=cal)
    c = jl.load(jl.save(b, str(tmp_path / "b.json")))
    assert np.array_equal(c.draws, b.draws, equal_nan=True) and np.array_equal(c.status, b.status)
    assert c.seed == 3 and c.weights_method == b.weights_method and c.calibration is not None
    for q in ("alpha", "a"):
        assert c.interval(q, level=0.8) == b.interval(q, level=0.8)
    assert c.interval("a", level=0.8).method == "calibrated"
    assert np.array_equal(c.calibration.ranks["a"], ranks["a"]) and c.calibration.tails("a", 0.8) == cal.tails("a", 0.8)


@pytest.mark.filterwarnings("ignore::jaxlaws.ConvergenceWarning")
def test_the_cli_json_files_reload(runs, tmp_path, capsys):
    from jaxlaws._cli import main

    runs.to_csv(tmp_path / "runs.csv", index=False)
    assert main(["fit", str(tmp_path / "runs.csv"), "--law", "chinchilla", "--drop-highest", "2", "--json",
                 str(tmp_path / "fit.json")]) == 0
    assert main(["bootstrap", str(tmp_path / "runs.csv"), "--law", "chinchilla", "--n", "100", "--json",
                 str(tmp_path / "boot.json")]) == 0
    capsys.readouterr()
    f, b = jl.load(str(tmp_path / "fit.json")), jl.load(str(tmp_path / "boot.json"))
    ref = jl.fit("chinchilla", runs, drop_highest=2)
    assert f.params == ref.params and f.excluded == ref.excluded
    assert b.n_resamples == 100 and b.fit.n_points == 90
    # a fit on 88 runs and a bootstrap on 90: combining them is an error naming both
    with pytest.raises(jl.OptionError, match="88 runs .* 90 runs"):
        f.report(boot=b)


def test_what_cannot_be_reloaded_says_why(runs, tmp_path):
    (tmp_path / "my_laws.py").write_text(USER_LAW)
    from jaxlaws._io import load_law_file

    my_law = load_law_file(str(tmp_path / "my_laws.py") + ":my_law")
    f = jl.fit(my_law, runs, starts=jl.grid(E=[1, 2], A=[1e2, 1e3], B=[1e2, 1e3], alpha=[0.3], beta=[0.3]))
    path = jl.save(f, str(tmp_path / "user.json"))
    with pytest.raises(jl.LawError, match="not a built-in law: pass law="):
        jl.load(path)
    assert jl.load(path, law=my_law).params == f.params
    with pytest.raises(jl.LawError, match="'my_law', but law='chinchilla'"):
        jl.load(path, law="chinchilla")
    rec = json.loads(open(path).read())
    rec["data"]["y"][0] *= 1.01  # edited after it was written
    (tmp_path / "edited.json").write_text(json.dumps(rec))
    with pytest.raises(jl.DataError, match="fingerprint"):
        jl.load(str(tmp_path / "edited.json"), law=my_law)
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(jl.DataError, match="no saved jaxlaws fit"):
        jl.load(str(tmp_path / "other.json"))


@pytest.mark.parametrize("loss", [jl.huber(1e-2), jl.squared("mean"), jl.asymmetric(2.0, 1.0), jl.expectile(4.0, 1.0),
                                  jl.logcosh(0.05), jl.absolute()])
def test_a_loss_round_trips_through_its_text_form(loss):
    from jaxlaws._loss import parse_loss

    assert parse_loss(loss.spec()) == loss
