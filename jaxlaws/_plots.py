"""Figures of a fit (matplotlib, optional extra): isoFLOP curves, iso-loss contours with the
efficient frontier, residuals, bootstrap corner plot, allocation bands.

Paper-ready by default: a colour-blind-safe palette (Okabe & Ito's eight colours for
categories, viridis without its pale end for ordered budgets), units in every axis label, the
data's own compute on every curve, the range of the data marked wherever a figure
extrapolates. ``configure(fmt=, dpi=)`` sets the file format (png, svg, pdf) and resolution
(the CLI's ``--format`` and ``--dpi``). The study figures (isoFLOP profiles, designs,
extrapolation, specification curves) are in ``_plots_study``.

An edge module: it imports the core, never the reverse.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

# Okabe & Ito (2008), "Color Universal Design": distinguishable under every common colour-vision deficiency
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
FORMATS = ("png", "svg", "pdf")
_STYLE = {"format": "png", "dpi": 150}


def configure(fmt: str | None = None, dpi: int | None = None):
    """File format (``png``, ``svg``, ``pdf``) and resolution of the figures written from now on."""
    from ._errors import OptionError

    if fmt is not None:
        if fmt not in FORMATS:
            raise OptionError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        _STYLE["format"] = fmt
    if dpi is not None:
        if not (isinstance(dpi, int) and 20 <= dpi <= 2400):
            raise OptionError(f"--dpi {dpi!r}: give an integer between 20 and 2400")
        _STYLE["dpi"] = dpi


@contextlib.contextmanager
def style(fmt: str | None = None, dpi: int | None = None):
    """``configure`` for the figures drawn inside the ``with`` block only."""
    saved = dict(_STYLE)
    configure(fmt, dpi)
    try:
        yield
    finally:
        _STYLE.update(saved)


def file_names(stems) -> list:
    """``stems`` with the configured format's extension (``isoflop_curves.png``)."""
    return [f"{s}.{_STYLE['format']}" for s in stems]


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({"axes.prop_cycle": cycler(color=OKABE_ITO), "font.size": 9, "axes.titlesize": 10,
                         "legend.fontsize": 7.5, "axes.grid": True, "grid.alpha": 0.25, "grid.linewidth": 0.5,
                         "savefig.bbox": "tight", "svg.fonttype": "none"})
    return plt


def save_figure(plt, fig, path):
    """Save atomically (a temporary file renamed onto ``path``): a reader never sees half a figure."""
    from ._util import write_atomic

    ext = os.path.splitext(path)[1] or f".{_STYLE['format']}"
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=_STYLE["dpi"], format=ext[1:]), suffix=ext)
    finally:
        plt.close(fig)
    return path


def budget_colours(plt, n):
    # viridis without its pale-yellow end (low contrast on white); ordered, colour-blind safe
    cmap = plt.get_cmap("viridis")
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]


def budget_column(df):
    """isoFLOP budget labels: the ``C`` column if the data has one, else 6ND snapped to the
    nearest of 1, 3 and 6 x 10^k (Hoffmann et al.'s budgets: runs read off a figure sit
    near, not on, their budget). Labels only group the runs: curves use the runs' own compute."""
    if "C" in df.columns:
        return df["C"].to_numpy(float)
    c = 6.0 * df["N"].to_numpy(float) * df["D"].to_numpy(float)
    e = np.floor(np.log10(c))
    nice = np.array([1.0, 3.0, 6.0, 10.0])
    m = c / 10**e
    k = np.argmin(np.abs(np.log(m[:, None]) - np.log(nice[None, :])), axis=1)
    return nice[k] * 10**e


def _excluded(df, fit):
    """Rows the fit gave zero weight (dropped outliers, out-of-range runs), if known."""
    prep = getattr(fit, "prepared", None)
    if prep is not None and prep.n_rows == len(df):
        return np.asarray(prep.w[: prep.n_rows]) == 0
    return np.zeros(len(df), bool)


