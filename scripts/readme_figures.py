"""Regenerate the figures the README shows (docs/figures/*.png) from the project's own demo
data: the fit's five figures, the isoFLOP analysis and a specification curve.
Usage: ``python scripts/readme_figures.py`` (about a minute on 2 CPU cores)."""

import os
import sys
import warnings

import numpy as np

import jaxlaws as jl
from jaxlaws import _plots, _plots_study

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "figures")


def main():
    os.makedirs(OUT, exist_ok=True)
    _plots.configure(fmt="png", dpi=110)
    df = jl.example_data()["runs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.ConvergenceWarning)
        fit = jl.fit("chinchilla", df)
        boot = jl.bootstrap("chinchilla", df, n=1000, seed=0, full_fit=fit)
        iso = jl.isoflop(df, n=1000, seed=0, target=1e24)
        tab = jl.ablate("chinchilla", df, {"loss": ["huber", "squared"], "residual": ["log", "raw"],
                                           "drop_top": [0, 5], "max_compute": [1e21, None]},
                        derived={"D/N": ("tokens_per_param", {"C": 5.88e23})})
    paths = _plots.fit_figures(OUT, df, fit, boot)
    paths += [_plots_study.isoflop_profiles(os.path.join(OUT, "isoflop_profiles.png"), iso),
              _plots_study.isoflop_optima(os.path.join(OUT, "isoflop_optima.png"), iso),
              _plots_study.specification_curve(os.path.join(OUT, "specification_curve.png"), tab)]
    for p in paths:
        print(f"wrote {os.path.relpath(p)} ({os.path.getsize(p) / 1e3:.0f} kB)")
    return 0 if np.all([os.path.getsize(p) > 0 for p in paths]) else 1


if __name__ == "__main__":
    sys.exit(main())
