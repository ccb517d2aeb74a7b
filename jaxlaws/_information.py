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

    ``smooth > 0``: psi' is the kernel-smoothed curvature ``E[psi'(r + h Z)]``, ``Z ~ N(0, 1)``,
    ``h = smooth`` (see ``kink_bandwidth``). Averaged over rows it is Powell's (1991) kernel
    estimate of the curvature ``E psi'``: for a loss with a kink (absolute, pinball, Huber with
    delta far below the noise) psi' is a spike at 0 and the curvature is the residuals'
    density there, which the rows' own psi' (an indicator of ``|r| < delta``) estimates from the
    handful of rows that happen to fall inside delta.

    Computed through Stein's identity ``E[psi'(r + hZ)] = E[psi(r + hZ) Z] / h`` on a uniform
    grid of ``Z`` (psi is bounded and continuous for every built-in loss, psi' is not: a
    quadrature of psi' itself misses or over-weights a spike narrower than its node spacing,
    which made the SEs of an asymmetric fit 58-230x too small). The grid's weights are
    normalised so that ``sum w z^2 = 1``: a linear psi (squared loss) gets psi' = 1 exactly.
    """
    r = fit.residuals()[fit.prepared.used()[2]]
    n = len(r)
    # padded to the size bucket: another table of about as many runs reuses the program
    rp = jnp.asarray(pad_rows(r))
    psi, dpsi = _psi_program(fit.loss.rho)(rp, jnp.asarray(fit.loss.array()), jnp.asarray(float(smooth)))
    return np.asarray(psi)[:n], np.asarray(dpsi)[:n]


_STEIN_Z = np.linspace(-8.0, 8.0, 321)  # dz = 0.05: a jump's smoothed spike is resolved to ~2.5%
_STEIN_W = np.exp(-0.5 * _STEIN_Z**2)
_STEIN_W = _STEIN_W / np.sum(_STEIN_W * _STEIN_Z**2)


@functools.lru_cache(maxsize=16)
def _psi_program(rho):
    """``(r, lp, smooth) -> (psi, psi')`` for one loss, compiled once (smooth = 0: unsmoothed)."""
    from .kernels import derivatives

    rho1, rho2 = derivatives(rho)
    z, wz = jnp.asarray(_STEIN_Z), jnp.asarray(_STEIN_W)

    def run(r, lp, smooth):
        h = jnp.where(smooth > 0, smooth, 1.0)

        def node(acc, zw):  # one grid node for every row: memory O(rows), not O(rows x nodes)
            return acc + rho1(r + h * zw[0], lp) * zw[1], None

        stein, _ = jax.lax.scan(node, jnp.zeros_like(r), (z, wz * z))
        dpsi = jnp.where(smooth > 0, stein / h, rho2(r, lp))
        return rho1(r, lp), dpsi

    return jax.jit(run)


def kink_bandwidth(r) -> float:
    """The kernel bandwidth for the residuals' density at the loss's kink: Silverman's rule
    ``0.9 min(SD, IQR / 1.349) n^(-1/5)`` (robust to the heavy tails of run-to-run noise).

    Why not Hall and Sheather's (statsmodels' ``QuantReg`` default): at the tens to hundreds of
    runs of a scaling study it is 1-1.5 residual SDs wide, and smoothing psi' that much lowers
    the curvature of a Huber fit with delta near the noise (SEs 1.6x too large at 52 runs in
    ``bench_calibration``); Silverman's is 0.3-0.45 SD wide there (bias < 8%). It does not
    depend on where the kink sits (a pinball loss's quantile). 0 when the residuals have no
    spread."""
    r = np.asarray(r, float)
    r = r[np.isfinite(r)]
    n = r.size
    if n < 2:
        return 0.0
    iqr = float(np.subtract(*np.percentile(r, [75, 25])))
    sd = float(np.std(r, ddof=1))
    kappa = min(sd, iqr / 1.349) if iqr > 0 else sd
    return float(0.9 * kappa * n ** (-0.2))


def fit_bandwidth(fit) -> float:
    """``kink_bandwidth`` of ``fit``'s residuals (used rows, scaled to a typical weight)."""
    _, w, idx = fit.prepared.used()
    return kink_bandwidth(fit.residuals()[idx] * np.sqrt(w / np.median(w)))


def effective_noise(fit) -> float:
    """The noise SD a least-squares fit would need to be as uncertain as ``fit``'s own estimator.

    For an M-estimator with per-residual loss rho (psi = rho', psi' = rho''), the sandwich
    covariance of a (locally linear) fit with homoscedastic errors is
    ``E[psi^2] / E[psi']^2 (J^T W J)^-1``: the least-squares covariance with the noise variance
    replaced by ``E[psi^2] / E[psi']^2``. For squared loss that is the residual variance; for
    Huber it also charges the loss's inefficiency (and, with heavy tails, its robustness). The
    expectations are averages over the fit's residuals.
    """
    psi, dpsi = psi_at_residuals(fit, smooth=fit_bandwidth(fit))
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
    it does not assume every run equally noisy and equally well fitted. With Huber's delta far
    below the noise only a few residuals lie inside delta, so psi' is Powell's kernel estimate
    (``psi_at_residuals`` with ``fit_bandwidth``), as in the fit report, not each run's own
    indicator, whose curvature changed with which runs fell inside delta at every refit.
    """
    if kind == "fisher":
        s2 = (effective_noise(fit) if noise is None else float(noise)) ** 2
        A = (J * (wn / s2)[:, None]).T @ J
        B, a, b = A, 1.0 / s2, 1.0 / s2
    elif kind == "sandwich":
        psi, dpsi = psi_at_residuals(fit, smooth=fit_bandwidth(fit))
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
        # a degenerate fit can return a positive coefficient underflowed to 0: its coordinate is
        # -inf (no SE is computed for such a fit), not a numpy warning that aborts the report
        with np.errstate(divide="ignore"):
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
        ps, dps = psi_at_residuals(fit, smooth=fit_bandwidth(fit))
        pick = np.random.default_rng(seed).integers(0, len(ps), (n_draws, m))
        # scale so the pool's mean psi^2 and psi' equal b and a (an explicit noise= rescales b)
        psi = ps[pick] * np.sqrt(b / np.mean(ps**2))
        dpsi = dps[pick] * (a / np.mean(dps))
    return float(KD.expected_variance(*(jnp.asarray(x) for x in (J, Ainv, B, g, psi, dpsi))))


