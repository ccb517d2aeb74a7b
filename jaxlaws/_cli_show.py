"""The CLI's commands that show rather than fit: ``plot`` (a fit's figures), ``laws`` (the zoo)
and ``demo`` (the built-in data, fitted end to end, or written out for the README's commands)."""

from __future__ import annotations

import os
import sys
import warnings

from ._errors import ConvergenceWarning, OptionError
from ._cli_common import fit_kwargs, law_and_data
from ._cli_output import check_output, check_output_folder, keep_output, staged_folder


def figure_table(df, kw):
    """The table as the figures read it: the law's inputs under their own names (``--map``
    undone) and the target as ``loss``, beside the mapped columns."""
    from ._select import derive_columns

    cols = dict(kw["columns"] or {})
    # copies, not renames: the fit's own predictions still read the mapped columns (a rename
    # made `report --map N=params` fail on 'params'); expressions are computed first
    data = derive_columns(df, list(cols.values()) + [kw["y"]]).copy()
    for k, v in cols.items():
        data[k] = data[v]
    if kw["y"] != "loss":
        data["loss"] = data[kw["y"]]
    return data


def cmd_plot(args):
    from ._bootstrap import bootstrap
    from ._fit import fit
    from ._plots import FIT_FIGURES, file_names, fit_figures

    law, df = law_and_data(args)
    if set(law.inputs) != {"N", "D"}:
        raise OptionError(f"plot draws laws with inputs N and D only; {law.name} has {list(law.inputs)}")
    kw = fit_kwargs(args, law, df)
    check_output_folder(args.out, file_names(FIT_FIGURES), args.force)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit(law, df, **kw)
        boot = bootstrap(law, df, n=args.n, seed=args.seed, full_fit=res, **kw)
    with staged_folder(args.out) as tmp:  # all five figures or none: the folder never holds a half set
        names = [os.path.basename(p) for p in fit_figures(tmp, figure_table(df, kw), res, boot)]
    for name in names:
        print(f"wrote {os.path.join(args.out, name)}")
    return 0


def cmd_laws(args):
    from .laws import get_law, list_laws

    if args.name:
        law = get_law(args.name)
        print(f"{law.name}: inputs {list(law.inputs)} -> {law.output}")
        print()
        print(law.description)
        print()
        print(f"form: {law.form_status}" + (f" (checked against: {law.source})" if law.source else ""))
        print("parameters:", ", ".join(f"{k} {c!r}" for k, c in law.params.items()))
        for name, cs in law.coefficients.items():
            vals = ", ".join(f"{k}={v:g}" for k, v in cs.values.items())
            units = ", ".join(f"{k} in {u}" for k, u in cs.units.items()) or "not stated"
            print(f"coefficients {name} [{cs.status}]: {vals}\n    units: {units}\n    source: {cs.source}")
            if cs.note:
                print(f"    note: {cs.note}")
            if cs.recipe:
                print(f"    fitted by recipe: {cs.recipe}")
        for name, rec in law.recipes.items():
            print(("default " if name == law.default_recipe else "") + "\n".join(rec.lines()))
        if not law.default_recipe:
            print("default objective: huber(0.001) on log residuals, summed (no recipe named)")
        if law.derived:
            print("derived:", ", ".join(law.derived))
        print()
        print(law.citation)
        return 0
    print(f"{'name':<24} {'inputs':<14} {'form':<11} {'coefficients':<19} {'citation':<28} form checked against")
    for law in list_laws():
        st = ",".join(sorted({c.status for c in law.coefficients.values()})) or "-"
        key = law.citation.split("{", 1)[1].split(",", 1)[0] if "{" in law.citation else "-"
        src = law.source if len(law.source) <= 70 else law.source[:67] + "..."
        print(f"{law.name:<24} {','.join(law.inputs):<14} {law.form_status:<11} {st:<19} {key:<28} {src or '-'}")
    return 0


