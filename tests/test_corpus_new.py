"""The hostile corpus of the newer commands (isoflop, design, extrapolate, predict, chain,
report, plot, allocate), in test_corpus.py's structure: each case ends in exit 2 and one line
naming the problem (or, where the answer is legitimate, a stated flag), never a traceback, a
silent answer, a clobbered input or a half-written output."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main

from conftest import one_line
from jaxlaws._demo_data import demo_data


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    # one folder for the module (a fit to write fit.json is the slow part); each case checks
    # that it changed nothing in it
    tmp_path = tmp_path_factory.mktemp("corpus")
    d = demo_data()
    d.to_csv(tmp_path / "runs.csv", index=False)
    budgets = sorted(d.C.unique())
    pd.concat([d[d.C == budgets[0]], d[d.C == budgets[1]].iloc[:3]]).to_csv(tmp_path / "one_usable.csv", index=False)
    pd.DataFrame({"N": [1e9], "D": [2e10]}).to_csv(tmp_path / "new.csv", index=False)
    pd.DataFrame({"N": [4e17], "D": [1e19]}).to_csv(tmp_path / "far.csv", index=False)
    (tmp_path / "raises.py").write_text("import jaxlaws as jl\n@jl.law(inputs=('N', 'D'), params={'E': jl.positive(), "
                                        "'A': jl.positive(), 'alpha': jl.positive()})\ndef bad(p, N, D):\n"
                                        "    raise RuntimeError('boom')\n")
    (tmp_path / "shape.py").write_text("import jaxlaws as jl\nimport jax.numpy as jnp\n@jl.law(inputs=('N', 'D'), "
                                       "params={'E': jl.positive(), 'A': jl.positive(), 'alpha': jl.positive()})\n"
                                       "def wrong(p, N, D):\n    return jnp.ones(3)\n")
    assert main(["fit", str(tmp_path / "runs.csv"), "--law", "chinchilla", "--json", str(tmp_path / "fit.json")]) == 0
    fit = json.loads((tmp_path / "fit.json").read_text())
    for name, change in (("fit99.json", {"format": 99, "jaxlaws_version": "99.0.0"}),
                         ("fitv99.json", {"jaxlaws_version": "99.0.0"}),
                         ("fitneg.json", {"params": {**fit["params"], "E": -1.0}})):
        (tmp_path / name).write_text(json.dumps({**fit, **change}))
    return tmp_path


T = "{tmp}"
# (id, argv, fragments the one line must contain)
CASES = [
    ("isoflop huge n", ["isoflop", f"{T}/runs.csv", "--n", "1000000000"], ["--n 1000000000 needs", "at most"]),
    ("predict huge n", ["predict", f"{T}/runs.csv", "--law", "chinchilla", "--at", f"{T}/new.csv", "--n", "1000000000"],
     ["needs", "GB"]),
    ("plot huge n", ["plot", f"{T}/runs.csv", "--law", "chinchilla", "--out", f"{T}/figs", "--n", "1000000000"],
     ["needs", "GB"]),
    ("design no candidates", ["design", f"{T}/runs.csv", "--law", "chinchilla", "--target", "N_opt(C=1e24)",
                              "--budget", "1"], ["no candidate runs"]),
    ("law raises", ["fit", f"{T}/runs.csv", "--law", f"{T}/raises.py:bad"], ["'bad' failed", "boom"]),
    ("law wrong shape", ["fit", f"{T}/runs.csv", "--law", f"{T}/shape.py:wrong"], ["shape (3,)", "one value per row"]),
    ("law object missing", ["fit", f"{T}/runs.csv", "--law", f"{T}/shape.py:nothere"], ["'nothere'", "not run"]),
    ("allocate negative inference tokens", ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024",
                                            "--target-loss", "2.0", "--inference-tokens", "-1"], [">= 0"]),
    ("allocate E outside domain", ["allocate", "--law", "chinchilla", "--params", f"{T}/fitneg.json",
                                   "--compute", "1e22"], ["E = -1", "outside its domain"]),
    ("allocate input outside domain", ["allocate", "--law", "data_constrained", "--coefficients", "muennighoff2023",
                                       "--compute", "1e22", "--input", "U=-1"], ["U", "outside its domain"]),
    ("newer format", ["allocate", "--law", "chinchilla", "--params", f"{T}/fit99.json", "--compute", "1e22"],
     ["format 99", "upgrade"]),
    ("newer release", ["allocate", "--law", "chinchilla", "--params", f"{T}/fitv99.json", "--compute", "1e22"],
     ["99.0.0", "newer"]),
    ("isoflop json is the data", ["isoflop", f"{T}/runs.csv", "--json", f"{T}/runs.csv", "--force"],
     ["--json", "is also the data file"]),
    ("predict json is --at", ["predict", f"{T}/runs.csv", "--law", "chinchilla", "--at", f"{T}/new.csv",
                              "--json", f"{T}/new.csv", "--force"], ["is also --at"]),
    ("report out is the data", ["report", f"{T}/runs.csv", "--law", "chinchilla", "--out", f"{T}/runs.csv", "--force"],
     ["is also the data file"]),
    ("checkpoint is the data", ["bootstrap", f"{T}/runs.csv", "--law", "chinchilla", "--checkpoint", f"{T}/runs.csv"],
     ["is also the data file"]),
    ("chain at is the json", ["chain", f"{T}/runs.csv", "--law", "chinchilla", "--link", f"{T}/runs.csv",
                              "--at", f"{T}/new.csv", "--json", f"{T}/new.csv", "--force"], ["is also --at"]),
    ("design json and plot one file", ["design", f"{T}/runs.csv", "--law", "chinchilla", "--target", "a",
                                       "--budget", "1e21", "--json", f"{T}/o.png", "--plot", f"{T}/o.png"],
     ["same file"]),
    ("extrapolate csv and json one file", ["extrapolate", f"{T}/runs.csv", "--law", "chinchilla", "--cutoffs", "1e20",
                                           "--csv", f"{T}/o.json", "--json", f"{T}/o.json"], ["same file"]),
    ("isoflop plot is a file", ["isoflop", f"{T}/runs.csv", "--plot", f"{T}/runs.csv", "--force"], ["--plot"]),
    ("negative cutoff in scientific notation", ["extrapolate", f"{T}/runs.csv", "--law", "chinchilla",
                                                "--cutoffs", "-1e20"], ["--cutoffs", "positive"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_new_commands_refuse_inone_line(case, files, capsys):
    _, argv, frags = case
    before = {p: p.read_bytes() for p in files.iterdir() if p.is_file()}
    one_line(capsys, [a.replace(T, str(files)) for a in argv], [f.replace(T, str(files)) for f in frags])
    # nothing the user had was changed, and nothing new was left behind
    after = {p: p.read_bytes() for p in files.iterdir() if p.is_file()}
    assert after == before


def test_isoflop_without_a_power_law_writes_nothing(files, capsys):
    """One usable budget: exit 3 with the reason, and neither the figures' folder nor the JSON."""
    code = main(["isoflop", str(files / "one_usable.csv"), "--plot", str(files / "figs"), "--json",
                 str(files / "o.json"), "--n", "50"])
    captured = capsys.readouterr()
    assert code == 3 and "nothing was written" in captured.err and "nan" not in captured.out.split("a = ")[1][:60]
    assert not (files / "figs").exists() and not (files / "o.json").exists()


