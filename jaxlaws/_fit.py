"""``fit``: batched multi-start fitting of a law to data, and its array-level twin.

``fit`` is the user-facing entry point (DataFrame in, ``FitResult`` out). ``fit_arrays`` is
the same computation on arrays, written to be called inside a user's ``jax.jit``,
``jax.vmap`` and ``jax.grad``: it is differentiable with respect to the targets and the
per-point weights through implicit differentiation at the optimum.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._data import check_identifiable, load_arrays, positive_int
from ._errors import ConvergenceWarning, FitError, LawError, OptionError
from ._law import Law
from ._objective import Loss, as_loss, check_residual, implicit_root, law_objective
from ._starts import as_starts
from .kernels import multistart
from .kernels import status as ST


@dataclass(frozen=True)
class Strategy:
    """How the multi-start pipeline spends its iterations (see ``kernels.multistart``).

    The default screens every start by its objective, runs ``halving_iters`` Newton
    iterations on the best ``screen_k``, and converges the best ``keep_k`` of those.
    ``Strategy.full()`` converges every start: the exhaustive reference, ~300x slower on
    Hoffmann et al.'s 4500-start grid.
    """

    screen_k: int = 64
    keep_k: int = 16
    halving_iters: int = 8
    max_iter: int = 1000
    ftol: float = 1e-13
    patience: int = 12
    name: str = "screen"
    line_search: int = 8

    def __post_init__(self):
        for k in ("screen_k", "keep_k", "max_iter", "patience"):
            positive_int(f"Strategy.{k}", getattr(self, k))
        if not isinstance(self.halving_iters, int) or self.halving_iters < 0:
            raise OptionError(f"Strategy.halving_iters must be an integer >= 0, got {self.halving_iters!r}")
        positive_int("Strategy.line_search", self.line_search)
        if not (0 < self.ftol < 1):
            raise OptionError(f"Strategy.ftol must be in (0, 1), got {self.ftol!r}")

    @classmethod
    def full(cls, n_starts: int = 10**9, **kw) -> "Strategy":
        return cls(screen_k=n_starts, keep_k=n_starts, halving_iters=0, name="full", **kw)

    def sized(self, n: int) -> "Strategy":
        """Clip the stage sizes to ``n`` starts (they set static array shapes)."""
        sk = min(self.screen_k, n)
        kk = min(self.keep_k, sk)
        return dataclasses.replace(self, screen_k=sk, keep_k=kk)

    def kernel_kwargs(self) -> dict:
        return dict(
            screen_k=self.screen_k, keep_k=self.keep_k, halving_iters=self.halving_iters,
            max_iter=self.max_iter, ftol=self.ftol, patience=self.patience, line_search=self.line_search,
        )


def as_strategy(strategy) -> Strategy:
    if strategy is None or strategy == "screen":
        return Strategy()
    if strategy == "full":
        return Strategy.full()
    if isinstance(strategy, Strategy):
        return strategy
    raise OptionError(f"strategy={strategy!r}: use 'screen', 'full' or a jaxlaws.Strategy")


def resolve_law(law) -> Law:
    if isinstance(law, Law):
        return law
    if isinstance(law, str):
        from .laws import get_law

        return get_law(law)
    raise LawError(f"law must be a jaxlaws Law or a built-in law name, got {type(law).__name__}")


# ---------------------------------------------------------------------------------------
# The compiled core
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Everything static about a fit: the law, the loss, the coordinates, the strategy."""

    law: Law
    loss: Loss
    residual: str
    strategy: Strategy
    free_idx: tuple | None  # indices of the optimised parameters (None: all)
    center: bool

    def objective(self):
        return law_objective(self.law, self.loss, self.residual, self.free_idx)

    def solve(self, starts_fit, extra_fit, Xb, yt, w, strata=None):
        """Multi-start solve in fit coordinates (traceable; vmap over ``w`` to bootstrap)."""
        value, vgh = self.objective()
        return multistart(vgh, value, starts_fit, (Xb, yt, w), extra=extra_fit, strata=strata,
                          **self.strategy.kernel_kwargs())