def _ylabel(fit):
    return fit.law.output if fit.y == "loss" and getattr(fit.law, "output", "") else f"{fit.y}"


def _optimum(fit, C):
    """The fitted law's compute-optimal N and its loss at budgets ``C`` (None if it has no N, D)."""
    from ._allocate import compute_optimal

    if not {"N", "D"} <= set(fit.law.inputs) or len(fit.law.inputs) != 2:
        return None
    a = compute_optimal(fit.law, fit, np.asarray(C, float))
    return np.asarray(a.N), np.asarray(a.objective)


def isoflop_curves(path, df, fit):
    """Loss against N per compute budget: each budget's runs, the fitted law along that budget
    (at the runs' own compute, the geometric mean of their 6ND) and its fitted minimum (a star)."""
    plt = pyplot()
    law = fit.law
    fig, ax = plt.subplots(figsize=(7, 5))
    out = _excluded(df, fit)
    if out.any():
        ax.scatter(df.N[out], df.loss[out], s=30, marker="x", color=OKABE_ITO[1], label="excluded from the fit", zorder=4)
    label = budget_column(df)
    keep = ~out
    budgets = np.unique(label[keep])
    compute = 6.0 * df.N.to_numpy(float) * df.D.to_numpy(float)
    own = np.array([np.exp(np.mean(np.log(compute[keep & (label == b)]))) for b in budgets])
    star = _optimum(fit, own)
    for i, (b, c, col) in enumerate(zip(budgets, own, budget_colours(plt, len(budgets)))):
        sel = keep & (label == b)
        ax.scatter(df.N[sel], df.loss[sel], color=col, s=16, zorder=3)
        lo, hi = np.log10(df.N[sel].min() / 1.3), np.log10(df.N[sel].max() * 1.3)
        N = np.logspace(lo, hi, 120)
        ax.plot(N, np.asarray(law(fit.params, N, c / (6 * N))), color=col, lw=1.4, label=f"{c:.2g} FLOPs")
        if star is not None and 10**lo <= star[0][i] <= 10**hi:
            ax.scatter([star[0][i]], [star[1][i]], marker="*", s=110, color=col, edgecolors="black", linewidths=0.6,
                       zorder=5)
    ax.scatter([], [], marker="*", s=80, color="white", edgecolors="black", label="fitted minimum")
    ax.set_xscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel(_ylabel(fit))
    ax.set_title(f"isoFLOP curves: runs and the fitted {law.name} law at each budget's compute")
    ax.legend(title="compute C = 6ND", ncol=2, title_fontsize=8)
    return save_figure(plt, fig, path)


def _data_compute(fit):
    X = fit.prepared.used()[0]
    return 6.0 * np.asarray(X["N"]) * np.asarray(X["D"]), np.asarray(X["N"])


