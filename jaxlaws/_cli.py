"""The ``jaxlaws`` command line: ``fit``, ``laws`` (and more subcommands as they land).

Every expected failure (bad file, column, option) prints one line ``jaxlaws: error: ...``
to stderr and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from ._errors import ConvergenceWarning, JaxlawsError, OptionError

EXAMPLES = {
    "fit": "examples:\n  jaxlaws fit runs.csv --law chinchilla --y loss --map N=params --delta 1e-3 --drop-highest 5 --json fit.json\n"
           "  jaxlaws fit curves.csv --law data_filtering --y error --fix a=0.025 --fix d=0.1   # hold parameters fixed",
    "bootstrap": (
        "examples:\n  jaxlaws bootstrap runs.csv --law chinchilla --n 4000 --seed 0 --checkpoint boot.npz --json boot.json\n"
        "  jaxlaws bootstrap runs.csv --law chinchilla --group N --n 1000      # resample whole model sizes\n"
        "  jaxlaws bootstrap runs.csv --law chinchilla --predict bigger.csv  # prediction bands at new (N, D)\n"
        "  # Besiroglu et al.'s protocol (seed 42, 4000 resamples, one start at Hoffmann's estimate):\n"
        "  jaxlaws bootstrap chinchilla_epoch.csv --law chinchilla --drop-highest 5 --method epoch --seed 42 \\\n"
        "      --n 4000 --strategy single --start hoffmann2022_unrounded"
    ),
    "allocate": (
        "examples:\n  jaxlaws allocate --law chinchilla --params fit.json --compute 1e22,1e24 --draws boot.json\n"
        "  jaxlaws allocate --law chinchilla --coefficients besiroglu2024 --compute 5.88e23\n"
        "  jaxlaws allocate --law data_constrained --coefficients muennighoff2023 --compute 9.26e21 --input U=25e9\n"
        "  jaxlaws allocate --law joint_moe --coefficients ludziejewski2025_secondary --compute 1e21 --memory 2e9\n"
        "  jaxlaws allocate --law chinchilla --coefficients besiroglu2024 --target-loss 2.0 --inference-tokens 1e13"
    ),
    "ablate": (
        "example:\n  jaxlaws ablate chinchilla_epoch.csv --law chinchilla --loss huber,squared --residual log,raw \\\n"
        "      --drop-top 0,5 --max-compute 1e21,inf --compute 5.88e23 --csv multiverse.csv --plot multiverse.png"
    ),
    "plot": "example:\n  jaxlaws plot runs.csv --law chinchilla --out plots --n 500",
    "demo": "example:\n  jaxlaws demo --out demo_plots",
    "laws": "example:\n  jaxlaws laws            # list the built-in laws\n  jaxlaws laws chinchilla # one law in full",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse would print the usage too)
        self.exit(2, f"jaxlaws: error: {message}\n")


def _parse_map(items) -> dict:
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k or not v:
            raise OptionError(f"--map {it!r}: use INPUT=COLUMN, e.g. --map N=params")
        out[k] = v
    return out


def _assignments(items, option, example, what="NAME") -> dict:
    """``NAME=VALUE`` options (repeatable) as a dict of floats; one-line errors otherwise."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise OptionError(f"{option} {it!r}: use {what}=VALUE, e.g. {option} {example}")
        out[k] = _float_opt(f"{option} {k}", v)
    return out


def _float_opt(name, text):
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"{name} {text!r} is not a number") from None


def _law_and_data(args):
    from ._io import read_table, resolve_law_spec

    law = resolve_law_spec(args.law)
    df = read_table(args.data)
    return law, df