def test_predictions_far_outside_the_runs_say_so(files, capsys):
    """A prediction 7 decades beyond the largest run states it in the table, the JSON and a line."""
    out = files / "pred.json"
    assert main(["predict", str(files / "runs.csv"), "--law", "chinchilla", "--at", str(files / "far.csv"),
                 "--n", "50", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "extrapolation: 1 of 1 rows" in text
    row = json.loads(out.read_text())["predictions"][0]
    # N: 4e17 against the demo's largest run (~3e10); compute 6ND against ~3e21
    assert row["decades_outside"] == pytest.approx(np.log10(6 * 4e17 * 1e19 / 3e21), abs=0.1)
    assert "N 7" in row["extrapolation"] and "C 16" in row["extrapolation"]
    inside = jl.fit("chinchilla", demo_data()).extrapolation(pd.DataFrame({"N": [1e9], "D": [2e10]}))
    assert inside[0][0] == 0 and inside[1][0] == "inside the fitted runs"


def test_a_chained_error_rate_below_zero_is_invalid_not_converged():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e15, 1e20, 15)
    L = (2.0 + 6e4 * x**-0.3) * np.exp(0.01 * rng.standard_normal(15))
    runs = pd.DataFrame({"x": x, "loss": L})
    # error rates from 0.72 down to 0.02 at the largest run: the link reaches 0 just beyond them
    link = pd.DataFrame({"L": L, "err": 0.85 - 6.5 * np.exp(-L) + 0.002 * rng.standard_normal(15)})
    far = pd.DataFrame({"x": [1e18, 1e40]})
    c = jl.chain(jl.fit("power_law_constant", runs), jl.fit("downstream_error", link, y="err"), far, n=40)
    tab = c.table(0.9)
    assert tab.estimate[1] < 0 and tab.status[1].startswith("invalid") and tab.status[0] == "converged"
    assert tab.decades_outside[0] == 0 and tab.decades_outside[1] == pytest.approx(20, abs=0.01)


def test_api_raises_its_own_errors_naming_the_argument():
    cases = [
        (lambda: jl.compute_optimal("chinchilla", "hoffmann2022_unrounded", "abc"), "C='abc'"),
        (lambda: jl.compute_optimal("chinchilla", "hoffmann2022_unrounded", 1e22, flops_per_token="six"),
         "flops_per_token='six'"),
        (lambda: jl.compute_optimal("chinchilla", "hoffmann2022_unrounded", 1e22, inputs={"Q": 1}), "['Q']"),
        (lambda: jl.compute_optimal("chinchilla", {"E": "abc", "A": 1, "B": 1, "alpha": .3, "beta": .3}, 1e22),
         "E='abc'"),
        (lambda: jl.compute_optimal("chinchilla", {k: [] for k in ("E", "A", "B", "alpha", "beta")}, 1e22),
         "no draws"),
        (lambda: jl.fit("chinchilla", demo_data(), columns=["N", "D"]), "columns="),
    ]
    for fn, frag in cases:
        with pytest.raises(jl.OptionError, match=None) as e:
            fn()
        assert frag in str(e.value), (frag, str(e.value))


def test_a_resumed_bootstrap_says_it_resumed(tmp_path, caplog):
    """A checkpoint with finished chunks: the rerun logs where it resumed from (never silent)."""
    import logging

    d = demo_data()
    ck = str(tmp_path / "ck.npz")
    jl.bootstrap("chinchilla", d, n=40, chunk_size=20, checkpoint=ck, progress=False)
    with caplog.at_level(logging.WARNING, logger="jaxlaws"):
        jl.bootstrap("chinchilla", d, n=40, chunk_size=20, checkpoint=ck, progress=False)
    assert any("resumed from checkpoint" in r.getMessage() and "40 of 40" in r.getMessage() for r in caplog.records)


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists("/proc/self"), reason="needs a POSIX process to signal")
def test_ctrl_c_during_import_is_one_line_and_exit_130(tmp_path):
    """SIGINT while the command imports JAX: one line, exit 130, no output written."""
    import signal
    import subprocess
    import sys
    import time

    demo_data().to_csv(tmp_path / "runs.csv", index=False)
    out = tmp_path / "fit.json"
    p = subprocess.Popen([sys.executable, "-c", "import jaxlaws_cli, sys; sys.exit(jaxlaws_cli.main())", "fit",
                          str(tmp_path / "runs.csv"), "--law", "chinchilla", "--json", str(out)],
                         stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and err.strip().splitlines() == ["jaxlaws: interrupted"], err
    assert not out.exists()


@pytest.mark.e2e
@pytest.mark.parametrize("when", [2.0, 3.5])
def test_a_killed_plot_leaves_the_old_figures(tmp_path, when):
    """SIGKILL while `plot` computes or draws: the figure folder holds exactly its old files
    (the new set is drawn in a temporary folder and moved in only when complete)."""
    import signal
    import subprocess
    import sys
    import time

    demo_data().to_csv(tmp_path / "runs.csv", index=False)
    out = tmp_path / "figs"
    out.mkdir()
    (out / "residuals.png").write_bytes(b"old figure")
    cmd = [sys.executable, "-c", "import jaxlaws_cli, sys; sys.exit(jaxlaws_cli.main())", "plot",
           str(tmp_path / "runs.csv"), "--law", "chinchilla", "--n", "200", "--out", str(out), "--force"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(when)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    names = sorted(q.name for q in out.iterdir())
    # killed before the move: the old file alone; after it (a fast machine): the whole new set
    assert names == ["residuals.png"] and (out / "residuals.png").read_bytes() == b"old figure" or len(names) == 5
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".jaxlaws-partial-")]