def isoloss_contours(path, df, fit):
    """Iso-loss contours of the fitted law over compute C and model size N, the efficient
    frontier N_opt(C) and the runs overlaid (Hoffmann et al. 2022, Figure 4 left)."""
    plt = pyplot()
    import matplotlib.colors as mcolors

    C_runs, N_runs = _data_compute(fit)
    C = np.geomspace(C_runs.min() / 10, C_runs.max() * 1e4, 160)
    N = np.geomspace(N_runs.min() / 10, N_runs.max() * 1e3, 160)
    CC, NN = np.meshgrid(C, N)
    L = np.asarray(fit.law(fit.params, NN, CC / (6 * NN)))
    fig, ax = plt.subplots(figsize=(7, 5))
    # levels over the losses that matter: from the frontier's lowest to a little above the worst run
    top = 1.15 * float(np.max(fit.prepared.y[: fit.prepared.n_rows])) if fit.y == "loss" else np.nanpercentile(L, 90)
    levels = np.geomspace(np.nanmin(L), max(top, np.nanmin(L) * 1.01), 14)
    cs = ax.contourf(CC, NN, L, levels=levels, cmap="viridis", norm=mcolors.LogNorm(levels[0], levels[-1]), extend="max")
    ax.contour(CC, NN, L, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    cb = fig.colorbar(cs, ax=ax, format="%.3g")
    cb.set_label(f"predicted {_ylabel(fit)}")
    opt = _optimum(fit, C)
    if opt is not None:
        ax.plot(C, opt[0], color=OKABE_ITO[1], lw=2, label="efficient frontier N_opt(C)")
    out = _excluded(df, fit)
    ax.scatter(C_runs, N_runs, s=12, facecolor="white", edgecolor="black", linewidths=0.6, label="fitted runs", zorder=3)
    if out.any():
        ax.scatter(6 * df.N[out] * df.D[out], df.N[out], s=26, marker="x", color=OKABE_ITO[1], label="excluded runs")
    ax.grid(False)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(C[0], C[-1])
    ax.set_ylim(N[0], N[-1])
    ax.set_xlabel("training compute C = 6ND (FLOPs)")
    ax.set_ylabel("model size N (parameters)")
    ax.set_title(f"iso-loss contours of the fitted {fit.law.name} law")
    ax.legend(loc="upper left")
    return save_figure(plt, fig, path)


def residuals(path, df, fit):
    """Residuals against N, D and compute, with Huber's delta band; runs excluded from the fit
    are marked, and residuals beyond the robust axis range are drawn at its edge and counted."""
    plt = pyplot()
    with np.errstate(divide="ignore", invalid="ignore"):
        pred = fit.predict(df)
        r = np.log(pred) - np.log(df.loss.values) if fit.residual == "log" else pred - df.loss.values
    out = _excluded(df, fit)
    used = r[~out & np.isfinite(r)]
    scale = 1.4826 * np.median(np.abs(used - np.median(used))) if used.size else 1.0
    lim = 1.15 * max(6 * scale, np.quantile(np.abs(used), 0.95) if used.size else 1.0, fit.loss.delta or 0.0)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharey=True)
    xs = [(df.N.values, "model size N (parameters)"), (df.D.values, "training tokens D"),
          (6 * df.N.values * df.D.values, "compute C = 6ND (FLOPs)")]
    clipped = np.clip(r, -lim, lim)
    far = np.abs(r) > lim
    for ax, (x, label) in zip(axes, xs):
        if fit.loss.delta is not None:
            ax.axhspan(-fit.loss.delta, fit.loss.delta, color=OKABE_ITO[2], alpha=0.15, lw=0,
                       label=f"Huber delta = {fit.loss.delta:g} (quadratic inside)")
        ax.scatter(x[~out & ~far], r[~out & ~far], s=10, color=OKABE_ITO[0], label="fitted runs")
        if (far & ~out).any():
            ax.scatter(x[far & ~out], clipped[far & ~out], s=26, marker="^", color=OKABE_ITO[0],
                       label=f"{int((far & ~out).sum())} beyond the axis (at its edge)")
        if out.any():
            ax.scatter(x[out], clipped[out], s=24, marker="x", color=OKABE_ITO[1], label="excluded from the fit")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylim(-lim * 1.05, lim * 1.05)
    axes[0].set_ylabel("log prediction - log loss" if fit.residual == "log" else f"prediction - {fit.y}")
    axes[0].legend()
    fig.suptitle(f"residuals of the fit (robust scale {scale:.3g})")
    return save_figure(plt, fig, path)


