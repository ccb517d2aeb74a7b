"""Fit reports: every estimate with a standard error and an interval, and the fit's statistics.

A researcher reading a fit wants what statsmodels or lmfit print: estimates with standard
errors and intervals, their correlations, n, the residual scale, AIC/BIC, the conditioning and
the objective minimised, without running a bootstrap first. The standard errors come from the
curvature of the objective at the optimum, in design coordinates (log for positive parameters,
so an interval for a coefficient stays positive and speaks of relative error):

- ``sandwich`` (default): ``A^-1 B A^-1`` with ``A = sum w psi'(r) j j^T`` and
  ``B = sum w^2 psi(r)^2 j j^T`` (``j``: the row's gradient of the prediction, ``psi = rho'``).
  For an M-estimator such as Huber this is the asymptotic covariance (Huber 1967); for squared
  loss it is the heteroskedasticity-robust HC3 covariance (MacKinnon and White 1985), exactly.
  ``psi'`` is Powell's kernel estimate (below). On the 240 Chinchilla points the SEs are
  0.70-1.15x a 1000-resample bootstrap's; at data simulated from that fit with Gaussian noise,
  0.94-1.03x the estimates' true spread, 90% intervals covering 88.5-91.5% (200 data sets;
  tests/test_report.py, ``bench_calibration.py --part chinchilla``).
- ``classical``: ``s^2 (J^T W J)^-1`` with ``s^2 = sum w r^2 / (n - k)``, the textbook least
  squares covariance (statsmodels' default for OLS); it assumes equal noise and squared loss.

Both are linearisations: with Huber's delta far below the noise (the default recipe), few
residuals carry the curvature and the bootstrap is the recommended interval. Given a bootstrap,
the report puts its SEs beside the asymptotic ones and says where they disagree (ratio beyond
1.25).

Calibration (``bench/bench_calibration.py``, a small version in ``tests/test_calibration.py``):

- Losses with a kink (absolute, pinball, Huber with delta far below the residual scale): the
  curvature ``E psi'`` is the residuals' density at the kink, estimated with Powell's kernel
  (Silverman's bandwidth, ``_information.kink_bandwidth``), as quantile regression's
  sandwich does. Each row's own psi' (an indicator of ``|r| < delta``) rests on the one or two rows
  that happen to fall inside delta and made SEs 8-230x too small.
- Few residual degrees of freedom ``n - k``: intervals use Student's t with ``n - k`` degrees
  of freedom and the sandwich inflates each run's score by its leverage (HC3). Below ``MIN_DF``
  residual degrees of freedom a sandwich (and a bootstrap) cannot estimate a spread: the
  report then gives the classical t intervals for squared loss (exact for a linear law with
  equal Gaussian noise) and refuses SEs for any other loss, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import jax.numpy as jnp
import numpy as np

from ._constraints import Free
from ._errors import FitError, OptionError
from ._information import Coordinates, fit_bandwidth, prediction_jacobian, psi_at_residuals
from ._noise import fit_noise
from ._prepare import check_same_study
from ._stats import MIN_DF, excess_kurtosis, t_quantile
from ._util import pad_rows

KINDS = ("sandwich", "classical")
DISAGREE = 1.25  # asymptotic / bootstrap SE ratio beyond which the report recommends the bootstrap
# Huber's delta below this fraction of the residual scale: a kinked (median-like) loss. At 0.1
# the rule missed most data sets simulated with delta = 0.1x the true noise (the estimated scale
# scatters), whose intervals at n - k = 10 then covered 83% at 90% (bench_calibration)
KINK_RATIO = 0.3
# ... or at least this fraction of the residuals in its linear part: a rule on the residuals
# themselves, not on a scale estimate that scatters at small n (with delta = 0.1x the noise, 16
# of 200 simulated data sets at n - k = 10 escaped the ratio rule and covered 33% at 90%; under
# Gaussian noise about 92% of residuals are linear at 0.1x, 32% at 1x, none at 10x)
KINK_LINEAR = 0.5
# A kinked loss's SE rests on the residuals' density at the kink: at n - k = 10 the simulated 90%
# intervals of a pinball fit covered 74%, an absolute one 80% (bench_calibration); at 50, 88-89%
KINK_MIN_DF = 50
# A tail quantile's (pinball other than the median) density estimate with heavy-tailed residuals:
# with Student-t(3) noise at n - k = 50 its 90% intervals covered 85% (Gaussian noise: 89%), so
# below TAIL_DF residual df and above TAIL_KURTOSIS excess kurtosis the report flags them
TAIL_DF = 100
TAIL_KURTOSIS = 1.0


def kink_note(loss, scale: float, bandwidth: float, r) -> str | None:
    """Why ``loss`` counts as kinked at residual scale ``scale``, in the user's words (``None``
    for a smooth loss); ``bandwidth``: the kernel's, for the record; ``r``: the residuals."""
    if loss.kind == "asymmetric":
        return (f"{loss} has a kink at 0: its SEs rest on a kernel estimate of the residuals' density at the kink "
                f"(Powell's, Silverman bandwidth {bandwidth:.3g}), as quantile regression's do")
    r = np.asarray(r, float)
    r = r[np.isfinite(r)]
    linear = float(np.mean(np.abs(r) > loss.delta)) if loss.kind == "huber" and r.size else 0.0
    # the larger of the robust scale and the RMS: a Huber fit with a small delta pulls many
    # residuals into its quadratic zone, so their MAD shrinks (to 0.2x the noise at n = 12 in
    # simulation) while the RMS still shows the noise
    rms = float(np.sqrt(np.mean(r**2))) if r.size else 0.0
    if loss.kind == "huber" and scale > 0 and (loss.delta < KINK_RATIO * max(scale, rms) or linear >= KINK_LINEAR):
        return (f"Huber's delta {loss.delta:g} is {scale / loss.delta:.3g}x below the residual scale {scale:.3g} "
                f"(RMS {rms:.3g}): "
                f"{linear:.0%} of the residuals are in the loss's linear part, so the fit behaves much as a median "
                f"(absolute-error) regression; its SEs rest on a kernel estimate of the residuals' density at 0 (Powell's, bandwidth "
                f"{bandwidth:.3g})")
    return None


