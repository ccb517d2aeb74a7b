"""``jaxlaws extrapolate``: fit below cutoffs, predict above, for one or several law forms."""

from __future__ import annotations

import sys

from ._cli_common import add_fit_options, fit_kwargs, list_opt
from ._cli_output import check_output
from ._errors import OptionError

EXAMPLES = (
    "examples:\n  jaxlaws extrapolate chinchilla_epoch.csv --law chinchilla --cutoffs 1e21 --drop-highest 5\n"
    "  jaxlaws extrapolate runs.csv --law chinchilla,kaplan --cutoffs 1e20,3e20,1e21,3e21 --plot extrapolation.png\n"
    "  jaxlaws extrapolate runs.csv --law chinchilla --by N --cutoffs 1e9,3e9 --csv errors.csv"
)


def add_extrapolate_parser(sub, fmt):
    p = sub.add_parser("extrapolate", help="fit below each cutoff and predict the larger runs, per law form",
                       epilog=EXAMPLES, formatter_class=fmt)
    add_fit_options(p)
    p.set_defaults(law=None)
    p.add_argument("--cutoffs", required=True, help="comma-separated cutoffs, e.g. 1e20,3e20,1e21")
    p.add_argument("--by", default="compute", help="compute (a C column, else 6ND; default), N, or a column name")
    p.add_argument("--csv", metavar="ERRORS.csv", help="every held-out run's error, per law and cutoff")
    p.add_argument("--plot", metavar="OUT.png", help="log error against distance beyond the cutoff")
    p.add_argument("--json", metavar="OUT.json")
    p.set_defaults(func=cmd_extrapolate)


def cmd_extrapolate(args):
    import numpy as np
    import pandas as pd

    from ._extrapolate import rolling_extrapolation
    from ._io import read_table, resolve_law_spec

    names = [s.strip() for s in args.law.split(",") if s.strip()]
    if not names:
        raise OptionError(f"--law {args.law!r}: give one or more law names, comma-separated (e.g. chinchilla,kaplan)")
    laws = [resolve_law_spec(s) for s in names]
    df = read_table(args.data)
    kws = [fit_kwargs(args, law, df) for law in laws]  # every law checks the options against itself
    cut = list_opt("--cutoffs", args.cutoffs, float)
    if any(c is None or not (c > 0) for c in cut):
        raise OptionError(f"--cutoffs {args.cutoffs!r}: give positive numbers, e.g. 1e20,1e21")
    for path in (args.json, args.csv, args.plot):
        if path:
            check_output(path, args.force)
    kw = kws[0]
    y = kw.pop("y")
    by = args.by if args.by != "compute" else None
    res = rolling_extrapolation(laws, df, cut, y=y, by=by, **kw)
    print(f"fitted below each cutoff in {res.by}, predicted every run at or above it")
    with pd.option_context("display.width", 200):
        print(res.summary.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if len(laws) == 1 and len(cut) == 1:
        e = res.errors
        held = df.iloc[e.row.to_numpy()].reset_index(drop=True).copy()
        held["predicted"] = held[y].to_numpy(float) * np.exp(e.log_error.to_numpy())
        held["rel_error"] = e.rel_error.to_numpy()
        if res.by not in held.columns:  # the table may hold the axis already (a C column)
            held.insert(len(held.columns) - 2, res.by, 10 ** e.distance.to_numpy() * cut[0])
        held = held.sort_values(res.by, kind="stable")
        print("\nheld-out runs:")
        print(held.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    bad = res.summary[res.summary.status != "converged"]
    if len(bad):
        print(f"{len(bad)} (law, cutoff) fit(s) not converged or not identified; their errors are left out: "
              + ", ".join(f"{r.law} below {r.cutoff:g} ({r.status})" for r in bad.itertuples()), file=sys.stderr)
    from ._cli_output import staged_files, with_card
    from ._util import write_json_atomic

    with staged_files({"plot": args.plot, "csv": args.csv, "json": args.json}) as tmp:  # all or none
        if args.plot:
            from ._plots_study import extrapolation_errors

            extrapolation_errors(res, tmp["plot"])
        if args.csv:
            res.errors.to_csv(tmp["csv"], index=False)
        if args.json:
            write_json_atomic(tmp["json"], with_card({"by": res.by, "summary": res.summary.to_dict(orient="records")}),
                              force=True)
    return 0
