"""Helpers shared by the command-line subcommands: option parsing, table and law loading."""

from __future__ import annotations

import os

from ._errors import OptionError
from ._util import check_seed


def parse_map(items) -> dict:
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k or not v:
            raise OptionError(f"--map {it!r}: use INPUT=COLUMN, e.g. --map N=params")
        out[k] = v
    return out


def assignments(items, option, example, what="NAME") -> dict:
    """``NAME=VALUE`` options (repeatable) as a dict of floats; one-line errors otherwise."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise OptionError(f"{option} {it!r}: use {what}=VALUE, e.g. {option} {example}")
        out[k] = float_opt(f"{option} {k}", v)
    return out


def float_opt(name, text):
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"{name} {text!r} is not a number") from None


def law_and_data(args):
    from ._io import read_table, resolve_law_spec

    law = resolve_law_spec(args.law)
    df = read_table(args.data)
    return law, df


def loss_option(loss: str | None, delta: str | None):
    """The loss from ``--loss`` (a text form such as ``huber:1e-3``, ``squared/mean``,
    ``asymmetric:10,1``) and ``--delta`` (Huber's threshold); None leaves it to the recipe or law."""
    from ._loss import huber, parse_loss

    if loss is None and delta is None:
        return None
    if loss is None or loss == "huber":
        return huber(float_opt("--delta", delta if delta is not None else "1e-3"))
    if delta is not None:
        raise OptionError(f"--delta applies to the huber loss; write the parameters into --loss, e.g. --loss {loss}:...")
    return parse_loss(loss)


def parse_axis(name: str, text: str):
    """One ``--starts`` axis: ``lo:hi:n`` (evenly spaced), ``lo:hi:n:log`` (log-spaced),
    ``v1/v2/v3`` or a single value."""
    import numpy as np

    bad = OptionError(f"--starts {name}={text!r}: use LO:HI:N, LO:HI:N:log, V1/V2/V3 or V")
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "log"):
                raise bad
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1:
                raise bad
            if len(parts) == 4:
                if lo <= 0 or hi <= 0:
                    raise OptionError(f"--starts {name}={text!r}: log-spaced values need LO, HI > 0")
                return np.geomspace(lo, hi, n)
            return np.linspace(lo, hi, n)
        return np.array([float(v) for v in text.split("/")])
    except ValueError:
        raise bad from None


def starts_option(text: str | None, law, bounds=None):
    """``--starts``: a grid spec ``alpha=0:2:5,beta=0:2:5,A=1e2/1e4`` in natural values (axes not
    named come from the law's own grid, moved inside ``--bounds``) or a CSV file of start points
    (one column per parameter)."""
    if text is None:
        return None
    import numpy as np

    from ._starts import Grid, grid, move_inside

    if text.endswith(".csv") or os.path.exists(text):
        from ._io import read_table

        tab = read_table(text)
        missing = [k for k in law.param_names if k not in tab.columns]
        if missing:
            raise OptionError(f"--starts {text}: columns {missing} (parameters of {law.name}) are missing")
        return [{k: float(v) for k, v in row.items() if k in law.params} for row in tab.to_dict(orient="records")]
    axes = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or not k:
            raise OptionError(f"--starts {part!r}: use PARAM=LO:HI:N (e.g. --starts alpha=0:2:5,beta=0:2:5) or a CSV file")
        if k not in law.params:
            raise OptionError(f"--starts {k!r} is not a parameter of {law.name} {list(law.param_names)}")
        axes[k] = parse_axis(k, v.strip())
    missing = [k for k in law.param_names if k not in axes]
    if missing:
        if not isinstance(law.starts, Grid):
            raise OptionError(f"--starts gives no values for {missing} and {law.name} has no start grid to take them from")
        for k in missing:  # the law's own axis, as natural values
            v = law.starts.axes[k]
            v = v if law.starts.space == "natural" else np.asarray(law.params[k].forward(v))
            axes[k] = np.unique(move_inside(v, *bounds[k])) if k in (bounds or {}) else v
    return grid(**axes)


