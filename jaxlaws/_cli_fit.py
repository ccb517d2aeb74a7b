"""Command-line subcommands that fit: ``fit``, ``bootstrap``, ``ablate``, ``plot``, plus ``laws`` and ``demo``."""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings

from ._errors import ConvergenceWarning, JaxlawsError, OptionError
from ._cli_common import fit_kwargs, law_and_data, list_opt, predictions_table, print_table, read_new_rows
from ._cli_output import check_output, command_line, keep_table, write_result


def cmd_score(args, law, df, kw):
    """``fit --score``: evaluate given coefficients on the table (no fitting)."""
    import numpy as np

    from ._cli_common import read_json
    from ._sensitivity import score

    if bool(args.params) == bool(args.coefficients):
        raise OptionError("--score needs exactly one of --params FIT.json or --coefficients NAME")
    if args.coefficients:
        params = args.coefficients
        law.coefficient_set(params)  # a one-line error for an unknown set
    else:
        params = read_json(args.params, "--params").get("params")
        if not isinstance(params, dict) or set(params) != set(law.param_names):
            raise OptionError(f"--params {args.params}: needs 'params' with exactly {list(law.param_names)}")
    for k, flag in (("starts", "--starts"), ("bounds", "--bounds"), ("fixed", "--fix")):
        if kw.pop(k, None):
            raise OptionError(f"--score fits nothing: {flag} does not apply")
    y = kw.pop("y")
    out = score(law, df, params, y, **kw)
    print(f"law: {law.name}   scored: {args.coefficients or args.params}   points: {out['n']}"
          + (f"   recipe: {out['recipe']}" if out["recipe"] else ""))
    print(f"objective {out['objective']:.12g}   minimised by a fit: {out['objective_minimised']}")
    rss = next(k for k in out if k.startswith("rss"))
    r = out["residuals"][np.isfinite(out["residuals"])]
    print(f"{rss} {out[rss]:.6g}   residual RMS {np.sqrt(np.mean(r**2)):.4g}   mean {np.mean(r):+.4g}   "
          f"AIC {out['aic']:.6g}   BIC {out['bic']:.6g} (k = {out['k']})")
    if args.json:
        res = {k: v for k, v in out.items() if k != "residuals"}
        res["residuals"] = [None if not np.isfinite(v) else float(v) for v in out["residuals"]]
        write_result(args.json, res, args.force)
    return 0


def cmd_fit_groups(args, law, df, kw, strategy, new):
    """``fit --by COLUMN``: one fit per group, all in one compiled call; a table out."""
    import pandas as pd

    from ._fit import fit

    by = [c.strip() for c in args.by.split(",") if c.strip()]
    res = fit(law, df, strategy=strategy, by=by, **kw)
    tab = res.table()
    print(f"law: {law.name}   groups: {res.n_groups} by {', '.join(by)}   loss: {res.loss}   residual: {res.residual}")
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print_table(tab.drop(columns="reasons"))
    print(f"minimised per group: {res.objective_description}")
    bad = tab[tab.status != "converged"]
    for _, row in bad.iterrows():
        label = ", ".join(f"{c}={row[c]}" for c in by)
        print(f"group {label}: {row.status}" + (f" ({row.reasons})" if row.reasons else ""), file=sys.stderr)
    out = res.to_dict()
    if new is not None:
        out["predictions"] = predictions_table(res, new, args.predict, kw["columns"], " (each row by its group's fit)")
    if args.json:
        write_result(args.json, out, args.force)
    return 0


