"""``FitProblem``: one law, loss and residual space, with every coordinate map the solvers need.

Built once from (law, loss, residual space, fixed parameters), immutable, and hashable, so
compiled programs are cached per problem. Everything that changes between solves of one
problem (inputs, targets, weights, loss parameters) is *data* in
``args = ((Xfit, base), y, w, lp)``: one compiled program serves every Huber delta, every
weight vector (bootstrap, jackknife, ablation filters) and, with zero-weight padding, every
number of points in a size bucket.

Coordinates, from the user's to the solver's:
- *natural*: the law's parameter values (``A = 406.4``);
- *unconstrained*: through each parameter's constraint (``log A``), ``Law.constrain``;
- *fit*: unconstrained, with power-sum coefficients centred on the mean log input
  (``log A - alpha * mean log N``), an exact linear reparameterisation that cuts the
  Chinchilla Hessian's condition number from ~1e7 to ~1e4;
- *free*: the fit coordinates of the parameters not held fixed.

Laws only declare what they are (a ``PowerSumLaw`` declares its ``terms`` and ``constant``);
this module reads those declarations.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._constraints import Free, Positive
from ._law import Law, PowerSumLaw
from .kernels import Objective, cholesky_solve, lse, make_objective, power_sum_objective, row_blocked

# Residual spaces: log pred - log y (multiplicative noise, the default), pred - y, and
# log(1 + pred) - log(1 + y) (a recipe for targets that reach 0, e.g. broken power laws).
RESIDUALS = ("log", "raw", "log1p")


class FitProblem(eqx.Module):
    """The static identity of a fit and its coordinate maps (see the module docstring).

    ``loss_key`` is ``Loss.key``: the per-residual function and whether it is averaged.
    """

    law: Law = eqx.field(static=True)
    loss_key: tuple = eqx.field(static=True)
    residual: str = eqx.field(static=True)
    free_idx: tuple | None = eqx.field(static=True, default=None)
    center: bool = eqx.field(static=True, default=True)

    # -- coordinates --------------------------------------------------------------------
    @property
    def power_sum(self) -> bool:
        return isinstance(self.law, PowerSumLaw)

    @property
    def index(self) -> dict:
        """Parameter name -> position in the coordinate vector."""
        return {k: i for i, k in enumerate(self.law.param_names)}

    @property
    def n_free(self) -> int:
        return self.law.n_params if self.free_idx is None else len(self.free_idx)

    def inputs(self, X):
        """Inputs (dict of arrays) to fit-space inputs and the coordinate offsets ``aux``."""
        law = self.law
        if not self.power_sum:
            return tuple(jnp.asarray(X[k]) for k in law.inputs), None
        logs = [jnp.log(jnp.asarray(X[x])) for _, _, x in law.terms]
        # Centring log x_k at its mean decorrelates log A_k from alpha_k (the slope and
        # intercept of a line fitted far from x = 1). Weights are not used: the shift is
        # any fixed offset, and one per data set keeps resamples on the same coordinates.
        m = jnp.stack([jnp.mean(v) for v in logs]) if self.center else jnp.zeros(len(logs))
        return tuple(v - m[k] for k, v in enumerate(logs)), m

    def _shift(self, theta, aux, sign):
        law = self.law
        out = jnp.asarray(theta)
        if not self.power_sum:
            return out
        idx = self.index
        for k, (coef, expo, _) in enumerate(law.terms):
            alpha = law.params[expo].forward(out[..., idx[expo]])
            out = out.at[..., idx[coef]].add(sign * alpha * aux[k])
        return out

    def to_fit(self, theta, aux):
        """Unconstrained (..., p) to fit coordinates (..., p)."""
        return self._shift(theta, aux, -1.0)

    def from_fit(self, theta, aux):
        """Fit coordinates (..., p) to unconstrained (..., p)."""
        return self._shift(theta, aux, +1.0)

    def free(self, theta):
        """Full (..., p) to the free coordinates (..., k)."""
        return theta if self.free_idx is None else theta[..., jnp.asarray(self.free_idx)]

    def full(self, theta_free, base):
        """Free (..., k) to full (..., p), the fixed coordinates taken from ``base`` (p,)."""
        if self.free_idx is None:
            return theta_free
        b = jnp.broadcast_to(base, theta_free.shape[:-1] + base.shape)
        return b.at[..., jnp.asarray(self.free_idx)].set(theta_free)

    def setup(self, X, starts_user, extra_user, dtype):
        """Inputs and starts in fit coordinates: ``(Xfit, aux, base, starts_fit, extra_fit)``.

        ``base`` (the first start, full fit coordinates) supplies the fixed coordinates;
        ``starts_fit`` and ``extra_fit`` are free coordinates. Starts are constants, so no
        derivative flows into them through the centring offsets.
        """
        Xfit, aux = self.inputs({k: jnp.asarray(X[k], dtype) for k in self.law.inputs})
        const = jax.lax.stop_gradient(aux)
        base = self.to_fit(jnp.asarray(starts_user[0], dtype), aux)
        starts_fit = self.free(self.to_fit(jnp.asarray(starts_user, dtype), const))
        extra_fit = self.free(self.to_fit(jnp.asarray(extra_user, dtype), const))
        return Xfit, aux, base, starts_fit, extra_fit

    def target(self, y):
        """Targets in residual space."""
        return residual_target(self.residual, y)

    def predict_fit(self, theta, Xfit):
        """Prediction in residual space from full fit coordinates (log-prediction or raw)."""
        law = self.law
        if self.power_sum:
            idx = self.index
            # z_k = log A_k' - alpha_k (log x_k - m_k), all in log space: no overflow for any
            # finite theta; log E enters as a constant term of the log-sum-exp.
            zs = [theta[idx[c]] - law.params[e].forward(theta[idx[e]]) * Xfit[k] for k, (c, e, _) in enumerate(law.terms)]
            if law.constant is not None:
                zs.append(jnp.broadcast_to(theta[idx[law.constant]], zs[0].shape))
            logpred = lse(*zs)
            if self.residual == "log1p":
                return jnp.logaddexp(0.0, logpred)  # log(1 + e^z) without forming e^z
            return logpred if self.residual == "log" else jnp.exp(logpred)
        p = law.constrain(theta)
        if self.residual == "log":
            return law.log_predict(p, *Xfit)
        if self.residual == "log1p":
            return jnp.log1p(law(p, *Xfit))
        return law(p, *Xfit)

    # -- the objective ------------------------------------------------------------------
    def objective(self) -> Objective:
        """``Objective(value, vgh)`` on free fit coordinates; ``args = ((Xfit, base), y, w, lp)``."""
        return _objective(self)

    def per_point(self, theta_free, args):
        """Each point's weighted loss (n,) (zero-weight points exactly 0); same ``args``."""
        (Xfit, base), y, w, lp = args
        rho, mean = self.loss_key
        r = self.predict_fit(self.full(theta_free, base), Xfit) - y
        out = jnp.where(w != 0, w * rho(r, lp), 0.0)
        return out / jnp.sum(w) if mean else out

    def strata(self, starts_user):
        """Labels grouping start points for stratified screening (None: no strata).

        The starts' values of the parameters that are not positive-constrained coefficients
        (typically exponents), when there are between 2 and 1024 such groups.
        """
        law = self.law
        cols = [i for i, k in enumerate(law.param_names) if not isinstance(law.params[k], Positive)]
        if not cols or len(starts_user) < 2:
            return None
        _, labels = np.unique(np.round(np.asarray(starts_user)[:, cols], 12), axis=0, return_inverse=True)
        n = int(labels.max()) + 1
        return labels.reshape(-1) if 2 <= n <= 1024 else None


