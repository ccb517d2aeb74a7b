"""Expressions cannot run code: the one evaluator behind ``--where``, ``--weights`` (CLI, API,
ablation axes), checked against pandas on benign expressions and against the known escapes on
every expression option; a law file's missing object is refused before the file runs."""

import os

import numpy as np
import pandas as pd
import pytest

import jaxlaws as jl
from jaxlaws._cli import main
from jaxlaws._demo_data import demo_data
from jaxlaws._expr import evaluate
from jaxlaws._select import row_mask, row_weights

TABLE = pd.DataFrame({"N": [1e9, 2e9, 3e10, 4e10], "D": [1e10, 2e10, 3e11, 1e12], "sd": [0.1, 0.2, 0.3, 0.4],
                      "task": ["a", "b", "a", "c"], "my col": [1, 2, 3, 4]})

BENIGN = ["6*N*D < 1e21", "N > 1e9 and D < 1e12", "(N > 1e9) & (D < 1e12)", "~(N > 1e9) | (sd >= 0.3)",
          "not N > 1e9", "1/sd**2", "log(N) - 2*log10(D)", "sqrt(N) * exp(-sd)", "abs(sd - 0.25)",
          "N // 1e9 % 3", "-N + +D", "task == 'a'", "task != 'a' and sd < 0.4", "1e9 <= N < 3e10",
          "task in ['a', 'c']", "task not in ['a']", "N ** 0.5"]

# (pandas' own spelling where it differs: its functions live in numexpr/numpy)
PANDAS = {"log(N) - 2*log10(D)": "log(N) - 2*log10(D)", "abs(sd - 0.25)": "abs(sd - 0.25)"}


@pytest.mark.parametrize("expr", BENIGN)
def test_benign_expressions_equal_pandas_eval(expr):
    """The evaluator gives pandas' answer on the expressions researchers write."""
    got = evaluate(expr, TABLE)
    ref = np.asarray(TABLE.eval(PANDAS.get(expr, expr), engine="python"))
    if ref.dtype == bool:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got.astype(float), ref.astype(float), rtol=1e-12)


def test_functions_columns_with_spaces_and_scalars():
    np.testing.assert_allclose(evaluate("max(sd, 0.25)", TABLE), [0.25, 0.25, 0.3, 0.4])
    np.testing.assert_allclose(evaluate("min(sd, 0.25, 0.15)", TABLE), [0.1, 0.15, 0.15, 0.15])
    np.testing.assert_array_equal(evaluate("`my col` >= 3", TABLE), [False, False, True, True])
    np.testing.assert_allclose(evaluate("2", TABLE), [2.0] * 4)  # a constant broadcasts to the rows
    # numbers are float64: 9**9**9 is inf at once, not a big integer computed for minutes
    assert np.isinf(evaluate("9**9**9**9 + 0*N", TABLE)).all()


MARKER = "jaxlaws_escape_marker"

ESCAPES = {
    "dunder attribute": "N.__class__.__init__.__globals__['os'].system('touch {m}') == 0",
    "call": "eval(\"__import__('os').system('touch {m}')\") == 0",
    "import": "__import__('os').system('touch {m}') == 0",
    "subscript of a class": "().__class__.__bases__[0].__subclasses__()[0] == 0",
    "getattr": "getattr(N, '__class__') == 0",
    "lambda": "(lambda: __import__('os').system('touch {m}'))() == 0",
    "comprehension": "[__import__('os').system('touch {m}') for _ in [1]] == 0",
    "walrus": "(x := __import__('os')) == 0",
    "open": "open('{m}', 'w') == 0",
    "method call": "N.sum() > 0",
    "f-string": "f'{{N}}' == 'a'",
    "name that is no column": "__builtins__ == 0",
}


