"""Goyal et al. (2024): scaling laws for data filtering, with utility that decays per repetition.

The law describes how a model's error falls with the samples it has seen when its training
pool is small enough to be repeated. In the first pass over a pool of P samples the error is
``y = (a n / 1e5)^b + d`` (b < 0: more samples, lower error). Every further pass is worth
less: in epoch ``k`` (counting from 0) the pool's utility exponent is ``b_k = b 2^(-k/tau)``,
so ``tau`` is the half-life of a sample's utility in epochs. Each epoch multiplies the error
by ``(n_k / n_{k-1})^(b_k)``, the growth of samples seen during that epoch raised to that
epoch's utility. Written out, with ``K = floor(n / P)`` completed epochs:

    y(n, P) = ((a min(n, P) / 1e5)^b + d) * prod_{k=1..K} (min((k + 1) P, n) / (k P))^(b_k)

This is the authors' ``func_effective_utility`` (locuslab/scaling_laws_data_filtering,
``objective.py``), including two details of that code: ``d`` is added before the per-epoch
factors multiply (so the floor decays too), and ``a n`` is divided by 1e5, so the published
``a`` values apply unchanged.

A union of ``m`` equal pools (e.g. the top 10% and the next 10% of a filtered web crawl) is
evaluated as the authors' ``estimate_best_pool.py`` does: the pool size is ``m P``, each
pool's half-life is multiplied by ``m``, and the utility of epoch ``k`` is the mean over pools
of ``b_i 2^(-k / (m tau_i))`` (``func_effective_utility_aggregation``). Comparing unions of
the best 1, 2, ... pools at each sample budget gives the paper's central claim: aggressive
filtering wins at small compute and loses at large compute, when its few samples repeat
too often.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .._constraints import bounded, positive
from .._errors import OptionError
from .._law import CoefficientSet, Law
from .._starts import grid
from ..kernels import lse

CITATION = """\
@inproceedings{goyal2024scaling,
  title     = {Scaling Laws for Data Filtering -- Data Curation cannot be Compute Agnostic},
  author    = {Goyal, Sachin and Maini, Pratyush and Lipton, Zachary C. and Raghunathan, Aditi and
               Kolter, J. Zico},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2024},
  note      = {arXiv:2404.07177}
}"""

# The authors' objective.py divides the (scaled) sample count by this before the power.
NORMALIZER = 1e5
DEFAULT_MAX_EPOCHS = 256


def _log_error(a, b, tau, d, n, P, max_epochs: int):
    """log y for pools with utilities ``b`` and half-lives ``tau`` (last axis: pools, averaged).

    Computed in log space: the first-pass term is LSE(b log(a m / 1e5), log d) and each
    epoch adds ``b_k log(ratio_k)``. The ratio of epoch k is ``clip(n / (k P), 1, (k+1)/k)``:
    (k+1)/k for completed epochs, the partial growth n/(kP) for the running one, and 1 (no
    contribution) for epochs not reached. That closed form replaces the authors' loop over a
    data-dependent number of epochs with a fixed ``max_epochs`` axis, so the law is a pure,
    differentiable array function (reverse-mode autodiff cannot pass through a loop whose
    length depends on the data).
    """
    b = jnp.asarray(b)
    tau = jnp.asarray(tau)
    log_n = jnp.log(n)
    log_P = jnp.log(P)
    b0 = jnp.mean(b, axis=-1)
    # first pass: (a min(n, P) / 1e5)^b + d, as LSE of two logs (no under/overflow for any b)
    z0 = b0 * (jnp.log(a) + jnp.minimum(log_n, log_P) - math.log(NORMALIZER))
    first = lse(z0, jnp.broadcast_to(jnp.log(d), jnp.shape(z0)))
    k = jnp.arange(1, max_epochs + 1, dtype=log_n.dtype)
    # decayed utility of epoch k, averaged over pools: mean_i b_i 2^(-k/tau_i); exp2 of a
    # non-positive argument cannot overflow
    b_k = jnp.mean(b[..., None, :] * jnp.exp2(-k[:, None] / tau[..., None, :]), axis=-1)
    log_ratio = jnp.clip(log_n[..., None] - log_P[..., None] - jnp.log(k), 0.0, jnp.log1p(1.0 / k))
    return first + jnp.sum(b_k * log_ratio, axis=-1)


# compiled once per (pools, epoch bound, shapes) rather than op by op when called eagerly
_log_error_jit = jax.jit(_log_error, static_argnums=(6,))


def data_filtering_law(max_epochs: int = DEFAULT_MAX_EPOCHS) -> Law:
    """The single-pool law, able to evaluate runs of up to ``max_epochs`` passes over the pool.

    The built-in ``data_filtering`` uses ``max_epochs = 256``; fitting data with more
    repetitions raises an error naming the rows, so build a law with a larger bound for
    them (the cost of an evaluation is linear in the bound).
    """
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
        raise OptionError(f"max_epochs must be a positive integer, got {max_epochs!r}")
    K = int(max_epochs)

    def log_fn(p, n, P):
        return _log_error(p["a"], jnp.asarray(p["b"])[..., None], jnp.asarray(p["tau"])[..., None], p["d"], n, P, K)

    def fn(p, n, P):
        return jnp.exp(log_fn(p, n, P))

    def check(X):
        return X["n"] / X["P"] > K, (
            f"{{n}} / {{P}} is more than max_epochs={K} passes over the pool; use "
            f"jaxlaws.laws.data_filtering_law(max_epochs=...) with a larger bound"
        )

    return Law(
        fn,
        name="data_filtering", form_status="verified",
        source="Goyal et al. 2024, authors' objective.py (func_effective_utility); matches their recursion to 1e-12",
        inputs=("n", "P"),
        params={"a": positive(), "b": bounded(-3.0, 0.0), "tau": positive(), "d": positive()},
        log_fn=log_fn,
        input_check=check,
        # a bucket's learning curve has one pool size; epochs still vary through n
        constant_ok=("P",),
        starts=grid(a=[0.003, 0.03, 0.3], b=[-0.4, -0.2, -0.1, -0.05], tau=[1.0, 4.0, 16.0], d=[0.03, 0.1, 0.3]),
        citation=CITATION,
        coefficients=_published(),
        derived={
            "utility": lambda p, k: p["b"] * 2.0 ** (-jnp.asarray(k) / p["tau"]),
            "epochs": lambda p, n, P: jnp.asarray(n) / jnp.asarray(P),
        },
        output="error (e.g. 1 - zero-shot ImageNet accuracy)",
        description=(
            "Data filtering with repetition decay (Goyal et al. 2024): error after n samples from a "
            "pool of P samples, y = ((a min(n, P)/1e5)^b + d) * prod_{k=1..floor(n/P)} "
            "(min((k+1)P, n)/(kP))^(b 2^(-k/tau)).\n\n"
            "Inputs: n = samples seen (not unique), P = samples per epoch (the pool's size). "
            "Parameters: b < 0 the pool's utility on its first pass (more negative = better data), "
            "tau the half-life of that utility in epochs, d the floor, a a sample scale (the code "
            "divides a n by 1e5, so the published a applies). The authors fixed d = 0.1 and a "
            "shared a across pools and grid-searched b and tau: fit with fixed={'d': 0.1} to "
            "follow them. Unions of pools: jaxlaws.laws.data_filtering_mixture."
        ),
        example=(
            {"a": 0.025, "b": -0.16, "tau": 6.7272727272727275, "d": 0.1},
            _design,
        ),
    )


# Per-pool fits of the authors' results/parameter_values.jsonl, key "tmars_imagenet1k_utility":
# T-MARS-scored DataComp pools (top 0-10%, 10-20%, 20-30%, 30-40% of the 128M-sample pool),
# ImageNet zero-shot error, a shared (0.025) and d fixed (0.1).
_TMARS = (
    ("top0to10p", -0.16, 6.7272727272727275),
    ("top10to20p", -0.125, 8.545454545454547),
    ("top20to30p", -0.1, 5.2727272727272725),
    ("top30to40p", -0.085, 2.2727272727272725),
    ("top0to40p_random25p", -0.12000000000000001, 6.0),
)


def _published():
    src = ("locuslab/scaling_laws_data_filtering results/parameter_values.jsonl, id "
           "'tmars_imagenet1k_utility' (b_values, c_values = tau, a_values, d_value)")
    return {
        f"goyal2024_tmars_{name}": CoefficientSet(
            {"a": 0.025, "b": b, "tau": tau, "d": 0.1}, src, "verified",
            "grid-searched per pool with a shared a = 0.025 and d = 0.1 fixed; error = 1 - ImageNet zero-shot accuracy",
            units={"n": "examples", "P": "examples"},
        )
        for name, b, tau in _TMARS
    }


def _design(seed=0):
    """Evaluations along training runs on pools of 3.2M, 12.8M and 51.2M samples, up to 640M seen
    (DataComp-medium scale): 0.1 to 200 epochs."""
    rng = np.random.default_rng(seed)
    P = np.repeat([3.2e6, 12.8e6, 51.2e6], 20)
    n = np.tile(np.geomspace(5e6, 6.4e8, 20), 3) * np.exp(rng.uniform(-0.02, 0.02, 60))
    return {"n": np.minimum(n, 6.4e8), "P": P}


def data_filtering_mixture(b, tau, n, pool_size, *, a, d, max_epochs: int | None = None, scale_tau: bool = True):
    """Error of training on the union of ``m`` equal pools, as the authors' estimate_best_pool.py.

    ``b``, ``tau``: the pools' fitted utilities and half-lives (last axis = pools, length m);
    ``n``: samples seen; ``pool_size``: samples in each pool (the union has ``m *
    pool_size``); ``a``, ``d``: the shared sample scale and floor. With ``scale_tau`` (the
    authors' convention) each half-life is multiplied by ``m``. Pure JAX, so it can be
    vmapped over budgets or bootstrap draws; ``max_epochs`` bounds the passes over the union
    and is required under ``jit`` (otherwise it is taken from the concrete inputs).

    For m = 1 this is exactly the ``data_filtering`` law.
    """
    b = jnp.atleast_1d(jnp.asarray(b, dtype=float))
    tau = jnp.atleast_1d(jnp.asarray(tau, dtype=float))
    if b.shape[-1] != tau.shape[-1]:
        raise OptionError(f"b has {b.shape[-1]} pools but tau has {tau.shape[-1]}")
    m = b.shape[-1]
    P = m * jnp.asarray(pool_size, dtype=float)
    n = jnp.asarray(n, dtype=float)
    try:
        need = int(np.ceil(np.max(np.asarray(n) / np.asarray(P))))
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        # traced inside jit/vmap: the bound must be given
        need = None
    if max_epochs is None:
        if need is None:
            raise OptionError("data_filtering_mixture under jit needs max_epochs=... (a static bound)")
        # rounded up to a power of two: epochs beyond n/P add exactly zero, and nearby
        # budgets then share one compiled program
        max_epochs = 1 << max(need - 1, 0).bit_length()
    elif need is not None and need > max_epochs:
        raise OptionError(f"n / (m * pool_size) reaches {need} epochs, more than max_epochs={max_epochs}")
    tau_eff = tau * m if scale_tau else tau
    return jnp.exp(_log_error_jit(a, b, tau_eff, d, n, P, int(max_epochs)))


data_filtering = data_filtering_law()
