"""``jaxlaws report``: one self-contained HTML file with everything a reader of a fit needs.

The methods card first (law, objective, starts, runs used and dropped, units, versions, the
exact command: "how exactly was this fitted?"), then the fit report (estimates, standard
errors, statistics, notes), the bootstrap intervals, the compute-optimal allocation with bands,
and the figures. Figures are embedded as base64 PNG and the style is inline, so the file opens
anywhere with no network and can be attached to a paper review or a lab notebook.

An edge module (files, plots): it imports the core, never the reverse.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile

import numpy as np

from ._stats import interval_notes


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "nan" if not np.isfinite(v) else f"{v:.6g}"
    return html.escape(str(v))


def _table(header, rows, cls="") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #d0d0d0; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
table.card th { text-align: left; }
table.card td:last-child { text-align: left; font-family: ui-monospace, monospace; font-size: .95em; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: .4em .8em; margin: .4em 0; }
.status-bad { color: #D55E00; font-weight: bold; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; }
"""

CAPTIONS = {
    "isoflop_curves": "Loss against model size per compute budget; curves are the fitted law at each budget's own "
                      "compute, stars its fitted minima.",
    "isoloss_contours": "Iso-loss contours of the fitted law over compute and model size, the efficient frontier "
                        "N_opt(C) and the runs.",
    "residuals": "Residuals against N, D and compute, with Huber's delta band; runs beyond the axis are drawn at its edge.",
    "bootstrap_pairs": "Bootstrap draws: each parameter's marginal with the estimate and the 95% interval, and every pair.",
    "allocation_bands": "Compute-optimal N, D and D/N with bootstrap bands; grey: the compute range of the fitted runs.",
}


def _figures(df, fit, boot) -> list:
    """``(name, base64 PNG)`` of the fit's figures, drawn into a temporary folder."""
    from . import _plots

    with tempfile.TemporaryDirectory() as tmp:
        with _plots.style(fmt="png", dpi=110):
            paths = _plots.fit_figures(tmp, df, fit, boot)
        out = []
        for p in paths:
            with open(p, "rb") as fh:
                out.append((os.path.splitext(os.path.basename(p))[0], base64.b64encode(fh.read()).decode("ascii")))
    return out


def render(df, fit, boot, *, card: dict, intervals: list, allocation, level: float, title: str) -> str:
    """The report as one HTML string (see the module docstring)."""
    from ._methods import card_lines

    # given the bootstrap, the report sets its SEs beside the curvature's and flags the
    # parameters where they disagree beyond DISAGREE (the README's promise)
    rep = fit.report(level=0.95, boot=boot)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    status_cls = "" if fit.status == "converged" else ' class="status-bad"'
    parts.append(f"<p>Status of the fit: <span{status_cls}>{html.escape(fit.status)}</span>"
                 + (f" ({html.escape('; '.join(fit.reasons))})" if fit.reasons else "") + "</p>")
    parts.append("<h2>Methods card</h2><p>How exactly this was fitted: everything needed to reproduce it.</p>")
    parts.append(_table(("field", "value"), card_lines(card), "card"))
    t = rep.table
    has_b = "bootstrap_se" in t.columns
    rows = [(k, t.loc[k, "estimate"], "fixed" if t.loc[k, "fixed"] else t.loc[k, "se"],
             "" if t.loc[k, "fixed"] else t.loc[k, "lower"], "" if t.loc[k, "fixed"] else t.loc[k, "upper"])
            + ((("" if t.loc[k, "fixed"] else t.loc[k, "bootstrap_se"]),
                ("" if t.loc[k, "fixed"] else t.loc[k, "se_ratio"])) if has_b else ())
            for k in t.index]
    parts.append(f"<h2>Fit report</h2><p>Standard errors from the curvature of the objective ({rep.kind}); "
                 f"intervals at 95%" + ("; the bootstrap's SEs beside them, and their ratio" if has_b else "")
                 + ".</p>")
    parts.append(_table(("parameter", "estimate", "SE", "lower 95%", "upper 95%")
                        + (("bootstrap SE", "SE / bootstrap SE") if has_b else ()), rows))
    st = rep.stats
    parts.append(_table(("n", "k", "residual scale", "RMS residual", "AIC", "BIC", "condition number"),
                        [(st["n"], st["k"], st["residual_scale"], st["rms_residual"], st["aic"], st["bic"],
                          fit.condition_number)]))
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in rep.notes]
    parts.append(f"<h2>Bootstrap intervals</h2><p>{boot.n_resamples} resamples ({html.escape(boot.weights_method)}, "
                 f"seed {boot.seed}); {html.escape(boot.exclusion_summary())}. Intervals at {level:.0%}.</p>")
    parts.append(_table(("quantity", "estimate", "SE", f"lower {level:.0%}", f"upper {level:.0%}", "method"),
                        [(lab, iv.estimate, iv.se, iv.lower, iv.upper, iv.method) for lab, iv in intervals]))
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in interval_notes(intervals)]
    if allocation is not None:
        parts.append(f"<h2>Compute-optimal allocation</h2><p>Under C = 6ND; bands at {level:.0%} over the bootstrap "
                     f"draws.</p>")
        parts.append(_table(allocation[0], allocation[1]))
    parts.append("<h2>Figures</h2>")
    drawable = set(fit.law.inputs) == {"N", "D"}
    if not drawable:
        parts.append(f"<p>The figures are drawn for laws of N and D; {html.escape(fit.law.name)} has inputs "
                     f"{html.escape(', '.join(fit.law.inputs))}.</p>")
    for name, data in (_figures(df, fit, boot) if drawable else []):
        parts.append(f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{html.escape(CAPTIONS.get(name, name))}</figcaption></figure>")
    parts.append(f"<p><small>Written by jaxlaws {html.escape(str(card['versions'].get('jaxlaws')))}.</small></p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def allocation_table(fit, boot, C, level):
    """Header and rows of the allocation: N_opt, D_opt, D/N and loss with bands per budget."""
    from ._allocate import compute_optimal

    point = compute_optimal(fit.law, fit, C)
    lo, hi = (1 - level) / 2, (1 + level) / 2
    q = compute_optimal(fit.law, boot, C).quantiles((lo, hi))
    header = ("C (FLOPs)", "N_opt", f"N_opt {lo:g}", f"N_opt {hi:g}", "D_opt", "D/N", f"D/N {lo:g}", f"D/N {hi:g}",
              "loss", "status")
    rows = [(c, point.N[j], q[f"N_opt_q{lo:g}"].iloc[j], q[f"N_opt_q{hi:g}"].iloc[j], point.D[j],
             point.tokens_per_param[j], q[f"tokens_per_param_q{lo:g}"].iloc[j], q[f"tokens_per_param_q{hi:g}"].iloc[j],
             point.objective[j], point.status[j]) for j, c in enumerate(C)]
    return header, rows
