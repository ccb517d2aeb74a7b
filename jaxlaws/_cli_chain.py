"""``jaxlaws chain``: a downstream metric at new runs through a loss law and a link law."""

from __future__ import annotations

import numpy as np

from ._cli_common import add_band_options, add_fit_options, check_band_options, fit_kwargs, law_and_data, print_table, read_new_rows
from ._cli_output import write_result
from ._errors import OptionError

EXAMPLES = (
    "examples:\n  jaxlaws chain runs.csv --law overtraining --link errors.csv --link-law downstream_error --link-y err \\\n"
    "      --at big.csv --observed err            # Gadre et al.'s two steps, relative errors printed\n"
    "  jaxlaws chain runs.csv --law chinchilla --link tasks.csv --link-by task --runs model --at big.csv --n 1000"
)


def add_chain_parser(sub, fmt):
    p = sub.add_parser("chain", help="a downstream metric at new runs: loss law, then link law, joint bootstrap",
                       epilog=EXAMPLES, formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--link", required=True, metavar="LINK.csv", help="(loss, metric) rows the link law is fitted to")
    p.add_argument("--link-law", default="downstream_error",
                   help="the link law (default downstream_error; two_step_downstream, observational_sigmoid, file.py:obj)")
    p.add_argument("--link-y", default="err", help="the metric column of LINK.csv (default: err)")
    p.add_argument("--link-map", metavar="INPUT=COLUMN", help="the LINK.csv column holding the loss (default: the law's input name)")
    p.add_argument("--link-by", metavar="COLUMN", help="fit one link per value of this column (tasks)")
    p.add_argument("--link-where", action="append", metavar="EXPR",
                   help="keep the link table's rows where an expression holds, e.g. --link-where \"task == 'arc'\"; "
                        "repeatable")
    p.add_argument("--runs", metavar="COLUMN",
                   help="a run label in both tables: resample runs jointly (both stages measured on the same models)")
    p.add_argument("--at", required=True, metavar="NEW.csv", help="runs to predict (every column is kept)")
    p.add_argument("--observed", metavar="COLUMN", help="a column of NEW.csv with the measured metric: relative errors")
    p.add_argument("--observed-loss", metavar="COLUMN", help="a column of NEW.csv with the measured loss")
    add_band_options(p, 1000, "joint bootstrap draws")
    p.set_defaults(func=cmd_chain)


def cmd_chain(args):
    from ._chain import chain
    from ._cli_common import parse_map
    from ._fit import fit
    from ._io import read_table, resolve_law_spec

    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    new = read_new_rows(args.at, law, kw["columns"])
    link_law = resolve_law_spec(args.link_law)
    link = read_table(args.link)
    if args.link_where:
        from ._select import row_mask

        keep = np.ones(len(link), bool)
        for expr in args.link_where:
            keep &= row_mask(link, expr)
        if not keep.any():
            raise OptionError(f"--link-where {args.link_where}: no row of {args.link} is left")
        link = link.loc[keep].reset_index(drop=True)
    link_cols = parse_map([args.link_map] if args.link_map else None)
    missing = [link_cols.get(k, k) for k in link_law.inputs if link_cols.get(k, k) not in link.columns]
    if missing:
        raise OptionError(f"--link {args.link} has no column {missing} for the input(s) of {link_law.name} "
                          f"{list(link_law.inputs)}; name the loss column with --link-map {link_law.inputs[0]}=COLUMN")
    for opt, col, table, name in (("--link-y", args.link_y, link, args.link), ("--link-by", args.link_by, link, args.link),
                                  ("--runs", args.runs, df, args.data), ("--runs", args.runs, link, args.link),
                                  ("--observed", args.observed, new, args.at),
                                  ("--observed-loss", args.observed_loss, new, args.at)):
        if col is not None and col not in table.columns:
            raise OptionError(f"{opt} {col!r} is not a column of {name} (columns: {list(table.columns)})")
    check_band_options(args)
    from ._cli_common import check_memory

    # every draw's resample weights over both tables and its predictions at the new rows
    check_memory(args.n, 8 * 3 * (len(df) + len(link) + 2 * len(new)), f"--n {args.n}")
    y = kw.pop("y")
    lf = fit(law, df, y, **kw)
    kf = fit(link_law, link, args.link_y, columns=link_cols or None, by=args.link_by)
    runs = (df[args.runs].to_numpy(), link[args.runs].to_numpy()) if args.runs else None
    res = chain(lf, kf, new, n=args.n, seed=args.seed, runs=runs, columns=kw["columns"] or None)
    tab = res.table(args.level)
    if args.observed:
        tab["rel_error"] = tab["estimate"] / tab[args.observed] - 1.0
        tab["inside"] = (tab[f"lower_{args.level:g}"] <= tab[args.observed]) & (tab[args.observed] <= tab[f"upper_{args.level:g}"])
    if args.observed_loss:
        tab["loss_rel_error"] = tab["loss"] / tab[args.observed_loss] - 1.0
    n_tasks = len(res.tasks)
    print(f"loss law: {law.name} on {lf.n_points} runs ({lf.status});  link: {link_law.name}"
          + (f", {n_tasks} tasks by {args.link_by}" if args.link_by else f" ({kf.status})"))
    print(f"{res.n_draws} {'joint (by ' + args.runs + ')' if args.runs else 'independent'} bootstrap draws of both "
          f"stages; {args.level:.0%} bands from draws where both refits converged (n_used)")
    used = int(tab.n_used.min()) if len(tab) else 0
    refused = tab[tab.band != "ok"]
    print(f"draws used: {used} of {res.n_draws} (the others: a stage's refit failed or could not identify its law)"
          + (f"; no band for {len(refused)} of {len(tab)} rows: {refused.band.iloc[0]}" if len(refused) else ""))
    print_table(tab.drop(columns=["band"]))
    if res.note():
        print(f"note: {res.note()}")
    from ._extrapolation import summary

    if summary(tab):
        print(summary(tab))
    bad = tab.status.astype(str).str.startswith("invalid")
    if bad.any():
        print(f"{int(bad.sum())} of {len(tab)} chained values are invalid: outside what the fitted metric values allow "
              f"(e.g. an error rate below 0); not predictions")
    if args.observed:
        banded = tab[tab.band == "ok"]
        print(f"mean |relative error| {np.nanmean(np.abs(tab.rel_error)):.2%}; "
              f"{int(banded.inside.sum())} of {len(banded)} observed values with a band inside their {args.level:.0%} band"
              + (f" ({len(tab) - len(banded)} without a band)" if len(banded) < len(tab) else ""))
    if args.json:
        write_result(args.json, {"loss_law": law.name, "link_law": link_law.name, **res.to_dict(args.level),
                                 "predictions": tab.to_dict(orient="records")}, args.force)
    return 0
