"""What a run tells about a fit's parameters: noise scales, information matrices, coordinates.

Shared by experiment design (``_design``), its simulation check (``_design_sim``) and decisions
under uncertainty (``_decide``). Design coordinates are the free parameters with positive ones
in log (so a covariance speaks of relative changes); ``information`` gives the curvature and
score-variance matrices whose sandwich ``A^-1 B A^-1`` is the parameters' covariance.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._constraints import Positive
from ._errors import FitError, OptionError
from ._util import pad_rows
from .kernels import design as KD


def psi_at_residuals(fit, smooth: float = 0.0):
    """Per-row psi = rho'(r) and psi' = rho''(r) of the fit's loss at its residuals (used rows).

    ``smooth > 0``: psi' is averaged over ``r + e``, ``e ~ N(0, smooth^2)`` (61-node Gauss-Hermite):
    the curvature the row would show over a redraw of its noise. Huber's psi' is an indicator
    of ``|r| < delta``; with delta far below the noise it is 1 on a few rows and 0 elsewhere,
    and a curvature matrix built from it depends on which runs happen to fall inside delta.
    """
    r = fit.residuals()[fit.prepared.used()[2]]
    n = len(r)
    # padded to the size bucket: another table of about as many runs reuses the program
    rp = jnp.asarray(pad_rows(r))
    psi, dpsi = _psi_program(fit.loss.rho)(rp, jnp.asarray(fit.loss.array()), jnp.asarray(float(smooth)))
    return np.asarray(psi)[:n], np.asarray(dpsi)[:n]


@functools.lru_cache(maxsize=16)
def _psi_program(rho):
    """``(r, lp, smooth) -> (psi, psi')`` for one loss, compiled once (smooth = 0: unsmoothed)."""
    from .kernels import derivatives

    rho1, rho2 = derivatives(rho)
    x, wq = np.polynomial.hermite_e.hermegauss(61)  # nodes for the standard normal weight
    x, wq = jnp.asarray(x), jnp.asarray(wq / wq.sum())

    def run(r, lp, smooth):
        dpsi = rho2(r[:, None] + smooth * x[None, :], lp) @ wq  # at smooth = 0 every node is r itself
        return rho1(r, lp), dpsi

    return jax.jit(run)


def effective_noise(fit) -> float:
    """The noise SD a least-squares fit would need to be as uncertain as ``fit``'s own estimator.

    For an M-estimator with per-residual loss rho (psi = rho', psi' = rho''), the sandwich
    covariance of a (locally linear) fit with homoscedastic errors is
    ``E[psi^2] / E[psi']^2 (J^T W J)^-1``: the least-squares covariance with the noise variance
    replaced by ``E[psi^2] / E[psi']^2``. For squared loss that is the residual variance; for
    Huber it also charges the loss's inefficiency (and, with heavy tails, its robustness). The
    expectations are averages over the fit's residuals.
    """
    psi, dpsi = psi_at_residuals(fit)
    num, den = float(np.mean(psi**2)), float(np.mean(dpsi))
    if not (den > 0 and np.isfinite(num)):
        raise FitError(f"{fit.loss} is flat at every residual of this fit (no curvature): its precision cannot be "
                       "estimated from the residuals; pass noise=")
    return float(np.sqrt(num) / den)


PRIORS = ("sandwich", "fisher")


def information(fit, J, wn, kind: str = "sandwich", noise: float | None = None):
    """``(A, B, a, b)``: the curvature and score-variance matrices of the current runs (design
    coordinates, rows' Jacobian ``J``, weights ``wn``) and what one new run adds to each per
    unit ``j j^T`` (see ``kernels.design``). The covariance is ``A^-1 B A^-1``.

    ``fisher`` (default): ``A = B = J^T W J / s2``, ``a = b = 1 / s2`` (``s = noise``, default the
    effective noise): exact for a linear model with i.i.d. noise; simulation confirms its
    predicted shrinkage (``compare_designs``).
    ``sandwich``: ``A = sum w psi' j j^T``, ``B = sum w^2 psi^2 j j^T`` from each run's own
    residual, and a new run adds ``a = mean psi'``, ``b = mean psi^2``. Unlike the textbook formula
    it does not assume every run equally noisy and equally well fitted: on the Chinchilla points
    only ~15% of residuals lie inside Huber's delta and they carry all the curvature; the
    sandwich SEs are 2-5x the textbook ones and close to the bootstrap's. Its expected gains
    are less reliable: with Huber's delta far below the noise the curvature is lumpy (which
    runs fall inside delta changes at every refit), and simulations disagree with its
    predictions by more than their sampling error.
    """
    if kind == "fisher":
        s2 = (effective_noise(fit) if noise is None else float(noise)) ** 2
        A = (J * (wn / s2)[:, None]).T @ J
        B, a, b = A, 1.0 / s2, 1.0 / s2
    elif kind == "sandwich":
        psi, dpsi = psi_at_residuals(fit)
        A = (J * (wn * dpsi)[:, None]).T @ J
        B = (J * (wn**2 * psi**2)[:, None]).T @ J
        a = float(np.mean(dpsi))
        # an explicit noise SD keeps the loss's curvature scale: b / a^2 = noise^2
        b = float(np.mean(psi**2)) if noise is None else a * a * float(noise) ** 2
    else:
        raise OptionError(f"prior={kind!r} must be one of {PRIORS}")
    lam = np.linalg.eigvalsh(0.5 * (A + A.T))
    if not (lam[0] > 1e-12 * lam[-1]):
        raise FitError(f"the runs do not determine the parameters (curvature condition {lam[-1] / max(lam[0], 1e-300):.3g})")
    if not (a > 0 and b > 0):
        raise FitError(f"{fit.loss} has no curvature at this fit's residuals: new runs' information is unknown; pass noise=")
    return 0.5 * (A + A.T), 0.5 * (B + B.T), a, b


def sandwich(Ainv, B) -> np.ndarray:
    cov = Ainv @ B @ Ainv
    return 0.5 * (cov + cov.T)


class Coordinates:
    """Free parameters in design coordinates: log for positive ones (relative changes), natural
    otherwise; ``params(phi)`` maps back, holding fixed parameters at their values."""

    def __init__(self, law, params: dict, fixed=()):
        self.law = law
        self.names = tuple(k for k in law.param_names if k not in fixed)
        self.log = tuple(isinstance(law.params[k], Positive) for k in self.names)
        self.const = {k: float(params[k]) for k in law.param_names if k in fixed}
        self.phi = np.array([np.log(params[k]) if lg else params[k] for k, lg in zip(self.names, self.log)], float)

    def params(self, phi):
        p = {k: (jnp.exp(phi[..., i]) if lg else phi[..., i]) for i, (k, lg) in enumerate(zip(self.names, self.log))}
        p.update({k: jnp.asarray(v) for k, v in self.const.items()})
        return p

    def of_draws(self, draws: dict) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            cols = [np.log(draws[k]) if lg else np.asarray(draws[k], float) for k, lg in zip(self.names, self.log)]
        return np.stack(cols, axis=-1)


def coordinate_params(phi, const, names, log, const_keys) -> dict:
    """Natural parameters from design coordinates ``phi`` (log for positive ones, see
    ``Coordinates``) plus the fixed ones (``const``), traceable."""
    p = {k: (jnp.exp(phi[i]) if lg else phi[i]) for i, (k, lg) in enumerate(zip(names, log))}
    p.update(dict(zip(const_keys, const)))
    return p


@functools.lru_cache(maxsize=32)
def prediction_jacobian(law, residual, names, log, const_keys):
    """``jac(phi, const, X) -> (rows, k)``: every row's gradient of the prediction (residual
    space) in design coordinates, compiled once per law and coordinates."""
    f = prediction(law, residual)

    def jac(phi, const, X):
        # one forward-mode pass per parameter (k of them) covers every row at once
        return jax.jacfwd(lambda t: f(coordinate_params(t, const, names, log, const_keys), X))(phi)

    return jax.jit(jac)


def prediction(law, residual: str):
    """The law's prediction in residual space, ``f(params, X) -> (n,)``."""

    def f(p, X):
        xs = [X[k] for k in law.inputs]
        if residual == "log":
            return law.log_predict(p, *xs)
        return jnp.log1p(law(p, *xs)) if residual == "log1p" else law(p, *xs)

    return f


def expected_variance(fit, prior, J, Ainv, B, g, a, b, seed=0, n_draws: int = 256) -> float:
    """The target's variance after adding runs ``J``, averaged over their noise: each added run
    draws (psi, psi') from the fit's own residuals (``sandwich``), or gets the constant ``a``, ``b``
    (``fisher``, where the average is the first-order value exactly)."""
    m = J.shape[0]
    if prior == "fisher":
        psi, dpsi = np.full((1, m), np.sqrt(b)), np.full((1, m), a)
    else:
        ps, dps = psi_at_residuals(fit)
        pick = np.random.default_rng(seed).integers(0, len(ps), (n_draws, m))
        # scale so the pool's mean psi^2 and psi' equal b and a (an explicit noise= rescales b)
        psi = ps[pick] * np.sqrt(b / np.mean(ps**2))
        dpsi = dps[pick] * (a / np.mean(dps))
    return float(KD.expected_variance(*(jnp.asarray(x) for x in (J, Ainv, B, g, psi, dpsi))))


