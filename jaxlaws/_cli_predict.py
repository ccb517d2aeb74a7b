"""``jaxlaws predict``: where the law is, and where a new run will land, at new rows."""

from __future__ import annotations

from ._cli_common import add_band_options, add_fit_options, add_max_iter_option, check_band_options, fit_kwargs, law_and_data, print_table, read_new_rows
from ._cli_output import write_result
from ._errors import OptionError

EXAMPLES = (
    "examples:\n  jaxlaws predict runs.csv --law chinchilla --at new.csv --kind new-run --n 2000\n"
    "  jaxlaws predict runs.csv --law chinchilla --at new.csv --replicates seed   # noise from repeated runs\n"
    "  jaxlaws predict runs.csv --law chinchilla --at new.csv --kind mean --level 0.8 --json pred.json\n"
    "  jaxlaws predict boot.json --law chinchilla --at new.csv    # from a saved jaxlaws bootstrap --json, no refit"
)


def add_predict_parser(sub, fmt):
    p = sub.add_parser("predict", help="predictions with bands at new rows: the mean curve or a new run",
                       epilog=EXAMPLES, formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--at", required=True, metavar="NEW.csv", help="rows to predict (every column is kept)")
    p.add_argument("--kind", choices=("new-run", "mean"), default="new-run",
                   help="new-run (parameter uncertainty plus run-to-run noise; default) or mean (the law only)")
    add_band_options(p, 2000)
    add_max_iter_option(p)
    p.add_argument("--replicates", metavar="COLUMN",
                   help="a column marking repeats of one configuration (e.g. seed): noise from replicates")
    p.add_argument("--noise-by-compute", action="store_true", help="let the noise SD vary as a power of 6ND")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args):
    from ._bootstrap import bootstrap
    from ._noise import noise_model

    if str(args.data).lower().endswith(".json"):
        return predict_saved(args)
    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    new = read_new_rows(args.at, law, kw["columns"])
    if args.replicates and args.replicates not in df.columns:
        raise OptionError(f"--replicates {args.replicates!r} is not a column of {args.data}")
    check_band_options(args)
    from ._cli_common import check_memory

    # the band's samples: max(n, 2000) draws x new rows, with noise and prediction copies
    check_memory(max(args.n, 2000), 8 * (24 + 3 * len(new)), f"--n {args.n} at {len(new)} rows")
    y = kw.pop("y")
    boot = bootstrap(law, df, y, n=args.n, seed=args.seed, max_iter=args.max_iter, **kw)
    nm = noise_model(boot.fit, replicates=args.replicates, data=df, by_compute=args.noise_by_compute)
    tab = boot.predict(new, level=args.level, columns=kw["columns"] or None, kind=args.kind, noise=nm, seed=args.seed)
    print(f"law: {law.name}   fitted runs: {boot.fit.n_points}   status: {boot.fit.status}   "
          f"resamples: {boot.n_resamples - boot.n_failed} of {boot.n_resamples} used")
    print(f"run-to-run {nm.describe()} in {boot.fit.residual} space")
    what = ("where a new run will land: parameter draws plus run-to-run noise" if args.kind == "new-run"
            else "where the law is: parameter draws only (a new run scatters beyond this)")
    print(f"{args.level:.0%} bands, {what}:")
    print_table(tab)
    from ._extrapolation import summary

    if summary(tab):
        print(summary(tab))
    if args.json:
        write_result(args.json, {"law": law.name, "kind": args.kind, "level": args.level, "noise": nm.to_dict(),
                                 "params": boot.fit.params, "predictions": tab.to_dict(orient="records")}, args.force)
    return 0


def predict_saved(args):
    """Bands from a saved ``jaxlaws bootstrap --json``: its converged draws and its fit's noise
    model (scale and resampled residual shape, as a refit from the data uses), no data and no refit."""
    import numpy as np

    from ._bands import band_table
    from ._cli_common import read_json
    from ._data import load_arrays
    from ._io import read_table, resolve_law_spec
    from ._noise import NoiseModel
    from ._units import convert, factors

    law = resolve_law_spec(args.law)
    saved = read_json(args.data, "saved bootstrap")
    fit = saved.get("fit") if isinstance(saved, dict) else None
    draws = saved.get("draws") if isinstance(saved, dict) else None
    if not isinstance(fit, dict) or not isinstance(draws, dict):
        raise OptionError(f"{args.data} is not a saved bootstrap (write one with jaxlaws bootstrap --json)")
    if saved.get("law") != law.name:
        raise OptionError(f"{args.data} holds a bootstrap of {saved.get('law')!r}, but --law is {law.name!r}")
    missing = [k for k in law.param_names if k not in draws or k not in fit.get("params", {})]
    if missing:
        raise OptionError(f"{args.data} has no draws of {missing} (parameters of {law.name})")
    if args.replicates or args.noise_by_compute or args.map or args.recipe or args.max_iter:
        raise OptionError("a saved bootstrap carries its own noise and columns: --replicates, --noise-by-compute, "
                          "--map, --recipe and --max-iter apply to a refit from the data")
    try:
        D = np.column_stack([np.asarray(draws[k], float) for k in law.param_names])
    except (TypeError, ValueError):
        raise OptionError(f"{args.data}: the draws are not lists of numbers of one length") from None
    columns = dict(fit.get("columns") or {})
    check_band_options(args)
    new = read_table(args.at)
    X, _, _ = load_arrays(new, law.input_domains, None, columns=columns, check=law.check_inputs)
    X = convert(X, factors(law.inputs, fit.get("data_units") or {}, fit.get("units") or {}))
    params = {k: float(fit["params"][k]) for k in law.param_names}
    import jax.numpy as jnp

    est = np.exp(np.asarray(law.log_predict({k: jnp.asarray(v) for k, v in params.items()},
                                            *[jnp.asarray(X[k]) for k in law.inputs])))
    nm = None
    if args.kind == "new-run":
        nd = fit.get("noise")
        if not isinstance(nd, dict) or not nd.get("sd"):
            raise OptionError(f"{args.data} saved no noise scale (an exact fit?): use --kind mean")
        nm = NoiseModel.from_dict(nd, args.data)
    tab = band_table(law, law.param_names, D, X, new, est, level=args.level, kind=args.kind, noise=nm,
                     residual=fit.get("residual", "log"), seed=args.seed, n_samples=max(args.n, 2000))
    from ._extrapolation import summary, with_extrapolation

    ranges = fit.get("input_ranges") if isinstance(fit.get("input_ranges"), dict) else {}
    tab = with_extrapolation(tab, ranges, X, law.input_domains)
    print(f"law: {law.name}   saved bootstrap: {args.data} ({D.shape[0]} converged draws, fit on "
          f"{fit.get('n_points')} points, {fit.get('status')})")
    if nm is not None:
        print(f"run-to-run {nm.describe()} in {fit.get('residual', 'log')} space")
    print(f"{args.level:.0%} bands, " + ("where a new run will land" if args.kind == "new-run" else "where the law is") + ":")
    print_table(tab)
    if summary(tab):
        print(summary(tab))
    if args.json:
        write_result(args.json, {"law": law.name, "kind": args.kind, "level": args.level, "source": args.data,
                                 "params": params, "predictions": tab.to_dict(orient="records")}, args.force)
    return 0