@functools.lru_cache(maxsize=64)
def _compiled_solve(problem: Problem):
    return jax.jit(problem.solve)


@dataclass
class Prepared:
    """Data and starts moved into fit coordinates (host arrays ready for the core)."""

    problem: Problem
    X: dict
    y: np.ndarray
    w: np.ndarray
    Xfit: tuple
    aux: object
    base_fit: jax.Array
    starts_user: np.ndarray
    starts_fit: jax.Array
    extra_user: np.ndarray
    extra_fit: jax.Array
    yt: jax.Array
    fixed: dict
    strata: jax.Array | None = None

    def to_user(self, theta_fit_free):
        """Free fit coordinates (..., k) to the full user unconstrained vector (..., p)."""
        th = jnp.asarray(theta_fit_free)
        fi = self.problem.free_idx
        if fi is not None:
            th = jnp.broadcast_to(self.base_fit, th.shape[:-1] + self.base_fit.shape).at[..., jnp.asarray(fi)].set(th)
        return np.asarray(self.problem.law._from_fit(th, self.aux))


def _theta_to_fit(law, theta_user, aux, free_idx):
    th = law._to_fit(jnp.asarray(theta_user), aux)
    if free_idx is not None:
        th = th[..., jnp.asarray(free_idx)]
    return th


def prepare(
    law,
    data,
    y: str = "loss",
    *,
    loss=None,
    residual: str = "log",
    starts=None,
    extra_starts=None,
    weights=None,
    columns: Mapping[str, str] | None = None,
    fixed: Mapping[str, float] | None = None,
    strategy=None,
    dtype=None,
) -> Prepared:
    """Validate data and options and move them into fit coordinates (shared by fit/bootstrap)."""
    law = resolve_law(law)
    loss = as_loss(huber_default() if loss is None else loss)
    residual = check_residual(residual)
    strategy = as_strategy(strategy)
    if isinstance(y, str) is False:
        raise OptionError(f"y must be a column name, got {y!r}")
    X, yv, w = load_arrays(
        data, law.input_domains, y, columns=columns,
        y_domain="positive" if residual == "log" else "real", weights=weights, check=law.check_inputs,
    )
    fixed = dict(fixed or {})
    unknown = [k for k in fixed if k not in law.params]
    if unknown:
        raise OptionError(f"fixed={unknown} are not parameters of {law.name} {list(law.param_names)}")
    for k, v in fixed.items():
        try:
            ok = np.shape(v) == () and bool(np.all(law.params[k].contains(np.asarray(v, dtype=float))))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise OptionError(f"fixed {k}={v!r} must be a single number inside {law.params[k]!r}")
    free_names = [k for k in law.param_names if k not in fixed]
    if not free_names:
        raise OptionError("fixed= leaves no parameter to fit")
    check_identifiable(X, w, len(free_names), law.name, law.constant_ok)

    if starts is None:
        if law.starts is None:
            raise OptionError(f"{law.name} has no default start grid: pass starts=jaxlaws.grid(...)")
        starts = law.starts
    sobj = as_starts(starts)
    free_idx = None
    if fixed:
        free_idx = tuple(law.param_names.index(k) for k in free_names)
        # Starts need only the free parameters; fill the fixed ones for resolution.
        from ._starts import Grid

        if isinstance(sobj, Grid):
            axes = dict(sobj.axes)
            for k, v in fixed.items():
                axes[k] = [v] if sobj.space == "natural" else law.params[k].inverse([v])
            sobj = Grid(axes, space=sobj.space)
    starts_user = sobj.resolve(law)
    if fixed:
        # only the fixed values are mapped to fit coordinates (a placeholder for the others
        # could lie outside their domain, e.g. 1.0 for a bounded(-3, 0) exponent)
        fixed_theta = np.zeros(law.n_params)
        for k, v in fixed.items():
            fixed_theta[law.param_names.index(k)] = law.params[k].inverse(np.asarray(v, dtype=float))
        for k in fixed:
            starts_user[:, law.param_names.index(k)] = fixed_theta[law.param_names.index(k)]
    extra_user = np.zeros((0, law.n_params))
    if extra_starts is not None:
        extra_user = as_starts(extra_starts).resolve(law)
        if fixed:
            for k in fixed:
                extra_user[:, law.param_names.index(k)] = fixed_theta[law.param_names.index(k)]

    dt = jnp.float64 if dtype in (None, "float64", np.float64, jnp.float64) else jnp.float32
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise OptionError("float64 requested but jax_enable_x64 is off; enable it or pass dtype='float32'")
    strategy = strategy.sized(len(starts_user))
    if dt == jnp.float32:
        # float32 resolves f only to ~1e-7 relative: a tighter decrement test never fires.
        strategy = dataclasses.replace(strategy, ftol=max(strategy.ftol, 1e-6))
    problem = Problem(law, loss, residual, strategy, free_idx, center=not fixed)
    Xj = {k: jnp.asarray(v, dt) for k, v in X.items()}
    Xfit, aux = law._prepare(Xj, center=problem.center)
    base_user = jnp.asarray(starts_user[0], dt)
    base_fit = law._to_fit(base_user, aux)
    starts_fit = _theta_to_fit(law, jnp.asarray(starts_user, dt), aux, free_idx)
    extra_fit = _theta_to_fit(law, jnp.asarray(extra_user, dt), aux, free_idx)
    yt = jnp.asarray(np.log(yv) if residual == "log" else yv, dt)
    strata = law._strata(starts_user)
    strata = None if strata is None else jnp.asarray(strata, jnp.int32)
    return Prepared(problem, X, yv, w, Xfit, aux, base_fit, starts_user, starts_fit, extra_user, extra_fit, yt, fixed, strata)


