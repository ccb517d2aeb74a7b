"""The command line: every subcommand's --help, outputs, and one-line errors with status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from jaxlaws._cli import main
from jaxlaws.laws import get_law
from jaxlaws._demo_data import demo_data

SUBCOMMANDS = ["fit", "bootstrap", "allocate", "ablate", "isoflop", "design", "extrapolate", "predict", "plot", "laws", "demo", "chain", "report"]


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_help_has_an_example(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and f"jaxlaws {cmd}" in out


@pytest.fixture()
def demo_csv(tmp_path):
    p = tmp_path / "runs.csv"
    demo_data().to_csv(p, index=False)
    return p


def _one_line_error(capsys, argv, match):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxlaws: error:") and match in lines[0], err
    return lines[0]


def test_fit_errors_are_one_line(capsys, tmp_path, demo_csv):
    _one_line_error(capsys, ["fit", str(tmp_path / "missing.csv"), "--law", "chinchilla"], "does not exist")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", "nope"], "unknown law")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", "chinchilla", "--y", "perplexity"], "'perplexity' not found")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", "chinchilla", "--delta", "-1"], "delta")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", "chinchilla", "--map", "N"], "INPUT=COLUMN")
    bad = tmp_path / "bad.csv"
    bad.write_text("N,D,loss\n1e9,2e10,2.5\n-1e9,3e10,2.4\n2e9,nan,2.3\n")
    _one_line_error(capsys, ["fit", str(bad), "--law", "chinchilla"], "column 'N' must be > 0")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _one_line_error(capsys, ["fit", str(empty), "--law", "chinchilla"], "is empty")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("N,D,loss,note\n1e9,2e10,2.5,caf\xe9\n".encode("latin-1"))
    _one_line_error(capsys, ["fit", str(latin), "--law", "chinchilla"], "not UTF-8")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", str(tmp_path / "nolaw.py") + ":law"], "does not exist")
    with pytest.raises(SystemExit) as e:
        main(["fit", "--bogus"])
    assert e.value.code == 2


def test_fit_with_user_law_file_and_json(capsys, tmp_path, demo_csv):
    lawfile = tmp_path / "mylaw.py"
    lawfile.write_text(
        "import jaxlaws as jl\n"
        "law = jl.power_sum('mine', [('A', 'alpha', 'N'), ('B', 'beta', 'D')],\n"
        "    starts=jl.grid(space='unconstrained', E=[0.0, 0.5], A=[4.0, 7.0], B=[4.0, 8.0], alpha=[0.2, 0.5], beta=[0.2, 0.5]))\n"
        "notalaw = 3\n"
    )
    out = tmp_path / "fit.json"
    assert main(["fit", str(demo_csv), "--law", f"{lawfile}:law", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["law"] == "mine" and d["status"] == "converged" and set(d["params"]) == {"E", "A", "B", "alpha", "beta"}
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", f"{lawfile}:notalaw"], "not a jaxlaws Law")
    _one_line_error(capsys, ["fit", str(demo_csv), "--law", f"{lawfile}:missing"], "defines no object")


def test_bootstrap_then_allocate_with_draws(capsys, tmp_path, demo_csv):
    boot = tmp_path / "boot.json"
    new = tmp_path / "bigger.csv"
    new.write_text("N,D\n1e9,2e10\n7e10,1.4e12\n")
    assert main(["bootstrap", str(demo_csv), "--law", "chinchilla", "--n", "100", "--seed", "3", "--json", str(boot),
                 "--predict", str(new)]) == 0
    out = capsys.readouterr().out
    assert "tokens_per_param(C=5.88e+23)" in out and "alpha" in out and "95% bands over" in out
    d = json.loads(boot.read_text())
    assert len(d["predictions"]) == 2
    for row in d["predictions"]:
        assert row["lower_0.95"] < row["estimate"] < row["upper_0.95"] and row["se"] > 0
    assert d["n_resamples"] == 100 and len(d["draws"]["alpha"]) == 100 - d["n_failed"]
    se = float(np.std(d["draws"]["alpha"], ddof=1))
    assert d["quantities"]["alpha"]["se"] == pytest.approx(se)
    fitj = tmp_path / "fit.json"
    assert main(["fit", str(demo_csv), "--law", "chinchilla", "--json", str(fitj)]) == 0
    alloc = tmp_path / "alloc.json"
    assert main(["allocate", "--law", "chinchilla", "--params", str(fitj), "--compute", "1e21,1e24",
                 "--draws", str(boot), "--json", str(alloc)]) == 0
    a = json.loads(alloc.read_text())
    assert len(a["allocations"]) == 2
    for row in a["allocations"]:
        assert row["N_opt_q0.1"] < row["N_opt"] * 1.5 and row["N_opt_q0.1"] < row["N_opt_q0.9"]
    capsys.readouterr()
    # a fit of other data (five runs fewer) with these draws: refused, naming both
    import pandas as pd

    fewer = tmp_path / "fewer.csv"
    pd.read_csv(demo_csv).iloc[5:].to_csv(fewer, index=False)
    fit2 = tmp_path / "fit2.json"
    assert main(["fit", str(fewer), "--law", "chinchilla", "--json", str(fit2)]) == 0
    capsys.readouterr()
    _one_line_error(capsys, ["allocate", "--law", "chinchilla", "--params", str(fit2), "--compute", "1e24",
                             "--draws", str(boot)], "fitted to 85 runs")
    _one_line_error(capsys, ["allocate", "--law", "kaplan", "--params", str(fitj), "--compute", "1e24",
                             "--draws", str(boot)], "'chinchilla'")
    _one_line_error(capsys, ["bootstrap", str(demo_csv), "--law", "chinchilla", "--n", "0"], "--n")
    _one_line_error(capsys, ["allocate", "--law", "chinchilla", "--params", str(demo_csv), "--compute", "1e24"], "not valid JSON")
    _one_line_error(capsys, ["allocate", "--law", "chinchilla", "--coefficients", "x", "--compute", "1e24"], "no coefficient set")


def test_laws_listing(capsys):
    assert main(["laws"]) == 0
    out = capsys.readouterr().out
    for name in ("chinchilla", "kaplan", "data_constrained"):
        assert name in out
    rows = {line.split()[0]: line.split() for line in out.strip().splitlines()[1:]}
    assert len(rows) >= 20
    # name, inputs, form status, coefficient status, citation key, the source the form was checked against
    assert rows["data_filtering"][2:6] == ["verified", "verified", "goyal2024scaling", "Goyal"]
    assert rows["moe_sparsity"][2:5] == ["verified", "-", "abnar2025parameters"]
    assert rows["upcycling"][2] == "unverified" and rows["upcycling"][5:7] == ["not", "verified:"]
    assert main(["laws", "chinchilla"]) == 0
    out = capsys.readouterr().out
    assert "@article{hoffmann2022chinchilla" in out and "besiroglu2024" in out


def test_entry_point_runs_as_module():
    r = subprocess.run([sys.executable, "-m", "jaxlaws", "laws"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "chinchilla" in r.stdout


def test_ablate_and_plot(capsys, tmp_path, demo_csv):
    out = tmp_path / "multiverse.csv"
    png = tmp_path / "multiverse.png"
    assert main(["ablate", str(demo_csv), "--law", "chinchilla", "--loss", "huber,squared", "--drop-top", "0,3",
                 "--max-compute", "inf,1e21", "--csv", str(out), "--plot", str(png)]) == 0
    import pandas as pd

    tab = pd.read_csv(out)
    assert len(tab) == 8 and {"loss", "drop_top", "max_compute", "alpha", "D/N", "status"} <= set(tab.columns)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "D/N at C = 5.88e+23" in capsys.readouterr().out
    _one_line_error(capsys, ["ablate", str(demo_csv), "--law", "chinchilla", "--loss", "cauchy"], "--loss 'cauchy'")
    _one_line_error(capsys, ["ablate", str(demo_csv), "--law", "chinchilla", "--csv", str(out)], "exists")
    plots = tmp_path / "plots"
    assert main(["plot", str(demo_csv), "--law", "chinchilla", "--out", str(plots), "--n", "50"]) == 0
    files = sorted(p.name for p in plots.iterdir())
    assert files == ["allocation_bands.png", "bootstrap_pairs.png", "isoflop_curves.png", "isoloss_contours.png",
                     "residuals.png"]
    for f in plots.iterdir():
        assert f.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_allocate_moe_and_inference(capsys, tmp_path):
    out = tmp_path / "moe.json"
    assert main(["allocate", "--law", "joint_moe", "--coefficients", "ludziejewski2025", "--compute", "1e21",
                 "--memory", "2e9", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["allocations"][0]
    assert row["status"] == "converged" and row["total_params"] == pytest.approx(2e9, rel=1e-6)
    capsys.readouterr()
    assert main(["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--target-loss", "2.0",
                 "--inference-tokens", "0,1e13"]) == 0
    text = capsys.readouterr().out
    assert "reach loss 2" in text and text.count("converged") == 2
    # bands over parameter draws (a bootstrap JSON's "draws" object) for both problems
    rng = np.random.default_rng(0)
    for law, coefs, extra in (("joint_moe", "ludziejewski2025", ["--compute", "1e21", "--memory", "2e9"]),
                              ("chinchilla", "besiroglu2024", ["--target-loss", "2.0", "--inference-tokens", "0,1e13"])):
        p = get_law(law).coefficient_set(coefs)
        dj = tmp_path / f"{law}_draws.json"
        dj.write_text(json.dumps({"draws": {k: list(v * (1 + 0.01 * rng.standard_normal(8))) for k, v in p.items()}}))
        res = tmp_path / f"{law}_alloc.json"
        capsys.readouterr()
        assert main(["allocate", "--law", law, "--coefficients", coefs, *extra, "--draws", str(dj), "--json", str(res)]) == 0
        assert "bands: 80% over 8 parameter draws" in capsys.readouterr().out
        for row in json.loads(res.read_text())["allocations"]:
            first = "N_active" if law == "joint_moe" else "N"
            obj = "loss" if law == "joint_moe" else "flops"
            assert row["n_draws"] == 8 and row[f"{first}_lo"] < row[f"{first}_hi"] and row[f"{obj}_lo"] < row[f"{obj}_hi"]
    _one_line_error(capsys, ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e21",
                             "--memory", "1e9"], "expert-count input E")
    _one_line_error(capsys, ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--target-loss", "2"],
                    "--inference-tokens")


def test_import_does_not_initialise_the_jax_backend():
    """Users must be able to set device counts (jax_num_cpu_devices, XLA_FLAGS) after import."""
    code = "import jaxlaws; from jax._src import xla_bridge as xb; print(bool(xb._backends))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr


def test_fit_with_fixed_parameters(capsys, tmp_path):
    """The authors' protocols hold some coefficients fixed (Goyal et al.: a and d)."""
    law = get_law("data_filtering")
    p = law.coefficient_set("goyal2024_tmars_top0to10p")
    n = np.geomspace(2e6, 6.4e8, 16)
    csv = tmp_path / "curve.csv"
    err = np.asarray(law(p, n, np.full_like(n, 12.8e6)))
    import pandas as pd

    pd.DataFrame({"samples": n, "P": 12.8e6, "error": err}).to_csv(csv, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(csv), "--law", "data_filtering", "--y", "error", "--map", "n=samples",
                 "--fix", "a=0.025", "--fix", "d=0.1", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["params"]["a"] == 0.025 and d["params"]["d"] == 0.1 and d["fixed"] == {"a": 0.025, "d": 0.1}
    assert d["params"]["b"] == pytest.approx(p["b"], rel=1e-6) and d["params"]["tau"] == pytest.approx(p["tau"], rel=1e-5)
    capsys.readouterr()
    _one_line_error(capsys, ["fit", str(csv), "--law", "data_filtering", "--y", "error", "--map", "n=samples",
                             "--fix", "zz=1"], "--fix 'zz' is not a parameter")
    _one_line_error(capsys, ["fit", str(csv), "--law", "data_filtering", "--y", "error", "--map", "n=samples",
                             "--fix", "d"], "use PARAM=VALUE")


@pytest.mark.e2e
def test_cli_keeps_compiled_programs_in_the_users_cache(tmp_path, demo_csv):
    import os
    import subprocess
    import sys

    def run(cache_home, **env):
        # the CLI's own settings, not the test run's (conftest caches every program)
        e = {k: v for k, v in os.environ.items()
             if k not in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")}
        e.update(XDG_CACHE_HOME=str(cache_home), **env)
        r = subprocess.run([sys.executable, "-m", "jaxlaws", "fit", str(demo_csv), "--law", "chinchilla"],
                           capture_output=True, text=True, env=e, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout

    on, off = tmp_path / "on", tmp_path / "off"
    first = run(on)
    entries = list((on / "jaxlaws" / "xla").iterdir())
    assert entries, "no compiled program was cached"
    second = run(on)  # served from the cache: the same answer, and nothing compiled again
    assert first.splitlines()[:8] == second.splitlines()[:8]
    assert len(list((on / "jaxlaws" / "xla").iterdir())) == len(entries)
    run(off, JAXLAWS_CACHE="0")
    assert not (off / "jaxlaws").exists()
    # a folder of the user's choice caches every program too (JAX's default keeps only those
    # that took over a second to compile, and a later run compiled most of a fit again)
    mine = tmp_path / "mine"
    run(tmp_path / "unused", JAX_COMPILATION_CACHE_DIR=str(mine))
    n_mine = len(list(mine.iterdir()))
    assert n_mine == len(entries)
    run(tmp_path / "unused", JAX_COMPILATION_CACHE_DIR=str(mine))
    assert len(list(mine.iterdir())) == n_mine and not (tmp_path / "unused" / "jaxlaws").exists()


def test_version_matches_the_package_metadata(capsys):
    import importlib.metadata

    import jaxlaws

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"jaxlaws {jaxlaws.__version__}"
    assert jaxlaws.__version__ == importlib.metadata.version("jaxlaws")


def test_every_option_of_every_command_is_documented():
    """--help explains every option (an undocumented one fails here)."""
    import argparse

    from jaxlaws._cli import build_parser

    sub = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    missing = {name: [a.option_strings[0] if a.option_strings else a.dest for a in sp._actions
                      if not isinstance(a, argparse._HelpAction) and not (a.help and a.help.strip())]
               for name, sp in sub.choices.items()}
    assert {k: v for k, v in missing.items() if v} == {}


def test_y_and_map_take_expressions_and_tables_read_as_json_lines(tmp_path, capsys):
    """--y '10*(1-acc)' and --map N='params_m*1e6' fit the same law as the plain columns, from a
    JSON Lines file; an isoFLOP table with tokens and no size column derives N = C / (6 D) and
    --where keeps one data set of two."""
    import json as _json

    import pandas as pd

    from jaxlaws._demo_data import demo_data

    d = demo_data()
    d.to_csv(tmp_path / "runs.csv", index=False)
    derived = d.assign(acc=1 - d["loss"] / 10, params_m=d["N"] / 1e6).drop(columns=["N", "loss"])
    derived.to_json(tmp_path / "runs.jsonl", orient="records", lines=True)
    assert main(["fit", str(tmp_path / "runs.csv"), "--law", "chinchilla", "--json", str(tmp_path / "a.json")]) == 0
    assert main(["fit", str(tmp_path / "runs.jsonl"), "--law", "chinchilla", "--y", "10*(1-acc)", "--map",
                 "N=params_m*1e6", "--json", str(tmp_path / "b.json")]) == 0
    a, b = (_json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    for k in a["params"]:
        assert abs(a["params"][k] / b["params"][k] - 1) < 1e-6, k
    assert b["y"] == "10*(1-acc)" and b["columns"] == {"N": "params_m*1e6"}
    two = pd.concat([d.assign(dataset="a"), d.assign(dataset="b", loss=d["loss"] * 1.1)]).drop(columns=["N"])
    two.to_csv(tmp_path / "iso.csv", index=False)
    capsys.readouterr()
    assert main(["isoflop", str(tmp_path / "runs.csv"), "--n", "0"]) == 0
    ref = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("a = ")]
    assert main(["isoflop", str(tmp_path / "iso.csv"), "--tokens", "D", "--where", "dataset == 'a'", "--n", "0"]) == 0
    got = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("a = ")]
    assert got == ref
