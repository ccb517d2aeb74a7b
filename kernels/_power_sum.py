"""Sum-of-power-laws objective with an analytic gradient and Hessian.

For ``log pred = LSE(z_1, ..., z_K, z_E)`` with ``z_k = theta[c_k] - theta[e_k] * x_k`` (``x_k``
a centred log input) and ``z_E = theta[c_E]``, the per-point residual ``r = log pred - y`` has

    grad r   = sum_k s_k grad z_k                      (s = softmax(z))
    hess r   = sum_k s_k grad z_k grad z_k^T - grad r grad r^T

and ``grad z_k`` has just two non-zeros (+1 at ``c_k``, ``-x_k`` at ``e_k``). So the Hessian of
``sum_i w_i rho(r_i)`` is ``J^T diag(w (rho'' - rho')) J`` plus K rank-structured 2x2 blocks,
about 4x cheaper than forward-over-reverse autodiff on the Chinchilla problem. Used for
every Newton iteration of every start of every resample, so it is the hot path.

``rho'`` and ``rho''`` are derived from the loss function itself (``derivatives``), so any
loss gets its exact derivatives here, as in the autodiff path.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._losses import derivatives
from ._lse import lse
from ._objective import Objective, weighted_sum


def power_sum_objective(terms, const_index, n_params, rho, mean: bool = False) -> Objective:
    """The objective for ``args = (xs, y, w, lp)``, ``xs`` a tuple of the K centred log inputs.

    ``terms`` is a tuple of ``(coefficient_index, exponent_index)`` pairs into ``theta``;
    ``const_index`` is the index of ``log E`` (or ``None``); ``rho(r, lp)`` the loss.
    """
    terms = tuple(terms)
    rho1, rho2 = derivatives(rho)

    def _z(theta, xs):
        zs = [theta[c] - theta[e] * x for (c, e), x in zip(terms, xs)]
        if const_index is not None:
            zs.append(jnp.broadcast_to(theta[const_index], zs[0].shape))
        return zs

    def value(theta, args):
        xs, y, w, lp = args
        return weighted_sum(rho(lse(*_z(theta, xs)) - y, lp), w, mean)

    def vgh(theta, args):
        xs, y, w, lp = args
        zs = _z(theta, xs)
        # The log-sum-exp written out so its exps double as the softmax weights.
        m = zs[0]
        for z in zs[1:]:
            m = jnp.maximum(m, z)
        ez = [jnp.exp(z - m) for z in zs]
        tot = sum(ez)
        r = m + jnp.log(tot) - y
        psi, dpsi = rho1(r, lp), rho2(r, lp)
        live = w != 0
        # A mean objective scales every point's weight by 1 / sum(w).
        wn = w / jnp.sum(w) if mean else w
        f = weighted_sum(rho(r, lp), w, mean)
        # Materialise the per-point quantities once: without the barrier XLA:CPU fuses
        # (and so recomputes) the exps into each of the ~20 reductions below.
        s, r, psi, dpsi = jax.lax.optimization_barrier(([e / tot for e in ez], r, psi, dpsi))
        b = jnp.where(live, wn * psi, 0.0)
        a = jnp.where(live, wn * dpsi, 0.0) - b
        # Columns of J = grad r, one (n,) array per parameter (most are a single s_k term).
        cols = [None] * n_params
        for k, ((c, e), x) in enumerate(zip(terms, xs)):
            cols[c] = s[k] if cols[c] is None else cols[c] + s[k]
            cols[e] = -s[k] * x if cols[e] is None else cols[e] - s[k] * x
        if const_index is not None:
            c = const_index
            cols[c] = s[-1] if cols[c] is None else cols[c] + s[-1]
        cols = [jnp.zeros_like(r) if col is None else col for col in cols]
        # Explicit reductions rather than batched tiny matmuls: under vmap XLA:CPU fuses
        # these into a few passes over the data, where a (p, n) @ (n, p) per member is slow.
        g = jnp.stack([jnp.sum(b * col) for col in cols])
        extra = {}
        for k, ((c, e), x) in enumerate(zip(terms, xs)):
            bs = b * s[k]
            for key, val in (((c, c), bs), ((c, e), -bs * x), ((e, e), bs * x * x)):
                extra[key] = extra.get(key, 0.0) + val
        if const_index is not None:
            key = (const_index, const_index)
            extra[key] = extra.get(key, 0.0) + b * s[-1]
        rows = [[None] * n_params for _ in range(n_params)]
        for i in range(n_params):
            for j in range(i, n_params):
                term = a * cols[i] * cols[j]
                if (i, j) in extra:
                    term = term + extra[(i, j)]
                rows[i][j] = rows[j][i] = jnp.sum(term)
        H = jnp.stack([jnp.stack(row) for row in rows])
        return f, g, H

    return Objective(value, vgh)
