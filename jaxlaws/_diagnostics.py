"""How well the data determine a fit: the Hessian at the optimum and its weak directions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._constraints import Positive
from ._identify import condition_number
from ._util import x64


@x64
def diagnostics(f, threshold: float = 1e6) -> dict:
    """Hessian of the objective at the optimum of fit ``f`` in the law's unconstrained coordinates.

    Returns the condition number, eigenvalues, and the eigenvectors of the smallest ones as
    ``{param: weight}`` dicts: a weak direction mixing e.g. ``A`` and ``alpha`` says the data
    pin a combination of them, not each one.

    The raw condition number depends on the parameters' units (the healthy 240-point
    Chinchilla fit: ~1e7, because log A and alpha trade off), so it cannot tell a healthy fit
    from a broken one. ``standardised_condition_number`` is that of the Hessian scaled to a
    unit diagonal (the correlation form: invariant to rescaling any parameter): ~1e5 for the
    healthy Chinchilla fit, 1e7 and beyond for fits the data cannot determine.
    ``ill_conditioned`` is ``standardised_condition_number > threshold``.
    """
    prep = f.prepared
    problem = prep.problem
    law = problem.law
    fi = problem.free_idx
    names = [k for i, k in enumerate(law.param_names) if fi is None or i in fi]
    args = prep.args()
    full_user = jnp.asarray(f.theta)

    def obj_user(theta_user_free):
        full = theta_user_free if fi is None else full_user.at[jnp.asarray(fi)].set(theta_user_free)
        return jnp.sum(problem.per_point(problem.free(problem.to_fit(full, prep.aux)), args))

    H = np.asarray(jax.hessian(obj_user)(problem.free(full_user)))
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    cond = condition_number(lam)
    s = np.sqrt(np.maximum(np.abs(np.diag(H)), 1e-300))
    cond_s = condition_number(np.linalg.eigvalsh(0.5 * (H + H.T) / np.outer(s, s)))
    weak = []
    for j in np.argsort(np.abs(lam))[:2]:
        v = V[:, j] / np.abs(V[:, j]).max()
        weak.append({k: round(float(c), 4) for k, c in zip(names, v) if abs(c) > 0.05})
    coords = [f"log {k}" if isinstance(law.params[k], Positive) else k for k in names]
    return {"hessian": H, "eigenvalues": lam, "condition_number": cond, "standardised_condition_number": cond_s,
            "weak_directions": weak, "ill_conditioned": cond_s > threshold, "coordinates": coords}