KILLED = {
    "fit": ["fit", "{d}/runs.csv", "--law", "chinchilla", "--json", "{o}/out.json"],
    "bootstrap": ["bootstrap", "{d}/runs.csv", "--law", "chinchilla", "--n", "300", "--json", "{o}/out.json"],
    "predict": ["predict", "{d}/runs.csv", "--law", "chinchilla", "--at", "{d}/new.csv", "--json", "{o}/out.json"],
    "isoflop": ["isoflop", "{d}/runs.csv", "--json", "{o}/out.json", "--plot", "{o}/figs"],
    "design": ["design", "{d}/runs.csv", "--law", "chinchilla", "--target", "a", "--budget", "1e21",
               "--json", "{o}/out.json", "--plot", "{o}/out.png"],
    "extrapolate": ["extrapolate", "{d}/runs.csv", "--law", "chinchilla", "--cutoffs", "1e20", "--json",
                    "{o}/out.json", "--csv", "{o}/out.csv"],
    "report": ["report", "{d}/runs.csv", "--law", "chinchilla", "--n", "100", "--out", "{o}/out.html"],
    "allocate": ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e22",
                 "--json", "{o}/out.json"],
    "chain": ["chain", "{d}/runs.csv", "--law", "chinchilla", "--link", "{d}/link.csv", "--at", "{d}/new.csv",
              "--json", "{o}/out.json"],
    "ablate": ["ablate", "{d}/runs.csv", "--law", "chinchilla", "--drop-top", "0,3", "--csv", "{o}/out.csv"],
    "demo": ["demo", "--out", "{o}/figs"],
}


