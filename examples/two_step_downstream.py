"""Gadre et al. (2024)'s two-step prediction with built-in laws: loss, then downstream error.

The recipe (their Section 3): fit the over-training law L(C, M) = E + (a M^eta + b M^-eta) C^-eta
to small runs (four sizes at M = 20 tokens per parameter, the two smallest also over-trained to
M = 640), fit the link Err(L) = epsilon - k exp(-gamma L) to the same runs' (loss, average top-1
error) pairs, and predict two large runs they then trained: 1.4B parameters over-trained 32x
(M = 640, 896B tokens) and 6.9B at M = 20 (138B tokens). Their released data are not in this
repository, so the runs here are simulated from a known truth with their design (noise: 1% on
the loss, 0.5 points on the error); the "observed" large runs are the truth plus the same noise.

``jl.chain`` bootstraps both stages jointly (the same runs feed both: ``runs=``) in one compiled
call and prints each prediction's relative error and whether the observed value is inside the
band. Run: ``python examples/two_step_downstream.py [--quick]``.
"""

import sys

import numpy as np
import pandas as pd

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402

QUICK = "--quick" in sys.argv
# truth: Chinchilla-like exponents alpha = beta = 2 eta = 0.3 (A = a 6^-eta = 200, B = b 6^-eta = 500)
ETA = 0.15
TRUTH = {"E": 1.8, "a": 200 * 6**ETA, "b": 500 * 6**ETA, "eta": ETA}
LINK = {"epsilon": 0.85, "k": 3.0, "gamma": 0.7}
ot = jl.laws.overtraining
err = jl.laws.downstream_error


def runs_at(N, M, rng):
    N, M = np.asarray(N, float), np.asarray(M, float)
    C = 6 * N * (N * M)
    loss = np.asarray(ot(TRUTH, C, M)) * np.exp(0.01 * rng.standard_normal(N.size))
    error = np.asarray(err(LINK, loss)) + 0.005 * rng.standard_normal(N.size)
    return pd.DataFrame({"N": N, "M": M, "C": C, "loss": loss, "err": error})


rng = np.random.default_rng(2024)
sizes = [0.011e9, 0.079e9, 0.154e9, 0.411e9]
design = [(n, 20.0) for n in sizes] + [(n, m) for n in sizes[:2] for m in (40, 80, 160, 320, 640)]
small = runs_at([d[0] for d in design], [d[1] for d in design], rng)
small.insert(0, "run", [f"{n / 1e9:.3f}B x{m:g}" for n, m in design])
big = runs_at([1.4e9, 6.9e9], [640.0, 20.0], rng)
big.insert(0, "run", ["1.4B x640 (896B tokens)", "6.9B x20 (138B tokens)"])

loss_fit = jl.fit("overtraining", small)  # the law's own recipe: Gadre's least squares and start grid
link_fit = jl.fit("downstream_error", small, y="err", columns={"L": "loss"})  # the link reads the loss column
res = jl.chain(loss_fit, link_fit, big[["run", "C", "M"]], n=200 if QUICK else 2000, runs=(small.run, small.run))
tab = res.table(level=0.9)
tab["observed_loss"], tab["observed_err"] = big.loss.values, big.err.values
tab["loss_rel_error"] = tab.loss / tab.observed_loss - 1
tab["err_rel_error"] = tab.estimate / tab.observed_err - 1
tab["inside"] = (tab["lower_0.9"] <= tab.observed_err) & (tab.observed_err <= tab["upper_0.9"])
total = float(small.C.sum())
print(f"fit on {len(small)} runs ({total:.3g} FLOPs); predicting runs of {big.C.max():.3g} FLOPs "
      f"({big.C.max() / total:.0f}x the whole fit set)")
print(f"loss law: {loss_fit.status}, eta = {loss_fit.params['eta']:.4f} (truth {ETA});  "
      f"link: {link_fit.status}, gamma = {link_fit.params['gamma']:.3f} (truth {LINK['gamma']})")
cols = ["run", "loss", "observed_loss", "loss_rel_error", "estimate", "lower_0.9", "upper_0.9", "observed_err",
        "err_rel_error", "inside", "n_used"]
print(tab[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"))
print(f"relative errors: loss {np.abs(tab.loss_rel_error).max():.2%} at most, downstream error "
      f"{np.abs(tab.err_rel_error).max():.2%} at most ({res.n_draws} joint draws)")