def huber_default() -> Loss:
    return Loss("huber", 1e-3)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """The outcome of ``jaxlaws.fit``.

    ``params`` holds natural values; ``status`` is ``"converged"`` only when the winning
    start's Newton decrement fell below tolerance. ``start_status`` accounts for every
    start (converged, stalled, hit the cap, non-finite, or pruned by the screen/halving).
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
    _prepared: Prepared | None = field(default=None, repr=False)

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def counts(self) -> dict:
        """How many starts ended in each status (all starts are accounted for)."""
        c = np.bincount(self.start_status, minlength=len(ST.NAMES))
        return {ST.NAMES[i]: int(c[i]) for i in range(len(ST.NAMES))}

    @property
    def n_starts(self) -> int:
        return int(self.start_status.shape[0])

    def predict(self, data, columns: Mapping[str, str] | None = None) -> np.ndarray:
        """Predictions of the fitted law at the rows of ``data`` (natural scale)."""
        X, _, _ = load_arrays(data, self.law.input_domains, None, columns=columns or self.columns,
                              check=self.law.check_inputs)
        p = {k: jnp.asarray(v) for k, v in self.params.items()}
        logp = self.law.log_predict(p, *(jnp.asarray(X[k]) for k in self.law.inputs))
        return np.exp(np.asarray(logp))

    def basins(self, k: int = 4, rtol: float = 1e-6) -> np.ndarray:
        """Up to ``k`` distinct local optima this fit found (unconstrained, best first).

        Converged starts are grouped by objective value (relative tolerance ``rtol``); the
        best point of each group is returned. Used to warm-start resampled fits.
        """
        conv = np.flatnonzero(self.start_status == ST.CONVERGED)
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
        """One row per start: its unconstrained coordinates' status, objective, iterations."""
        import pandas as pd

        return pd.DataFrame(
            {
                "status": [ST.NAMES[int(s)] for s in self.start_status],
                "objective": self.start_objective,
                "iterations": self.start_iterations,
            }
        )

    def diagnostics(self, threshold: float = 1e6) -> dict:
        """Hessian at the optimum (unconstrained coordinates), condition number, weak directions."""
        from ._sensitivity import diagnostics

        return diagnostics(self, threshold)

    def summary(self):
        """A DataFrame: one row per parameter with its estimate, plus fit-level columns.

        ``condition_number`` is that of the Hessian in the unconstrained coordinates;
        ``ill_conditioned`` flags it above 1e6 (the 5-parameter Chinchilla fit is ~1e7:
        A trades off against alpha and B against beta), and ``attrs["weak_directions"]``
        lists the parameter combinations the data pin down worst.
        """
        import pandas as pd

        diag = self.diagnostics()
        rows = []
        for k in self.law.param_names:
            rows.append(
                {
                    "parameter": k,
                    "estimate": self.params[k],
                    "fixed": k in self.fixed,
                    "objective": self.objective,
                    "status": self.status,
                    "condition_number": diag["condition_number"],
                    "ill_conditioned": diag["ill_conditioned"],
                }
            )
        df = pd.DataFrame(rows).set_index("parameter")
        df.attrs["weak_directions"] = diag["weak_directions"]
        return df

    def to_dict(self) -> dict:
        return {
            "law": self.law.name,
            "params": {k: float(v) for k, v in self.params.items()},
            "objective": float(self.objective),
            "n_points": int(self.n_points),
            "status": self.status,
            "loss": str(self.loss),
            "residual": self.residual,
            "y": self.y,
            "columns": dict(self.columns),
            "fixed": {k: float(v) for k, v in self.fixed.items()},
            "n_starts": self.n_starts,
            "start_counts": self.counts,
            "best_start": int(self.best_start),
            "iterations": int(self.iterations),
            "strategy": self.strategy.name,
            "timings": self.timings,
        }

    def __repr__(self):
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"FitResult({self.law.name}: {ps}; objective={self.objective:.10g}, status={self.status})"


