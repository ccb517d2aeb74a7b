"""Figures for papers: each figure's content is checked on the matplotlib objects it draws
(curves at the data's own compute, minima, frontier, bands, ranges), and files in every format."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

import jaxlaws as jl  # noqa: E402
from jaxlaws import _plots, _plots_study  # noqa: E402
from jaxlaws._demo_data import TRUTH, demo_data  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    """Every figure drawn, kept open for inspection instead of written."""
    kept = []

    def keep(plt, fig, path):
        kept.append(fig)
        return path

    monkeypatch.setattr(_plots, "save_figure", keep)
    monkeypatch.setattr(_plots_study, "save_figure", keep)
    yield kept
    import matplotlib.pyplot as plt

    plt.close("all")


def _noise_free_runs():
    """Runs at budgets 2e19, 4.5e19, 2e20 that are not 1/3/6 x 10^k and have no C column: the
    budget labels snap to 3e19, 6e19 and 3e20, but curves must be drawn at the runs' own compute."""
    rows = []
    for C in (2e19, 4.5e19, 2e20):
        for N in np.geomspace(1e8, 3e9, 7):
            D = C / (6 * N)
            rows.append((N, D, TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]))
    return pd.DataFrame(rows, columns=["N", "D", "loss"])


def test_isoflop_curves_pass_through_noise_free_runs_at_their_own_compute(figures):
    df = _noise_free_runs()
    fit = jl.fit("chinchilla", df, loss="squared")
    _plots.isoflop_curves("x.png", df, fit)
    ax = figures[0].axes[0]
    curves = [ln for ln in ax.get_lines() if "FLOPs" in ln.get_label()]
    assert sorted(ln.get_label() for ln in curves) == ["2e+19 FLOPs", "2e+20 FLOPs", "4.5e+19 FLOPs"]
    for ln in curves:
        C = float(ln.get_label().split()[0])
        sub = df[np.isclose(6 * df.N * df.D, C)]
        drawn = np.interp(np.log(sub.N), np.log(ln.get_xdata()), ln.get_ydata())
        assert np.allclose(drawn, sub.loss, rtol=2e-4)  # the curve goes through its runs
    stars = [c for c in ax.collections if c.get_offsets().shape[0] == 1 and c.get_label().startswith("_")]
    opt = jl.compute_optimal("chinchilla", fit, [2e19, 4.5e19, 2e20]).N
    star_n = sorted(float(c.get_offsets()[0, 0]) for c in stars)
    assert np.allclose(star_n, np.sort(opt), rtol=1e-9)  # each budget's fitted minimum is marked


@pytest.fixture(scope="module")
def demo():
    df = demo_data()
    fit = jl.fit("chinchilla", df)
    boot = jl.bootstrap("chinchilla", df, n=100, seed=0, full_fit=fit)
    return df, fit, boot


def test_isoloss_contours_show_the_frontier_and_the_runs(figures, demo):
    df, fit, _ = demo
    _plots.isoloss_contours("x.png", df, fit)
    ax = figures[0].axes[0]
    (front,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("efficient frontier")]
    C = np.asarray(front.get_xdata())
    assert np.allclose(front.get_ydata(), jl.compute_optimal("chinchilla", fit, C).N, rtol=1e-9)
    runs = [c for c in ax.collections if c.get_label() == "fitted runs"][0]
    assert runs.get_offsets().shape[0] == 90
    assert ax.get_xscale() == "log" and "FLOPs" in ax.get_xlabel() and "parameters" in ax.get_ylabel()
    assert C.min() < (6 * df.N * df.D).min() and C.max() > (6 * df.N * df.D).max()


def test_allocation_bands_mark_the_data_range_on_log_axes(figures, demo):
    df, fit, boot = demo
    _plots.allocation_bands("x.png", fit, boot)
    axes = figures[0].axes
    assert [a.get_yscale() for a in axes] == ["log", "log", "log"]  # D/N too
    assert "tokens per parameter" in axes[2].get_ylabel() and all("FLOPs" in a.get_xlabel() for a in axes)
    span = [p for p in axes[0].patches if p.get_label() == "compute of the fitted runs"][0]
    x = [span.get_x(), span.get_x() + span.get_width()] if hasattr(span, "get_width") else np.asarray(span.get_xy())[:, 0]
    C = 6 * df.N * df.D
    assert np.isclose(min(x), C.min()) and np.isclose(max(x), C.max())


def test_residuals_keep_an_outlier_from_squashing_the_axis(figures, demo):
    df, fit, _ = demo
    bad = df.copy()
    bad.loc[0, "loss"] *= 1.6  # a diverged run, 47% off in log
    _plots.residuals("x.png", bad, fit)
    ax = figures[0].axes[0]
    lo, hi = ax.get_ylim()
    assert hi < 0.15  # the axis follows the bulk (residual scale 0.01), not the outlier
    labels = [c.get_label() for c in ax.collections] + [p.get_label() for p in ax.patches]
    assert any("beyond the axis" in lab for lab in labels) and any("Huber delta = 0.001" in lab for lab in labels)


def test_corner_plot_has_marginals_and_the_estimate(figures, demo):
    _, fit, boot = demo
    _plots.bootstrap_pairs("x.png", boot)
    axes = np.array(figures[0].axes).reshape(5, 5)
    for i in range(5):
        assert len(axes[i, i].patches) >= 30  # a histogram on the diagonal
        est = [ln.get_xdata()[0] for ln in axes[i, i].get_lines()][0]
        name = boot.params[i]
        want = np.log10(fit.params[name]) if name in ("A", "B") and "log10" in (axes[4, i].get_xlabel()) else fit.params[name]
        assert np.isclose(est, want)
    assert not axes[0, 4].get_visible()


def test_specification_curve_names_every_choice(figures, demo):
    df, _, _ = demo
    tab = jl.ablate("chinchilla", df, {"loss": ["huber", "squared"], "max_compute": [1e21, None]},
                    derived={"D/N": ("tokens_per_param", {"C": 5.88e23})})
    _plots_study.specification_curve("x.png", tab)
    ax2 = figures[0].axes[1]
    names = [t.get_text() for t in ax2.get_yticklabels()]
    assert any("none" in n or "inf" in n for n in names if n.startswith("max_compute"))
    rows = {int(round(y)) for c in ax2.collections for y in c.get_offsets()[:, 1]}
    assert rows == set(range(len(names)))  # no empty row


@pytest.mark.parametrize("fmt,magic", [("svg", b"<?xml"), ("pdf", b"%PDF"), ("png", b"\x89PNG")])
def test_formats_and_dpi(tmp_path, fmt, magic):
    from jaxlaws._cli import main

    df = demo_data()
    df.to_csv(tmp_path / "runs.csv", index=False)
    out = tmp_path / "iso"
    try:
        assert main(["isoflop", str(tmp_path / "runs.csv"), "--n", "20", "--plot", str(out), "--format", fmt,
                     "--dpi", "60"]) == 0
    finally:
        _plots.configure(fmt="png", dpi=150)
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"isoflop_optima.{fmt}", f"isoflop_profiles.{fmt}"]
    assert all(f.read_bytes().startswith(magic) for f in files)
    if fmt == "png":
        import struct

        width = struct.unpack(">I", files[1].read_bytes()[16:20])[0]
        assert width < 600  # 60 dpi, not the default 150