def _fit_kwargs(args, law, df):
    """Options shared by fit-like subcommands: loss, mapping, dropped rows."""
    import numpy as np

    from ._data import load_arrays
    from ._objective import huber, squared

    columns = _parse_map(args.map)
    unknown = [k for k in columns if k not in law.inputs]
    if unknown:
        raise OptionError(f"--map names {unknown} that are not inputs of {law.name} {list(law.inputs)}")
    loss = squared() if args.loss == "squared" else huber(_float_opt("--delta", args.delta))
    weights = None
    if args.drop_highest:
        if args.drop_highest < 0:
            raise OptionError("--drop-highest must be >= 0")
        _, yv, _ = load_arrays(df, {}, args.y, y_domain="real")
        weights = np.ones(len(yv))
        weights[np.argsort(-yv, kind="stable")[: args.drop_highest]] = 0.0
    fixed = _assignments(args.fix, "--fix", "d=0.1", what="PARAM")
    unknown = [k for k in fixed if k not in law.params]
    if unknown:
        raise OptionError(f"--fix {unknown[0]!r} is not a parameter of {law.name} {list(law.param_names)}")
    return dict(y=args.y, columns=columns, loss=loss, residual=args.residual, weights=weights, fixed=fixed or None)


def _add_fit_options(p):
    p.add_argument("data", help="CSV or Parquet file, one row per training run")
    p.add_argument("--law", required=True, help="built-in law name or path/to/file.py:object")
    p.add_argument("--y", default="loss", help="target column (default: loss)")
    p.add_argument("--map", action="append", metavar="INPUT=COLUMN", help="map a law input to a column; repeatable")
    p.add_argument("--delta", default="1e-3", help="Huber delta (default 1e-3)")
    p.add_argument("--loss", choices=("huber", "squared"), default="huber")
    p.add_argument("--residual", choices=("log", "raw"), default="log")
    p.add_argument("--drop-highest", type=int, default=0, metavar="K", help="give zero weight to the K highest-target rows")
    p.add_argument("--fix", action="append", metavar="PARAM=VALUE",
                   help="hold a parameter at a value while fitting (e.g. --fix d=0.1); repeatable")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def cmd_fit(args):
    from ._fit import fit, write_json_atomic

    law, df = _law_and_data(args)
    strategy = args.strategy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = fit(law, df, strategy=strategy, **_fit_kwargs(args, law, df))
    print(f"law: {law.name}   points: {res.n_points}   loss: {res.loss}   residual: {res.residual}")
    print(f"{'parameter':>12} {'estimate':>16}")
    for k, v in res.params.items():
        print(f"{k:>12} {v:>16.8g}")
    print(f"objective {res.objective:.12g}   status {res.status}   starts {res.counts}")
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        write_json_atomic(args.json, res.to_dict(), force=args.force)
        print(f"wrote {args.json}")
    return 0


def _derived_rows(law, boot, compute, level):
    """(label, Interval) for each derived quantity of the law, evaluated at ``compute``."""
    import inspect

    out = []
    for name, fn in law.derived.items():
        params = list(inspect.signature(fn).parameters)
        kw = {"C": compute} if "C" in params[1:] else {}
        if len(params) - 1 != len(kw):
            continue
        label = f"{name}(C={compute:g})" if kw else name
        try:
            out.append((label, boot.interval(fn, level=level, **kw)))
        except JaxlawsError:
            pass
    return out


