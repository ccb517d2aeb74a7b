"""Fits inside jit/vmap/grad: implicit derivatives agree with finite differences of refits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlaws as jl
from conftest import chinchilla_design

# A small grid keeps compile times low; it contains good basins for this synthetic data.
GRID = jl.grid(space="unconstrained", E=[0.0, 0.5], A=[4.0, 7.0], B=[4.0, 8.0], alpha=[0.2, 0.5], beta=[0.2, 0.5])


@pytest.fixture(scope="module")
def data():
    truth = jl.laws.chinchilla.coefficient_set("besiroglu2024")
    N, D = chinchilla_design(n_sizes=10)
    rng = np.random.default_rng(5)
    y = np.asarray(jl.laws.chinchilla(truth, N, D)) * np.exp(0.005 * rng.standard_normal(N.shape))
    return {"N": jnp.asarray(N), "D": jnp.asarray(D)}, jnp.asarray(y)


def _alpha(X, y, w, loss):
    return jl.fit_arrays("chinchilla", X, y, w, starts=GRID, loss=loss)["alpha"]


@pytest.mark.parametrize("loss", [jl.huber(1e-2), jl.squared()], ids=["huber", "squared"])
def test_grad_wrt_weights_and_targets_matches_finite_differences(data, loss):
    X, y = data
    w = jnp.ones_like(y)
    f = jax.jit(lambda w, y: _alpha(X, y, w, loss))
    gw = jax.grad(f, argnums=0)(w, y)
    gy = jax.grad(f, argnums=1)(w, y)
    # Steps large enough that refit noise (~1e-12 in alpha) is negligible, small enough
    # that the O(h^2) central-difference error is too.
    hw, hy = 1e-3, 1e-4
    for i in (0, 7, 23, 39):
        e = jnp.zeros_like(w).at[i].set(1.0)
        fd_w = (f(w + hw * e, y) - f(w - hw * e, y)) / (2 * hw)
        fd_y = (f(w, y + hy * e) - f(w, y - hy * e)) / (2 * hy)
        assert float(gw[i]) == pytest.approx(float(fd_w), rel=1e-5)
        assert float(gy[i]) == pytest.approx(float(fd_y), rel=1e-5)


def test_vmap_over_weight_vectors_matches_separate_fits(data):
    X, y = data
    rng = np.random.default_rng(0)
    W = jnp.asarray(rng.multinomial(y.shape[0], np.ones(y.shape[0]) / y.shape[0], size=3).astype(float))
    batched = jax.jit(jax.vmap(lambda w: jl.fit_arrays("chinchilla", X, y, w, starts=GRID)))(W)
    for b in range(3):
        single = jl.fit("chinchilla", {"N": np.asarray(X["N"]), "D": np.asarray(X["D"]), "loss": np.asarray(y)},
                        weights=np.asarray(W[b]), starts=GRID)
        for k in single.params:
            assert float(batched[k][b]) == pytest.approx(single.params[k], rel=1e-8)


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_derived_quantity_gradient_through_fit(data):
    """d a / d w for Chinchilla's a = beta/(alpha+beta) is finite and matches FD."""
    X, y = data
    law = jl.laws.chinchilla

    def a_of(w):
        p = jl.fit_arrays(law, X, y, w, starts=GRID, loss=jl.huber(1e-2))
        return law.derived["a"](p)

    w = jnp.ones_like(y)
    g = jax.jit(jax.grad(a_of))(w)
    assert np.all(np.isfinite(np.asarray(g)))
    h = 1e-3
    e = jnp.zeros_like(w).at[3].set(1.0)
    fd = (a_of(w + h * e) - a_of(w - h * e)) / (2 * h)
    assert float(g[3]) == pytest.approx(float(fd), rel=1e-5)