def cmd_fit(args):
    from ._fit import fit
    from ._prepare import Strategy

    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    if args.json:
        check_output(args.json, args.force)
    if args.score:
        return cmd_score(args, law, df, kw)
    if args.params or args.coefficients:
        raise OptionError("--params and --coefficients are for --score (evaluate given coefficients)")
    new = read_new_rows(args.predict, law, kw["columns"]) if args.predict else None
    strategy = (Strategy.full() if args.strategy == "full" else Strategy())
    strategy = dataclasses.replace(strategy, solver=args.solver)
    if args.by:
        return cmd_fit_groups(args, law, df, kw, strategy, new)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = fit(law, df, strategy=strategy, **kw)
    print(f"law: {law.name}   points: {res.n_points}   loss: {res.loss}   residual: {res.residual}"
          + (f"   recipe: {res.recipe.name}" if res.recipe is not None else ""))
    if res.excluded:
        print("rows left out: " + "; ".join(f"{v} ({k})" for k, v in res.excluded.items()))
    if res.units:
        print("units: " + ", ".join(f"{k} in {u}" for k, u in res.units.items()))
    rep = res.report()
    t = rep.table
    print(f"{'parameter':>12} {'estimate':>16} {'SE':>11}   95% interval (sandwich SE, from the curvature)")
    for k, v in res.params.items():
        note = " (fixed)" if k in res.fixed else (f" (bounds {res.law.bounds[k][0]:g}, {res.law.bounds[k][1]:g})"
                                                  if k in res.law.bounds else "")
        band = "" if k in res.fixed else f" {t.loc[k, 'se']:>11.4g}   [{t.loc[k, 'lower']:.6g}, {t.loc[k, 'upper']:.6g}]"
        print(f"{k:>12} {v:>16.8g}{band}{note}")
    st = rep.stats
    print(f"n {st['n']}   k {st['k']}   residual scale {st['residual_scale']:.4g}   RMS residual {st['rms_residual']:.4g}"
          f"   AIC {st['aic']:.6g}   BIC {st['bic']:.6g}")
    for note in rep.notes:
        print(f"note: {note}")
    print(f"objective {res.objective_text()}   status {res.status}   starts {res.counts}")
    print(f"minimised: {res.objective_description}   solver: {res.strategy.solver}")
    cond = "not computed" if res.condition_number != res.condition_number else f"{res.condition_number:.3g}"
    print(f"Hessian condition number (free fit coordinates): {cond}")
    nm = res.noise()
    if nm is not None:
        print(f"run-to-run {nm.describe()} in {res.residual} space")
    for w in caught:
        if not res.degenerate:
            print(f"warning: {w.message}", file=sys.stderr)
    from ._saved import fit_record

    out = fit_record(res, command_line())  # jaxlaws.load(path) reads it back as this fit
    out["report"] = rep.to_dict()
    if new is not None:
        out["predictions"] = predictions_table(res, new, args.predict, kw["columns"])
    if args.json:
        write_result(args.json, out, args.force)
    if res.degenerate and not args.allow_degenerate:
        print(f"jaxlaws: error: the fit is degenerate, the data cannot determine it: {'; '.join(res.reasons)} "
              f"(--allow-degenerate accepts it)", file=sys.stderr)
        return 3
    return 0


def derived_rows(law, boot, compute, level):
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
            # by name when it takes no budget, so a calibration of it (--calibrate) applies
            out.append((label, boot.interval(fn if kw else name, level=level, **kw)))
        except JaxlawsError:
            pass
    return out


def cmd_bootstrap(args):
    from ._bootstrap import bootstrap

    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    if args.n < 1:
        raise OptionError(f"--n must be a positive integer, got {args.n}")
    start = None
    if args.start and args.strategy != "single":
        raise OptionError(f"--start applies to --strategy single (one start per resample); got --strategy {args.strategy}")
    if args.strategy == "single":
        if not args.start:
            raise OptionError("--strategy single needs --start COEFFICIENT_SET (see jaxlaws laws NAME)")
        start = law.coefficient_set(args.start)
    if args.checkpoint and args.json and args.checkpoint == args.json:
        raise OptionError("--checkpoint and --json must be different files")
    if args.json:
        check_output(args.json, args.force)
    if args.calibrate and (args.calibrate < 10 or args.n < 20 or args.by):
        raise OptionError(f"--calibrate {args.calibrate}: give at least 10 simulated data sets (1000 recommended), "
                          f"with --n of at least 20 and without --by")
    new = read_new_rows(args.predict, law, kw["columns"]) if args.predict else None
    if args.by:
        if args.method not in (None, "ordinary") or args.group or args.predict or args.checkpoint or args.max_iter:
            raise OptionError("--by resamples within each group: --method, --group, --predict, --checkpoint and "
                              "--max-iter do not apply")
        gb = bootstrap(law, df, n=args.n, seed=args.seed, by=[c.strip() for c in args.by.split(",")],
                       chunk_size=args.chunk_size, **kw)
        tab = gb.table(level=args.level)
        print(f"law: {law.name}   groups: {gb.fit.n_groups}   resamples per group: {args.n} (ordinary, seed {args.seed})")
        print_table(tab)
        if args.json:
            write_result(args.json, {"law": law.name, "fit": gb.fit.to_dict(), "level": args.level,
                                     "intervals": tab.to_dict(orient="records")}, args.force)
        return 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        boot = bootstrap(
            law, df, n=args.n, seed=args.seed, method=args.method, groups=args.group, strategy=args.strategy,
            start=start, checkpoint=args.checkpoint, chunk_size=args.chunk_size, max_iter=args.max_iter, **kw,
        )
    level = args.level
    if args.calibrate:
        from inspect import signature

        from ._coverage import calibrate

        names = [k for k, fn in law.derived.items() if len(signature(fn).parameters) == 1]
        boot = calibrate(boot, targets=names, n_sim=args.calibrate, n_boot=min(args.n, 200), seed=args.seed + 1)
    rows = [(k, boot.interval(k, level=level)) for k in law.param_names] + derived_rows(law, boot, args.compute, level)
    print(f"law: {law.name}   points: {boot.fit.n_points}   resamples: {boot.n_resamples} ({boot.weights_method}, "
          f"seed {args.seed}, strategy {args.strategy})")
    print(boot.exclusion_summary())
    lo_h, hi_h = f"{level:.0%} low", f"{level:.0%} high"
    print(f"{'quantity':>26} {'estimate':>14} {'SE':>12} {lo_h:>14} {hi_h:>14}  interval")
    for label, iv in rows:
        print(f"{label:>26} {iv.estimate:>14.6g} {iv.se:>12.4g} {iv.lower:>14.6g} {iv.upper:>14.6g}  {iv.method}")
    from ._stats import interval_notes

    for note in interval_notes(rows):
        print(f"note: {note}")
    if args.calibrate:
        print(f"calibrated: tails from {args.calibrate} data sets simulated from the fit at these runs (jl.calibrate); "
              f"check them with jl.coverage(fit, calibration=...)")
    print(f"time: full fit {boot.timings['full_fit_s']:.2f} s, resamples {boot.timings['resamples_s']:.2f} s")
    bands = None
    if new is not None:
        bands = boot.predict(new, level=level)
        print(f"\npredictions at {args.predict} ({level:.0%} bands over {int(boot.ok.sum())} draws):")
        print(bands.to_string(index=False, float_format=lambda x: f"{x:.6g}"))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        from ._saved import bootstrap_record

        out = bootstrap_record(boot, command_line())  # jaxlaws.load(path) reads it back as this bootstrap
        out.update({
            "n_points": boot.fit.n_points, "n_resamples": boot.n_resamples, "n_failed": boot.n_failed, "level": level,
            "residual_df": boot.residual_df,
            "quantities": {label: {"estimate": iv.estimate, "se": iv.se, "lower": iv.lower, "upper": iv.upper,
                                   "method": iv.method, "n_used": iv.n_used, "note": iv.note} for label, iv in rows},
            # converged draws, so `jaxlaws allocate --draws` can carry the uncertainty forward
            "draws": {k: v.tolist() for k, v in boot.converged_draws().items()},
        })
        if bands is not None:
            out["predictions"] = bands.to_dict(orient="records")
        write_result(args.json, out, args.force)
    return 0


