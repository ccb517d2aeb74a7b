"""Fits inside your own JAX code: jit, vmap over weight vectors, and grad through the optimum.

    python examples/jax_embedding.py

Differentiating a fitted exponent with respect to per-run weights tells you which runs the
conclusion leans on; vmapping the fit over weight vectors is a bootstrap in one line.
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxlaws as jl
from _shared import QUICK

# These lines compute with JAX directly (law functions, jit/vmap/grad of fits): they
# need float64, which jaxlaws enables only inside its own entry points.
jax.config.update("jax_enable_x64", True)

df = jl.example_data()["runs"]  # the demo's synthetic isoFLOP runs
X = {"N": jnp.asarray(df.N.values), "D": jnp.asarray(df.D.values)}
y = jnp.asarray(df.loss.values)
law = jl.laws.chinchilla


@jax.jit
def exponent_a(w):
    p = jl.fit_arrays(law, X, y, w)  # one multi-start fit, differentiable in w and y
    return law.derived["a"](p)


w = jnp.ones_like(y)
a, grad_w = jax.value_and_grad(exponent_a)(w)
print(f"a = beta/(alpha+beta) = {float(a):.4f}")
top = np.argsort(-np.abs(np.asarray(grad_w)))[:5]
print("runs with the largest d a / d weight (implicit differentiation at the optimum):")
for i in top:
    print(f"  run {i:2d}: N = {df.N[i]:.3g}, D = {df.D[i]:.3g}, outlier = {bool(df.outlier[i])}, d a / d w = {float(grad_w[i]):+.5f}")

# check one entry against finite differences of refits
i = int(top[0])
h = 1e-3
e = jnp.zeros_like(w).at[i].set(h)
fd = (exponent_a(w + e) - exponent_a(w - e)) / (2 * h)
print(f"finite difference for run {i}: {float(fd):+.5f}")

# a bootstrap as vmap over weight vectors
W = jnp.asarray(jl.resample_weights(len(df), "ordinary", 40 if QUICK else 200, seed=0))
a_boot = jax.jit(jax.vmap(exponent_a))(W)
print(f"bootstrap via vmap: a = {float(a):.4f} +- {float(jnp.std(a_boot, ddof=1)):.4f} over {W.shape[0]} resamples")
