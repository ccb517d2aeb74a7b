"""How fitting choices move the Chinchilla conclusion (the (Mis)Fitting survey's spread), which
runs drive it, and how well a fit below 1e21 FLOPs extrapolates.

    python examples/sensitivity_study.py
"""

import warnings

import pandas as pd

import jaxlaws as jl
from _shared import QUICK, shared_file

warnings.simplefilter("ignore", jl.ConvergenceWarning)
pd.set_option("display.width", 160)
df = pd.read_csv(shared_file("chinchilla_epoch.csv"))

choices = {"loss": ["huber", "squared"], "delta": [1e-3, 1e-2], "residual": ["log", "raw"], "drop_top": [0, 5],
           "max_compute": [None, 1e21]}
if QUICK:  # CI smoke test: 4 specifications
    choices = {"loss": ["huber", "squared"], "drop_top": [5], "max_compute": [None, 1e21]}
tab = jl.ablate("chinchilla", df, choices, derived={"a": ("a", {}), "D/N": ("tokens_per_param", {"C": 5.88e23})})
for col in ("delta", "residual", "drop_top", "max_compute"):
    if col not in tab:
        tab[col] = {"delta": 1e-3, "residual": "log", "drop_top": 0, "max_compute": None}[col]
tab.loc[tab.loss == "squared", "delta"] = float("nan")  # delta does not apply to squared error
print(f"D/N at C = 5.88e23 across {len(tab)} specifications:")
print(tab[["loss", "delta", "residual", "drop_top", "max_compute", "n_points", "alpha", "beta", "a", "D/N", "status"]]
      .sort_values("D/N").to_string(index=False, float_format=lambda x: f"{x:.4g}"))
hof = jl.compute_optimal("chinchilla", "hoffmann2022", 5.88e23).tokens_per_param[0]
print(f"\nwith Hoffmann et al.'s rounded coefficients: D/N = {hof:.1f}")
print("survey: ~18 (log-Huber), ~6-7 (squared error or Huber on raw loss, runs below 1e21), ~93 (rounded coefficients)")

clean = df[df.loss < df.loss.sort_values().iloc[-5]].reset_index(drop=True)
fit = jl.fit("chinchilla", clean)
s = fit.summary()
print(f"\nHessian condition number (log E, log A, log B, alpha, beta): {s.condition_number.iloc[0]:.3g}; "
      f"weakest direction: {s.attrs['weak_directions'][0]}")
inf = jl.influence(fit, derived={"D/N": ("tokens_per_param", {"C": 5.88e23})})
t = inf.table()
t["N"], t["D"], t["loss"] = clean.N.values[t.removed], clean.D.values[t.removed], clean.loss.values[t.removed]
print("\nthe five runs whose removal moves D/N at 5.88e23 most (one-step influence, no refits):")
print(t.reindex(t["d_D/N"].abs().sort_values(ascending=False).index)[["removed", "N", "D", "loss", "d_alpha", "d_beta", "d_D/N"]]
      .head(5).to_string(index=False, float_format=lambda x: f"{x:.4g}"))

f_low, held = jl.extrapolate("chinchilla", clean, cutoff=1e21)
print(f"\nextrapolation: fit on {held.attrs['summary']['n_train']} runs below 1e21 FLOPs, predict the "
      f"{held.attrs['summary']['n_heldout']} above: MAE(log) {held.attrs['summary']['mae_log']:.4f}, "
      f"RMSE(log) {held.attrs['summary']['rmse_log']:.4f}")
held["C"] = 6 * held.N * held.D
print(held.sort_values("C")[["N", "D", "C", "loss", "predicted", "rel_error"]].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
for name, law in (("chinchilla", "chinchilla"), ("kaplan", "kaplan")):
    f = jl.fit(law, clean)
    ic = jl.information_criteria(f)
    _, h = jl.extrapolate(law, clean, cutoff=1e21)
    print(f"{name:>10}: AIC {ic['aic']:.1f}, BIC {ic['bic']:.1f}, held-out RMSE(log) {h.attrs['summary']['rmse_log']:.4f}")