def cmd_ablate(args):
    import pandas as pd

    from ._ablate import ablate
    from ._cli_common import parse_map
    from ._io import read_table, resolve_law_spec

    specs = [t.strip() for t in args.law.split(",") if t.strip()]
    if not specs:
        raise OptionError("--law: give a law name, or several separated by commas")
    laws = [resolve_law_spec(t) for t in specs]
    law, df = laws[0], read_table(args.data)
    columns = parse_map(args.map)
    for k, col in columns.items():  # the table's columns renamed to the law's input names
        if col not in df.columns:
            raise OptionError(f"--map {k}={col}: column {col!r} is not in {args.data} (columns: {list(df.columns)})")
        if k in df.columns and k != col:
            raise OptionError(f"--map {k}={col}: the table already has a column {k!r}; rename one of them")
    df = df.rename(columns={col: k for k, col in columns.items()})
    choices = {}
    if len(laws) > 1:
        choices["law"] = dict(zip(specs, laws))
    if args.where:
        choices["where"] = [None if w.strip().lower() in ("all", "none") else w for w in args.where]
    for key, text, conv in (("loss", args.loss, str), ("delta", args.delta, float), ("residual", args.residual, str),
                            ("drop_top", args.drop_top, int), ("max_compute", args.max_compute, float),
                            ("min_compute", args.min_compute, float), ("min_N", args.min_n, float),
                            ("N_column", args.n_column, str)):
        if text is not None:
            choices[key] = list_opt(f"--{key.replace('_', '-').lower()}", text, conv)
    for v in choices.get("loss", []):
        if v not in ("huber", "squared"):
            raise OptionError(f"--loss {v!r}: use huber or squared")
    for v in choices.get("residual", []):
        if v not in ("log", "raw", "log1p"):
            raise OptionError(f"--residual {v!r}: use log, raw or log1p")
    if any(d is not None and d <= 0 for d in choices.get("delta", [])):
        raise OptionError("--delta values must be > 0")
    derived = {}
    if "a" in law.derived:
        derived["a"] = ("a", {})
    if any("tokens_per_param" in L.derived for L in laws):
        derived["D/N"] = ("tokens_per_param", {"C": args.compute})
    if any("N_opt" in L.derived for L in laws):
        derived["N_opt"] = ("N_opt", {"C": args.compute})
        derived["D_opt"] = ("D_opt", {"C": args.compute})
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
        left = tab.status[~ok].value_counts()
        why = f" ({int((~ok).sum())} left out: " + ", ".join(f"{c} {k}" for k, c in left.items()) + ")" if len(left) else ""
        if ok.any():
            print(f"\nD/N at C = {args.compute:g}: {tab['D/N'][ok].min():.3g} to {tab['D/N'][ok].max():.3g} "
                  f"across {int(ok.sum())} of {len(tab)} specifications{why}")
        else:
            print(f"\nno specification converged{why}: no D/N range")
    if args.csv:
        keep_table(args.csv, tab)
    if args.plot and "D/N" in tab:
        from ._plots_study import specification_curve

        specification_curve(args.plot, tab, "D/N")
        print(f"wrote {args.plot}")
    return 0
