"""Plots (matplotlib, optional extra): isoFLOP curves, residuals, bootstrap pairs, allocation bands.

An edge module: it imports the core, never the reverse.
"""

from __future__ import annotations

import os

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


DEMO_FILES = ("isoflop_curves.png", "residuals.png", "bootstrap_pairs.png", "allocation_bands.png")


def _save(plt, fig, path):
    """Save atomically (a temporary file renamed onto ``path``): a reader never sees half a figure."""
    from ._util import write_atomic

    fig.tight_layout()
    ext = os.path.splitext(path)[1] or ".png"
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110), suffix=ext)
    finally:
        plt.close(fig)
    return path


def isoflop_curves(path, df, fit):
    """Loss vs N per compute budget with the fitted law (as in Hoffmann et al.'s Figure 4)."""
    plt = _plt()
    law = fit.law
    fig, ax = plt.subplots(figsize=(7, 5))
    out = _excluded(df, fit)
    if out.any():
        ax.scatter(df.N[out], df.loss[out], s=30, marker="x", color="red", label="excluded from the fit", zorder=3)
    df = df.assign(_C=budget_column(df))[~out]
    compute_col = "_C"
    budgets = np.sort(df[compute_col].unique())
    cmap = plt.get_cmap("viridis")
    for i, c in enumerate(budgets):
        sub = df[df[compute_col] == c]
        color = cmap(i / max(len(budgets) - 1, 1))
        ax.scatter(sub.N, sub.loss, color=color, s=14)
        if len(sub) < 3:
            continue
        N = np.logspace(np.log10(sub.N.min()), np.log10(sub.N.max()), 100)
        ax.plot(N, np.asarray(law(fit.params, N, c / (6 * N))), color=color, label=f"C = {c:.0e}")
    return _finish_loss_vs_n(plt, fig, ax, path, "final loss (nats/token)", f"isoFLOP curves: data and fitted {law.name}")


def _finish_loss_vs_n(plt, fig, ax, path, ylabel, title):
    """Log-N axis, labels, a two-column legend, and the atomic save (the isoFLOP figures)."""
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    return _save(plt, fig, path)


def _excluded(df, fit):
    """Rows the fit gave zero weight (dropped outliers, out-of-range runs), if known."""
    prep = getattr(fit, "prepared", None)
    if prep is not None and prep.n_rows == len(df):
        return np.asarray(prep.w[: prep.n_rows]) == 0
    return np.zeros(len(df), bool)


def residuals(path, df, fit):
    """Log residuals vs N, D and compute; runs excluded from the fit are marked."""
    plt = _plt()
    r = np.log(fit.predict(df)) - np.log(df.loss.values)
    out = _excluded(df, fit)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
    for ax, (col, label) in zip(axes, [("N", "parameters N"), ("D", "tokens D"), (None, "compute 6ND (FLOPs)")]):
        x = df[col].values if col else 6 * df.N.values * df.D.values
        ax.scatter(x[~out], r[~out], s=10, label="fitted runs")
        if out.any():
            ax.scatter(x[out], r[out], s=22, marker="x", color="red", label="excluded from the fit")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
    axes[0].set_ylabel("log prediction - log loss")
    axes[0].legend(fontsize=8)
    fig.suptitle("residuals of the fit")
    return _save(plt, fig, path)


