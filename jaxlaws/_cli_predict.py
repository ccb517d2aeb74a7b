"""``jaxlaws predict``: where the law is, and where a new run will land, at new rows."""

from __future__ import annotations

from ._cli_common import add_band_options, add_fit_options, check_band_options, fit_kwargs, law_and_data, print_table, read_new_rows, write_result
from ._errors import OptionError

EXAMPLES = (
    "examples:\n  jaxlaws predict runs.csv --law chinchilla --at new.csv --kind new-run --n 2000\n"
    "  jaxlaws predict runs.csv --law chinchilla --at new.csv --replicates seed   # noise from repeated runs\n"
    "  jaxlaws predict runs.csv --law chinchilla --at new.csv --kind mean --level 0.8 --json pred.json"
)


def add_predict_parser(sub, fmt):
    p = sub.add_parser("predict", help="predictions with bands at new rows: the mean curve or a new run",
                       epilog=EXAMPLES, formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--at", required=True, metavar="NEW.csv", help="rows to predict (every column is kept)")
    p.add_argument("--kind", choices=("new-run", "mean"), default="new-run",
                   help="new-run (parameter uncertainty plus run-to-run noise; default) or mean (the law only)")
    add_band_options(p, 2000)
    p.add_argument("--replicates", metavar="COLUMN",
                   help="a column marking repeats of one configuration (e.g. seed): noise from replicates")
    p.add_argument("--noise-by-compute", action="store_true", help="let the noise SD vary as a power of 6ND")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args):
    from ._bootstrap import bootstrap
    from ._noise import noise_model

    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    new = read_new_rows(args.at, law, kw["columns"])
    if args.replicates and args.replicates not in df.columns:
        raise OptionError(f"--replicates {args.replicates!r} is not a column of {args.data}")
    check_band_options(args)
    y = kw.pop("y")
    boot = bootstrap(law, df, y, n=args.n, seed=args.seed, **kw)
    nm = noise_model(boot.fit, replicates=args.replicates, data=df, by_compute=args.noise_by_compute)
    tab = boot.predict(new, level=args.level, columns=kw["columns"] or None, kind=args.kind, noise=nm, seed=args.seed)
    print(f"law: {law.name}   fitted runs: {boot.fit.n_points}   status: {boot.fit.status}   "
          f"resamples: {boot.n_resamples - boot.n_failed} of {boot.n_resamples} used")
    print(f"run-to-run {nm.describe()} in {boot.fit.residual} space")
    what = ("where a new run will land: parameter draws plus run-to-run noise" if args.kind == "new-run"
            else "where the law is: parameter draws only (a new run scatters beyond this)")
    print(f"{args.level:.0%} bands, {what}:")
    print_table(tab)
    if args.json:
        write_result(args.json, {"law": law.name, "kind": args.kind, "level": args.level, "noise": nm.to_dict(),
                                 "params": boot.fit.params, "predictions": tab.to_dict(orient="records")}, args.force)
    return 0
