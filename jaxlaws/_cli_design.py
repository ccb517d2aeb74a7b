"""``jaxlaws design``: which runs to train next for a target, and what they are expected to buy."""

from __future__ import annotations

import os

from ._cli_common import add_fit_options, assignments, fit_kwargs, law_and_data
from ._cli_output import check_output
from ._errors import OptionError

EXAMPLES = (
    "examples:\n  jaxlaws design runs.csv --law chinchilla --target 'N_opt(C=1e24)' --budget 1e21 --candidates grid\n"
    "  jaxlaws design runs.csv --law chinchilla --target 'loss(N=7e10,D=1.4e12)' --budget 5e20 --candidates isoflop \\\n"
    "      --simulate 200 --plot design.png --json design.json\n"
    "  jaxlaws design runs.csv --law chinchilla --target a --budget 1e21 --candidates my_runs.csv --cost gpu_hours"
)


def add_design_parser(sub, fmt):
    p = sub.add_parser("design", help="choose the next runs that most shrink a target's uncertainty per unit cost",
                       epilog=EXAMPLES, formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--target", required=True,
                   help="N_opt(C=1e24), D_opt(C=...), loss(N=...,D=...), a parameter or a derived quantity (e.g. a)")
    p.add_argument("--budget", required=True, type=float, help="total cost of the new runs (FLOPs unless --cost)")
    p.add_argument("--candidates", default="grid", metavar="grid|isoflop|FILE.csv",
                   help="candidate runs: a log grid over (N, D), isoFLOP ladders below the budget, or a table")
    p.add_argument("--cost", metavar="COLUMN", help="a column of the candidates table with each run's cost (default 6 N D)")
    p.add_argument("--n-max", type=int, default=20, help="at most this many runs (default 20)")
    p.add_argument("--rule", choices=("best", "per_cost", "gain"), default="best",
                   help="greedy on gain per unit cost, on gain, or both keeping the better batch (default)")
    p.add_argument("--prior", choices=("fisher", "sandwich"), default="fisher",
                   help="current parameter covariance: fisher (i.i.d. noise at the fit's effective scale; default) or "
                        "sandwich (each run's own residual, closer to the bootstrap on real data)")
    p.add_argument("--noise", type=float, help="noise SD of a new run in residual space (default: from the fit)")
    p.add_argument("--input", action="append", metavar="NAME=VALUE", help="fixed value of another input, e.g. U=25e9")
    p.add_argument("--flops-per-token", type=float, default=6.0)
    p.add_argument("--simulate", type=int, default=0, metavar="R",
                   help="also simulate R replications: the chosen runs vs one more isoFLOP profile and random runs of the same cost")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="OUT.png", help="the chosen runs over the fitted ones in (N, D)")
    p.add_argument("--json", metavar="OUT.json")
    p.set_defaults(func=cmd_design)


def cmd_design(args):
    from ._candidates import candidate_runs, isoflop_extension, random_runs
    from ._design import design
    from ._fit import fit
    from ._io import read_table
    from ._target import parse_target

    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    inputs = assignments(args.input, "--input", "U=25e9")
    parse_target(law, args.target, flops_per_token=args.flops_per_token, inputs=inputs)  # a bad target fails now
    if not (args.budget > 0):
        raise OptionError(f"--budget {args.budget:g} must be positive")
    if args.n_max < 1:
        raise OptionError(f"--n-max {args.n_max} must be at least 1")
    if args.simulate < 0 or args.simulate == 1:
        raise OptionError(f"--simulate {args.simulate}: give 0 (none) or at least 2 replications")
    for path in (args.json, args.plot):
        if path:
            check_output(path, args.force)
    table = None
    if args.candidates not in ("grid", "isoflop"):
        if not os.path.exists(args.candidates):
            raise OptionError(f"--candidates {args.candidates!r} is neither grid, isoflop nor an existing file")
        table = read_table(args.candidates)
        if args.cost and args.cost not in table.columns:
            raise OptionError(f"--cost {args.cost!r} is not a column of {args.candidates}")
    elif args.cost:
        raise OptionError("--cost names a column of a candidates table (--candidates FILE.csv)")
    res = fit(law, df, **kw)
    if table is None:
        table = candidate_runs(res, args.budget, kind=args.candidates, flops_per_token=args.flops_per_token,
                               inputs=inputs or None)
    d = design(res, table, args.target, args.budget, cost=args.cost, n_max=args.n_max, rule=args.rule, prior=args.prior,
               noise=args.noise, inputs=inputs or None, flops_per_token=args.flops_per_token, columns=kw["columns"])
    print(f"law: {law.name}   fitted runs: {res.n_points}   status: {res.status}")
    print(d.summary())
    tab = d.to_frame().drop(columns=["candidate"])
    print(tab.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    out = {"law": law.name, "params": res.params, "design": d.to_dict()}
    if args.simulate:
        from ._design_sim import compare_designs

        if not {"N", "D"} <= set(law.inputs) or args.cost:
            raise OptionError("--simulate compares with isoFLOP and random runs of the same FLOPs: needs N and D and no --cost")
        cand = table if "C" in table.columns else table.assign(C=args.flops_per_token * table["N"] * table["D"])
        designs = {"design": d, "isoflop profile": isoflop_extension(res, d.spent, inputs=inputs or None,
                                                                      flops_per_token=args.flops_per_token)}
        designs.update({f"random {i + 1}": random_runs(cand, d.spent, seed=args.seed + i) for i in range(3)})
        sim = compare_designs(res, designs, args.target, n_rep=args.simulate, seed=args.seed, inputs=inputs or None,
                              noise="wild" if args.prior == "sandwich" else "gaussian",
                              flops_per_token=args.flops_per_token)
        print(f"\nsimulated ({args.simulate} replications, the fit as truth, i.i.d. Gaussian noise of the fit's robust scale): "
              f"80% interval width of the target")
        print(sim.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        out["simulation"] = sim.to_dict(orient="records")
    from ._cli_output import staged_files, with_card
    from ._util import write_json_atomic

    with staged_files({"plot": args.plot, "json": args.json}) as tmp:  # both or neither
        if args.plot:
            from ._plots_study import design_runs

            design_runs(res, d, tmp["plot"])
        if args.json:
            write_json_atomic(tmp["json"], with_card(out), force=True)
    return 0
