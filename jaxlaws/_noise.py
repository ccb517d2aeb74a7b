"""Run-to-run noise: how far a new training run will land from the law, in residual space.

A mean band (over bootstrap draws) says where the *law* is; a new run scatters around it by
the noise of training itself (seeds, data order, evaluation). ``noise_model(fit)`` estimates it:

- from the fit's residuals (default): a robust scale (1.4826 x MAD: the Huber fit's outliers
  do not inflate it), and the residuals themselves, standardised, as the *shape* of the noise:
  new-run draws resample them, so heavy tails are kept rather than assumed Gaussian;
- from replicates (``replicates="seed"``): runs with identical inputs are repeats of one
  configuration; the pooled within-configuration SD of the log target is the noise, free of
  any misfit of the law (Gaussian shape);
- optionally varying with compute (``by_compute=True``): small runs are often noisier. The
  log of |residual| is regressed on log C (least squares; the Gaussian offset E log|z| cancels
  in the slope), giving ``sd(C) = sd_ref (C / C_ref)^slope``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._data import get_column
from ._errors import OptionError

MAD = 1.482602218505602  # 1 / Phi^-1(3/4): the MAD of a standard normal, inverted


@dataclass(frozen=True)
class NoiseModel:
    """``sd`` at ``c_ref`` (the geometric mean compute of the runs) in residual space, its
    ``slope`` in log C (0: constant), the ``method`` and ``n`` (residuals or replicate
    degrees of freedom used); ``shape``: standardised residuals new-run draws resample (empty:
    Gaussian)."""

    sd: float
    method: str
    n: int
    slope: float = 0.0
    c_ref: float = float("nan")
    shape: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def sd_at(self, C=None) -> np.ndarray:
        """The noise SD at compute ``C`` (the constant ``sd`` when it does not vary)."""
        if self.slope == 0.0 or C is None:
            return np.full(np.shape(C) if C is not None else (), self.sd)
        return self.sd * (np.asarray(C, float) / self.c_ref) ** self.slope

    def draw(self, rng, size, C=None) -> np.ndarray:
        """Noise draws of shape ``size`` (last axis: the rows with compute ``C``)."""
        z = rng.choice(self.shape, size=size) if self.shape.size else rng.standard_normal(size)
        return z * self.sd_at(C)

    def to_dict(self) -> dict:
        # the shape is saved so that a band from a saved result (``predict boot.json``) draws the
        # same heavy-tailed noise as one from the data (a Gaussian stand-in narrowed the demo's
        # upper band edge from 2.73 to 2.59)
        return {"sd": self.sd, "method": self.method, "n": self.n, "slope": self.slope,
                "c_ref": None if not np.isfinite(self.c_ref) else self.c_ref,
                "shape": [float(v) for v in self.shape]}

    @classmethod
    def from_dict(cls, d: dict, source: str) -> "NoiseModel":
        """A saved noise model (``to_dict``); one saved before shapes were kept is Gaussian, and says so."""
        try:
            shape = np.asarray(d.get("shape") or [], float).reshape(-1)
            sd, n = float(d["sd"]), int(d.get("n") or 0)
            slope = float(d.get("slope") or 0.0)
            c_ref = float(d["c_ref"]) if d.get("c_ref") is not None else float("nan")
        except (TypeError, ValueError, KeyError):
            raise OptionError(f"{source}: the saved noise model is not a number sd with a list of numbers shape") from None
        if not (np.isfinite(sd) and sd > 0) or not np.all(np.isfinite(shape)):
            raise OptionError(f"{source}: the saved noise sd must be a positive number and its shape finite")
        method = f"saved: {d.get('method')}" + ("" if shape.size else ", Gaussian: no residual shape saved")
        return cls(sd=sd, method=method, n=n, slope=slope, c_ref=c_ref, shape=shape)

    def describe(self) -> str:
        s = f"noise sd {self.sd:.4g} ({self.method}, n = {self.n})"
        if self.slope:
            s += f", x (C / {self.c_ref:.3g})^{self.slope:+.3f}"
        return s


def run_compute(X):
    """Each run's compute 6ND (None for laws without inputs N and D): what a noise SD varying
    with compute is a function of."""
    return 6.0 * np.asarray(X["N"]) * np.asarray(X["D"]) if {"N", "D"} <= set(X) else None


def robust_scale(r) -> float:
    """1.4826 x the median absolute deviation: the noise SD for Gaussian residuals, unmoved by the
    few outliers a Huber fit is chosen to ignore (nan with fewer than 2 finite values)."""
    r = np.asarray(r, float)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return float("nan")
    return float(MAD * np.median(np.abs(r - np.median(r))))


def fit_noise(fit) -> float:
    """``fit``'s noise SD in its residual space: the robust scale of its residuals, each scaled to a
    typical weight (weighted fits, e.g. 1/variance weights, have residual SD ~ 1/sqrt(w))."""
    _, w, idx = fit.prepared.used()
    return robust_scale(fit.residuals()[idx] * np.sqrt(w / np.median(w)))


def noise_model(fit, *, replicates=None, data=None, by_compute: bool = False) -> NoiseModel:
    """The run-to-run noise of ``fit``'s target in its residual space (see the module docstring).

    ``replicates``: a column of ``data`` (the fitted table) naming repeats of one configuration
    (e.g. a seed column): rows with equal inputs are pooled. ``by_compute``: let the SD vary as
    a power of compute 6ND (laws with inputs N and D).
    """
    prep = fit.prepared
    X, _, idx = prep.used()
    r = fit.residuals()[idx]
    C = run_compute(X)
    if by_compute and C is None:
        raise OptionError(f"by_compute needs a law with inputs N and D; {fit.law.name} has {list(fit.law.inputs)}")
    if replicates is not None:
        if data is None:
            raise OptionError("replicates= needs data= (the fitted table, with the replicate column)")
        get_column(data, replicates)  # a missing column is named
        yt = np.asarray(prep.yt)[idx]
        keys = np.stack([X[k] for k in fit.law.inputs], axis=1)
        _, grp = np.unique(keys, axis=0, return_inverse=True)
        grp = grp.reshape(-1)
        counts = np.bincount(grp)
        dof = int(np.sum(counts - 1))
        if dof < 2:
            raise OptionError(f"replicates={replicates!r}: no configuration was run more than once (rows with equal "
                              f"inputs {list(fit.law.inputs)}); the noise cannot be estimated from replicates")
        means = np.bincount(grp, yt) / counts
        ss = float(np.sum((yt - means[grp]) ** 2))
        return NoiseModel(sd=float(np.sqrt(ss / dof)), method="replicates (pooled within-configuration SD)", n=dof)
    finite = np.isfinite(r)
    r = r[finite]
    if r.size < 3:
        raise OptionError("fewer than 3 finite residuals: no noise estimate")
    slope, c_ref = 0.0, float("nan")
    dev = np.abs(r - np.median(r))
    if by_compute:
        Cu = C[finite]
        lc = np.log(Cu)
        c_ref = float(np.exp(np.mean(lc)))
        ok = dev > 0
        A = np.stack([np.ones(ok.sum()), lc[ok] - np.log(c_ref)], axis=1)
        slope = float(np.linalg.lstsq(A, np.log(dev[ok]), rcond=None)[0][1])
        scale = (Cu / c_ref) ** slope
    else:
        scale = np.ones_like(r)
    z = (r - np.median(r)) / scale
    sd = float(MAD * np.median(np.abs(z)))  # z is centred already (about 0 at scale 1)
    if not (sd > 0):
        raise OptionError("the residuals have no spread (an exact fit): no noise estimate; give replicates")
    # residuals are prediction - target: a new run lands at prediction - residual, hence the sign
    return NoiseModel(sd=sd, method="residuals (1.4826 MAD, resampled shape)", n=int(r.size), slope=slope, c_ref=c_ref,
                      shape=-z / sd)


def with_noise(pred, nm, residual, X, n_samples, seed):
    """Samples of a new run's outcome: draw t uses the (t mod B)-th parameter draw's prediction
    plus one noise draw, added in the fit's residual space (log by default)."""
    B = pred.shape[0]
    T = max(B, n_samples)
    e = nm.draw(np.random.default_rng(seed), (T, pred.shape[1]), run_compute(X))
    p = pred[np.arange(T) % B]
    # in numpy float64 (this runs outside any x64 scope; jnp could round to float32)
    if residual == "raw":
        return p + e
    if residual == "log1p":
        return np.expm1(np.log1p(p) + e)
    return p * np.exp(e)