def cmd_bootstrap(args):
    from ._bootstrap import bootstrap
    from ._fit import write_json_atomic

    law, df = _law_and_data(args)
    kw = _fit_kwargs(args, law, df)
    if args.n < 1:
        raise OptionError(f"--n must be a positive integer, got {args.n}")
    start = None
    if args.strategy == "single":
        if not args.start:
            raise OptionError("--strategy single needs --start COEFFICIENT_SET (see jaxlaws laws NAME)")
        start = law.coefficient_set(args.start)
    if args.checkpoint and args.json and args.checkpoint == args.json:
        raise OptionError("--checkpoint and --json must be different files")
    if args.json and os.path.exists(args.json) and not args.force:
        raise OptionError(f"{args.json} exists; pass --force to overwrite it")
    new = None
    if args.predict:
        from ._io import read_table

        new = read_table(args.predict)  # read (and fail) before the long run
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        boot = bootstrap(
            law, df, n=args.n, seed=args.seed, method=args.method, groups=args.group, strategy=args.strategy,
            start=start, checkpoint=args.checkpoint, chunk_size=args.chunk_size, **kw,
        )
    level = args.level
    rows = [(k, boot.interval(k, level=level)) for k in law.param_names] + _derived_rows(law, boot, args.compute, level)
    print(f"law: {law.name}   points: {boot.fit.n_points}   resamples: {boot.n_resamples} ({boot.weights_method}, "
          f"seed {args.seed}, strategy {args.strategy})   converged: {boot.n_resamples - boot.n_failed}")
    lo_h, hi_h = f"{level:.0%} low", f"{level:.0%} high"
    print(f"{'quantity':>26} {'estimate':>14} {'SE':>12} {lo_h:>14} {hi_h:>14}")
    for label, iv in rows:
        print(f"{label:>26} {iv.estimate:>14.6g} {iv.se:>12.4g} {iv.lower:>14.6g} {iv.upper:>14.6g}")
    print(f"time: full fit {boot.timings['full_fit_s']:.2f} s, resamples {boot.timings['resamples_s']:.2f} s")
    bands = None
    if new is not None:
        bands = boot.predict(new, level=level)
        print(f"\npredictions at {args.predict} ({level:.0%} bands over {int(boot.ok.sum())} draws):")
        print(bands.to_string(index=False, float_format=lambda x: f"{x:.6g}"))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        out = {
            "law": law.name, "n_points": boot.fit.n_points, "n_resamples": boot.n_resamples,
            "n_failed": boot.n_failed, "method": boot.weights_method, "seed": args.seed, "strategy": args.strategy,
            "level": level, "fit": boot.fit.to_dict(),
            "quantities": {label: {"estimate": iv.estimate, "se": iv.se, "lower": iv.lower, "upper": iv.upper}
                           for label, iv in rows},
            "timings": boot.timings,
            # converged draws, so `jaxlaws allocate --draws` can carry the uncertainty forward
            "draws": {k: v.tolist() for k, v in boot.converged_draws().items()},
        }
        if bands is not None:
            out["predictions"] = bands.to_dict(orient="records")
        write_json_atomic(args.json, out, force=args.force)
        print(f"wrote {args.json}")
    return 0


def _read_json(path, what):
    if not os.path.exists(path):
        raise OptionError(f"{what} file {path!r} does not exist")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OptionError(f"{what} file {path!r} is not valid JSON: {e}") from None


def cmd_allocate(args):
    from ._allocate import compute_optimal
    from ._fit import write_json_atomic
    from ._io import resolve_law_spec

    law = resolve_law_spec(args.law)
    if bool(args.params) == bool(args.coefficients):
        raise OptionError("give exactly one of --params FIT.json or --coefficients NAME")
    if args.params:
        d = _read_json(args.params, "--params")
        params = d.get("params") if isinstance(d, dict) else None
        if not isinstance(params, dict):
            raise OptionError(f"--params {args.params!r} has no 'params' object (write one with jaxlaws fit --json)")
    else:
        params = law.coefficient_set(args.coefficients)
    if args.target_loss is not None or args.memory is not None:
        return _allocate_constrained(args, law, params)
    if args.compute is None:
        raise OptionError("--compute is required (or --target-loss for the inference-aware problem)")
    try:
        C = [float(c) for c in args.compute.split(",")]
    except ValueError:
        raise OptionError(f"--compute {args.compute!r}: give comma-separated numbers, e.g. 1e22,1e24") from None
    inputs = _assignments(args.input, "--input", "U=25e9")
    point = compute_optimal(law, params, C, flops_per_token=args.flops_per_token, inputs=inputs)
    out = {"law": law.name, "params": params, "inputs": inputs, "allocations": []}
    q = None
    draws = _read_draws(args)
    if draws is not None:
        lo, hi = (1 - args.level) / 2, 1 - (1 - args.level) / 2
        q = compute_optimal(law, draws, C,
                            flops_per_token=args.flops_per_token, inputs=inputs).quantiles((lo, 0.5, hi))
    print(f"law: {law.name}   budget: C = {args.flops_per_token:g} N D" + (f"   inputs: {inputs}" if inputs else ""))
    hdr = f"{'C':>10} {'N_opt':>12} {'D_opt':>12} {'D/N':>8} {'loss':>9} {'status':>10}"
    if q is not None:
        hdr += f"   {'N_opt band':>25} {'D/N band':>17}"
    print(hdr)
    for j, c in enumerate(point.C):
        line = (f"{c:>10.3g} {point.N[j]:>12.4g} {point.D[j]:>12.4g} {point.tokens_per_param[j]:>8.2f} "
                f"{point.loss[j]:>9.4f} {point.status[j]:>10}")
        row = {"C": c, "N_opt": point.N[j], "D_opt": point.D[j], "tokens_per_param": point.tokens_per_param[j],
               "loss": point.loss[j], "status": str(point.status[j])}
        if q is not None:
            r = q.iloc[j]
            cols = [col for col in q.columns if col.startswith("N_opt_q")]
            tcols = [col for col in q.columns if col.startswith("tokens_per_param_q")]
            line += f"   [{r[cols[0]]:>10.4g}, {r[cols[2]]:>10.4g}] [{r[tcols[0]]:>6.2f}, {r[tcols[2]]:>6.2f}]"
            row.update({col: float(r[col]) for col in q.columns if col != "C"})
        print(line)
        out["allocations"].append({k: (float(v) if not isinstance(v, str) else v) for k, v in row.items()})
    if q is not None:
        print(f"bands: {args.level:.0%} over {int(q.n_draws.min())} parameter draws")
    if args.json:
        write_json_atomic(args.json, out, force=args.force)
        print(f"wrote {args.json}")
    return 0