def _finish(prep: Prepared, r, y: str, columns, timings) -> FitResult:
    law = prep.problem.law
    start_status = np.asarray(r.start_status)
    start_f = np.asarray(r.start_f)
    f = float(r.f)
    if not math.isfinite(f):
        raise FitError(
            f"every start of {law.name} failed: {int((start_status == ST.NONFINITE).sum())} of "
            f"{len(start_status)} gave a non-finite objective and none reached a finite optimum; "
            f"check the data's units and the start grid"
        )
    theta = prep.to_user(np.asarray(r.theta))
    params = {k: float(v) for k, v in law.constrain(jnp.asarray(theta)).items()}
    # fixed parameters are reported as given, not after the exp(log(v)) round trip
    params.update({k: float(v) for k, v in prep.fixed.items()})
    status = ST.NAMES[int(r.status)]
    n_points = int(np.sum(prep.w > 0))
    res = FitResult(
        law=law, params=params, theta=theta, objective=f, status=status, n_points=n_points,
        start_status=start_status, start_objective=start_f, start_iterations=np.asarray(r.start_iter),
        start_theta=prep.to_user(np.asarray(r.start_theta)),
        best_start=int(r.best_index), iterations=int(r.n_iter), loss=prep.problem.loss,
        residual=prep.problem.residual, y=y, columns=dict(columns or {}), fixed=dict(prep.fixed),
        strategy=prep.problem.strategy, timings=timings, _prepared=prep,
    )
    n_failed = int((start_status == ST.NONFINITE).sum())
    if status != "converged":
        warnings.warn(
            f"{law.name}: the best start did not converge (status {status!r}, objective {f:.6g}); "
            f"{n_failed} of {len(start_status)} starts were non-finite. Treat the estimates with care.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return res


def fit(
    law,
    data,
    y: str = "loss",
    *,
    loss=None,
    residual: str = "log",
    starts=None,
    extra_starts=None,
    weights=None,
    columns: Mapping[str, str] | None = None,
    fixed: Mapping[str, float] | None = None,
    strategy=None,
    dtype=None,
) -> FitResult:
    """Fit ``law`` to ``data`` by batched multi-start minimisation, in one compiled call.

    **Arguments:**
    - ``law``: a :class:`Law` (e.g. from ``@jaxlaws.law``) or a built-in name (``"chinchilla"``).
    - ``data``: a pandas DataFrame or a dict of arrays, with one column per law input.
    - ``y``: the target column (``"loss"``).
    - ``loss``: ``jaxlaws.huber(delta)`` (default ``huber(1e-3)``) or ``jaxlaws.squared()``;
      always *summed* over points.
    - ``residual``: ``"log"`` (``log pred - log y``, the default) or ``"raw"`` (``pred - y``).
    - ``starts``: ``jaxlaws.grid(...)``, ``jaxlaws.random_starts(...)``, a dict or list of
      dicts of natural values, or an ``(S, p)`` array of unconstrained values; default: the
      law's own grid. ``extra_starts`` bypass the screen (warm starts).
    - ``weights``: per-point non-negative weights (array or column name); 0 drops a point.
    - ``columns``: ``{input_name: column_name}`` when the data names differ.
    - ``fixed``: ``{param: value}`` held constant during the fit.
    - ``strategy``: ``"screen"`` (default), ``"full"`` or a :class:`Strategy`.
    - ``dtype``: ``"float64"`` (default) or ``"float32"``.

    **Returns:** a :class:`FitResult`. A non-converged best start is returned with its
    status and a ``ConvergenceWarning``; if no start yields a finite objective, ``FitError``.
    """
    t0 = time.perf_counter()
    prep = prepare(
        law, data, y, loss=loss, residual=residual, starts=starts, extra_starts=extra_starts,
        weights=weights, columns=columns, fixed=fixed, strategy=strategy, dtype=dtype,
    )
    t1 = time.perf_counter()
    solve = _compiled_solve(prep.problem)
    w = jnp.asarray(prep.w, prep.yt.dtype)
    Xb = (prep.Xfit, prep.base_fit)
    r = jax.block_until_ready(solve(prep.starts_fit, prep.extra_fit, Xb, prep.yt, w, prep.strata))
    t2 = time.perf_counter()
    res = _finish(prep, r, y, columns, {"prepare_s": t1 - t0, "solve_s": t2 - t1})
    if prep.yt.dtype == jnp.float32:
        _check_float32(res)
    return res


def _check_float32(res: FitResult):
    """Polish the float32 winner in float64; warn if float32 had not reached that optimum."""
    prep = res._prepared
    value, _ = prep.problem.objective()
    X64 = {k: jnp.asarray(v, jnp.float64) for k, v in prep.X.items()} if jax.config.jax_enable_x64 else None
    if X64 is None:
        warnings.warn("float32 fit: float64 is disabled, so the optimum could not be checked", ConvergenceWarning, stacklevel=3)
        return
    Xfit, aux = prep.problem.law._prepare(X64, center=prep.problem.center)
    th = prep.problem.law._to_fit(jnp.asarray(res.theta, jnp.float64), aux)
    fi = prep.problem.free_idx
    base = prep.problem.law._to_fit(jnp.asarray(prep.starts_user[0], jnp.float64), aux)
    th_free = th if fi is None else th[jnp.asarray(fi)]
    yt = jnp.asarray(np.log(prep.y) if prep.problem.residual == "log" else prep.y, jnp.float64)
    args = ((Xfit, base), yt, jnp.asarray(prep.w, jnp.float64))
    from .kernels import damped_newton

    _, vgh = prep.problem.objective()
    r = damped_newton(vgh, value, th_free[None], args, max_iter=50, ftol=1e-13)
    f64 = float(r.f[0])
    f_at = float(value(th_free, args))
    res.timings["float64_objective_at_float32_fit"] = f_at
    res.timings["float64_polished_objective"] = f64
    if not (f_at <= f64 * (1 + 1e-6) + 1e-300):
        warnings.warn(
            f"float32 fit stopped at objective {f_at:.10g} (float64 re-evaluation), above the "
            f"float64 optimum {f64:.10g} from the same basin; refit in float64",
            ConvergenceWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------
# Array-level, differentiable
# ---------------------------------------------------------------------------------------


def fit_arrays(
    law,
    X: Mapping[str, jax.Array],
    y: jax.Array,
    weights: jax.Array | None = None,
    *,
    starts=None,
    extra_starts=None,
    loss=None,
    residual: str = "log",
    strategy=None,
    return_result: bool = False,
):
    """Fit on arrays; usable inside ``jax.jit``, ``jax.vmap`` and ``jax.grad``.

    Returns the fitted natural parameters as a dict of JAX scalars (and, with
    ``return_result=True``, also the kernel's ``MultiStartResult`` carrying per-start
    statuses). Derivatives with respect to ``y`` and ``weights`` come from implicit
    differentiation at the optimum (``lax.custom_root``); they are valid where the fit
    converged to a strict minimum. No input validation happens here (values may be
    traced): validate with ``jaxlaws.fit`` first if the data are untrusted.
    """
    law = resolve_law(law)
    loss = as_loss(huber_default() if loss is None else loss)
    residual = check_residual(residual)
    if starts is None:
        if law.starts is None:
            raise OptionError(f"{law.name} has no default start grid: pass starts=")
        starts = law.starts
    starts_user = as_starts(starts).resolve(law)
    extra_user = np.zeros((0, law.n_params)) if extra_starts is None else as_starts(extra_starts).resolve(law)
    strategy = as_strategy(strategy).sized(len(starts_user))
    problem = Problem(law, loss, residual, strategy, None, True)
    y = jnp.asarray(y)
    dt = y.dtype if jnp.issubdtype(y.dtype, jnp.floating) else jnp.float64
    Xj = {k: jnp.asarray(X[k], dt) for k in law.inputs}
    Xfit, aux = law._prepare(Xj, center=True)
    yt = jnp.log(y) if residual == "log" else y
    w = jnp.ones_like(yt) if weights is None else jnp.asarray(weights, dt)
    base = law._to_fit(jnp.asarray(starts_user[0], dt), aux)
    s_fit = law._to_fit(jnp.asarray(starts_user, dt), jax.lax.stop_gradient(aux))
    e_fit = law._to_fit(jnp.asarray(extra_user, dt), jax.lax.stop_gradient(aux))
    Xb = (Xfit, base)
    sg = jax.lax.stop_gradient
    strata = law._strata(starts_user)
    r = problem.solve(s_fit, e_fit, sg(Xb), sg(yt), sg(w), None if strata is None else jnp.asarray(strata, jnp.int32))
    value, _ = problem.objective()
    theta_fit = implicit_root(value, r.theta, (Xb, yt, w))
    params = law.constrain(law._from_fit(theta_fit, aux))
    return (params, r) if return_result else params


def write_atomic(path: str, write, suffix: str = ""):
    """``write(tmp)`` to a temporary file beside ``path``, then rename it onto ``path``.

    The rename is atomic, so a reader (or a resumed run) sees the old file or the new one,
    never half of one. ``suffix`` is for writers that append an extension (``np.savez``).
    """
    tmp = f"{path}.tmp-{os.getpid()}{suffix}"
    write(tmp)
    os.replace(tmp, path)


def write_json_atomic(path: str, obj, force: bool = False):
    """Write JSON via a temporary file and rename; refuse to overwrite unless ``force``."""
    if os.path.exists(path) and not force:
        raise OptionError(f"{path} exists; pass force=True (CLI: --force) to overwrite it")

    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=2, sort_keys=False)
            fh.write("\n")

    write_atomic(path, write)
