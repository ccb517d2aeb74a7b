"""Figures of a study (matplotlib, optional extra): isoFLOP profiles and optima, specification
curves, experiment designs, extrapolation checks. Style, palette, formats: ``_plots``.

An edge module: it imports the core, never the reverse.
"""

from __future__ import annotations

import numpy as np

from ._plots import OKABE_ITO, budget_colours, pyplot, save_figure


def _choice_labels(col, values):
    """How a fitting choice reads in the specification curve: numbers in short form, and the
    empty value (no cutoff, no filter) named rather than shown as nan."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "none (all runs)" if col.startswith("max") or col.startswith("min") else "none"
        if isinstance(v, (float, np.floating)):
            return "inf (no cutoff)" if np.isinf(v) else f"{v:g}"
        return str(v)

    return values.map(one)


UNITS = {"D/N": "D/N (tokens per parameter)", "N_opt": "N_opt (parameters)", "D_opt": "D_opt (tokens)"}


def specification_curve(path, table, column="D/N", choices=None):
    """The ablation 'multiverse': one point per specification, sorted by ``column``, with the
    choices that produced it marked underneath (every choice's every value has a row)."""
    plt = pyplot()
    t = table.sort_values(column).reset_index(drop=True)
    from ._ablate import ABLATION_KEYS

    choices = choices or [c for c in ABLATION_KEYS if c in t.columns]
    labels_of = {c: _choice_labels(c, t[c]) for c in choices}
    n_rows = sum(labels_of[c].nunique() for c in choices)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 3 + 0.3 * n_rows),
                                  gridspec_kw={"height_ratios": [2, 0.6 + 0.3 * n_rows]}, sharex=True)
    x = np.arange(len(t))
    ok = t.status == "converged"
    ax.scatter(x[ok], t[column][ok], s=20, color=OKABE_ITO[0], label="converged")
    if (~ok).any():
        ax.scatter(x[~ok], t[column][~ok], s=20, marker="x", color=OKABE_ITO[1], label="not converged (status)")
    ax.set_ylabel(UNITS.get(column, column))
    ax.set_yscale("log")
    ax.set_title(f"specification curve: {column} across {len(t)} fitting choices")
    ax.legend()
    names, row = [], 0
    for c in choices:
        lab = labels_of[c]
        for v in lab.unique():
            sel = (lab == v).to_numpy()
            ax2.scatter(x[sel], np.full(sel.sum(), row), s=12, color="k")
            names.append(f"{c} = {v}")
            row += 1
    ax2.set_yticks(range(len(names)))
    ax2.set_yticklabels(names, fontsize=7)
    ax2.set_ylim(len(names) - 0.5, -0.5)
    ax2.set_xlabel("specification (sorted by the estimate)")
    return save_figure(plt, fig, path)


ISOFLOP_FIGURES = ("isoflop_profiles", "isoflop_optima")


