"""The ``jaxlaws`` command line: ``fit``, ``laws`` (and more subcommands as they land).

Every expected failure (bad file, column, option) prints one line ``jaxlaws: error: ...``
to stderr and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import re
import os
import sys

from ._cli_allocate import cmd_allocate
from ._cli_common import LAW_HELP, add_fit_options, add_max_iter_option, check_common_options
from ._cli_fit import cmd_ablate, cmd_bootstrap, cmd_fit
from ._cli_show import add_report_parser, cmd_demo, cmd_laws, cmd_plot
from ._cli_isoflop import add_isoflop_parser
from ._cli_design import add_design_parser
from ._cli_extrapolate import add_extrapolate_parser
from ._cli_predict import add_predict_parser
from ._cli_chain import add_chain_parser
from ._errors import JaxlawsError, OptionError
from ._xla_flags import classic_emitters

EXAMPLES = {
    "fit": (
        "examples:\n  jaxlaws fit runs.csv --law chinchilla --y loss --map N=params --delta 1e-3 --drop-highest 5 --json fit.json\n"
        "  jaxlaws fit chinchilla_epoch.csv --law chinchilla --recipe besiroglu2024       # a paper's recipe in one flag\n"
        "  jaxlaws fit runs.csv --law chinchilla --loss squared --residual raw --starts alpha=0:2:5,beta=0:2:5 \\\n"
        "      --bounds A=1:inf --bounds B=1:inf --where '6*N*D < 1e21' --select best-per=N,D --weights 1/sd**2\n"
        "  jaxlaws fit runs.csv --law chinchilla --loss asymmetric:10,1   # over-predictions cost 10x (pinball)\n"
        "  jaxlaws fit runs.csv --law chinchilla --predict bigger.csv     # predictions at new rows\n"
        "  jaxlaws fit pairs.csv --law power_law --recipe porian2024 --map x=flops --y n --by config_label  # one fit per group\n"
        "  jaxlaws fit runs.csv --law chinchilla --score --coefficients besiroglu2024  # score published values\n"
        "  jaxlaws fit vit.csv --law weight_sparsity --units N=parameters,D=images  # converted to the recipe's units\n"
        "  jaxlaws fit curves.csv --law data_filtering --y error --fix a=0.025 --fix d=0.1   # hold parameters fixed"
    ),
    "bootstrap": (
        "examples:\n  jaxlaws bootstrap runs.csv --law chinchilla --n 4000 --seed 0 --checkpoint boot.npz --json boot.json\n"
        "  jaxlaws bootstrap runs.csv --law chinchilla --group N --n 1000      # resample whole model sizes\n"
        "  jaxlaws bootstrap runs.csv --law chinchilla --predict bigger.csv  # prediction bands at new (N, D)\n"
        "  jaxlaws bootstrap tasks.csv --law power_law --y error --by task --n 1000  # per-task intervals\n"
        "  # Besiroglu et al.'s protocol (seed 42, 4000 resamples, one start at Hoffmann's estimate):\n"
        "  jaxlaws bootstrap chinchilla_epoch.csv --law chinchilla --drop-highest 5 --method epoch --seed 42 \\\n"
        "      --n 4000 --strategy single --start hoffmann2022_unrounded"
    ),
    "allocate": (
        "examples:\n  jaxlaws allocate --law chinchilla --params fit.json --compute 1e22,1e24 --draws boot.json\n"
        "  jaxlaws allocate --law chinchilla --coefficients besiroglu2024 --compute 5.88e23\n"
        "  jaxlaws allocate --law chinchilla --params fit.json --draws boot.json --compute 1e24 --objective quantile:0.9\n"
        "  jaxlaws allocate --law data_constrained --coefficients muennighoff2023 --compute 9.26e21 --input U=25e9\n"
        "  jaxlaws allocate --law joint_moe --coefficients ludziejewski2025 --compute 1e21 --memory 2e9\n"
        "  jaxlaws allocate --law chinchilla --coefficients besiroglu2024 --target-loss 2.0 --inference-tokens 1e13"
    ),
    "ablate": (
        "examples:\n  jaxlaws ablate chinchilla_epoch.csv --law chinchilla --loss huber,squared --residual log,raw \\\n"
        "      --drop-top 0,5 --max-compute 1e21,inf --compute 5.88e23 --csv multiverse.csv --plot multiverse.png\n"
        "  jaxlaws ablate runs.csv --law chinchilla,kaplan --map N=params --where all --where 'N > 1e8'  # forms, filters"
    ),
    "plot": "example:\n  jaxlaws plot runs.csv --law chinchilla --out plots --n 500",
    "isoflop": (
        "examples:\n  jaxlaws isoflop runs.csv --budget C --map N=params --target 1e24 --bias 200 --approach3 --plot iso/\n"
        "  jaxlaws isoflop isoflop_points.csv --budget flops --size n --tokens t --profile interp --noise 0.003 \\\n"
        "      --weighted --point median      # Porian et al.'s recipe"
    ),
    "demo": "examples:\n  jaxlaws demo --out demo_plots\n  jaxlaws demo --write-data runs.csv   # the demo's runs, to try every command on\n"
            "  jaxlaws demo --write-examples .      # every file the README's commands read",
    "laws": "example:\n  jaxlaws laws            # list the built-in laws\n  jaxlaws laws chinchilla # one law in full",
}


class _Parser(argparse.ArgumentParser):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        # a negative number in scientific notation (--cutoffs -1e20) is a value, not an option
        # (argparse's own pattern knows -1 and -1.5 only)
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(,[-+.\deE]+)*$")

    def error(self, message):  # one line, status 2 (argparse would print the usage too)
        self.exit(2, f"jaxlaws: error: {message}\n")


# One meaning, one text, for the options many commands share (filled in where a command's own
# definition gives none; tests/test_cli.py fails on any option left without help)
COMMON_HELP = {
    "seed": "random seed of resamples, draws and simulations (an integer in [0, 2^32); default 0)",
    "level": "level of intervals and bands, in (0, 1) (default 0.95)",
    "json": "write the result (with its methods card) to this JSON file",
    "csv": "write the table to this CSV file",
    "force": "overwrite existing output files",
    "chunk_size": "resamples per compiled call (memory stays flat; default 500)",
    "flops_per_token": "training FLOPs per parameter per token: C = F N D (default 6)",
    "y": "target column, or an expression over columns such as '1 - acc' (default: loss)",
    "data": "CSV, TSV, Parquet or JSON Lines file, one row per training run",
    "profile": "each budget's profile of log loss on log N: parabola (default), cubic, or interp (Akima, Porian "
               "et al.)",
    "name": "a law's name: its form, parameters, coefficient sets and recipes",
}


def _document(sub):
    for sp in sub.choices.values():
        for a in sp._actions:
            if not (a.help and a.help.strip()) and a.dest in COMMON_HELP:
                a.help = COMMON_HELP[a.dest]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="jaxlaws", description="Fit, bootstrap and use empirical scaling laws.")
    parser.add_argument("--version", action="version", version=f"jaxlaws {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("fit", help="fit a law to a table of runs", epilog=EXAMPLES["fit"], formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--solver", choices=("newton", "bfgs"), default="newton",
                   help="minimiser for every start (default: damped Newton)")
    p.add_argument("--strategy", choices=("screen", "full"), default="screen",
                   help="screen: every start scored, the best 64 stepped and 16 converged (default); full: every "
                        "start converged (the exhaustive reference, ~300x slower on a 4500-start grid)")
    p.add_argument("--json", metavar="OUT.json", help="write the fit as JSON")
    p.add_argument("--allow-degenerate", action="store_true",
                   help="exit 0 even when the data cannot determine the fit (status degenerate; exit 3 otherwise)")
    p.add_argument("--by", metavar="COLUMN[,COLUMN]",
                   help="fit an independent copy of the law to each group of rows (e.g. per budget, per task); "
                        "all groups in one compiled call, one row per group out")
    p.add_argument("--predict", metavar="NEW.csv",
                   help="also print predictions at the rows of this table (its columns kept; same --map)")
    p.add_argument("--score", action="store_true",
                   help="fit nothing: evaluate --params or --coefficients on the table (objective, residuals, AIC/BIC)")
    p.add_argument("--params", metavar="FIT.json", help="with --score: coefficients from jaxlaws fit --json")
    p.add_argument("--coefficients", metavar="NAME", help="with --score: a published coefficient set of the law")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("bootstrap", help="bootstrap a fit: SEs and intervals for parameters and derived quantities",
                       epilog=EXAMPLES["bootstrap"], formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--n", type=int, default=1000, help="number of resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=("ordinary", "group", "logo", "epoch"), default=None,
                   help="resampling plan (default: group with --group, else ordinary)")
    p.add_argument("--group", metavar="COLUMN",
                   help="resample whole groups of rows (cluster bootstrap; implies --method group)")
    p.add_argument("--by", metavar="COLUMN[,COLUMN]",
                   help="bootstrap each group's own fit (per budget, per task), all groups in one batched call")
    p.add_argument("--strategy", choices=("fast", "grid", "grid_independent", "single"), default="fast",
                   help="fast: warm starts at the full fit's optima; grid: every resample screens the full grid "
                        "(shared solves); grid_independent: each resample runs the whole grid pipeline alone; "
                        "single: --start only")
    p.add_argument("--start", metavar="COEFFICIENT_SET", help="start for --strategy single, e.g. hoffmann2022_unrounded")
    p.add_argument("--compute", type=float, default=5.88e23, help="compute budget C for derived quantities (default 5.88e23)")
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--chunk-size", type=int, default=500)
    add_max_iter_option(p)
    p.add_argument("--checkpoint", metavar="FILE.npz", help="save finished chunks; rerun to resume")
    p.add_argument("--calibrate", type=int, default=0, metavar="N_SIM",
                   help="calibrate the intervals by N_SIM data sets simulated from the fit at these runs (e.g. 1000)")
    p.add_argument("--predict", metavar="NEW.csv",
                   help="also print prediction bands at the rows of this table (same input columns and --map)")
    p.add_argument("--json", metavar="OUT.json")
    p.set_defaults(func=cmd_bootstrap)

    p = sub.add_parser("allocate", help="compute-optimal N and D for budgets, with intervals from draws",
                       epilog=EXAMPLES["allocate"], formatter_class=fmt)
    p.add_argument("--law", required=True, help=LAW_HELP)
    p.add_argument("--params", metavar="FIT.json", help="a fit written by jaxlaws fit --json")
    p.add_argument("--coefficients", metavar="NAME", help="a published coefficient set of the law")
    p.add_argument("--compute", help="budget(s) in FLOPs, comma-separated")
    p.add_argument("--memory", type=float, help="total-parameter budget (MoE laws with an expert input E)")
    p.add_argument("--target-loss", type=float, help="inference-aware: the loss to reach")
    p.add_argument("--inference-tokens", help="inference-aware: lifetime tokens served, comma-separated")
    p.add_argument("--draws", metavar="BOOT.json", help="bootstrap draws (jaxlaws bootstrap --json) for intervals")
    p.add_argument("--objective", metavar="expected|quantile:Q",
                   help="with --draws: choose N minimising the expected loss (or its Q-quantile) over the draws instead of "
                        "the point estimate's loss; prints the plug-in allocation's regret and the value of perfect information")
    p.add_argument("--input", action="append", metavar="NAME=VALUE", help="fixed value of another input, e.g. U=25e9")
    p.add_argument("--flops-per-token", type=float, default=6.0)
    p.add_argument("--level", type=float, default=0.8)
    p.add_argument("--json", metavar="OUT.json")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_allocate)

    p = sub.add_parser("ablate", help="fit every combination of fitting choices (a multiverse table)",
                       epilog=EXAMPLES["ablate"], formatter_class=fmt)
    p.add_argument("data")
    p.add_argument("--law", required=True, help="a law, or several law forms as an axis: chinchilla,kaplan (" + LAW_HELP + ")")
    p.add_argument("--y", default="loss")
    p.add_argument("--map", action="append", metavar="INPUT=COLUMN", help="map a law input to a column; repeatable")
    p.add_argument("--where", action="append", metavar="EXPR",
                   help="row filters as an axis, one per use: --where all --where '6*N*D < 1e21'")
    p.add_argument("--loss", help="comma-separated: huber,squared")
    p.add_argument("--delta", help="comma-separated Huber deltas, e.g. 1e-3,1e-2")
    p.add_argument("--residual", help="comma-separated: log,raw")
    p.add_argument("--drop-top", help="comma-separated: drop the k highest-loss runs, e.g. 0,5")
    p.add_argument("--max-compute", help="comma-separated upper compute cutoffs (6ND), inf for none")
    p.add_argument("--min-compute", help="comma-separated lower compute cutoffs (6ND), none for none")
    p.add_argument("--min-n", help="comma-separated minimum model sizes")
    p.add_argument("--n-column", help="comma-separated columns to use as N, e.g. N,N_nonembedding")
    p.add_argument("--compute", type=float, default=5.88e23, help="C for the derived D/N, N_opt, D_opt columns (default 5.88e23)")
    p.add_argument("--csv", metavar="OUT.csv")
    p.add_argument("--plot", metavar="OUT.png", help="specification curve of D/N")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_ablate)

    add_isoflop_parser(sub, fmt, EXAMPLES["isoflop"])
    add_design_parser(sub, fmt)
    add_extrapolate_parser(sub, fmt)
    add_predict_parser(sub, fmt)
    add_chain_parser(sub, fmt)

    p = sub.add_parser("plot", help="isoFLOP curves, iso-loss contours, residuals, bootstrap corner plot, allocation bands",
                       epilog=EXAMPLES["plot"], formatter_class=fmt)
    add_fit_options(p)
    p.add_argument("--out", required=True, help="folder for the figures")
    p.add_argument("--n", type=int, default=500, help="bootstrap resamples for the bands (default 500)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("demo", help="fit the built-in demo data end to end", epilog=EXAMPLES["demo"], formatter_class=fmt)
    p.add_argument("--out", default="jaxlaws_demo_output", help="folder for plots (default: jaxlaws_demo_output)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite plots already in --out")
    p.add_argument("--write-data", metavar="RUNS.csv",
                   help="only write the demo's synthetic isoFLOP runs (N, D, C, loss, outlier) to this CSV")
    p.add_argument("--write-examples", metavar="DIR",
                   help="only write every file the README's commands read (runs.csv, bigger.csv, tasks.csv, "
                        "curves.csv, downstream.csv, big.csv, my_laws.py) into this folder")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("laws", help="list built-in laws or show one", epilog=EXAMPLES["laws"], formatter_class=fmt)
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_laws)
    add_report_parser(sub, fmt)
    add_figure_options(sub)
    _document(sub)
    return parser


def _distributed(jax):
    """Join JAX's distributed runtime when ``JAXLAWS_DISTRIBUTED`` is set: ``auto`` (SLURM,
    Open MPI, Kubernetes, Cloud TPU: the cluster is detected) or ``HOST:PORT,N,I`` (process I
    of N, coordinator at HOST:PORT). Every process then runs the same command on its share of
    the devices; process 0 prints and writes, the others stay silent. CPU processes talk
    through gloo collectives."""
    spec = os.environ.get("JAXLAWS_DISTRIBUTED", "").strip()
    if not spec:
        return
    if jax.distributed.is_initialized():
        pass  # a program that joined the runtime itself and calls main() from every process
    elif spec == "auto":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize()
    else:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        try:
            addr, n, i = spec.split(",")
            jax.distributed.initialize(coordinator_address=addr, num_processes=int(n), process_id=int(i))
        except ValueError:
            raise OptionError(f"JAXLAWS_DISTRIBUTED={spec!r}: use auto or HOST:PORT,NUM_PROCESSES,PROCESS_ID") from None
    if jax.process_index() != 0:
        # silent: Python's prints and anything native code writes (gloo's connection notes)
        sys.stdout.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _persistent_cache(jax):
    """Keep compiled programs between CLI runs, so only the first run of a job compiles.

    In the user's cache folder (``$XDG_CACHE_HOME/jaxlaws/xla``, else ``~/.cache/jaxlaws/xla``);
    ``JAX_COMPILATION_CACHE_DIR`` moves it and ``JAXLAWS_CACHE=0`` turns it off. JAX writes
    cache entries atomically, so concurrent runs are safe; an unusable folder only means
    compiling again, never an error.
    """
    if os.environ.get("JAXLAWS_CACHE", "1") == "0":
        return
    # cache every program, not only those that took over a second to compile: a fit is a
    # dozen programs of 0.1-3 s each (also in a folder the user chose: with JAX's 1 s default a
    # later run compiled 44 of the fit's programs again: 5.2 s instead of 3.0 s)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "jaxlaws", "xla")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return
    if not os.access(path, os.W_OK):
        return
    jax.config.update("jax_compilation_cache_dir", path)


FIGURE_COMMANDS = ("plot", "demo", "isoflop", "design", "ablate", "extrapolate")


def add_figure_options(sub):
    """``--quiet`` on every command; ``--format`` and ``--dpi`` on every command that draws figures."""
    for name, p in sub.choices.items():
        p.add_argument("--quiet", action="store_true",
                       help="no progress line or bar (and no per-chunk log lines when stderr is not a terminal)")
        if name in FIGURE_COMMANDS:
            g = p.add_argument_group("figures")
            g.add_argument("--format", choices=("png", "svg", "pdf"), default=None,
                           help="file format of figures written into a folder (default png; a --plot FILE's "
                                "extension decides its own)")
            g.add_argument("--dpi", type=int, default=None, help="resolution of raster figures (default 150)")


def figure_options(args):
    """Apply ``--format``/``--dpi`` and check a ``--plot FILE``'s extension, before any computing."""
    if getattr(args, "format", None) is None and getattr(args, "dpi", None) is None and not getattr(args, "plot", None):
        return
    from ._plots import FORMATS, configure

    configure(fmt=getattr(args, "format", None), dpi=getattr(args, "dpi", None))
    plot = getattr(args, "plot", None)
    if plot and args.command != "isoflop":  # isoflop's --plot is a folder
        ext = os.path.splitext(plot)[1].lstrip(".").lower()
        if ext not in FORMATS:
            raise OptionError(f"--plot {plot}: give a file ending in .{', .'.join(FORMATS)}")


