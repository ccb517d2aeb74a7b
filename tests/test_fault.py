"""Faults while writing: a full disk after a finished computation loses nothing and leaves
nothing behind (kill-and-resume of writers and bootstraps is in test_bootstrap.py)."""

import json
import os
import pathlib
import subprocess

import pytest

from jaxlaws._cli import main
from jaxlaws._demo_data import demo_data


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs, filled up (needs root and mount; skips where the platform refuses)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.decode().strip()[:80]}")
    try:
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError:
            pass  # full
        finally:
            os.close(fd)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_full_disk_keeps_the_result_and_leaves_no_temporary_file(small_disk, tmp_path, capsys):
    data = tmp_path / "runs.csv"
    demo_data().to_csv(data, index=False)
    target = small_disk / "fit.json"
    code = main(["fit", str(data), "--law", "chinchilla", "--json", str(target)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "could not write" in err[-1] and "written to" in err[-1]
    fallback = pathlib.Path(err[-1].split("written to ")[1].split(" instead")[0])
    d = json.loads(fallback.read_text())
    assert d["status"] == "converged" and set(d["params"]) == {"E", "A", "B", "alpha", "beta"}
    fallback.unlink()
    assert sorted(os.listdir(small_disk)) == ["filler"]  # no fit.json, no fit.json.tmp-PID


def test_a_killed_writers_temporary_file_is_cleaned_up(tmp_path):
    from jaxlaws._util import write_json_atomic

    target = tmp_path / "out.json"
    dead = tmp_path / "out.json.tmp-99999999"  # a PID no process has
    dead.write_text("{half")
    proc = subprocess.Popen(["sleep", "30"])
    alive = tmp_path / f"out.json.tmp-{proc.pid}"  # a writer still running: left alone
    alive.write_text("{")
    try:
        write_json_atomic(str(target), {"a": 1.0, "b": float("inf")})
        assert json.loads(target.read_text()) == {"a": 1.0, "b": None}
        assert not dead.exists() and alive.exists()
    finally:
        proc.kill()


def test_full_disk_for_tables_and_figures_is_one_line(small_disk, tmp_path, capsys):
    data = tmp_path / "runs.csv"
    demo_data().to_csv(data, index=False)
    code = main(["ablate", str(data), "--law", "chinchilla", "--drop-top", "0,3", "--csv", str(small_disk / "m.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "table was written to" in err[0]
    fallback = pathlib.Path(err[0].split("written to ")[1].split(" instead")[0])
    assert len(fallback.read_text().splitlines()) == 3  # header + the two specifications
    fallback.unlink()
    code = main(["plot", str(data), "--law", "chinchilla", "--n", "20", "--out", str(small_disk / "plots")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("jaxlaws: error:")
    # nothing half-written on the full disk; the whole finished set is in the named folder
    assert sorted(os.listdir(small_disk)) == ["filler"]
    kept = pathlib.Path(err[0].split("all 5 are in ")[1])
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        ["isoflop_curves.png", "isoloss_contours.png", "residuals.png", "bootstrap_pairs.png", "allocation_bands.png"])
    import shutil

    shutil.rmtree(kept)


@pytest.mark.parametrize("command", ["report", "isoflop"])
def test_full_disk_keeps_reports_and_isoflop_figures(command, small_disk, tmp_path, capsys):
    """The report's finished HTML and isoflop's figures survive a full disk, named in one line."""
    data = tmp_path / "runs.csv"
    demo_data().to_csv(data, index=False)
    argv = (["report", str(data), "--law", "chinchilla", "--n", "20", "--out", str(small_disk / "r.html")]
            if command == "report" else ["isoflop", str(data), "--n", "20", "--plot", str(small_disk / "figs")])
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and ("written to" in err[0] or "are in" in err[0]), err
    assert sorted(os.listdir(small_disk)) == ["filler"]
    import shutil

    kept = pathlib.Path(err[0].split("written to ")[1].split(" instead")[0] if "written to" in err[0]
                        else err[0].split(" are in ")[1])
    assert kept.exists() and (kept.stat().st_size > 1000 if kept.is_file() else len(list(kept.iterdir())) == 2)
    shutil.rmtree(kept) if kept.is_dir() else kept.unlink()


def test_an_interrupted_plot_leaves_the_old_figures_and_no_half_set(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the third figure is drawn: the folder holds exactly its old five figures."""
    data = tmp_path / "runs.csv"
    demo_data().to_csv(data, index=False)
    out = tmp_path / "figs"
    assert main(["plot", str(data), "--law", "chinchilla", "--n", "20", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def interrupting(*a, **k):  # the savefig of the third figure is interrupted
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return orig_save(*a, **k)

    import matplotlib.figure

    orig_save = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", interrupting)
    code = main(["plot", str(data), "--law", "chinchilla", "--n", "20", "--out", str(out), "--force", "--seed", "3"])
    assert code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jaxlaws-partial-")]


# every command that writes files (e2e: ~4 s each, CI runs them)
WRITERS = {
    "bootstrap": ["bootstrap", "{data}", "--law", "chinchilla", "--n", "20", "--json", "{disk}/b.json"],
    "predict": ["predict", "{data}", "--law", "chinchilla", "--at", "{new}", "--n", "20", "--json", "{disk}/p.json"],
    "allocate": ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024", "--compute", "1e22",
                 "--json", "{disk}/a.json"],
    "isoflop": ["isoflop", "{data}", "--n", "20", "--json", "{disk}/i.json"],
    "design": ["design", "{data}", "--law", "chinchilla", "--target", "a", "--budget", "1e21",
               "--json", "{disk}/d.json", "--plot", "{disk}/d.png"],
    "extrapolate": ["extrapolate", "{data}", "--law", "chinchilla", "--cutoffs", "1e20", "--csv", "{disk}/e.csv",
                    "--json", "{disk}/e.json", "--plot", "{disk}/e.png"],
    "chain": ["chain", "{data}", "--law", "chinchilla", "--link", "{link}", "--at", "{new}", "--n", "20",
              "--json", "{disk}/c.json"],
    "demo": ["demo", "--out", "{disk}/demo"],
    "ablate": ["ablate", "{data}", "--law", "chinchilla", "--drop-top", "0,3", "--csv", "{disk}/m.csv"],
}


@pytest.mark.e2e
@pytest.mark.parametrize("command", list(WRITERS))
def test_full_disk_keeps_every_commands_result(command, small_disk, tmp_path, capsys):
    """Every command that writes files, on a full disk: exit 2, one line naming where the
    finished result went, and nothing (not even a temporary file) on the full disk."""
    import shutil

    import numpy as np

    data, new, link = tmp_path / "runs.csv", tmp_path / "new.csv", tmp_path / "link.csv"
    d = demo_data()
    d.to_csv(data, index=False)
    new.write_text("N,D\n1e9,2e10\n")
    rng = np.random.default_rng(0)
    d.assign(L=d.loss, err=0.85 - 4 * np.exp(-d.loss) + 0.005 * rng.standard_normal(len(d))).to_csv(link, index=False)
    argv = [a.format(data=data, new=new, link=link, disk=small_disk) for a in WRITERS[command]]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("jaxlaws: error: could not write"), err
    assert sorted(os.listdir(small_disk)) == ["filler"]
    kept = pathlib.Path(err[0].split("written to ")[1].split(" instead")[0] if "written to" in err[0]
                        else err[0].split(" are in ")[1])
    assert kept.exists()
    shutil.rmtree(kept) if kept.is_dir() else kept.unlink()