def bootstrap_pairs(path, boot, pairs=(("A", "alpha"), ("B", "beta"), ("alpha", "beta"))):
    """Scatter of bootstrap draws for parameter pairs (the A-alpha and B-beta trade-offs)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(pairs), figsize=(4 * len(pairs), 3.8))
    ok = boot.ok
    for ax, (a, b) in zip(np.atleast_1d(axes), pairs):
        i, j = boot.params.index(a), boot.params.index(b)
        ax.scatter(boot.draws[ok, i], boot.draws[ok, j], s=3, alpha=0.4)
        ax.scatter([boot.fit.params[a]], [boot.fit.params[b]], color="red", s=30, label="full-data fit")
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        if a in ("A", "B"):
            ax.set_xscale("log")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle(f"bootstrap draws ({int(ok.sum())} converged resamples)")
    return _save(plt, fig, path)


def allocation_bands(path, fit, boot, C=None, level=0.8):
    """N_opt(C), D_opt(C) and D/N with bootstrap bands over compute."""
    from ._allocate import compute_optimal

    plt = _plt()
    C = np.logspace(18, 28, 41) if C is None else np.asarray(C)
    point = compute_optimal(fit.law, fit, C)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    q = compute_optimal(fit.law, boot, C).quantiles((lo, 0.5, hi))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (name, y, label) in zip(axes, [("N_opt", point.N, "N_opt (parameters)"), ("D_opt", point.D, "D_opt (tokens)"),
                                           ("tokens_per_param", point.tokens_per_param, "D/N (tokens per parameter)")]):
        ax.fill_between(C, q[f"{name}_q{lo:g}"], q[f"{name}_q{hi:g}"], alpha=0.3, label=f"{level:.0%} bootstrap band")
        ax.plot(C, y, label="fit")
        ax.set_xscale("log")
        if name != "tokens_per_param":
            ax.set_yscale("log")
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    fig.suptitle("compute-optimal allocation under C = 6 N D")
    return _save(plt, fig, path)


def demo_plots(out_dir, df, fit, boot):
    os.makedirs(out_dir, exist_ok=True)
    iso, res, pairs, bands = (os.path.join(out_dir, name) for name in DEMO_FILES)
    return [isoflop_curves(iso, df, fit), residuals(res, df, fit), bootstrap_pairs(pairs, boot),
            allocation_bands(bands, fit, boot)]


def specification_curve(path, table, column="D/N", choices=None):
    """The ablation 'multiverse': one point per specification, sorted by ``column``, with the
    choices that produced it marked underneath."""
    plt = _plt()
    t = table.sort_values(column).reset_index(drop=True)
    from ._ablate import ABLATION_KEYS

    choices = choices or [c for c in ABLATION_KEYS if c in t.columns]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 3 + 0.45 * sum(t[c].astype(str).nunique() for c in choices)),
                                  gridspec_kw={"height_ratios": [2, 1 + 0.3 * len(choices)]}, sharex=True)
    x = np.arange(len(t))
    ok = t.status == "converged"
    ax.scatter(x[ok], t[column][ok], s=18, label="converged")
    if (~ok).any():
        ax.scatter(x[~ok], t[column][~ok], s=18, marker="x", color="red", label="not converged")
    ax.set_ylabel(column)
    ax.set_yscale("log")
    ax.set_title(f"specification curve: {column} across {len(t)} fitting choices")
    ax.legend(fontsize=8)
    labels, ys = [], []
    for c in choices:
        for v in t[c].astype(str).unique():
            labels.append(f"{c} = {v}")
            ys.append(len(labels) - 1)
            sel = t[c].astype(str) == v
            ax2.scatter(x[sel], np.full(sel.sum(), ys[-1]), s=10, color="k")
    ax2.set_yticks(range(len(labels)))
    ax2.set_yticklabels(labels, fontsize=7)
    ax2.set_xlabel("specification (sorted)")
    ax2.invert_yaxis()
    return _save(plt, fig, path)


def budget_column(df):
    """isoFLOP budget labels: the ``C`` column if the data has one, else 6ND snapped to the
    nearest of 1, 3 and 6 x 10^k (Hoffmann et al.'s budgets: runs read off a figure sit
    near, not on, their budget)."""
    if "C" in df.columns:
        return df["C"].to_numpy(float)
    c = 6.0 * df["N"].to_numpy(float) * df["D"].to_numpy(float)
    e = np.floor(np.log10(c))
    nice = np.array([1.0, 3.0, 6.0, 10.0])
    m = c / 10**e
    k = np.argmin(np.abs(np.log(m[:, None]) - np.log(nice[None, :])), axis=1)
    return nice[k] * 10**e


ISOFLOP_FILES = ("isoflop_profiles.png", "isoflop_optima.png")


def _budget_colours(plt, n):
    # viridis without its pale-yellow end (low contrast on white); ordered, colour-blind safe
    cmap = plt.get_cmap("viridis")
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]


def isoflop_profiles(path, res):
    """Each budget's runs, its fitted profile and its minimum (Chinchilla's Fig. 3, Llama 3's Fig. 2);
    budgets excluded from the power law are drawn hollow and dashed, with their status."""
    plt = _plt()
    des = res.design
    fig, ax = plt.subplots(figsize=(7.5, 5))
    colours = _budget_colours(plt, len(des.C))
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
    return _finish_loss_vs_n(plt, fig, ax, path, "loss (nats/token)", f"isoFLOP profiles ({res.profile}); stars: minima used for N*(C)")


def isoflop_optima(path, res):
    """N*(C) and D*(C) on log-log axes: per-budget minima with their bootstrap intervals, the fitted
    power laws with bands, the data's budget range marked, and the Approach-3 line if computed."""
    plt = _plt()
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
    return _save(plt, fig, path)


def design_runs(fit, design, path):
    """The runs a design chose (sized by their gain) over the fitted runs, in (N, D) with lines of
    equal compute C = 6 N D: where the new compute goes relative to the existing ladder."""
    plt = _plt()
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
    ax.legend(loc="upper left", fontsize=8)
    return _save(plt, fig, path)


def extrapolation_errors(res, path):
    """Log error of every held-out run against its distance beyond the cutoff (decades), one
    panel per law form, coloured by cutoff: how fast each form's predictions degrade."""
    plt = _plt()
    e = res.errors[res.errors.status == "converged"]
    laws = list(dict.fromkeys(res.summary.law))
    fig, axes = plt.subplots(1, len(laws), figsize=(5.2 * len(laws), 4.2), sharey=True, squeeze=False)
    cuts = sorted(res.summary.cutoff.unique())
    colours = _budget_colours(plt, len(cuts))
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
    return _save(plt, fig, path)