def gaussian_criteria(r, k: int, residual: str) -> dict:
    """AIC and BIC of residuals ``r`` (the used rows) with ``k`` estimated parameters, under a
    Gaussian working likelihood with the variance at its maximum-likelihood value rss/n."""
    r = np.asarray(r, dtype=float)
    n = int(r.size)
    rss = float(np.sum(r**2))
    # an exact fit (rss = 0) has no finite Gaussian likelihood: its criteria are undefined (nan)
    ll = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1) if rss > 0 else float("nan")
    return {"n": n, "k": k, {"log": "rss_log", "log1p": "rss_log1p"}.get(residual, "rss"): rss,
            "aic": 2 * k - 2 * ll, "bic": k * np.log(n) - 2 * ll}


def information_criteria(f) -> dict:
    """AIC and BIC from the fit's residuals in its residual space (Gaussian working likelihood).

    Log residuals for a log-space fit, raw residuals for a raw one (so a raw fit of a law
    that can predict non-positive values still gets finite criteria).
    """
    prep = f.prepared
    used = (prep.w > 0)[: prep.n_rows]  # a non-finite residual at a used row stays in (nan criteria)
    return gaussian_criteria(f.residuals()[used], f.law.n_params - len(f.fixed), f.residual)


@dataclass(frozen=True)
class FitReport:
    """A fit's estimates with SEs and intervals (``table``), their correlations and statistics."""

    law: str
    table: object  # DataFrame, one row per parameter
    correlation: object = field(repr=False)  # DataFrame over the free parameters (design coordinates)
    stats: dict = field(default_factory=dict)
    kind: str = "sandwich"
    level: float = 0.95
    notes: tuple = ()

    def to_dict(self) -> dict:
        return {"law": self.law, "se_method": self.kind, "level": self.level, **self.stats,
                "parameters": self.table.reset_index().to_dict(orient="records"),
                "correlation": {k: {c: float(v) for c, v in row.items()} for k, row in self.correlation.iterrows()},
                "notes": list(self.notes)}

    def __str__(self) -> str:
        s = self.stats
        sm = (f", smoothed as minimised {s['objective_smoothed']:.10g}"
              if s.get("objective_smoothed", s["objective"]) != s["objective"] else "")
        lines = [f"{self.law}: {s['status']}   n = {s['n']}   free parameters k = {s['k']}   "
                 f"residual degrees of freedom n - k = {s.get('df', s['n'] - s['k'])}",
                 f"objective {s['objective']:.10g} ({s['objective_minimised']}{sm})",
                 f"residual scale {s['residual_scale']:.4g} (1.4826 MAD)   RMS residual {s['rms_residual']:.4g}   "
                 f"AIC {s['aic']:.6g}   BIC {s['bic']:.6g}   Hessian condition number {s['condition_number']:.3g}",
                 f"standard errors: {self.kind}, from the curvature at the optimum; {self.level:.0%} intervals, "
                 f"t with {s.get('df', s['n'] - s['k'])} degrees of freedom"]
        lines.append(self.table.to_string(float_format=lambda x: f"{x:.6g}"))
        if len(self.correlation) > 1:
            lines.append("correlations (design coordinates: log for positive parameters):")
            lines.append(self.correlation.to_string(float_format=lambda x: f"{x:+.3f}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _inside_box(est, half, constraint):
    """A symmetric interval ``est -+ half`` for a parameter in a box, drawn in the box's own
    unconstrained coordinate (log of the distance to a one-sided bound, logit of the position
    in a two-sided box; delta method for the width) so that it never leaves the box: A > 1 must
    not get an interval reaching below 1."""
    lo, hi = getattr(constraint, "lower", -np.inf), getattr(constraint, "upper", np.inf)
    if not np.isfinite(half) or not (lo < est < hi):
        return est - half, est + half
    if np.isfinite(lo) and np.isfinite(hi):
        u = half * (hi - lo) / ((est - lo) * (hi - est))  # d logit((p-lo)/(hi-lo)) / dp = (hi-lo)/((p-lo)(hi-p))
        t = np.log((est - lo) / (hi - est))
        return tuple(lo + (hi - lo) / (1 + np.exp(-(t + s))) for s in (-u, u))
    if np.isfinite(lo):
        return lo + (est - lo) * np.exp(-half / (est - lo)), lo + (est - lo) * np.exp(half / (est - lo))
    if np.isfinite(hi):
        return hi - (hi - est) * np.exp(half / (hi - est)), hi - (hi - est) * np.exp(-half / (hi - est))
    return est - half, est + half


def fit_report(fit, level: float = 0.95, kind: str | None = None, boot=None) -> FitReport:
    """The report of a ``FitResult`` (see the module docstring); ``boot``: a ``BootstrapResult`` of
    the same fit whose SEs are set beside the asymptotic ones. ``kind``: ``"sandwich"`` or
    ``"classical"``; default the sandwich, or the classical t intervals for a squared-loss fit
    with fewer than ``MIN_DF`` residual degrees of freedom."""
    import pandas as pd

    if kind is not None and kind not in KINDS:
        raise OptionError(f"kind={kind!r} must be one of {KINDS}")
    if not 0 < level < 1:
        raise OptionError(f"level={level!r} must be in (0, 1)")
    law = fit.law
    co = Coordinates(law, fit.params, fit.fixed)
    X, w, _ = fit.prepared.used()
    n, k = int(len(w)), len(co.names)
    df = n - k
    if kind is None:
        kind = "classical" if (0 < df < MIN_DF and fit.loss.kind == "squared") else "sandwich"
    r = fit.residuals()[fit.prepared.used()[2]]
    ic = information_criteria(fit)
    scale = _scale(fit)
    notes = []
    cov = None
    flag = ""
    h = fit_bandwidth(fit) if fit.status == "converged" else 0.0
    kinked = kink_note(fit.loss, scale, h, r) if fit.status == "converged" else None
    if fit.status != "converged":
        notes.append(f"no standard errors: the fit is {fit.status}")
    elif df < 1:
        notes.append(f"no standard errors: {n} points for {k} free parameters")
    elif kind == "sandwich" and df < MIN_DF:
        alt = ("kind='classical' gives t intervals that assume equal Gaussian noise"
               if fit.loss.kind == "squared" else "a squared-loss fit gets classical t intervals (equal Gaussian noise)")
        notes.append(f"no standard errors: n - k = {df} residual degrees of freedom cannot estimate a {fit.loss} fit's "
                     f"spread (a sandwich or bootstrap needs n - k >= {MIN_DF}); {alt}")
    else:
        jac = prediction_jacobian(law, fit.residual, co.names, co.log, tuple(co.const))
        # rows padded to the size bucket (one program for tables of about as many runs)
        Xp = {kk: jnp.asarray(pad_rows(X[kk])) for kk in law.inputs}
        J = np.asarray(jac(jnp.asarray(co.phi), tuple(jnp.asarray(v) for v in co.const.values()), Xp))[:n]
        try:
            if kind == "sandwich":
                # curvature: Powell's kernel estimate E psi'(r + hZ) (exactly psi' for squared
                # loss); spread from each row's own psi^2, inflated by 1 / (1 - leverage)^2
                # (HC3, with the M-estimator's leverage w psi' j^T A^-1 j): a run that pulls
                # the fit towards itself shows too small a residual. HC1's n / (n - k) left
                # squared-loss intervals at n - k = 10 covering 84% at 90% (HC3: 90%)
                psi, dpsi = psi_at_residuals(fit, smooth=h)
                A = (J * (w * dpsi)[:, None]).T @ J
                Ainv = np.linalg.inv(0.5 * (A + A.T))
                lev = np.clip(w * dpsi * np.einsum("ij,jk,ik->i", J, Ainv, J), 0.0, 0.99)
                B = (J * ((w * psi / (1.0 - lev)) ** 2)[:, None]).T @ J
                cov = Ainv @ B @ Ainv
            else:
                s2 = float(np.sum(w * r**2) / df)
                cov = s2 * np.linalg.inv((J * w[:, None]).T @ J)
                if fit.loss.kind != "squared":
                    notes.append(f"classical SEs assume squared loss and equal noise; this fit minimised {fit.loss}")
            cov = 0.5 * (cov + cov.T)
        except (FitError, np.linalg.LinAlgError) as e:
            notes.append(f"no standard errors: {e}")
            cov = None
        if cov is not None and kinked and kind == "sandwich":
            notes.append(kinked)
            kurt = excess_kurtosis(r)
            if (fit.loss.kind == "asymmetric" and fit.loss.values[0] != fit.loss.values[1] and df < TAIL_DF
                    and kurt > TAIL_KURTOSIS):
                flag = (f"flagged: the residuals are heavy-tailed (excess kurtosis {kurt:.2g} > {TAIL_KURTOSIS:g}) and a "
                        f"tail quantile's SE from n - k = {df} (< {TAIL_DF}) under-covers there (simulated 90% "
                        f"intervals with Student-t(3) noise: 85% at n - k = 50): prefer the bootstrap's intervals")
                notes.append(flag)
            if df < KINK_MIN_DF:
                cov = None
                notes.append(f"no standard errors: with n - k = {df} (< {KINK_MIN_DF}) residual degrees of freedom the "
                             f"density at the kink is too poorly estimated (simulated 90% intervals covered 74-80% at "
                             f"n - k = 10); use more runs, or squared loss")
    # Student's t with the residual degrees of freedom: with few of them the normal quantile
    # makes a 95% interval 16x too narrow at n - k = 1 (t = 12.7 against z = 1.96)
    q = t_quantile(0.5 + level / 2, df) if df >= 1 else float("nan")
    se_t = np.sqrt(np.maximum(np.diag(cov), 0.0)) if cov is not None else np.full(k, np.nan)
    boot_se = None
    if boot is not None:
        check_same_study(fit, boot.fit, "this fit", "report(boot=)'s bootstrap")
        d = boot.converged_draws()
        boot_se = np.nanstd(co.of_draws(d), axis=0, ddof=1)
    rows = []
    for name in law.param_names:
        est = float(fit.params[name])
        row = {"parameter": name, "estimate": est}
        if name in fit.fixed:
            row.update(se=0.0, lower=est, upper=est, fixed=True, scale="fixed")
        else:
            i = co.names.index(name)
            if co.log[i]:  # log coordinates: an interval for a coefficient stays positive
                row.update(se=est * se_t[i], lower=est * np.exp(-q * se_t[i]), upper=est * np.exp(q * se_t[i]),
                           scale="log")
            else:
                lower, upper = _inside_box(est, q * se_t[i], law.params[name])
                row.update(se=se_t[i], lower=lower, upper=upper,
                           scale="natural" if isinstance(law.params[name], Free) else "box")
            row["fixed"] = False
            if boot_se is not None:
                row["bootstrap_se"] = est * boot_se[i] if co.log[i] else boot_se[i]
                row["se_ratio"] = se_t[i] / boot_se[i] if boot_se[i] > 0 else np.nan
        row["df"] = df
        rows.append(row)
    table = pd.DataFrame(rows).set_index("parameter")
    if boot_se is not None:
        off = [f"{nm} ({v:.2f})" for nm, v in table["se_ratio"].dropna().items() if not 1 / DISAGREE <= v <= DISAGREE]
        if off:
            notes.append(f"asymptotic and bootstrap SEs disagree for {', '.join(off)}: use the bootstrap's intervals")
    if cov is not None:
        notes.append(f"intervals: estimate -+ t({df}) SE in each parameter's coordinate (scale: log for positive "
                     f"parameters, so they stay positive; natural, or the box's own for bounded ones)")
    notes.append("the bootstrap (jaxlaws bootstrap) is the recommended interval; these SEs linearise the fit")
    if cov is not None:
        sd = np.sqrt(np.maximum(np.diag(cov), 1e-300))
        corr = cov / np.outer(sd, sd)
    else:
        corr = np.full((k, k), np.nan)
    labels = [f"log {nm}" if lg else nm for nm, lg in zip(co.names, co.log)]
    stats = {"status": fit.status, "n": n, "k": k, "df": df,
             "objective": fit.stated_objective,
             "objective_smoothed": float(fit.objective),
             "objective_minimised": fit.objective_description, "residual_scale": scale,
             "rms_residual": float(np.sqrt(np.mean(r**2))), "aic": float(ic["aic"]), "bic": float(ic["bic"]),
             # the fit's own (computed at the optimum); summary() adds the standardised one
             "condition_number": float(fit.condition_number), "kinked_loss": bool(kinked),
             "flag": flag}
    return FitReport(law=law.name, table=table, correlation=pd.DataFrame(corr, index=labels, columns=labels),
                     stats=stats, kind=kind, level=float(level), notes=tuple(notes))


def _scale(fit) -> float:
    try:
        return float(fit_noise(fit))
    except OptionError:  # an exact fit: no spread
        return 0.0
