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

import jax

jax.config.update("jax_enable_x64", True)
import jaxlaws as jl  # noqa: E402

QUICK = "--quick" in sys.argv
# the runs: jl.example_data()'s "downstream" (the fit set) and "big" (the runs to predict), simulated
# from a known truth: over-training law with alpha = beta = 2 eta = 0.3, link eps - k exp(-gamma L)
ETA, GAMMA = 0.15, 0.7
tables = jl.example_data()
small, big = tables["downstream"], tables["big"]

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
      f"link: {link_fit.status}, gamma = {link_fit.params['gamma']:.3f} (truth {GAMMA})")
cols = ["run", "loss", "observed_loss", "loss_rel_error", "estimate", "lower_0.9", "upper_0.9", "observed_err",
        "err_rel_error", "inside", "n_used"]
print(tab[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"))
print(f"relative errors: loss {np.abs(tab.loss_rel_error).max():.2%} at most, downstream error "
      f"{np.abs(tab.err_rel_error).max():.2%} at most ({res.n_draws} joint draws)")