@pytest.mark.parametrize("kind", list(ESCAPES))
def test_every_escape_is_refused_in_the_api_before_anything_runs(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = ESCAPES[kind].format(m=MARKER)
    for fn in (lambda: row_mask(TABLE, payload), lambda: row_weights(TABLE, payload.replace("== 0", "+ 1")),
               lambda: jl.fit("chinchilla", demo_data(), where=payload),
               lambda: jl.ablate("chinchilla", demo_data(), {"where": [None, payload]})):
        with pytest.raises(jl.OptionError):
            fn()
    assert not os.path.exists(MARKER)


@pytest.mark.parametrize("option", ["--where", "--weights"])
@pytest.mark.parametrize("command", ["fit", "bootstrap", "predict", "design", "ablate"])
def test_every_expression_option_refuses_the_escapes_in_one_line(command, option, tmp_path, monkeypatch, capsys):
    """Each command that takes an expression: exit 2, one line naming the option's word, and the
    marker file the payload would create does not exist."""
    if command == "ablate" and option == "--weights":
        pytest.skip("ablate has no --weights")
    monkeypatch.chdir(tmp_path)
    demo_data().to_csv("runs.csv", index=False)
    pd.DataFrame({"N": [1e9], "D": [2e10]}).to_csv("new.csv", index=False)
    extra = {"predict": ["--at", "new.csv"], "design": ["--target", "N_opt(C=1e24)", "--budget", "1e21"],
             "bootstrap": ["--n", "10"]}.get(command, [])
    for kind in ("dunder attribute", "import", "subscript of a class", "call"):
        payload = ESCAPES[kind].format(m=MARKER)
        code = main([command, "runs.csv", "--law", "chinchilla", option, payload] + extra)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, (command, option, kind, err)
        assert "not allowed" in err[0] and option.strip("-") in err[0], err[0]
        assert not os.path.exists(MARKER)


@pytest.mark.parametrize("argv", [
    ["fit", "runs.csv", "--law", "chinchilla", "--y", "{p}"],
    ["fit", "runs.csv", "--law", "chinchilla", "--map", "N={p}"],
    ["isoflop", "runs.csv", "--where", "{p}"],
    ["isoflop", "runs.csv", "--map", "N={p}"],
    ["chain", "runs.csv", "--law", "chinchilla", "--link", "runs.csv", "--link-map", "L=loss", "--link-y", "loss",
     "--at", "new.csv", "--link-where", "{p}"],
], ids=["--y", "--map", "isoflop --where", "isoflop --map", "chain --link-where"])
def test_the_other_expression_options_refuse_the_escapes(argv, tmp_path, monkeypatch, capsys):
    """--y, --map (fit and isoflop), isoflop's --where and chain's --link-where: the same
    evaluator, so the same escapes fail before anything runs; nothing is created."""
    monkeypatch.chdir(tmp_path)
    demo_data().to_csv("runs.csv", index=False)
    pd.DataFrame({"N": [1e9], "D": [2e10]}).to_csv("new.csv", index=False)
    for kind in ("dunder attribute", "import", "subscript of a class", "call"):
        payload = ESCAPES[kind].format(m=MARKER).replace(" == 0", "")
        code = main([a.replace("{p}", payload) for a in argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "not allowed" in err[0], (argv, kind, err)
        assert not os.path.exists(MARKER)


def test_a_law_file_without_the_object_is_not_run(tmp_path, monkeypatch, capsys):
    """``--law file.py:missing`` is refused by reading the file, before any of its code runs;
    a law file that exists but does harm when imported does run (it is Python: the README says so)."""
    monkeypatch.chdir(tmp_path)
    demo_data().to_csv("runs.csv", index=False)
    (tmp_path / "laws.py").write_text(f"import os\nos.system('touch {MARKER}')\n\ndef helper():\n    return 1\n")
    code = main(["fit", "runs.csv", "--law", "laws.py:mylaw"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "'mylaw'" in err[0] and "not run" in err[0] and "helper" in err[0]
    assert not os.path.exists(MARKER)
    with pytest.raises(jl.LawError, match="helper"):
        from jaxlaws._io import load_law_file

        load_law_file("laws.py:mylaw")
    assert not os.path.exists(MARKER)
    code = main(["fit", "runs.csv", "--law", "laws.py:helper"])  # the name exists: the file runs, then is refused
    assert code == 2 and os.path.exists(MARKER)
    assert "not a jaxlaws Law" in capsys.readouterr().err