def bounds_option(items) -> dict:
    """``--bounds PARAM=LO:HI`` (repeatable; ``inf`` and ``-inf`` allowed)."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        lo, sep2, hi = v.partition(":")
        if not sep or not sep2 or not k:
            raise OptionError(f"--bounds {it!r}: use PARAM=LO:HI, e.g. --bounds A=1:inf")
        out[k.strip()] = (float_opt(f"--bounds {k}", lo), float_opt(f"--bounds {k}", hi))
    return out


def select_option(text: str | None) -> tuple:
    """``--select best-per=N,D``: keep the lowest-target run per (N, D) (e.g. the best learning
    rate); ``best-per=N,D,by=loss``: the run with the lowest loss per (N, D), whatever the target."""
    if text is None:
        return ()
    kind, sep, cols = text.partition("=")
    if kind != "best-per" or not sep or not cols.strip():
        raise OptionError(f"--select {text!r}: use best-per=COLUMN[,COLUMN...][,by=COLUMN], e.g. --select best-per=N,D")
    return tuple(c.strip() for c in cols.split(",") if c.strip())


def fit_kwargs(args, law, df):
    """Options shared by fit-like subcommands: recipe, loss, residual, mapping, run selection,
    starts, bounds, units, fixed parameters."""
    from ._units import parse_units

    columns = parse_map(args.map)
    unknown = [k for k in columns if k not in law.inputs]
    if unknown:
        raise OptionError(f"--map names {unknown} that are not inputs of {law.name} {list(law.inputs)}")
    if args.recipe is not None:
        from ._recipe import resolve_recipe

        resolve_recipe(law, args.recipe)  # an unknown name fails here, before any computing
    if args.drop_highest < 0:
        raise OptionError("--drop-highest must be >= 0")
    fixed = assignments(args.fix, "--fix", "d=0.1", what="PARAM")
    unknown = [k for k in fixed if k not in law.params]
    if unknown:
        raise OptionError(f"--fix {unknown[0]!r} is not a parameter of {law.name} {list(law.param_names)}")
    bounds = bounds_option(args.bounds)
    unknown = [k for k in bounds if k not in law.params]
    if unknown:
        raise OptionError(f"--bounds {unknown[0]!r} is not a parameter of {law.name} {list(law.param_names)}")
    units = parse_units(args.units)
    unknown = [k for k in units if k not in law.inputs]
    if unknown:
        raise OptionError(f"--units {unknown[0]!r} is not an input of {law.name} {list(law.inputs)}")
    return dict(y=args.y, columns=columns, loss=loss_option(args.loss, args.delta), residual=args.residual,
                fixed=fixed or None, recipe=args.recipe, starts=starts_option(args.starts, law, bounds), bounds=bounds or None,
                where=tuple(args.where or ()), best_per=select_option(args.select), drop_highest=args.drop_highest,
                weights=args.weights, units=units or None)


def add_fit_options(p):
    p.add_argument("data", help="CSV, TSV, Parquet or JSON Lines file, one row per training run")
    p.add_argument("--law", required=True, help=LAW_HELP)
    p.add_argument("--y", default="loss", help="target column, or an expression over columns such as '1 - acc' (default: loss)")
    p.add_argument("--map", action="append", metavar="INPUT=COLUMN",
                   help="map a law input to a column or an expression over columns, e.g. --map N=params or "
                        "--map N='params - 50304*width'; repeatable")
    p.add_argument("--recipe", metavar="NAME",
                   help="a published fitting recipe of the law (jaxlaws laws NAME lists them), e.g. besiroglu2024; "
                        "the options below override its choices")
    p.add_argument("--loss", metavar="SPEC",
                   help="huber[:DELTA], squared, absolute, asymmetric:OVER,UNDER, expectile:OVER,UNDER, logcosh[:SCALE]; "
                        "append /mean to average (default: the law's recipe, else huber:1e-3)")
    p.add_argument("--delta", default=None, help="Huber delta (default 1e-3)")
    p.add_argument("--residual", choices=("log", "raw", "log1p"), default=None,
                   help="residual space: log pred - log y (default), pred - y, or log(1+pred) - log(1+y)")
    p.add_argument("--starts", metavar="SPEC|FILE.csv",
                   help="start grid in natural values, e.g. alpha=0:2:5,beta=0:2:5,A=1e2:1e6:5:log,E=1.5/2 "
                        "(other parameters from the law's grid), or a CSV of start points")
    p.add_argument("--bounds", action="append", metavar="PARAM=LO:HI", help="box a parameter, e.g. --bounds A=1:inf; repeatable")
    p.add_argument("--where", action="append", metavar="EXPR",
                   help="keep rows where an expression holds, e.g. --where '6*N*D < 1e21' (columns, numbers, arithmetic, comparisons, and/or/not, log/exp/sqrt/abs/min/max; no code runs); repeatable (all hold)")
    p.add_argument("--select", metavar="best-per=COLS",
                   help="keep the lowest-target run per group, e.g. best-per=N,D; best-per=N,D,by=loss keeps the "
                        "lowest-loss run whatever --y is (the learning rate of the best run)")
    p.add_argument("--weights", metavar="COLUMN|EXPR", help="per-row weights: a column or an expression, e.g. '1/sd**2'")
    p.add_argument("--units", action="append", metavar="INPUT=UNIT",
                   help="units of the table's inputs, e.g. N=parameters,D=tokens; converted to the recipe's units")
    p.add_argument("--drop-highest", type=int, default=0, metavar="K", help="give zero weight to the K highest-target rows")
    p.add_argument("--fix", action="append", metavar="PARAM=VALUE",
                   help="hold a parameter at a value while fitting (e.g. --fix d=0.1); repeatable")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def read_json(path, what):
    from ._saved import read_json_file

    return read_json_file(path, what, OptionError)


def list_opt(name, text, conv):
    out = []
    for t in text.split(","):
        t = t.strip()
        if t.lower() in ("inf", "none", ""):
            out.append(None)
            continue
        try:
            out.append(conv(t))
        except ValueError:
            raise OptionError(f"{name} {text!r}: {t!r} is not valid") from None
    return out


def read_new_rows(path, law, columns):
    """Read and validate a table of new rows (for --predict) before any long computation."""
    from ._data import load_arrays
    from ._io import read_table

    new = read_table(path)
    load_arrays(new, law.input_domains, None, columns=columns, check=law.check_inputs)
    return new


def predictions_table(res, new, path, columns, how="") -> list:
    """Print the new table with a ``prediction`` column (all its columns kept); its JSON records."""
    from ._extrapolation import summary

    tab = new.copy()
    tab["prediction"] = res.predict(new, columns=columns or None)
    tab["decades_outside"], tab["extrapolation"] = res.extrapolation(new, columns=columns or None)
    print(f"\npredictions at {path}{how}:")
    print_table(tab)
    if summary(tab):
        print(summary(tab))
    return tab.to_dict(orient="records")


def print_table(df):
    print(df.to_string(index=False, float_format=lambda x: f"{x:.6g}"))


def add_band_options(p, n: int, what: str = "bootstrap resamples"):
    """``--n``, ``--seed``, ``--level`` and ``--json`` of the commands that print bands."""
    p.add_argument("--n", type=int, default=n, help=f"{what} (default {n})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--json", metavar="OUT.json")


LAW_HELP = ("built-in law name or path/to/file.py:object (a law file is imported: its code runs as Python; "
            "only use files you trust)")


def add_max_iter_option(p):
    """``--max-iter`` of the commands that refit resamples (checked in ``check_common_options``)."""
    p.add_argument("--max-iter", type=int, default=None, metavar="STEPS",
                   help="step cap of every solve, the fit's and each resample's (default 1000; 100 per kept start "
                        "with --strategy grid); raise it when the summary says resamples hit max_iter")


def check_level(args):
    """Any command's ``--level`` (of an interval or band) is a number in (0, 1)."""
    level = getattr(args, "level", None)
    if level is not None and not 0 < level < 1:  # also refuses nan
        raise OptionError(f"--level {level:g}: give a number in (0, 1), e.g. 0.95")


