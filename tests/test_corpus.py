"""A corpus of bad CLI and API input: every case ends in the library's own one-line error
(CLI: exit 2, one stderr line starting ``jaxlaws: error:`` naming the problem), never a
traceback or a silent answer. Together with test_malformed.py and test_honest.py: >150 cases."""

import json

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl

from conftest import one_line


def _good(n=12):
    rng = np.random.default_rng(0)
    N = np.logspace(7, 10, n)
    D = np.logspace(9, 11.5, n)[rng.permutation(n)]
    return pd.DataFrame({"N": N, "D": D, "loss": 1.8 + 480 / N**0.35 + 2000 / D**0.37})


BAD_VALUES = [("nan", "nan"), ("inf", "inf"), ("-inf", "inf"), ("-5", "positive"), ("0", "positive"),
              ("abc", "non-numeric"), ("", "nan")]


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.csv"
    _good().to_csv(good, index=False)
    return tmp_path, str(good)


@pytest.mark.parametrize("col", ["N", "D", "loss"])
@pytest.mark.parametrize("value,fragment", BAD_VALUES, ids=[v[0] or "empty" for v in BAD_VALUES])
def test_bad_value_in_a_column_cli(col, value, fragment, files, capsys):
    tmp, _ = files
    df = _good().astype(object)
    df.loc[4, col] = value
    p = tmp / "bad.csv"
    df.to_csv(p, index=False)
    one_line(capsys, ["fit", str(p), "--law", "chinchilla"], [col])


@pytest.mark.parametrize("col", ["N", "D", "loss"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, -5.0, 0.0, "abc", None], ids=str)
def test_bad_value_in_a_column_api(col, value):
    df = _good().astype(object)
    df.loc[4, col] = value
    with pytest.raises(jl.DataError) as e:
        jl.fit("chinchilla", df)
    assert repr(col) in str(e.value) and "4" in str(e.value)


# (id, argv after the data file, fragments the one line must contain)
FIT = [
    ("delta zero", ["--delta", "0"], ["delta"]), ("delta negative", ["--delta", "-1"], ["delta"]),
    ("delta text", ["--delta", "abc"], ["delta"]), ("delta nan", ["--delta", "nan"], ["delta"]),
    ("delta inf", ["--delta", "inf"], ["delta"]), ("drop negative", ["--drop-highest", "-1"], ["--drop-highest"]),
    ("map no equals", ["--map", "N"], ["INPUT=COLUMN"]), ("map empty input", ["--map", "=N"], ["--map"]),
    ("map empty column", ["--map", "N="], ["--map"]), ("map unknown input", ["--map", "X=N"], ["X"]),
    ("map missing column", ["--map", "N=params"], ["params"]), ("fix unknown", ["--fix", "d=1"], ["'d'"]),
    ("fix text", ["--fix", "alpha=abc"], ["alpha"]), ("fix no value", ["--fix", "alpha"], ["--fix"]),
    ("fix outside domain", ["--fix", "A=-1"], ["A"]), ("y missing", ["--y", "ppl"], ["'ppl'"]),
    ("unknown law", ["--law", "nope"], ["unknown law"]),
    ("law file missing", ["--law", "/nonexistent/x.py:law"], ["does not exist"]),
    ("law spec no object", ["--law", "x.py:"], ["law"]),
    ("json missing folder", ["--json", "/nonexistent/dir/f.json"], ["does not exist"]),
    ("json is a folder", ["--json", "{tmp}"], ["directory"]),
    ("json is the data", ["--json", "{good}"], ["--json", "is also the data file"]),
]


@pytest.mark.parametrize("case", FIT, ids=[c[0] for c in FIT])
def test_fit_options(case, files, capsys):
    tmp, good = files
    _, extra, frags = case
    extra = [a.format(tmp=tmp, good=good) for a in extra]
    law = [] if "--law" in extra else ["--law", "chinchilla"]
    one_line(capsys, ["fit", good, *law, *extra], frags)


BOOT = [
    ("n zero", ["--n", "0"], ["--n"]), ("n negative", ["--n", "-5"], ["--n"]),
    ("level zero", ["--level", "0"], ["--level"]), ("level one", ["--level", "1"], ["--level"]),
    ("level above", ["--level", "1.5"], ["--level"]), ("level negative", ["--level", "-0.1"], ["--level"]),
    ("seed negative", ["--seed", "-1"], ["seed"]), ("single without start", ["--strategy", "single"], ["--start"]),
    ("unknown start", ["--strategy", "single", "--start", "nope"], ["nope"]),
    ("chunk zero", ["--chunk-size", "0"], ["chunk_size"]), ("chunk negative", ["--chunk-size", "-3"], ["chunk_size"]),
    ("checkpoint is json", ["--checkpoint", "{tmp}/x.json", "--json", "{tmp}/x.json"], ["--json and --checkpoint are the same file"]),
    ("json is the data", ["--json", "{good}"], ["--json", "is also the data file"]),
    ("json missing folder", ["--json", "/nonexistent/b.json"], ["does not exist"]),
    ("predict missing", ["--predict", "/nonexistent/new.csv"], ["does not exist"]),
    ("group with ordinary", ["--group", "N", "--method", "ordinary"], ["ignores groups"]),
    ("epoch with group", ["--group", "N", "--method", "epoch"], ["ignores groups"]),
]


