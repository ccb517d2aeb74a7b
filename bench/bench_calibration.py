"""Calibration matrix of the fit report's intervals: simulation with known truth.

Does ``fit.report()``'s interval hold the truth as often as it says, across losses, residual
degrees of freedom and noise? Each cell simulates ``--sims`` data sets from a power law
``y = c x^a exp(s e)`` (``x`` log-spaced over four decades, ``s = 0.05`` in log loss, ``e``
standard normal or Student-t with 3 degrees of freedom scaled to unit variance), fits it with
the cell's loss, and counts how often the report's 80/90/95% interval of the exponent ``a``
holds the truth. A cell the tool refuses (no SE, with its reason) is counted as refused, not
as a miss; one it prints with a flag (``report.stats["flag"]``) as flagged. The reference in the same run: statsmodels' OLS t interval (squared loss) and
``QuantReg``'s robust interval (absolute and pinball losses) on the same data sets.

The losses: squared; Huber with delta at 0.1x, 1x and 10x the noise scale; pinball 10:1
(``asymmetric:10,1``); absolute. Residual degrees of freedom n - k: 1, 3, 10, 50 (k = 2).

    python bench/bench_calibration.py                     # the report matrix
    python bench/bench_calibration.py --part chinchilla   # the report at the Chinchilla design
    python bench/bench_calibration.py --part bootstrap    # bootstrap percentile and BCa intervals

Writes ``bench/results/calibration.json`` and prints the README's table. Monte Carlo SE of a
coverage p over S data sets: sqrt(p (1 - p) / S) (2.1 points at 90% with 200).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

import numpy as np

LEVELS = (0.8, 0.9, 0.95)
SCALE = 0.05
LOSSES = {"squared": "squared", "huber 0.1s": f"huber:{0.1 * SCALE}", "huber 1s": f"huber:{SCALE}",
          "huber 10s": f"huber:{10 * SCALE}", "pinball 10:1": "asymmetric:10,1", "absolute": "absolute"}
DFS = (1, 3, 10, 50)
NOISES = ("normal", "t3")


def simulate(loss: str, df: int, noise: str = "normal", sims: int = 200, seed: int = 0, reference: bool = True) -> dict:
    """One cell: coverage of the report's intervals of the exponent at LEVELS, how many data
    sets the tool refused SEs for, mean SE against the estimates' spread, and the reference's
    coverage (statsmodels) on the same data sets."""
    import pandas as pd

    import jaxlaws as jl

    lo = jl.parse_loss(loss)
    n = df + 2
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e10, n)
    c, a = 3.0, -0.2
    hits = {lv: 0 for lv in LEVELS}
    ref_hits = {lv: 0 for lv in LEVELS}
    used = refused = flagged = failed = ref_n = 0
    ses, ests = [], []
    for _ in range(sims):
        e = rng.standard_normal(n) if noise == "normal" else rng.standard_t(3, n) / np.sqrt(3.0)
        y = c * x**a * np.exp(SCALE * e)
        d = pd.DataFrame({"x": x, "loss": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # one start at the truth: in log space the power law is linear and every loss here is
            # convex in (log c, a), so the grid's other starts reach the same optimum; the question
            # is the interval, not the optimiser (as in jl.coverage)
            f = jl.fit("power_law", d, loss=lo, starts={"c": c, "a": a})
        if f.status != "converged":
            failed += 1
            continue
        ests.append(f.params["a"])
        tabs = {lv: f.report(level=lv).table for lv in LEVELS}
        if not np.isfinite(tabs[0.9].loc["a", "se"]):
            refused += 1
        elif f.report(level=0.9).stats.get("flag"):
            flagged += 1  # printed with a flag naming why it is not trusted: not scored as calibrated
        else:
            used += 1
            ses.append(tabs[0.9].loc["a", "se"])
            for lv, t in tabs.items():
                hits[lv] += bool(t.loc["a", "lower"] <= a <= t.loc["a", "upper"])
        if reference:
            got = _reference(lo, np.log(x), np.log(y), a)
            if got is not None:
                ref_n += 1
                for lv in LEVELS:
                    ref_hits[lv] += got[lv]
    out = {"loss": loss, "df": df, "noise": noise, "sims": sims, "used": used, "refused": refused, "flagged": flagged,
           "failed": failed, "coverage": {str(lv): hits[lv] / used if used else None for lv in LEVELS},
           "mc_se_90": float(np.sqrt(0.09 / used)) if used else None,
           "se_over_sd": float(np.mean(ses) / np.std(ests, ddof=1)) if used > 2 and len(ests) > 2 else None,
           "reference": ({str(lv): ref_hits[lv] / ref_n for lv in LEVELS} if ref_n else None)}
    return out


def _reference(loss, lx, ly, a):
    """statsmodels on the same data set: OLS t intervals for squared loss, QuantReg's for
    absolute and pinball losses (the quantile under / (over + under)); None for Huber."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    X = sm.add_constant(lx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if loss.kind == "squared":
            r = sm.OLS(ly, X).fit()
        elif loss.kind == "asymmetric":
            q = loss.values[1] / (loss.values[0] + loss.values[1])
            if len(ly) < 5:
                return None
            try:
                r = sm.QuantReg(ly, X).fit(q=q)
            except Exception:  # a singular design at a handful of points
                return None
        else:
            return None
        return {lv: bool(r.conf_int(1 - lv)[1][0] <= a <= r.conf_int(1 - lv)[1][1]) for lv in LEVELS}


