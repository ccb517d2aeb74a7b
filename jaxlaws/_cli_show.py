"""The CLI's commands that show rather than fit: ``plot`` (a fit's figures), ``laws`` (the zoo)
and ``demo`` (the built-in data, fitted end to end, or written out for the README's commands)."""

from __future__ import annotations

import os
import warnings

from ._errors import ConvergenceWarning, OptionError
from ._cli_common import check_output, check_output_folder, fit_kwargs, law_and_data


def cmd_plot(args):
    from ._bootstrap import bootstrap
    from ._fit import fit
    from ._plots import FIT_FIGURES, file_names, fit_figures

    law, df = law_and_data(args)
    if not {"N", "D"} <= set(law.inputs):
        raise OptionError(f"plot needs a law with inputs N and D; {law.name} has {list(law.inputs)}")
    kw = fit_kwargs(args, law, df)
    check_output_folder(args.out, file_names(FIT_FIGURES), args.force)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit(law, df, **kw)
        boot = bootstrap(law, df, n=args.n, seed=args.seed, full_fit=res, **kw)
    data = df.rename(columns={v: k for k, v in (kw["columns"] or {}).items()})
    if kw["y"] != "loss":
        data = data.rename(columns={kw["y"]: "loss"})
    for p in fit_figures(args.out, data, res, boot):
        print(f"wrote {p}")
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
