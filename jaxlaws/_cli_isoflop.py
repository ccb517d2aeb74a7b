"""``jaxlaws isoflop``: Approach 2 from a table of isoFLOP runs, with its report and figures."""

from __future__ import annotations

import os
import sys

from ._cli_common import parse_map
from ._cli_output import check_output, check_output_folder, write_result
from ._errors import OptionError


def _fmt(t):
    """``estimate [lower, upper]``, or why there is none: never a nan estimate beside an interval."""
    import numpy as np

    if not np.isfinite(t[0]):
        return "undefined (no estimate: see the budgets' statuses, or the envelope's E <= 0), no interval"
    if not (np.isfinite(t[1]) and np.isfinite(t[2])):
        return f"{t[0]:.4g} [no interval: too few usable resamples, or none drawn]"
    return f"{t[0]:.4g} [{t[1]:.4g}, {t[2]:.4g}]"


# bench/bench_calibration_bands.py --part isoflop (200 data sets, Hoffmann's law at 5 budgets x 8 sizes)
CALIBRATION = ("on a simulated textbook design the design-simulated interval covered 80.5/87.5/94.5% at 80/90/95%, "
               "the bootstrap's 92.5/95.5/98%")


def cmd_isoflop(args):
    import numpy as np
    import pandas as pd

    from ._io import read_table
    from ._isoflop import isoflop

    df = read_table(args.data)
    columns = parse_map(args.map)
    unknown = [k for k in columns if k not in ("N", "D")]
    if unknown:
        raise OptionError(f"--map {unknown[0]}: isoflop maps N (model size) and D (tokens), e.g. --map N=params")
    size = columns.get("N", args.size)
    tokens = columns.get("D", args.tokens)
    if args.approach == 2 and args.budget in df.columns and args.n > 0:
        from ._cli_common import check_memory

        counts = df[args.budget].value_counts()
        # the resamples' weights and targets, (n, budgets, runs per budget), and their copies
        check_memory(args.n, 8 * 4 * len(counts) * int(counts.max() if len(counts) else 1), f"--n {args.n}")
    if args.json:
        check_output(args.json, args.force)
    if args.plot:
        from ._plots import file_names
        from ._plots_study import ISOFLOP_FIGURES

        check_output_folder(args.plot, file_names(ISOFLOP_FIGURES), args.force, "--plot")
    if args.approach == 1:
        from ._envelope import envelope

        if args.bias or args.approach3 or args.noise or args.weighted or args.where or args.by:
            raise OptionError("--bias, --approach3, --noise, --weighted, --where and --by apply to Approach 2 "
                              "(--approach 2)")
        res = envelope(df, size=size, compute=args.budget, loss=args.y, n=args.n, seed=args.seed, target=args.target,
                       level=args.level)
        tab = res.budgets
        print(f"envelope: {len(tab)} compute values, {res.n_used} used   {res.method}")
        with pd.option_context("display.width", 200):
            print(tab.iloc[:: max(1, len(tab) // 10)][["C", "N_opt", "D_opt", "L_opt", "status"]]
                  .to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    else:
        if args.by and args.by not in df.columns:
            raise OptionError(f"--by {args.by!r} is not a column of {args.data} (columns: {list(df.columns)})")
        out = isoflop(df, budget=args.budget, size=size, loss=args.y, tokens=tokens, profile=args.profile, n=args.n,
                      seed=args.seed, noise=args.noise, weighted=args.weighted, target=args.target, level=args.level,
                      bias=args.bias, approach3=args.approach3, point=args.point, where=tuple(args.where or ()),
                      by=args.by)
        results = out if args.by else {None: out}
        for key, res in results.items():
            if key is not None:
                print(f"\n=== {args.by} = {key} ===")
            _report_approach2(res)
            _report_exponents(res, args)
        if args.by:
            print(f"\n{args.by}: " + "; ".join(f"{k}: a = {_fmt(r.a)}" for k, r in results.items()))
        return _write(results, args)
    _report_exponents(res, args)
    return _write({None: res}, args)


def _report_approach2(res):
    import pandas as pd

    tab = res.budgets
    print(f"isoFLOP analysis: {len(tab)} budgets, {res.n_used} used   {res.method}")
    show = tab[["C", "runs", "N_opt", "D_opt", "L_opt", "status", "flag"]]
    with pd.option_context("display.width", 200):
        print(show.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    bad = tab[~tab.used]
    if len(bad):
        print(f"{len(bad)} budget(s) not used: " + ", ".join(f"{c:.3g} ({s})" for c, s in zip(bad.C, bad.status)))


def _report_exponents(res, args):
    """The exponents, the target's optima, the design bias and Approach 3 of one analysis."""
    import numpy as np
    import pandas as pd

    lv = f"{res.level:.0%}"
    law_n = f"   N*(C) = {res.k:.4g} C^{res.a[0]:.4f}" if np.isfinite(res.a[0]) else ""
    law_d = f"   D*(C) = {res.k_D:.4g} C^{res.b[0]:.4f}" if np.isfinite(res.b[0]) else ""
    print(f"\na = {_fmt(res.a)}{law_n}   ({lv} interval, {res.n_boot} resamples through both stages)")
    print(f"b = {_fmt(res.b)}{law_d}")
    sim = (res.bias or {}).get("a_interval_simulated")
    if args.approach == 2 and np.isfinite(res.a[0]):
        if sim is not None:
            print(f"a, design-simulated {lv} interval: [{sim[0]:.4g}, {sim[1]:.4g}] (Gaussian noise around the Approach-3 "
                  f"law at this design; outliers are not in it, the bootstrap's resampled runs are: {CALIBRATION})")
        elif res.n_boot:
            print(f"note: the bootstrap interval of a is conservative ({CALIBRATION}); --bias 200 adds the "
                  f"design-simulated interval")
    if res.target_C is not None:
        for q in ("N_opt", "D_opt", "L_opt"):
            if q in res.target:
                print(f"{q}(C = {res.target_C:.3g}) = {_fmt(res.target[q])}"
                      + ("   (the budgets' minimum losses fitted as E + A C^-alpha)" if q == "L_opt" else ""))
    if res.bias is not None:
        b = res.bias
        print(f"\ndesign bias ({b['n_sim']} data sets from the Approach-3 law at this design, noise sd "
              f"{b['noise_sd_log']:.3g} in log loss): a is biased by {b['bias_a']:+.4f} +- {b['sd_a']:.4f}; "
              f"bias-corrected a = {b['a_corrected']:.4f}")
        if "bias_log_N_opt_target" in b:
            print(f"    log N*(target) biased by {b['bias_log_N_opt_target']:+.3f} +- {b['sd_log_N_opt_target']:.3f}")
    if res.approach3 is not None:
        print(f"\nApproach 3 (Chinchilla law on the same runs, {res.approach3['objective_minimised']}):")
        with pd.option_context("display.width", 200):
            print(res.comparison().to_string(index=False, float_format=lambda x: f"{x:.4g}"))


def _write(results: dict, args) -> int:
    """Figures (one pair per group) and JSON of every analysis, or nothing when one of them has
    no power law (exit 3)."""
    bad = [k for k, r in results.items() if r.n_used < 2]
    if bad:
        # nothing to draw or save: no output is written rather than a figure or JSON of nans
        which = "" if bad == [None] else f" ({args.by} = {', '.join(map(str, bad))})"
        print(f"jaxlaws: error: fewer than 2 budgets have a usable minimum{which}: no power law"
              + ("; nothing was written" if args.plot or args.json else ""), file=sys.stderr)
        return 3
    if args.plot:
        from ._cli_output import staged_folder
        from ._plots import file_names
        from ._plots_study import ISOFLOP_FIGURES, isoflop_optima, isoflop_profiles

        figs = tuple(zip((isoflop_profiles, isoflop_optima), file_names(ISOFLOP_FIGURES)))
        figs = figs[1:] if args.approach == 1 else figs
        names = []
        with staged_folder(args.plot) as tmp:  # every figure or none
            for key, res in results.items():
                for fn, name in figs:
                    stem, ext = os.path.splitext(name)
                    name = name if key is None else f"{stem}_{_safe(key)}{ext}"
                    fn(os.path.join(tmp, name), res)
                    names.append(name)
        for name in names:
            print(f"wrote {os.path.join(args.plot, name)}")
    if args.json:
        body = (results[None].to_dict() if None in results
                else {"by": args.by, "groups": [{"key": k, **r.to_dict()} for k, r in results.items()]})
        write_result(args.json, body, args.force)
    return 0


def _safe(key) -> str:
    """A group value as part of a file name."""
    return "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in str(key))


def add_isoflop_parser(sub, fmt, epilog):
    p = sub.add_parser("isoflop", help="Approach 2: per-budget minima, N*(C) and D*(C) with intervals and design bias",
                       epilog=epilog, formatter_class=fmt)
    p.add_argument("data", help="CSV, TSV, Parquet or JSON Lines file, one row per run (budget, size, loss)")
    p.add_argument("--budget", default="C", help="column of the compute budget in FLOPs (default C)")
    p.add_argument("--size", default="N", help="column of the model size (default N; or --map N=COLUMN)")
    p.add_argument("--tokens", help="column of training tokens (default: C / (6 N)); with no size column, "
                                    "N = C / (6 D)")
    p.add_argument("--where", action="append", metavar="EXPR",
                   help="keep runs where an expression holds, e.g. --where \"dataset == 'rw'\"; repeatable")
    p.add_argument("--by", metavar="COLUMN",
                   help="one analysis per value of this column (several data sets in one table, never pooled)")
    p.add_argument("--map", action="append", metavar="N=COLUMN", help="map N (size) or D (tokens) to a column")
    p.add_argument("--y", default="loss", help="loss column (default loss)")
    p.add_argument("--approach", type=int, choices=(1, 2), default=2,
                   help="2: per-budget profiles (default); 1: the lower envelope of training curves, rows = checkpoints "
                        "with --budget the compute so far")
    p.add_argument("--profile", choices=("parabola", "cubic", "interp"), default="parabola")
    p.add_argument("--n", type=int, default=1000, help="bootstrap resamples through both stages (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, help="relative seed noise of the loss added in each resample, e.g. 0.005")
    p.add_argument("--weighted", action="store_true", help="weight budgets by 1/var(log N*) (Porian et al.)")
    p.add_argument("--point", choices=("data", "median"), default="data",
                   help="each budget's N* from the data or the median of its bootstrap minima")
    p.add_argument("--target", type=float, help="report N*, D* at this budget (FLOPs)")
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--bias", type=int, default=0, metavar="K",
                   help="simulate K data sets from the Approach-3 fit at this design: the bias of a it induces")
    p.add_argument("--approach3", action="store_true", help="also fit the Chinchilla law and compare")
    p.add_argument("--json", metavar="OUT.json")
    p.add_argument("--plot", metavar="FOLDER", help="write isoflop_profiles.png and isoflop_optima.png here")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_isoflop)
    return p