def simulate_bootstrap(loss: str, df: int, sims: int = 200, n_boot: int = 200, seed: int = 0) -> dict:
    """Bootstrap intervals of the exponent on the same power-law design (normal noise):
    coverage of the percentile and BCa intervals at LEVELS, and how many the tool refused."""
    import pandas as pd

    import jaxlaws as jl

    n = df + 2
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e10, n)
    c, a = 3.0, -0.2
    hits = {(m, lv): 0 for m in ("percentile", "bca") for lv in LEVELS}
    used = refused = failed_draws = 0
    for i in range(sims):
        y = c * x**a * np.exp(SCALE * rng.standard_normal(n))
        d = pd.DataFrame({"x": x, "loss": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = jl.bootstrap("power_law", d, loss=loss, n=n_boot, seed=i, progress=False, starts={"c": c, "a": a})
        failed_draws += b.n_failed
        ivs = {(m, lv): b.interval("a", level=lv, method=m) for m in ("percentile", "bca") for lv in LEVELS}
        if not np.isfinite(ivs["percentile", 0.9].lower):
            refused += 1
            continue
        used += 1
        for key, iv in ivs.items():
            hits[key] += bool(iv.lower <= a <= iv.upper)
    return {"loss": loss, "df": df, "sims": sims, "n_boot": n_boot, "used": used, "refused": refused,
            "failed_draws": failed_draws,
            "coverage": {f"{m} {lv}": hits[m, lv] / used if used else None for m, lv in hits}}


def simulate_chinchilla(sims: int = 200, seed: int = 1) -> dict:
    """The fit report at the Chinchilla design: Epoch's 240 points (or the demo data), their
    Huber fit as the truth, Gaussian log noise of its robust scale; coverage of every
    parameter's 80/90/95% interval and its mean SE over the estimates' spread."""
    import jaxlaws as jl
    from _common import chinchilla_points

    df, label = chinchilla_points()
    truth = jl.fit("chinchilla", df)
    s = float(truth.noise().sd)
    pred = truth.predict(df)
    rng = np.random.default_rng(seed)
    names = list(truth.law.param_names)
    ests, ses, hits = [], [], {(k, lv): 0 for k in names for lv in LEVELS}
    for _ in range(sims):
        d = df.copy()
        d["loss"] = pred * np.exp(s * rng.standard_normal(len(df)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = jl.fit("chinchilla", d)
        if f.status != "converged":
            continue
        tabs = {lv: f.report(level=lv).table for lv in LEVELS}
        ests.append([f.params[k] for k in names])
        ses.append([tabs[0.9].loc[k, "se"] for k in names])
        for k in names:
            for lv, t in tabs.items():
                hits[k, lv] += bool(t.loc[k, "lower"] <= truth.params[k] <= t.loc[k, "upper"])
    ests, ses = np.array(ests), np.array(ses)
    m = len(ests)
    return {"data": label, "noise_sd_log": s, "sims": sims, "used": m,
            "coverage": {k: {str(lv): hits[k, lv] / m for lv in LEVELS} for k in names},
            "se_over_sd": dict(zip(names, (ses.mean(0) / ests.std(0, ddof=1)).tolist()))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--part", choices=("report", "chinchilla", "bootstrap"), default="report",
                    help="report: the matrix (calibration.json); chinchilla: the report at the Chinchilla design "
                         "(calibration_chinchilla.json); bootstrap: percentile and BCa intervals on the power law "
                         "(calibration_bootstrap.json)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--render", action="store_true", help="print the README's tables from the saved results")
    args = ap.parse_args()
    res_dir = pathlib.Path(__file__).parent / "results"
    if args.render:
        print(render(res_dir))
        return
    t0 = time.time()
    if args.part == "chinchilla":
        res = simulate_chinchilla(args.sims)
        res["seconds"] = time.time() - t0
        out = args.out or str(res_dir / "calibration_chinchilla.json")
        pathlib.Path(out).write_text(json.dumps(res, indent=1))
        print(json.dumps(res, indent=1))
        return
    if args.part == "bootstrap":
        cells = []
        for loss in ("squared", "huber:0.001", "asymmetric:10,1", "absolute"):
            for df in (10, 50):
                cells.append(simulate_bootstrap(loss, df, sims=args.sims))
                print(json.dumps(cells[-1]), flush=True)
        out = args.out or str(res_dir / "calibration_bootstrap.json")
        pathlib.Path(out).write_text(json.dumps({"sims": args.sims, "seconds": time.time() - t0, "cells": cells,
                                                 "design": "power law as the report matrix, normal noise"}, indent=1))
        print(f"wrote {out}")
        return
    cells = []
    for noise in NOISES:
        for name, loss in LOSSES.items():
            for df in DFS:
                cell = simulate(loss, df, noise, sims=args.sims)
                cell["name"] = name
                cells.append(cell)
                print(_row(cell), flush=True)
    res = {"sims": args.sims, "seconds": time.time() - t0, "cells": cells,
           "design": "power law y = 3 x^-0.2 exp(0.05 e), x log-spaced 1e6..1e10, n = df + 2"}
    out = args.out or str(res_dir / "calibration.json")
    pathlib.Path(out).write_text(json.dumps(res, indent=1))
    print(f"wrote {out} ({res['seconds']:.0f} s)")


def render(res_dir) -> str:
    """The README's three tables from calibration.json, calibration_chinchilla.json and
    calibration_bootstrap.json (whichever exist)."""
    out = []
    p = res_dir / "calibration.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += ["| loss | noise | n - k | report coverage 80 / 90 / 95 | MC SE at 90 | SE / SD | statsmodels 80 / 90 / 95 |",
                "|---|---|---|---|---|---|---|"] + [_row(c) for c in r["cells"]]
        out.append(f"\n({r['sims']} data sets a cell, {r['seconds']:.0f} s.)\n")
    p = res_dir / "calibration_chinchilla.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += [f"The report at the Chinchilla design ({r['data']}, its Huber fit as the truth, Gaussian log "
                f"noise {r['noise_sd_log']:.3g}; {r['used']} of {r['sims']} data sets):\n",
                "| parameter | coverage 80 / 90 / 95 | SE / SD |", "|---|---|---|"]
        for k, cov in r["coverage"].items():
            out.append(f"| {k} | {' / '.join(f'{100 * cov[str(lv)]:.1f}' for lv in LEVELS)} | {r['se_over_sd'][k]:.2f} |")
        out.append("")
    p = res_dir / "calibration_bootstrap.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += [f"Bootstrap intervals of the exponent on the same power-law design (normal noise, "
                f"{r['cells'][0]['n_boot']} resamples, {r['sims']} data sets a cell):\n",
                "| loss | n - k | percentile 80 / 90 / 95 | BCa 80 / 90 / 95 | resamples not converged |",
                "|---|---|---|---|---|"]
        for c in r["cells"]:
            cov = c["coverage"]
            pct = " / ".join(f"{100 * cov[f'percentile {lv}']:.1f}" for lv in LEVELS)
            bca = " / ".join(f"{100 * cov[f'bca {lv}']:.1f}" for lv in LEVELS)
            out.append(f"| {c['loss']} | {c['df']} | {pct} | {bca} | "
                       f"{c['failed_draws'] / (c['sims'] * c['n_boot']):.1%} |")
    out += _render_bands(res_dir)
    return "\n".join(out)


def _render_bands(res_dir) -> list:
    """The tables of bench_calibration_bands.py's parts (chain bands, the isoFLOP exponent)."""
    out = []
    pc = lambda cov: " / ".join(f"{100 * cov[str(lv)]:.1f}" for lv in LEVELS)  # noqa: E731
    p = res_dir / "calibration_chain.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += [f"\nChain bands (`bench_calibration_bands.py --part chain`: {r['design']}; n - k = 12; "
                f"{r['n_draws']} joint draws, {r['sims']} data sets):\n",
                "| band | where | coverage 80 / 90 / 95 |", "|---|---|---|"]
        out += [f"| {row['quantity']} | {row['where']} | {pc(row['coverage'])} |" for row in r["rows"]]
    p = res_dir / "calibration_bootstrap_chinchilla.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += [f"\nPercentile against BCa bootstrap intervals at the issue's textbook design (`--part "
                f"bootstrap_chinchilla`: {r['design']}; {r['n_boot']} resamples, {r['used']} data sets):\n",
                "| quantity | percentile 80 / 90 / 95 | BCa 80 / 90 / 95 |", "|---|---|---|"]
        for q in ("alpha", "beta", "a"):
            out.append(f"| {q} | {pc(r['coverage'][q + ' percentile'])} | {pc(r['coverage'][q + ' bca'])} |")
    p = res_dir / "calibration_isoflop.json"
    if p.exists():
        r = json.loads(p.read_text())
        out += [f"\nThe isoFLOP exponent a (`--part isoflop`: {r['design']}; {r['n_boot']} resamples, "
                f"{r['sims']} data sets):\n", "| interval | coverage 80 / 90 / 95 |", "|---|---|",
                f"| percentile bootstrap through both stages | {pc(r['coverage'])} |",
                f"| design-simulated (`--bias 200`) | {pc(r['coverage_simulated'])} |"]
    return out


def _row(c) -> str:
    """A README table row: loss, noise, n - k, coverage at 80/90/95 (or refused), reference."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.0f}"

    held = [f"{c[k]} {k}" for k in ("refused", "flagged") if c.get(k)]
    if not c["used"]:
        cov = f"{' / '.join(held)} (of {c['sims']})"
    else:
        cov = " / ".join(pct(c["coverage"][str(lv)]) for lv in LEVELS)
        if held:
            cov += f" ({', '.join(held)})"
    ref = " / ".join(pct(c["reference"][str(lv)]) for lv in LEVELS) if c["reference"] else "-"
    ratio = "-" if c["se_over_sd"] is None else f"{c['se_over_sd']:.2f}"
    mc = "-" if c["mc_se_90"] is None else f"{100 * c['mc_se_90']:.1f}"
    return f"| {c['name']} | {c['noise']} | {c['df']} | {cov} | {mc} | {ratio} | {ref} |"


if __name__ == "__main__":
    main()
