"""``FitResult``: the immutable outcome of a fit, with its tables, summary and serialisation."""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._data import load_arrays
from ._diagnostics import diagnostics
from ._errors import ConvergenceWarning, FitError, OptionError
from ._identify import bound_reasons, curvature_reasons, design_reasons, parameter_reasons
from ._prepare import Prepared, Strategy, hessian_fn
from ._law import Law
from ._loss import Loss
from ._units import convert, factors
from ._util import x64
from .kernels import DampedNewton, iterate
from .kernels import results as R


@dataclass(frozen=True)
class FitResult:
    """The outcome of ``jaxlaws.fit``.

    ``params`` holds natural values; ``status`` is ``"converged"`` only when the winning
    start passed its solver's convergence test. ``start_status`` accounts for every start
    (converged, stalled, hit the cap, non-finite, or pruned by the screen/halving) as
    codes of ``kernels.results``. ``prepared`` holds the validated data in fit coordinates.
    """

    law: Law
    params: dict
    theta: np.ndarray
    objective: float
    status: str
    n_points: int
    start_status: np.ndarray
    start_objective: np.ndarray
    start_iterations: np.ndarray
    start_theta: np.ndarray
    best_start: int
    iterations: int
    loss: Loss
    residual: str
    y: str
    columns: dict
    fixed: dict
    strategy: Strategy
    timings: dict = field(default_factory=dict)
    prepared: Prepared | None = field(default=None, repr=False, compare=False)
    reasons: tuple = ()
    condition_number: float = float("nan")
    recipe: object = None  # the Recipe followed (None: defaults)
    units: dict = field(default_factory=dict)  # input -> unit the parameters refer to
    data_units: dict = field(default_factory=dict)  # input -> unit of the fitted table
    excluded: dict = field(default_factory=dict)  # row-selection reason -> rows excluded
    # the stated loss's objective without the solver's smoothing (== objective for smooth losses)
    exact_objective: float = float("nan")

    @property
    def converged(self) -> bool:
        """The solver converged *and* the data determine the parameters (not ``degenerate``)."""
        return self.status == "converged"

    @property
    def degenerate(self) -> bool:
        return self.status == "degenerate"

    @property
    def objective_description(self) -> str:
        """The objective minimised, in one line (so nobody mistakes one recipe for another)."""
        return self.loss.describe(self.residual)

    @property
    def stated_objective(self) -> float:
        """The objective of the stated loss: ``exact_objective`` where the solver minimised a
        smoothed form (a kinked loss), else ``objective``."""
        return float(self.exact_objective if math.isfinite(self.exact_objective) else self.objective)

    def objective_text(self, digits: int = 12) -> str:
        """The stated loss's objective, and beside it the smoothed one the solver minimised where
        they differ (a kinked loss): ``0.0227818908 (smoothed, as minimised: 0.0227809779)``."""
        if self.stated_objective == self.objective:
            return f"{self.objective:.{digits}g}"
        return f"{self.stated_objective:.{digits}g} (smoothed, as minimised: {self.objective:.{digits}g})"

    @property
    def counts(self) -> dict:
        """How many starts ended in each status (all starts are accounted for)."""
        c = np.bincount(self.start_status, minlength=len(R.NAMES))
        return {R.NAMES[i]: int(c[i]) for i in range(len(R.NAMES)) if i <= R.STALLED or c[i]}

    @property
    def n_starts(self) -> int:
        return int(self.start_status.shape[0])

    @x64
    def predict(self, data, columns: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> np.ndarray:
        """Predictions of the fitted law at the rows of ``data`` (natural scale).

        ``units`` states the units of ``data``'s inputs (default: those of the fitted table);
        they are converted to the units the parameters refer to.
        """
        X, _, _ = load_arrays(data, self.law.input_domains, None, columns=columns or self.columns,
                              check=self.law.check_inputs)
        X = convert(X, factors(self.law.inputs, units if units is not None else self.data_units, self.units))
        p = {k: jnp.asarray(v) for k, v in self.params.items()}
        xs = [jnp.asarray(X[k]) for k in self.law.inputs]
        if self.residual == "log":
            # through the law's log form: finite where the plain form would overflow
            return np.exp(np.asarray(self.law.log_predict(p, *xs)))
        return np.asarray(self.law(p, *xs))

    @functools.cached_property
    def input_ranges(self) -> dict:
        """``{input: [lo, hi]}`` of the rows the fit used (and ``C`` = 6ND for laws of N and D),
        in the parameters' units: what ``_extrapolation`` measures predictions against."""
        from ._extrapolation import input_ranges

        if self.prepared is None:
            return {}
        X, w, _ = self.prepared.used()
        return input_ranges(X, w)

    def extrapolation(self, data, columns=None, units=None):
        """Per row of ``data``: decades outside the fitted runs' range (max over inputs and
        compute; 0 inside) and a text naming each input outside (``_extrapolation.outside``)."""
        from ._extrapolation import outside

        X, _, _ = load_arrays(data, self.law.input_domains, None, columns=columns or self.columns,
                              check=self.law.check_inputs)
        X = convert(X, factors(self.law.inputs, units if units is not None else self.data_units, self.units))
        return outside(self.input_ranges, X, self.law.input_domains)

    def residuals(self) -> np.ndarray:
        """Residuals of the fitted rows in the fit's residual space (``log pred - log y`` by default);
        ``nan`` at rows the fit did not use (weight 0). A copy: the caller may change it."""
        return self._residuals.copy()

    @functools.cached_property
    @x64
    def _residuals(self) -> np.ndarray:
        # computed once per result: a report asks for them five times (scale, criteria,
        # bandwidth, psi, its own table), each a round trip through the law on device
        return self.prepared.residuals(self.prepared.to_fit(self.theta))

    def basins(self, k: int = 4, rtol: float = 1e-6) -> np.ndarray:
        """Up to ``k`` distinct local optima this fit found (unconstrained, best first).

        Converged starts are grouped by objective value (relative tolerance ``rtol``); the
        best point of each group is returned. Used to warm-start resampled fits.
        """
        conv = np.flatnonzero(self.start_status == R.CONVERGED)
        order = conv[np.argsort(self.start_objective[conv], kind="stable")]
        out, seen = [self.theta], [self.objective]
        for i in order:
            f = self.start_objective[i]
            if all(abs(f - g) > rtol * abs(g) for g in seen):
                out.append(self.start_theta[i])
                seen.append(f)
            if len(out) >= k:
                break
        return np.stack(out)

    def start_table(self):
        """One row per start: its status, objective and iterations."""
        import pandas as pd

        return pd.DataFrame({"status": R.name_of(self.start_status), "objective": self.start_objective,
                             "iterations": self.start_iterations})

    def diagnostics(self, threshold: float = 1e6) -> dict:
        """Hessian at the optimum (unconstrained coordinates), condition number, weak directions."""
        return diagnostics(self, threshold)

    def report(self, level: float = 0.95, kind: str | None = None, boot=None):
        """The fit report (``jaxlaws._report``): estimates with standard errors and intervals from
        the objective's curvature (``kind``: ``"sandwich"`` or ``"classical"``; default the
        sandwich, or classical t intervals for a squared-loss fit with n - k < 10), correlations, n,
        residual scale, AIC/BIC, conditioning; ``boot`` sets a bootstrap's SEs beside them."""
        from ._report import fit_report

        return fit_report(self, level=level, kind=kind, boot=boot)

    def summary(self):
        """A DataFrame: one row per parameter with its estimate, its sandwich standard error and
        95% interval (``report()`` has the rest), plus fit-level columns.

        ``condition_number`` is that of the Hessian in the unconstrained coordinates (the
        5-parameter Chinchilla fit: ~1e7, A trades off against alpha and B against beta);
        ``standardised_condition_number`` that of the unit-diagonal Hessian, and
        ``ill_conditioned`` flags it above 1e6 (healthy Chinchilla: ~1e5);
        ``attrs["weak_directions"]`` lists the parameter combinations the data pin down worst.
        """
        import pandas as pd

        diag = self.diagnostics()
        rep = self.report().table
        rows = [{"parameter": k, "estimate": self.params[k], "se": rep.loc[k, "se"], "lower_0.95": rep.loc[k, "lower"],
                 "upper_0.95": rep.loc[k, "upper"], "fixed": k in self.fixed, "objective": self.objective,
                 "status": self.status, "condition_number": diag["condition_number"],
                 "standardised_condition_number": diag["standardised_condition_number"],
                 "ill_conditioned": diag["ill_conditioned"]} for k in self.law.param_names]
        df = pd.DataFrame(rows).set_index("parameter")
        df.attrs["weak_directions"] = diag["weak_directions"]
        df.attrs["objective"] = self.objective_description
        df.attrs["noise"] = self.noise()
        return df

    def noise(self):
        """The run-to-run noise the residuals show (``_noise.noise_model``; None for an exact fit)."""
        from ._noise import noise_model

        try:
            return noise_model(self)
        except OptionError:
            return None

    @x64
    def to_dict(self) -> dict:
        return {
            "law": self.law.name,
            "params": {k: float(v) for k, v in self.params.items()},
            "objective": self.stated_objective,
            "objective_smoothed": float(self.objective),
            "objective_minimised": self.objective_description,
            "n_points": int(self.n_points),
            "data_fingerprint": self.prepared.data_fingerprint() if self.prepared is not None else None,
            "status": self.status,
            "reasons": list(self.reasons),
            "condition_number": self.condition_number,
            "loss": str(self.loss),
            "residual": self.residual,
            "y": self.y,
            "columns": dict(self.columns),
            "fixed": {k: float(v) for k, v in self.fixed.items()},
            "n_starts": self.n_starts,
            "start_counts": self.counts,
            "best_start": int(self.best_start),
            "iterations": int(self.iterations),
            "recipe": None if self.recipe is None else self.recipe.to_dict(),
            "bounds": {k: list(v) for k, v in self.law.bounds.items()},
            "units": dict(self.units),
            "data_units": dict(self.data_units),
            "rows_excluded": dict(self.excluded),
            "strategy": self.strategy.name,
            "solver": self.strategy.solver,
            "timings": dict(self.timings),
            "noise": None if self.noise() is None else self.noise().to_dict(),
            "input_ranges": self.input_ranges,
        }

    def __repr__(self):
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"FitResult({self.law.name}: {ps}; objective={self.objective:.10g}, status={self.status})"


def finish(prep: Prepared, r, y: str, columns, timings) -> FitResult:
    """The ``FitResult`` of a multi-start solve ``r`` (warns when the winner did not converge)."""
    law = prep.problem.law
    start_status = np.asarray(r.start_status)
    f = float(r.f)
    if not math.isfinite(f):
        raise FitError(
            f"every start of {law.name} failed: {int((start_status == R.NONFINITE).sum())} of "
            f"{len(start_status)} gave a non-finite objective and none reached a finite optimum; "
            f"check the data's units and the start grid"
        )
    theta = prep.to_user(np.asarray(r.theta))
    params = {k: float(v) for k, v in law.constrain(jnp.asarray(theta)).items()}
    # fixed parameters are reported as given, not after the exp(log(v)) round trip
    params.update({k: float(v) for k, v in prep.fixed.items()})
    status = R.name_of(int(r.status))
    on_bound = bound_reasons(law, params, prep.fixed)
    reasons, cond = _identify(prep, params, r.theta, "at_bound" if on_bound else status)
    if reasons and status == "converged":
        status = "degenerate"
    elif on_bound and status == "converged":
        status = "at_bound"
    reasons = list(reasons) + on_bound
    timings = dict(timings)
    if prep.yt.dtype == jnp.float32:
        timings.update(_float64_check(prep, theta))
    exact = (prep.loss.exact_objective(prep.residuals(r.theta), np.asarray(prep.w)[: prep.n_rows])
             if prep.loss.smoothed else float("nan"))  # other losses are exact as minimised
    res = FitResult(
        law=law, params=params, theta=theta, objective=f, exact_objective=exact, status=status, n_points=int(np.sum(prep.w > 0)),
        start_status=start_status, start_objective=np.asarray(r.start_f), start_iterations=np.asarray(r.start_iter),
        start_theta=prep.to_user(np.asarray(r.start_theta)), best_start=int(r.best_index), iterations=int(r.n_iter),
        loss=prep.loss, residual=prep.problem.residual, y=y, columns=dict(columns or {}), fixed=dict(prep.fixed),
        strategy=prep.strategy, timings=timings, prepared=prep, reasons=tuple(reasons), condition_number=cond,
        recipe=prep.recipe, units=dict(prep.units), data_units=dict(prep.data_units), excluded=dict(prep.excluded),
    )
    n_failed = int((start_status == R.NONFINITE).sum())
    if status == "degenerate":
        warnings.warn(f"{law.name}: the fit is degenerate (the data cannot determine it): {'; '.join(reasons)}",
                      ConvergenceWarning, stacklevel=3)
    elif status == "at_bound":
        warnings.warn(f"{law.name}: {'; '.join(on_bound)}", ConvergenceWarning, stacklevel=3)
    elif status != "converged":
        warnings.warn(
            f"{law.name}: the best start did not converge (status {status!r}, objective {f:.6g}); "
            f"{n_failed} of {len(start_status)} starts were non-finite. Treat the estimates with care.",
            ConvergenceWarning, stacklevel=3,
        )
    return res


def _identify(prep: Prepared, params: dict, theta_fit, status: str):
    """Why the data cannot determine this fit (design, parameters, curvature), and the Hessian's
    condition number in free fit coordinates (nan when not computed)."""
    law = prep.problem.law
    reasons = design_reasons(law, prep.X, prep.w[None], prep.problem.n_free)[0]
    reasons += parameter_reasons(law, params, prep.fixed)
    cond = float("nan")
    if status == "converged" and not reasons:
        H = np.asarray(hessian_fn(prep.problem)(jnp.asarray(theta_fit), prep.args()))
        more, cond = curvature_reasons(H)
        reasons += more
    return reasons, cond


def _float64_check(prep: Prepared, theta_user) -> dict:
    """Polish a float32 winner in float64; warn if float32 had not reached that optimum."""
    problem = prep.problem
    Xfit, aux, base, th, _ = problem.setup(prep.X, np.asarray(theta_user)[None], prep.extra_user, jnp.float64)
    th = th[0]
    yt = problem.target(jnp.asarray(prep.y, jnp.float64))
    args = ((Xfit, base), yt, jnp.asarray(prep.w, jnp.float64), jnp.asarray(prep.loss.array(), jnp.float64))
    obj = problem.objective()
    sol = jax.jit(lambda t, a: iterate(DampedNewton(), obj, t, a, 50))(th, args)
    f64, f_at = float(sol.f), float(obj.value(th, args))
    if not (f_at <= f64 * (1 + 1e-6) + 1e-300):
        warnings.warn(
            f"float32 fit stopped at objective {f_at:.10g} (float64 re-evaluation), above the "
            f"float64 optimum {f64:.10g} from the same basin; refit in float64", ConvergenceWarning, stacklevel=4,
        )
    return {"float64_objective_at_float32_fit": f_at, "float64_polished_objective": f64}