def bootstrap_pairs(path, boot, names=None):
    """Corner plot of the bootstrap draws: each free parameter's marginal (histogram, with the
    estimate and the 95% percentile interval) and every pair's scatter with the estimate marked.
    Amplitudes spanning more than a decade are drawn on log axes."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fit = boot.fit
    names = list(names or [k for k in boot.params if k not in fit.fixed])[:6]
    ok = boot.ok
    D = {k: boot.draws[ok, boot.params.index(k)] for k in names}
    logs = {k: bool(np.all(D[k] > 0) and np.nanmax(D[k]) / np.nanmin(D[k]) > 10) for k in names}
    # each parameter on its plotting scale (log10 where it spans decades): draws and estimate
    V = {k: np.log10(D[k]) if logs[k] else D[k] for k in names}
    est = {k: np.log10(fit.params[k]) if logs[k] else fit.params[k] for k in names}
    label = {k: f"log10 {k}" if logs[k] else k for k in names}
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k + 1, 1.9 * k + 0.6), squeeze=False)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i][j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(V[a], bins=40, color=OKABE_ITO[0], alpha=0.7)
                ax.axvline(est[a], color=OKABE_ITO[1], lw=1.5)
                for q in np.quantile(V[a], (0.025, 0.975)):
                    ax.axvline(q, color="k", ls="--", lw=0.8)
                ax.set_yticks([])
            else:
                ax.scatter(V[b], V[a], s=2, alpha=0.3, color=OKABE_ITO[0], rasterized=True)
                ax.scatter([est[b]], [est[a]], marker="+", s=80, color=OKABE_ITO[1], linewidths=1.8, zorder=3)
                ax.yaxis.set_major_locator(MaxNLocator(3))
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.tick_params(labelsize=7)
            ax.tick_params(axis="x", labelrotation=45)
            if i == k - 1:
                ax.set_xlabel(label[b])
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(label[a])
            elif i != j:
                ax.set_yticklabels([])
    fig.suptitle(f"bootstrap draws ({int(ok.sum())} converged resamples; +: the fit; dashed: 95% interval)")
    return save_figure(plt, fig, path)


def allocation_bands(path, fit, boot, C=None, level=0.8):
    """N_opt(C), D_opt(C) and D/N against compute on log axes, with bootstrap bands and the
    compute range of the fitted runs shaded (beyond it the curves are extrapolations)."""
    from ._allocate import compute_optimal

    plt = pyplot()
    C_runs, _ = _data_compute(fit)
    C = np.geomspace(C_runs.min(), C_runs.max() * 1e5, 41) if C is None else np.asarray(C, float)
    point = compute_optimal(fit.law, fit, C)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    q = compute_optimal(fit.law, boot, C).quantiles((lo, 0.5, hi))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    panels = [("N_opt", point.N, "N_opt (parameters)"), ("D_opt", point.D, "D_opt (tokens)"),
              ("tokens_per_param", point.tokens_per_param, "D/N (tokens per parameter)")]
    for ax, (name, y, label) in zip(axes, panels):
        ax.axvspan(C_runs.min(), C_runs.max(), color="grey", alpha=0.15, lw=0, label="compute of the fitted runs")
        ax.fill_between(C, q[f"{name}_q{lo:g}"], q[f"{name}_q{hi:g}"], color=OKABE_ITO[0], alpha=0.25,
                        label=f"{level:.0%} bootstrap band")
        ax.plot(C, y, color=OKABE_ITO[0], label="fit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel(label)
    axes[0].legend()
    fig.suptitle(f"compute-optimal allocation under C = 6ND ({int(boot.ok.sum())} bootstrap draws)")
    return save_figure(plt, fig, path)


FIT_FIGURES = ("isoflop_curves", "isoloss_contours", "residuals", "bootstrap_pairs", "allocation_bands")


def fit_figures(out_dir, df, fit, boot):
    """Every figure of a fit and its bootstrap into ``out_dir`` (the demo's and ``jaxlaws plot``'s)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = dict(zip(FIT_FIGURES, (os.path.join(out_dir, n) for n in file_names(FIT_FIGURES))))
    return [isoflop_curves(paths["isoflop_curves"], df, fit), isoloss_contours(paths["isoloss_contours"], df, fit),
            residuals(paths["residuals"], df, fit), bootstrap_pairs(paths["bootstrap_pairs"], boot),
            allocation_bands(paths["allocation_bands"], fit, boot)]