def check_seed_option(args):
    """Any command's ``--seed`` is an integer in [0, 2^32)."""
    if getattr(args, "seed", None) is not None:
        try:
            check_seed(args.seed)
        except OptionError:
            raise OptionError(f"--seed {args.seed}: give an integer in [0, 2^32)") from None


# options that name files or folders to write or read
_PATHS = ("json", "csv", "plot", "out", "checkpoint", "write_data", "write_examples", "predict", "at", "draws",
          "params", "html")
# numeric options that are amounts (FLOPs, FLOPs per token) wherever a command has them as numbers
_POSITIVE = ("compute", "flops_per_token", "budget")


# Bytes a command holds per draw or resample of --n at the least (draws, objectives, statuses,
# band samples of one row; isoflop: its weight and target arrays over >= 8 runs): a lower bound,
# so that --n 1e9 is refused before anything is allocated; commands that know their data
# size refine it (check_memory with the real count)
_BYTES_PER_DRAW = {"isoflop": 8 * 6 * 8, "chain": 8 * 40}
_DEFAULT_BYTES_PER_DRAW = 8 * 24


def available_memory() -> int | None:
    """Bytes of memory available to this process now (Linux's MemAvailable; None if unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(count: int, per_item: float, option: str):
    """Refuse ``option`` (e.g. ``--n 1000000000``) before computing when ``count`` items of
    ``per_item`` bytes would not fit in 80% of the memory available now."""
    avail = available_memory()
    need = float(count) * per_item
    if avail and need > 0.8 * avail:
        raise OptionError(f"{option} needs ~{need / 1e9:,.3g} GB of memory; this machine has ~{avail / 1e9:.3g} GB "
                          f"available, so at most ~{int(0.8 * avail / per_item):,} fit")


def check_common_options(args):
    """The options many commands share, checked in one place before any computing (``main``):
    ``--level`` in (0, 1), ``--seed`` in [0, 2^32), and amounts (``_POSITIVE``) positive and
    finite (``design --flops-per-token 0`` divided by zero; ``bootstrap --compute -1`` printed
    derived quantities at a negative budget)."""
    check_level(args)
    check_seed_option(args)
    n = getattr(args, "n", None)
    if isinstance(n, int) and n > 0:
        check_memory(n, _BYTES_PER_DRAW.get(getattr(args, "command", ""), _DEFAULT_BYTES_PER_DRAW), f"--n {n}")
    if getattr(args, "max_iter", None) is not None and args.max_iter < 1:
        raise OptionError(f"--max-iter {args.max_iter}: give a positive number of steps, e.g. 5000")
    for attr in _PATHS:
        if getattr(args, attr, None) == "":  # an unset shell variable (--json "$OUT"): not "no output"
            raise OptionError(f"--{attr.replace('_', '-')} '': give a file or folder name")
    for attr in _POSITIVE:
        v = getattr(args, attr, None)
        if isinstance(v, float) and not (0 < v < float("inf")):  # also refuses nan
            raise OptionError(f"--{attr.replace('_', '-')} {v:g}: give a positive finite number")


def check_band_options(args, min_n: int = 10):
    """Check ``add_band_options``'s values and the JSON path (if the command has one) before
    any computing (``--level`` and ``--seed``: ``check_common_options``, for every command)."""
    if args.n < min_n:
        raise OptionError(f"--n {args.n}: at least {min_n}")
    if getattr(args, "json", None):
        from ._cli_output import check_output

        check_output(args.json, args.force)