def main(argv=None) -> int:
    if os.environ.get("JAXLAWS_FAST_COMPILE") == "1":
        # opt-in faster first compiles (see _xla_flags); before anything compiles
        classic_emitters()
    import jax

    # The CLI owns its process: float64 for everything it computes (see jaxlaws.__init__).
    jax.config.update("jax_enable_x64", True)
    _persistent_cache(jax)
    parser = build_parser()
    args = parser.parse_args(argv)
    import shlex

    from ._cli_output import COMMAND, check_distinct_paths

    COMMAND[0] = "jaxlaws " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ._progress import log_to_stderr, set_quiet

    try:
        _distributed(jax)
    except JaxlawsError as e:
        print(f"jaxlaws: error: {e}", file=sys.stderr)
        return 2
    quiet = bool(getattr(args, "quiet", False)) or jax.process_index() != 0
    set_quiet(quiet)
    # not a terminal (a batch job's log): one line per chunk of a long job, unless --quiet
    log_to_stderr(not quiet and not sys.stderr.isatty())
    import warnings

    shown = warnings.showwarning
    # a warning the user should read is one line in the CLI's words, not a source path and line
    warnings.showwarning = lambda message, *a, **k: print(f"jaxlaws: warning: {message}", file=sys.stderr)
    try:
        check_common_options(args)
        check_distinct_paths(args)
        figure_options(args)
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
    except OSError as e:  # a write that failed after the checks (disk full, folder removed meanwhile)
        print(f"jaxlaws: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    finally:
        log_to_stderr(False)  # the handler holds this call's stderr: not a later one's
        warnings.showwarning = shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