def _write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def write_examples(folder, seed, force):
    """``jaxlaws demo --write-examples DIR``: the project's example tables and user law, every
    file checked before any is written (nothing a user wrote is overwritten without --force)."""
    from ._demo_data import example_files
    from ._util import write_atomic

    files = example_files(seed=seed)
    check_output_folder(folder, list(files), force)
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        path = os.path.join(folder, name)
        if isinstance(content, str):
            write_atomic(path, lambda tmp, text=content: _write_text(tmp, text), suffix=".py")
        else:
            write_atomic(path, lambda tmp, table=content: table.to_csv(tmp, index=False), suffix=".csv")
        print(f"wrote {path}" + ("" if isinstance(content, str) else f": {len(content)} rows ({', '.join(content.columns)})"))
    return 0


def cmd_demo(args):
    from ._demo import run_demo
    from ._plots import FIT_FIGURES, file_names

    if args.write_data and args.write_examples:
        raise OptionError("give --write-data or --write-examples, not both")
    if args.write_examples:
        return write_examples(args.write_examples, args.seed, args.force)
    if args.write_data:
        from ._demo_data import demo_data
        from ._util import write_atomic

        check_output(args.write_data, args.force)
        table = demo_data(seed=args.seed)
        write_atomic(args.write_data, lambda tmp: table.to_csv(tmp, index=False), suffix=".csv")
        print(f"wrote {args.write_data}: {len(table)} synthetic isoFLOP runs (columns {', '.join(table.columns)})")
        return 0
    check_output_folder(args.out, file_names(FIT_FIGURES), args.force)
    from ._progress import log_to_stderr

    log_to_stderr(False)  # the demo reports its own timings; its second-long chunks need no log lines
    run_demo(out_dir=args.out, seed=args.seed)
    return 0


def add_report_parser(sub, fmt):
    from ._cli_common import add_fit_options

    p = sub.add_parser("report", help="one self-contained HTML report: methods card, fit report, intervals, "
                                      "allocation, figures", formatter_class=fmt,
                       epilog="example:\n  jaxlaws report runs.csv --law chinchilla --out report.html")
    add_fit_options(p)
    p.add_argument("--out", required=True, metavar="REPORT.html", help="the HTML file to write")
    p.add_argument("--n", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--compute", default="1e21,1e22,1e23,1e24,1e25",
                   help="budgets (FLOPs) for the allocation table and the derived quantities' C")
    p.set_defaults(func=cmd_report)


def cmd_report(args):
    """``jaxlaws report``: fit, bootstrap, allocation and figures into one HTML file."""
    import numpy as np

    from ._bootstrap import bootstrap
    from ._cli_common import check_band_options, list_opt
    from ._cli_output import command_line
    from ._cli_fit import derived_rows
    from ._fit import fit
    from ._methods import methods_card
    from ._report_html import allocation_table, render
    from ._util import write_atomic

    if not args.out.lower().endswith((".html", ".htm")):
        raise OptionError(f"--out {args.out}: give a file ending in .html")
    check_output(args.out, args.force)
    check_band_options(args)
    C = np.array([np.nan if c is None else c for c in list_opt("--compute", args.compute, float)])
    if not np.all(np.isfinite(C) & (C > 0)):
        raise OptionError("--compute: give positive budgets in FLOPs, e.g. 1e22,1e24")
    law, df = law_and_data(args)
    kw = fit_kwargs(args, law, df)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OptionError("the report's figures need matplotlib: pip install 'jaxlaws[plot]'") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = fit(law, df, **kw)
        boot = bootstrap(law, df, n=args.n, seed=args.seed, full_fit=res, **kw)
    rows = [(k, boot.interval(k, level=args.level)) for k in law.param_names if k not in res.fixed]
    rows += derived_rows(law, boot, float(C[-1]), args.level)
    allocation = allocation_table(res, boot, C, args.level) if set(law.inputs) == {"N", "D"} else None
    card = methods_card(res, boot, command=command_line())
    text = render(figure_table(df, kw), res, boot, card=card, intervals=rows, allocation=allocation, level=args.level,
                  title=f"jaxlaws report: {law.name} fitted to {os.path.basename(args.data)}")
    # a full disk keeps the finished report (in the temporary folder) and names where it went
    keep_output(args.out, lambda p: write_atomic(p, lambda tmp: _write_text(tmp, text), suffix=".html"), "report")
    print(f"    ({len(text) / 1e6:.1f} MB): methods card, fit report, {len(rows)} intervals, "
          f"{'allocation, ' if allocation else ''}{text.count('<img ')} figures; status {res.status}")
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return 0