@pytest.mark.parametrize("case", BOOT, ids=[c[0] for c in BOOT])
def test_bootstrap_options(case, files, capsys):
    tmp, good = files
    _, extra, frags = case
    extra = [a.format(tmp=tmp, good=good) for a in extra]
    one_line(capsys, ["bootstrap", good, "--law", "chinchilla", "--n", "5", *extra], frags)


ALLOC = [
    ("compute zero", ["--coefficients", "besiroglu2024", "--compute", "0"], ["C must be positive"]),
    ("compute negative", ["--coefficients", "besiroglu2024", "--compute=-1e21"], ["C must be positive"]),
    ("compute text", ["--coefficients", "besiroglu2024", "--compute", "lots"], ["--compute"]),
    ("compute nan", ["--coefficients", "besiroglu2024", "--compute", "nan"], ["C must be positive"]),
    ("no compute", ["--coefficients", "besiroglu2024"], ["--compute"]),
    ("both sources", ["--coefficients", "besiroglu2024", "--params", "x.json", "--compute", "1e21"], ["exactly one"]),
    ("no source", ["--compute", "1e21"], ["exactly one"]),
    ("unknown set", ["--coefficients", "nope", "--compute", "1e21"], ["nope"]),
    ("params missing", ["--params", "/nonexistent/f.json", "--compute", "1e21"], ["--params"]),
    ("params not json", ["--params", "{good}", "--compute", "1e21"], ["not valid JSON"]),
    ("params without params", ["--params", "{tmp}/empty.json", "--compute", "1e21"], ["'params'"]),
    ("draws missing", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--draws", "/nonexistent/d.json"],
     ["--draws"]),
    ("draws without draws", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--draws", "{tmp}/empty.json"],
     ["'draws'"]),
    ("target below floor", ["--coefficients", "besiroglu2024", "--target-loss", "1.0", "--inference-tokens", "0"],
     ["floor"]),
    ("memory without E", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--memory", "1e9"], ["E"]),
    ("json exists", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--json", "{good}"], ["--force"]),
    # every command's --level is checked in one place (main), allocate's too
    ("level above", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--level", "1.5"], ["--level 1.5"]),
    ("level nan", ["--coefficients", "besiroglu2024", "--compute", "1e21", "--level", "nan"], ["--level nan"]),
]


@pytest.mark.parametrize("case", ALLOC, ids=[c[0] for c in ALLOC])
def test_allocate_options(case, files, capsys):
    tmp, good = files
    (tmp / "empty.json").write_text(json.dumps({}))
    _, extra, frags = case
    extra = [a.format(tmp=tmp, good=good) for a in extra]
    one_line(capsys, ["allocate", "--law", "chinchilla", *extra], frags)


OTHER = [
    ("isoflop negative bias", ["isoflop", "{good}", "--bias", "-3"], ["bias=-3"]),
    # an empty file name (an unset shell variable) is not "no output"
    ("fit empty json", ["fit", "{good}", "--law", "chinchilla", "--json", ""], ["--json ''"]),
    ("demo empty data file", ["demo", "--write-data", ""], ["--write-data ''"]),
    ("extrapolate no law", ["extrapolate", "{good}", "--law", ",", "--cutoffs", "1e20"], ["--law ','"]),
    ("report empty budget", ["report", "{good}", "--law", "chinchilla", "--out", "{tmp}/r.html", "--compute", ","],
     ["--compute"]),
    ("bootstrap start without single", ["bootstrap", "{good}", "--law", "chinchilla", "--start", "besiroglu2024"],
     ["--start applies to --strategy single"]),
    ("allocate inference tokens without target", ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024",
                                                  "--compute", "1e21", "--inference-tokens", "1e12"],
     ["--inference-tokens applies with --target-loss"]),
    # every command's --seed is checked in one place (main); numpy refuses negative seeds
    ("isoflop negative seed", ["isoflop", "{good}", "--seed", "-1"], ["--seed -1"]),
    # and amounts: FLOPs per token, budgets
    ("design zero flops per token", ["design", "{good}", "--law", "chinchilla", "--target", "N_opt(C=1e24)",
                                     "--budget", "1e21", "--flops-per-token", "0"], ["--flops-per-token 0"]),
    ("design infinite budget", ["design", "{good}", "--law", "chinchilla", "--target", "N_opt(C=1e24)",
                                "--budget", "inf"], ["--budget inf"]),
    ("bootstrap negative compute", ["bootstrap", "{good}", "--law", "chinchilla", "--compute=-1"], ["--compute -1"]),
    ("allocate infinite flops per token", ["allocate", "--law", "chinchilla", "--coefficients", "besiroglu2024",
                                           "--compute", "1e21", "--flops-per-token", "inf"], ["--flops-per-token inf"]),
    ("predict seed too large", ["predict", "{good}", "--law", "chinchilla", "--at", "{good}", "--seed", "4294967296"],
     ["--seed 4294967296"]),
    ("moe negative memory", ["allocate", "--law", "joint_moe", "--coefficients", "ludziejewski2025", "--compute", "1e21",
                             "--memory", "-1"], ["infeasible"]),
    ("moe zero memory", ["allocate", "--law", "joint_moe", "--coefficients", "ludziejewski2025", "--compute", "1e21",
                         "--memory", "0"], ["infeasible"]),
    ("not a loss", ["allocate", "--law", "step_law_lr", "--coefficients", "li2025", "--compute", "1e21"], ["not a loss"]),
    ("other units", ["allocate", "--law", "weight_sparsity", "--coefficients", "frantar2023_vit", "--compute", "1e21",
                     "--input", "S=0.5"], ["millions of parameters"]),
    ("ablate bad loss", ["ablate", "{good}", "--law", "chinchilla", "--loss", "l1"], ["--loss"]),
    ("ablate bad residual", ["ablate", "{good}", "--law", "chinchilla", "--residual", "exp"], ["--residual"]),
    ("ablate zero delta", ["ablate", "{good}", "--law", "chinchilla", "--delta", "0"], ["--delta"]),
    ("ablate text drop", ["ablate", "{good}", "--law", "chinchilla", "--drop-top", "abc"], ["--drop-top"]),
    ("ablate csv is the data", ["ablate", "{good}", "--law", "chinchilla", "--csv", "{good}"], ["--csv", "is also the data"]),
    ("plot out is the data", ["plot", "{good}", "--law", "chinchilla", "--out", "{good}"], ["--out", "is also the data"]),
    ("plot law without N", ["plot", "{good}", "--law", "power_law", "--out", "{tmp}/p"], ["inputs N and D"]),
    ("demo out is a file", ["demo", "--out", "{good}"], ["is a file"]),
    ("report not html", ["report", "{good}", "--law", "chinchilla", "--out", "{tmp}/r.txt"], [".html"]),
    ("report level", ["report", "{good}", "--law", "chinchilla", "--out", "{tmp}/r.html", "--level", "0"], ["--level 0"]),
    ("report few resamples", ["report", "{good}", "--law", "chinchilla", "--out", "{tmp}/r.html", "--n", "3"], ["--n"]),
    ("report bad budget", ["report", "{good}", "--law", "chinchilla", "--out", "{tmp}/r.html", "--compute", "-1"],
     ["--compute"]),
    ("report missing data", ["report", "{tmp}/none.csv", "--law", "chinchilla", "--out", "{tmp}/r.html"],
     ["does not exist"]),
    ("plot bad format", ["design", "{good}", "--law", "chinchilla", "--target", "a", "--budget", "1e20",
                         "--plot", "{tmp}/d.gif"], [".png"]),
    ("unknown law name", ["laws", "nope"], ["unknown law"]),
]


@pytest.mark.parametrize("case", OTHER, ids=[c[0] for c in OTHER])
def test_other_subcommands(case, files, capsys):
    tmp, good = files
    _, argv, frags = case
    one_line(capsys, [a.format(tmp=tmp, good=good) for a in argv], frags)


def test_semicolon_tab_and_decimal_comma_tables_read_as_the_comma_csv(files, capsys):
    from jaxlaws._io import read_table

    tmp, good = files
    ref = read_table(good)
    ref["note"] = ["a b"] * len(ref)  # a text column stays text
    for name, kw in [("semi.csv", dict(sep=";")), ("euro.csv", dict(sep=";", decimal=",")),
                     ("tabs.csv", dict(sep="\t")), ("runs.tsv", dict(sep="\t"))]:
        p = tmp / name
        ref.to_csv(p, index=False, **kw)
        got = read_table(str(p))
        assert list(got.columns) == list(ref.columns), name
        pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-15, check_dtype=False)
    # a column name that differs only in case: the error names the near match
    upper = tmp / "upper.csv"
    ref.rename(columns=str.upper).to_csv(upper, index=False)
    one_line(capsys, ["fit", str(upper), "--law", "chinchilla"], ["'loss' not found", "did you mean 'LOSS'"])


def test_group_labels_must_not_be_missing(files, capsys):
    # np.unique would pool every missing label into one "nan" group and resample it as a group
    tmp, _ = files
    df = _good()
    df["size"] = np.where(np.arange(len(df)) % 4 == 1, np.nan, np.round(np.log10(df.N)))
    p = tmp / "groups.csv"
    df.to_csv(p, index=False)
    one_line(capsys, ["bootstrap", str(p), "--law", "chinchilla", "--n", "5", "--group", "size"],
              ["group column 'size'", "missing labels at rows 1, 5, 9"])
    with pytest.raises(jl.DataError, match="missing labels at positions 1"):
        jl.resample_weights(4, "group", 5, groups=["a", None, "b", "b"])
    # a run without a group that the fit does not use is fine
    w = (np.arange(len(df)) % 4 != 1).astype(float)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.ConvergenceWarning)  # 12 runs in few groups: some degenerate
        b = jl.bootstrap("chinchilla", df, n=5, groups="size", weights=w)
    assert b.n_resamples == 5