def residual_target(residual: str, y):
    """Targets ``y`` in residual space (``log``, ``raw`` or ``log1p``)."""
    if residual == "log":
        return jnp.log(y)
    return jnp.log1p(y) if residual == "log1p" else jnp.asarray(y)


def residual_inverse(residual: str, t):
    """The inverse of ``residual_target``: values in residual space back on the target's scale."""
    if residual == "log":
        return jnp.exp(t)
    return jnp.expm1(t) if residual == "log1p" else jnp.asarray(t)


@functools.lru_cache(maxsize=256)
def _objective(problem: FitProblem) -> Objective:
    # Cached so every job shares one Python function per problem (and so one jit cache entry).
    # Large tables are evaluated in blocks of rows (kernels.row_blocked: memory flat in rows).
    rho, mean = problem.loss_key
    whole = _objective_of(problem, rho, mean)
    return row_blocked(whole, _objective_of(problem, rho, False) if mean else whole, mean=mean)


def _objective_of(problem: FitProblem, rho, mean: bool) -> Objective:
    law = problem.law
    analytic = (problem.power_sum and problem.free_idx is None and problem.residual == "log"
                and all(isinstance(law.params[e], Free) for _, e, _ in law.terms))
    if analytic:
        # The closed-form Hessian assumes z is linear in theta: free exponents only.
        idx = problem.index
        terms = tuple((idx[c], idx[e]) for c, e, _ in law.terms)
        const = idx[law.constant] if law.constant is not None else None
        inner = power_sum_objective(terms, const, law.n_params, rho, mean)
        # Same signature as the generic objective: drop the unused base.
        return Objective(lambda th, a: inner.value(th, (a[0][0],) + tuple(a[1:])),
                         lambda th, a: inner.vgh(th, (a[0][0],) + tuple(a[1:])))

    def pred(theta, Xb):
        Xfit, base = Xb
        return problem.predict_fit(problem.full(theta, base), Xfit)

    return make_objective(pred, rho, mean)


def implicit_root(value, theta_star, args):
    """Attach implicit derivatives to a minimiser ``theta_star`` of ``value(., args)``.

    At an interior minimum ``grad value(theta*, args) = 0``; the implicit function theorem
    gives ``d theta* / d args = -H^{-1} d(grad)/d args``. ``lax.custom_root`` implements it:
    the solver itself is never differentiated (so any safeguarded, non-smooth solver may
    produce ``theta_star``), and the tangent system is solved with the Hessian at the
    optimum by an LDL^T factorisation (``nan`` if the Hessian is not positive definite,
    i.e. the optimum is not strict and has no derivative).
    """

    def grad_fn(th):
        return jax.grad(value)(th, args)

    def tangent_solve(g, y):
        return cholesky_solve(jax.jacobian(g)(y), y)

    return jax.lax.custom_root(grad_fn, jax.lax.stop_gradient(theta_star), lambda f, x0: x0, tangent_solve)


