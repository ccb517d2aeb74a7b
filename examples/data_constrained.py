"""Data-constrained scaling (Muennighoff et al. 2023): the published law, its allocation example,
and a refit of the repetition half-lives R_D*, R_N* on the authors' 182 curated runs.

    python examples/data_constrained.py
"""

import warnings

import jax
import numpy as np
import pandas as pd

import jaxlaws as jl
from _shared import shared_file

# These lines compute with JAX directly (law functions, jit/vmap/grad of fits): they
# need float64, which jaxlaws enables only inside its own entry points.
jax.config.update("jax_enable_x64", True)

warnings.simplefilter("ignore", jl.ConvergenceWarning)
law = jl.laws.data_constrained
p = law.coefficient_set("muennighoff2023")
print("published law, datablations README values:")
print(f"  L(6.34e9, 242e9, U=25e9) = {float(law(p, 6.34e9, 242e9, 25e9)):.16f}  (README: 2.2256440889984477)")
print(f"  L(8.67e9, 178e9, U=25e9) = {float(law(p, 8.67e9, 178e9, 25e9)):.16f}  (README: 2.2269634075087867)")

C = 6 * 8.67e9 * 178e9
a = jl.compute_optimal(law, p, C, inputs={"U": 25e9})
print(f"\ncompute of 8.67e9 params x 178e9 tokens on 25e9 unique tokens (C = {C:.3g}):")
print(f"  jaxlaws optimum: N = {a.N[0] / 1e9:.2f}B, D = {a.D[0] / 1e9:.1f}B tokens, {a.D[0] / 25e9:.2f} epochs, loss {a.loss[0]:.10f}")
print("  README (grid search):  6.8B, 227B tokens, 9.1 epochs")
for U in (1e9, 25e9, 100e9, 1e12):
    b = jl.compute_optimal(law, p, C, inputs={"U": U})
    print(f"  U = {U:8.0e}: N = {b.N[0] / 1e9:6.2f}B, D = {b.D[0] / 1e9:7.1f}B, epochs {b.D[0] / U:7.2f}, loss {b.loss[0]:.4f}")

df = pd.read_csv(shared_file("muennighoff_data_constrained", "runs.csv"))
d = df[df.in_final_fit == 1].reset_index(drop=True)
cols = {"N": "params_N", "D": "tokens_D", "U": "unique_tokens_U"}
fixed = {k: p[k] for k in ("E", "A", "B", "alpha", "beta")}  # stage 2: base law frozen, as the authors did
pred = np.asarray(law(p, d.params_N.values, d.tokens_D.values, d.unique_tokens_U.values))
obj = float(np.sum(jl.kernels.LOSSES['huber'].rho(np.log(pred) - np.log(d.val_loss.values), np.array([1e-3]))))
print(f"\nstage-2 objective at the published R_D*, R_N* on the {len(d)} curated runs: {obj:.7f} (stored: 0.0158259)")
local = jl.fit(law, d, y="val_loss", columns=cols, fixed=fixed, starts=jl.grid(R_D=[15.0], R_N=[5.0]))
g = np.linspace(0, 20, 4)
g[0] = 1e-3
wide = jl.fit(law, d, y="val_loss", columns=cols, fixed=fixed, starts=jl.grid(R_D=g, R_N=g))
print(f"  refit from the published basin: R_D* = {local.params['R_D']:.3f}, R_N* = {local.params['R_N']:.3f}, objective {local.objective:.7f}")
print(f"  refit from the authors' 4x4 init grid: R_D* = {wide.params['R_D']:.2f}, R_N* = {wide.params['R_N']:.3f}, objective {wide.objective:.7f}")
print("  (the objective is flat along R_D*; a converged solver finds a lower point than the published one)")