@pytest.mark.e2e
@pytest.mark.parametrize("command", list(KILLED))
def test_a_killed_command_leaves_no_half_written_output(command, tmp_path):
    """SIGKILL at two moments of every command that writes files: each output is absent or
    complete (valid JSON, a whole figure set), never half-written."""
    import signal
    import subprocess
    import sys
    import time

    d = demo_data()
    d.to_csv(tmp_path / "runs.csv", index=False)
    d.assign(L=d.loss, err=0.85 - 4 * np.exp(-d.loss)).to_csv(tmp_path / "link.csv", index=False)
    (tmp_path / "new.csv").write_text("N,D\n1e9,2e10\n")
    for when in (1.5, 3.0):
        out = tmp_path / f"out{when}"
        out.mkdir()
        argv = [a.format(d=tmp_path, o=out) for a in KILLED[command]]
        p = subprocess.Popen([sys.executable, "-c", "import jaxlaws_cli, sys; sys.exit(jaxlaws_cli.main())", *argv],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(when)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        for f in out.iterdir():
            if f.name.endswith(".json"):
                json.loads(f.read_text())  # complete, or it would not parse
            elif f.is_dir():
                assert len(list(f.iterdir())) in (2, 5), f  # a whole figure set (isoflop 2, demo 5) or none
            else:
                assert ".tmp-" in f.name or f.stat().st_size > 0, f