def isoflop_profiles(path, res):
    """Each budget's runs, its fitted profile and its minimum (Chinchilla's Fig. 3, Llama 3's Fig. 2);
    budgets excluded from the power law are drawn hollow and dashed, with their status."""
    plt = pyplot()
    des = res.design
    fig, ax = plt.subplots(figsize=(7.5, 5))
    colours = budget_colours(plt, len(des.C))
    for g, (C, Nc, Lc, status) in enumerate(res.profile_curves()):
        k = des.n_runs[g]
        runs_N, runs_L = np.exp(des.logN[g, :k]), np.exp(des.y[g, :k])
        used = bool(res.budgets.used[g])
        col = colours[g]
        label = f"C = {C:.2g} FLOPs" + ("" if used else f" ({status}, not used)")
        ax.scatter(runs_N, runs_L, s=16, color=col if used else "none", edgecolors=col, zorder=3)
        if Nc.size:
            ax.plot(Nc, Lc, color=col, ls="-" if used else "--", lw=1.3, label=label)
        if used:
            ax.scatter([res.budgets.N_opt[g]], [res.budgets.L_opt[g]], marker="*", s=90, color=col,
                       edgecolors="black", linewidths=0.6, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(f"isoFLOP profiles ({res.profile}); stars: minima used for N*(C)")
    ax.legend(title="compute C", ncol=2, title_fontsize=8)
    return save_figure(plt, fig, path)


def isoflop_optima(path, res):
    """N*(C) and D*(C) on log-log axes: per-budget minima with their bootstrap intervals, the fitted
    power laws with bands, the data's budget range marked, and the Approach-3 line if computed."""
    plt = pyplot()
    from ._isoflop_a3 import optimum

    tab = res.budgets
    used = tab.used.to_numpy(bool)
    C = tab.C.to_numpy()
    hi_C = max(C.max(), res.target_C or 0)
    grid = np.geomspace(C.min(), hi_C, 200)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    q = (1 - res.level) / 2
    for ax, what in zip(axes, ("N", "D")):
        pts = tab[f"{what}_opt"].to_numpy()
        if what == "N" and res.n_boot and "N_opt_low" in tab:
            err = np.vstack([pts - tab.N_opt_low.to_numpy(), tab.N_opt_high.to_numpy() - pts])
            ax.errorbar(C[used], pts[used], yerr=np.abs(err[:, used]), fmt="o", color="C0", ms=4, capsize=2,
                        label="budget minima (bootstrap interval)")
        else:
            ax.scatter(C[used], pts[used], color="C0", s=16, label="budget minima")
        line = res.n_opt(grid) if what == "N" else res.d_opt(grid)
        ax.plot(grid, line, color="C0", label=f"Approach 2: {what}* ∝ C^{res.a[0] if what == 'N' else res.b[0]:.3f}")
        if res.n_boot and res.draws_logk is not None:
            ok = np.isfinite(res.draws_a) & np.isfinite(res.draws_logk)
            logn = res.draws_logk[ok, None] + res.draws_a[ok, None] * np.log(grid)[None, :]
            if what == "D":
                logn = np.log(grid)[None, :] - np.log(res.flops_per_token) - logn
            ax.fill_between(grid, np.exp(np.quantile(logn, q, axis=0)), np.exp(np.quantile(logn, 1 - q, axis=0)),
                            color="C0", alpha=0.2, label=f"{res.level:.0%} band")
        if res.approach3 is not None and "params" in res.approach3:
            n3, d3, _ = optimum(res.approach3["params"], grid, res.flops_per_token)
            ax.plot(grid, n3 if what == "N" else d3, color="C1", ls="--", label="Approach 3 (Chinchilla law fit)")
        ax.axvspan(C.min(), C.max(), color="grey", alpha=0.08, label="budgets with data")
        if res.target_C:
            ax.axvline(res.target_C, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel("optimal parameters N*" if what == "N" else "optimal tokens D*")
        ax.legend(fontsize=7)
    fig.suptitle(f"compute-optimal allocation from isoFLOP minima ({res.n_used} budgets used)", fontsize=10)
    return save_figure(plt, fig, path)


def design_runs(fit, design, path):
    """The runs a design chose (sized by their gain) over the fitted runs, in (N, D) with lines of
    equal compute C = 6 N D: where the new compute goes relative to the existing ladder."""
    plt = pyplot()
    X0 = fit.prepared.used()[0]
    N0, D0 = X0["N"], X0["D"]
    r = design.runs
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(N0, D0, s=12, color="#7f7f7f", label=f"fitted runs ({len(N0)})", zorder=2)
    size = 30 + 270 * np.asarray(r["gain"]) / max(float(np.max(r["gain"])) if len(r["gain"]) else 1.0, 1e-300)
    ax.scatter(r["N"], r["D"], s=size, facecolor="none", edgecolor="#d55e00", linewidth=1.6,
               label=f"chosen runs ({len(r['N'])}; area ~ gain; 1-5: pick order)", zorder=3)
    for i, (n, d) in enumerate(zip(r["N"][:5], r["D"][:5])):  # the first picks only: later ones crowd
        ax.annotate(str(i + 1), (n, d), textcoords="offset points", xytext=(6, 5), fontsize=8, color="#d55e00")
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo_n, hi_n = ax.get_xlim()
    Ns = np.logspace(np.log10(lo_n), np.log10(hi_n), 50)
    lo_d, hi_d = ax.get_ylim()
    for e in range(int(np.floor(np.log10(6 * lo_n * lo_d))), int(np.ceil(np.log10(6 * hi_n * hi_d))) + 1, 2):
        ax.plot(Ns, 10.0**e / (6 * Ns), color="#0072b2", lw=0.6, alpha=0.35)
        ax.annotate(f"C=1e{e}", (Ns[-1], 10.0**e / (6 * Ns[-1])), fontsize=6, color="#0072b2", alpha=0.7)
    ax.set_xlim(lo_n, hi_n)
    ax.set_ylim(lo_d, hi_d)
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("training tokens D")
    ax.set_title(f"design for {design.target}: SE x{design.shrinkage:.2f} for {design.spent:.2g} FLOPs")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)  # below the axes: it hides no run
    return save_figure(plt, fig, path)


def extrapolation_errors(res, path):
    """Log error of every held-out run against its distance beyond the cutoff (decades), one
    panel per law form, coloured by cutoff: how fast each form's predictions degrade."""
    plt = pyplot()
    e = res.errors[res.errors.status == "converged"]
    laws = list(dict.fromkeys(res.summary.law))
    fig, axes = plt.subplots(1, len(laws), figsize=(5.2 * len(laws), 4.2), sharey=True, squeeze=False)
    cuts = sorted(res.summary.cutoff.unique())
    colours = budget_colours(plt, len(cuts))
    for ax, law in zip(axes[0], laws):
        sub = e[e.law == law]
        for c, col in zip(cuts, colours):
            s = sub[sub.cutoff == c]
            ax.scatter(s.distance, 100 * s.rel_error, s=14, color=col, label=f"cutoff {c:.0e}")
        ax.axhline(0, color="k", lw=0.6)
        rm = res.summary[res.summary.law == law]
        ax.set_title(f"{law}: RMS log error " + ", ".join(f"{v:.3f}" for v in rm.rmse_log), fontsize=9)
        ax.set_xlabel(f"distance beyond the cutoff (decades of {res.by})")
    axes[0][0].set_ylabel("prediction error (%)")
    axes[0][-1].legend(fontsize=7)
    return save_figure(plt, fig, path)