def _list_opt(name, text, conv):
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


def cmd_ablate(args):
    import pandas as pd

    from ._fit import write_atomic
    from ._sensitivity import ablate

    law, df = _law_and_data(args)
    choices = {}
    for key, text, conv in (("loss", args.loss, str), ("delta", args.delta, float), ("residual", args.residual, str),
                            ("drop_top", args.drop_top, int), ("max_compute", args.max_compute, float),
                            ("min_compute", args.min_compute, float), ("min_N", args.min_n, float),
                            ("N_column", args.n_column, str)):
        if text is not None:
            choices[key] = _list_opt(f"--{key.replace('_', '-').lower()}", text, conv)
    for v in choices.get("loss", []):
        if v not in ("huber", "squared"):
            raise OptionError(f"--loss {v!r}: use huber or squared")
    for v in choices.get("residual", []):
        if v not in ("log", "raw"):
            raise OptionError(f"--residual {v!r}: use log or raw")
    if any(d is not None and d <= 0 for d in choices.get("delta", [])):
        raise OptionError("--delta values must be > 0")
    derived = {}
    if "a" in law.derived:
        derived["a"] = ("a", {})
    if "tokens_per_param" in law.derived:
        derived["D/N"] = ("tokens_per_param", {"C": args.compute})
    for out in (args.csv, args.plot):
        if out and os.path.exists(out) and not args.force:
            raise OptionError(f"{out} exists; pass --force to overwrite it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tab = ablate(law, df, choices, y=args.y, derived=derived)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        cols = [c for c in tab.columns if c not in law.param_names or c in ("alpha", "beta")]
        print(tab[cols].to_string(index=False))
    if "D/N" in tab:
        ok = tab.status == "converged"
        print(f"\nD/N at C = {args.compute:g}: {tab['D/N'][ok].min():.3g} to {tab['D/N'][ok].max():.3g} "
              f"across {int(ok.sum())} converged specifications")
    if args.csv:
        write_atomic(args.csv, lambda tmp: tab.to_csv(tmp, index=False))
        print(f"wrote {args.csv}")
    if args.plot and "D/N" in tab:
        from ._plots import specification_curve

        specification_curve(args.plot, tab, "D/N")
        print(f"wrote {args.plot}")
    return 0


def cmd_plot(args):
    from ._bootstrap import bootstrap
    from ._fit import fit
    from ._plots import allocation_bands, bootstrap_pairs, isoflop_curves, residuals

    law, df = _law_and_data(args)
    if not {"N", "D"} <= set(law.inputs):
        raise OptionError(f"plot needs a law with inputs N and D; {law.name} has {list(law.inputs)}")
    kw = _fit_kwargs(args, law, df)
    os.makedirs(args.out, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit(law, df, **kw)
        boot = bootstrap(law, df, n=args.n, seed=args.seed, full_fit=res, **kw)
    data = df.rename(columns={v: k for k, v in (kw["columns"] or {}).items()})
    if kw["y"] != "loss":
        data = data.rename(columns={kw["y"]: "loss"})
    paths = [isoflop_curves(os.path.join(args.out, "isoflop_curves.png"), data, res),
             residuals(os.path.join(args.out, "residuals.png"), data, res)]
    if set(("A", "alpha", "B", "beta")) <= set(law.param_names):
        paths.append(bootstrap_pairs(os.path.join(args.out, "bootstrap_pairs.png"), boot))
    paths.append(allocation_bands(os.path.join(args.out, "allocation_bands.png"), res, boot))
    for p in paths:
        print(f"wrote {p}")
    return 0


def _read_draws(args):
    """Parameter draws from a ``jaxlaws bootstrap --json`` file (or None without --draws)."""
    import numpy as np

    if not args.draws:
        return None
    d = _read_json(args.draws, "--draws")
    draws = d.get("draws") if isinstance(d, dict) else None
    if not isinstance(draws, dict):
        raise OptionError(f"--draws {args.draws!r} has no 'draws' object (write one with jaxlaws bootstrap --json)")
    return {k: np.asarray(v) for k, v in draws.items()}


def _allocate_constrained(args, law, params):
    """MoE under memory (--memory) or inference-aware training (--target-loss); with --draws
    every budget is re-solved under each bootstrap draw and bands are printed."""
    import numpy as np

    from ._constrained import allocate, inference_problem, moe_problem, total_params
    from ._fit import write_json_atomic

    draws = _read_draws(args)
    lo_q, hi_q = (1 - args.level) / 2, 1 - (1 - args.level) / 2
    if args.memory is not None:
        if "E" not in law.inputs:
            raise OptionError(f"--memory needs a law with an expert-count input E (e.g. joint_moe); {law.name} has {list(law.inputs)}")
        if args.compute is None:
            raise OptionError("--memory needs --compute")
        problem, pars = moe_problem(law), params
        batch = {"C": [_float_opt("--compute", c) for c in args.compute.split(",")]}
        batch["M"] = [args.memory] * len(batch["C"])
        key = "C"
        print(f"law: {law.name}   budgets: C = 6 N_active D, total params N (1/3 + 2/3 E) <= {args.memory:g}")
        cols = (("N_active", lambda x: x["N"], ".4g"), ("D", lambda x: x["D"], ".4g"), ("experts", lambda x: x["E"], ".0f"),
                ("total_params", lambda x: total_params(x["N"], x["E"]), ".4g"))
        obj_name = "loss"
    else:
        if args.inference_tokens is None:
            raise OptionError("--target-loss needs --inference-tokens (tokens served over the model's lifetime)")
        problem, pars = inference_problem(law), {**params, "target": args.target_loss}
        batch = {"T": [_float_opt("--inference-tokens", t) for t in args.inference_tokens.split(",")]}
        key = "T"
        print(f"law: {law.name}   reach loss {args.target_loss:g} at least cost 6 N D + 2 N T")
        cols = (("N", lambda x: x["N"], ".4g"), ("D", lambda x: x["D"], ".4g"), ("D/N", lambda x: x["D"] / x["N"], ".1f"))
        obj_name = "flops"
    r = allocate(problem, pars, batch)
    rb = allocate(problem, pars, batch, draws=draws) if draws is not None else None
    hdr = f"{key:>10} " + " ".join(f"{c[0]:>12}" for c in cols) + f" {obj_name:>10} {'status':>10}"
    if rb is not None:
        hdr += f"   {cols[0][0] + ' band':>25} {obj_name + ' band':>23}"
    print(hdr)
    rows = []
    for j, b in enumerate(batch[key]):
        xj = {k: v[j] for k, v in r.x.items()}
        obj = float(np.exp(r.objective[j]))
        line = f"{b:>10.3g} " + " ".join(f"{float(fn(xj)):>12{fmt}}" for _, fn, fmt in cols) + f" {obj:>10.4g} {r.status[j]:>10}"
        row = {key: b, **{name: float(fn(xj)) for name, fn, _ in cols}, obj_name: obj, "status": str(r.status[j])}
        if rb is not None:
            ok = rb.status[:, j] == "converged"
            first = np.asarray(cols[0][1]({k: v[:, j] for k, v in rb.x.items()}))[ok]
            objs = np.exp(rb.objective[ok, j])
            band = (np.quantile(first, lo_q), np.quantile(first, hi_q)) if ok.any() else (np.nan, np.nan)
            oband = (np.quantile(objs, lo_q), np.quantile(objs, hi_q)) if ok.any() else (np.nan, np.nan)
            line += f"   [{band[0]:>10.4g}, {band[1]:>10.4g}] [{oband[0]:>9.4g}, {oband[1]:>9.4g}]"
            row.update({f"{cols[0][0]}_lo": float(band[0]), f"{cols[0][0]}_hi": float(band[1]),
                        f"{obj_name}_lo": float(oband[0]), f"{obj_name}_hi": float(oband[1]), "n_draws": int(ok.sum())})
        print(line)
        rows.append(row)
    if rb is not None:
        print(f"bands: {args.level:.0%} over {int((rb.status == 'converged').sum(axis=0).min())} parameter draws")
    if args.json:
        write_json_atomic(args.json, {"law": law.name, "params": params, "allocations": rows}, force=args.force)
        print(f"wrote {args.json}")
    return 0


def cmd_laws(args):
    from .laws import get_law, list_laws

    if args.name:
        law = get_law(args.name)
        print(f"{law.name}: inputs {list(law.inputs)} -> {law.output}")
        print()
        print(law.description)
        print()
        print(f"form: {law.form_status}")
        print("parameters:", ", ".join(f"{k} {c!r}" for k, c in law.params.items()))
        for name, cs in law.coefficients.items():
            vals = ", ".join(f"{k}={v:g}" for k, v in cs.values.items())
            print(f"coefficients {name} [{cs.status}]: {vals}\n    source: {cs.source}")
        if law.derived:
            print("derived:", ", ".join(law.derived))
        print()
        print(law.citation)
        return 0
    print(f"{'name':<24} {'inputs':<14} {'parameters':<44} {'form':<11} {'coefficients':<19} citation")
    for law in list_laws():
        st = ",".join(sorted({c.status for c in law.coefficients.values()})) or "-"
        key = law.citation.split("{", 1)[1].split(",", 1)[0] if "{" in law.citation else "-"
        print(f"{law.name:<24} {','.join(law.inputs):<14} {','.join(law.param_names):<44} "
              f"{law.form_status:<11} {st:<19} {key}")
    return 0


def cmd_demo(args):
    from ._demo import run_demo

    run_demo(out_dir=args.out, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jaxlaws", description="Fit, bootstrap and use empirical scaling laws.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("fit", help="fit a law to a table of runs", epilog=EXAMPLES["fit"], formatter_class=fmt)
    _add_fit_options(p)
    p.add_argument("--strategy", choices=("screen", "full"), default="screen")
    p.add_argument("--json", metavar="OUT.json", help="write the fit as JSON")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("bootstrap", help="bootstrap a fit: SEs and intervals for parameters and derived quantities",
                       epilog=EXAMPLES["bootstrap"], formatter_class=fmt)
    _add_fit_options(p)
    p.add_argument("--n", type=int, default=1000, help="number of resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=("ordinary", "group", "epoch"), default="ordinary")
    p.add_argument("--group", metavar="COLUMN", help="resample whole groups of rows (cluster bootstrap)")
    p.add_argument("--strategy", choices=("fast", "grid", "single"), default="fast",
                   help="fast: warm starts at the full fit's optima; grid: every resample screens the full grid; single: --start only")
    p.add_argument("--start", metavar="COEFFICIENT_SET", help="start for --strategy single, e.g. hoffmann2022_unrounded")
    p.add_argument("--compute", type=float, default=5.88e23, help="compute budget C for derived quantities (default 5.88e23)")
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--chunk-size", type=int, default=500)
    p.add_argument("--checkpoint", metavar="FILE.npz", help="save finished chunks; rerun to resume")
    p.add_argument("--predict", metavar="NEW.csv",
                   help="also print prediction bands at the rows of this table (same input columns and --map)")
    p.add_argument("--json", metavar="OUT.json")
    p.set_defaults(func=cmd_bootstrap)

    p = sub.add_parser("allocate", help="compute-optimal N and D for budgets, with intervals from draws",
                       epilog=EXAMPLES["allocate"], formatter_class=fmt)
    p.add_argument("--law", required=True)
    p.add_argument("--params", metavar="FIT.json", help="a fit written by jaxlaws fit --json")
    p.add_argument("--coefficients", metavar="NAME", help="a published coefficient set of the law")
    p.add_argument("--compute", help="budget(s) in FLOPs, comma-separated")
    p.add_argument("--memory", type=float, help="total-parameter budget (MoE laws with an expert input E)")
    p.add_argument("--target-loss", type=float, help="inference-aware: the loss to reach")
    p.add_argument("--inference-tokens", help="inference-aware: lifetime tokens served, comma-separated")
    p.add_argument("--draws", metavar="BOOT.json", help="bootstrap draws (jaxlaws bootstrap --json) for intervals")
    p.add_argument("--input", action="append", metavar="NAME=VALUE", help="fixed value of another input, e.g. U=25e9")
    p.add_argument("--flops-per-token", type=float, default=6.0)
    p.add_argument("--level", type=float, default=0.8)
    p.add_argument("--json", metavar="OUT.json")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_allocate)

    p = sub.add_parser("ablate", help="fit every combination of fitting choices (a multiverse table)",
                       epilog=EXAMPLES["ablate"], formatter_class=fmt)
    p.add_argument("data")
    p.add_argument("--law", required=True)
    p.add_argument("--y", default="loss")
    p.add_argument("--loss", help="comma-separated: huber,squared")
    p.add_argument("--delta", help="comma-separated Huber deltas, e.g. 1e-3,1e-2")
    p.add_argument("--residual", help="comma-separated: log,raw")
    p.add_argument("--drop-top", help="comma-separated: drop the k highest-loss runs, e.g. 0,5")
    p.add_argument("--max-compute", help="comma-separated upper compute cutoffs (6ND), inf for none")
    p.add_argument("--min-compute", help="comma-separated lower compute cutoffs (6ND), none for none")
    p.add_argument("--min-n", help="comma-separated minimum model sizes")
    p.add_argument("--n-column", help="comma-separated columns to use as N, e.g. N,N_nonembedding")
    p.add_argument("--compute", type=float, default=5.88e23, help="C for derived D/N (default 5.88e23)")
    p.add_argument("--csv", metavar="OUT.csv")
    p.add_argument("--plot", metavar="OUT.png", help="specification curve of D/N")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_ablate)

    p = sub.add_parser("plot", help="isoFLOP curves, residuals, bootstrap pairs and allocation bands as PNGs",
                       epilog=EXAMPLES["plot"], formatter_class=fmt)
    _add_fit_options(p)
    p.add_argument("--out", required=True, help="folder for the PNG files")
    p.add_argument("--n", type=int, default=500, help="bootstrap resamples for the bands (default 500)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("demo", help="fit the built-in demo data end to end", epilog=EXAMPLES["demo"], formatter_class=fmt)
    p.add_argument("--out", default="jaxlaws_demo_output", help="folder for plots (default: jaxlaws_demo_output)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("laws", help="list built-in laws or show one", epilog=EXAMPLES["laws"], formatter_class=fmt)
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_laws)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except JaxlawsError as e:
        print(f"jaxlaws: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxlaws: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`jaxlaws laws | head`): not an error of ours; stop quietly
        # and keep Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
