"""The Chinchilla replication, with Besiroglu et al.'s (Epoch AI's) numbers side by side.

    python examples/chinchilla_replication.py [--quick]

1. Fit Hoffmann et al.'s law to Epoch's 240 digitised points with Hoffmann's 4500-start grid.
2. Besiroglu et al.'s bootstrap protocol (seed 42, 4000 resamples, one start each).
3. The full-grid bootstrap: every resample screens the whole 4500-start grid; standard errors
   and intervals for the parameters, for a = beta/(alpha+beta) and for D/N at C = 5.88e23.
(--quick: 400 resamples in step 2, 100 in step 3.)
"""

import warnings

import pandas as pd

import jaxlaws as jl
from _shared import QUICK, shared_file

warnings.simplefilter("ignore", jl.ConvergenceWarning)
df = pd.read_csv(shared_file("chinchilla_epoch.csv"))
df = df[df.loss < df.loss.sort_values().iloc[-5]].reset_index(drop=True)  # Epoch drops the 5 highest-loss runs

fit = jl.fit("chinchilla", df)
epoch_fit = {"E": 1.81724, "A": 477.84, "B": 2143.86, "alpha": 0.347313, "beta": 0.367183}
print(f"1. fit on {fit.n_points} points, objective {fit.objective:.13g} (Epoch's grid fit: 1.0182740346e-3)")
print(f"{'':>8} {'jaxlaws':>12} {'Epoch':>12}")
for k, v in fit.params.items():
    print(f"{k:>8} {v:>12.6g} {epoch_fit[k]:>12.6g}")

n = 400 if QUICK else 4000
start = jl.laws.chinchilla.coefficient_set("hoffmann2022_unrounded")
ep = jl.bootstrap("chinchilla", df, n=n, seed=42, method="epoch", strategy="single", start=start, full_fit=fit)
epoch_se = {"A": 124.52, "B": 1293.28, "E": 0.0257, "alpha": 0.0154, "beta": 0.0206}
epoch_iv = {"A": "285.21-743.63", "B": "1042.36-5810.34", "E": "1.769-1.871", "alpha": "0.317-0.373", "beta": "0.331-0.415"}
print(f"\n2. Besiroglu et al.'s protocol: {n} resamples, {ep.timings['resamples_s']:.2f} s")
print(f"{'':>8} {'SE':>10} {'Epoch SE':>10} {'95% interval':>22} {'Epoch':>18}")
for k in ("A", "B", "E", "alpha", "beta"):
    iv = ep.interval(k)
    print(f"{k:>8} {iv.se:>10.4g} {epoch_se[k]:>10.4g} {f'{iv.lower:.5g}-{iv.upper:.5g}':>22} {epoch_iv[k]:>18}")

n = 100 if QUICK else 4000
gb = jl.bootstrap("chinchilla", df, n=n, seed=0, strategy="grid", full_fit=fit)
print(f"\n3. full-grid bootstrap: {n} resamples x 4500 starts, {gb.timings['resamples_s']:.1f} s, "
      f"{gb.n_resamples - gb.n_failed} converged")
rows = [("E", {}), ("A", {}), ("B", {}), ("alpha", {}), ("beta", {}), ("a", {}), ("tokens_per_param", {"C": 5.88e23})]
print(f"{'':>18} {'estimate':>10} {'SE':>9} {'95% interval':>22} {'80% interval':>22}")
for name, kw in rows:
    i95, i80 = gb.interval(name, level=0.95, **kw), gb.interval(name, level=0.8, **kw)
    label = "D/N at 5.88e23" if kw else name
    print(f"{label:>18} {i95.estimate:>10.4g} {i95.se:>9.3g} {f'[{i95.lower:.4g}, {i95.upper:.4g}]':>22} "
          f"{f'[{i80.lower:.4g}, {i80.upper:.4g}]':>22}")
print("Epoch: a = 0.513 +- 0.020; D/N = 18.3 with an 80% band of about [10.9, 31.3]")
