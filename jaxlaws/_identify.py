"""Can the data determine the law? Checks that turn a finite, "converged" point into ``degenerate``.

A solver's convergence test says the gradient vanished, not that the data pin the
parameters. These checks say when they do not, with a reason a researcher can act on:

- *design*, before any fit and for every resample at once (vectorised over a weight
  matrix): fewer weighted points than free parameters plus one (the fit interpolates and
  has no residual to estimate anything from), an input with a single value, or two inputs
  exactly collinear on their fitting scale (``log D = log N + const``, or runs from one
  compute budget where ``log D = log C - log 6 - log N``), so two exponents trade freely;
- *parameters*: a positive coefficient that ran off to 0 or infinity (``|log p| > 100``),
  or any non-finite value: the optimum is at a bound the data do not hold;
- *curvature*: the Hessian at the optimum has a direction with (numerically) zero
  curvature, condition number above ``1e12`` (the healthy 240-point Chinchilla fit: ~1e7 in
  unconstrained coordinates; exactly flat directions: 1e16 and beyond).
"""

from __future__ import annotations

import numpy as np

from ._constraints import Positive, bound_of

MAX_LOG_MAGNITUDE = 100.0  # |log p| beyond this: e^100 ~ 3e43, no scaling-law coefficient is there
FLAT_CONDITION = 1e12  # Hessian condition number at which a direction counts as undetermined
COLLINEAR_TOL = 1e-9  # 1 - |correlation| below this: two inputs are one


def _scale(law, k, x):
    # inputs enter power laws through their logarithms; "real" inputs (bits, scores) as they are
    return np.log(x) if law.input_domains.get(k) == "positive" else np.asarray(x, float)


def design_reasons(law, X, W, n_free: int) -> list[list[str]]:
    """For each row of the weight matrix ``W`` (B, n), why the weighted design cannot identify ``law``."""
    W = np.atleast_2d(np.asarray(W, float))
    live = W > 0
    n_live = live.sum(1)
    out = [[] for _ in range(W.shape[0])]
    for b in np.flatnonzero(n_live <= n_free):
        out[b].append(f"{n_live[b]} weighted points for {n_free} free parameters: the fit interpolates "
                      f"(no residual left to test it)" if n_live[b] else "every weight is zero")
    names = [k for k in law.inputs if k not in law.constant_ok]
    Z = {k: _scale(law, k, X[k]) for k in names}
    for k in names:
        hi = np.where(live, Z[k][None, :], -np.inf).max(1)
        lo = np.where(live, Z[k][None, :], np.inf).min(1)
        for b in np.flatnonzero((hi == lo) & (n_live > 0)):
            out[b].append(f"input {k!r} takes a single value")
    # weighted correlation of every pair of inputs, per row (B x n matrix products)
    s = np.maximum(n_live, 1)
    mean = {k: (live * Z[k]).sum(1) / s for k in names}
    for i, k in enumerate(names):
        for l in names[i + 1:]:
            dk = (Z[k][None, :] - mean[k][:, None]) * live
            dl = (Z[l][None, :] - mean[l][:, None]) * live
            with np.errstate(invalid="ignore", divide="ignore"):
                r = (dk * dl).sum(1) / np.sqrt((dk * dk).sum(1) * (dl * dl).sum(1))
            for b in np.flatnonzero(np.abs(r) > 1 - COLLINEAR_TOL):
                out[b].append(f"inputs {k!r} and {l!r} are collinear over the fitted points "
                              f"(one is a linear function of the other on the law's scale)")
    return out


def parameter_reasons(law, params: dict, fixed=()) -> list[str]:
    """Parameters that are non-finite or ran to a bound the data do not hold."""
    out = []
    for k, v in params.items():
        if k in fixed:
            continue
        v = float(v)
        if not np.isfinite(v):
            out.append(f"parameter {k} is {v}")
        elif isinstance(law.params[k], Positive) and (v <= 0 or abs(np.log(v)) > MAX_LOG_MAGNITUDE):
            out.append(f"parameter {k} = {v:.3g} ran to {'0' if v < 1 else 'infinity'}: the data do not bound it")
    return out


def bound_reasons(law, params: dict, fixed=()) -> list[str]:
    """Parameters sitting on a finite bound of their constraint (a recipe's box or a law's
    ``bounded``): the optimum lies beyond the box, so the fit is ``at_bound``, not converged."""
    out = []
    for k, v in params.items():
        b = None if k in fixed else bound_of(law.params[k], float(v))
        if b is not None:
            out.append(f"parameter {k} = {float(v):.6g} is on its bound {b:g}: the optimum lies beyond the box")
    return out


def condition_number(lam) -> float:
    """``max |eigenvalue| / min |eigenvalue|`` of a symmetric matrix's eigenvalues ``lam``."""
    lam = np.abs(np.asarray(lam))
    return float(lam.max() / max(lam.min(), 1e-300))


def curvature_reasons(H) -> tuple[list[str], float]:
    """A (numerically) flat direction of the Hessian ``H``; returns the reasons and the condition number."""
    H = np.asarray(H, float)
    if not np.all(np.isfinite(H)):
        return ["the Hessian at the optimum is not finite"], float("inf")
    lam = np.linalg.eigvalsh(0.5 * (H + H.T))
    top = np.abs(lam).max()
    cond = condition_number(lam) if top > 0 else float("inf")
    if cond > FLAT_CONDITION or lam.min() < -1e-9 * top:
        return [f"a direction of parameter space has no curvature (Hessian condition number {cond:.2g}): "
                f"the data do not determine it"], cond
    return [], cond
