"""From user input to one compiled solve: options, validated data in fit coordinates, ``solve``.

``prepare`` validates a table and the options and builds the ``FitProblem`` and the arrays in
fit coordinates (``Prepared``); ``solve`` is the one multi-start solve every job runs
(``fit``, each ``bootstrap`` resample, ``ablate``'s specifications, ``fit_arrays``), compiled
once per (problem, strategy) by ``compiled_solve``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._data import check_identifiable, load_arrays, positive_int
from ._errors import LawError, OptionError
from ._law import Law
from ._loss import Loss, as_loss
from ._problem import RESIDUALS, FitProblem
from ._recipe import merged, resolve_recipe
from ._select import derive_columns, select
from ._units import convert, factors
from ._starts import Grid, as_starts, default_starts
from ._util import bucket_size
from .kernels import SOLVERS, multistart


@dataclass(frozen=True)
class Strategy:
    """How the multi-start pipeline spends its iterations (see ``kernels.multistart``).

    The default screens every start by its objective, runs ``halving_iters`` solver steps on
    the best ``screen_k``, and converges the best ``keep_k`` of those. ``Strategy.full()``
    converges every start: the exhaustive reference, ~300x slower on Hoffmann et al.'s
    4500-start grid. ``solver`` names the minimiser (``"newton"``, the default, or ``"bfgs"``).
    """

    screen_k: int = 64
    keep_k: int = 16
    halving_iters: int = 8
    max_iter: int = 1000
    ftol: float = 1e-13
    patience: int = 12
    name: str = "screen"
    line_search: int = 8
    solver: str = "newton"

    def __post_init__(self):
        for k in ("screen_k", "keep_k", "max_iter", "patience"):
            positive_int(f"Strategy.{k}", getattr(self, k))
        if not isinstance(self.halving_iters, int) or self.halving_iters < 0:
            raise OptionError(f"Strategy.halving_iters must be an integer >= 0, got {self.halving_iters!r}")
        positive_int("Strategy.line_search", self.line_search)
        if not (0 < self.ftol < 1):
            raise OptionError(f"Strategy.ftol must be in (0, 1), got {self.ftol!r}")
        if self.solver not in SOLVERS:
            raise OptionError(f"Strategy.solver={self.solver!r} must be one of {sorted(SOLVERS)}")

    @classmethod
    def full(cls, n_starts: int = 10**9, **kw) -> "Strategy":
        return cls(screen_k=n_starts, keep_k=n_starts, halving_iters=0, name="full", **kw)

    def sized(self, n: int) -> "Strategy":
        """Clip the stage sizes to ``n`` starts (they set static array shapes)."""
        sk = min(self.screen_k, n)
        return dataclasses.replace(self, screen_k=sk, keep_k=min(self.keep_k, sk))

    def make_solver(self):
        kw = dict(ftol=self.ftol, patience=self.patience, line_search=self.line_search)
        return SOLVERS[self.solver](**kw)


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


# The target's domain in each residual space (a log is taken of y, or of 1 + y).
Y_DOMAINS = {"log": "positive", "raw": "real", "log1p": "nonnegative"}


def check_residual(residual: str) -> str:
    if residual not in RESIDUALS:
        raise OptionError(f"residual={residual!r} must be one of {RESIDUALS}")
    return residual


# ---------------------------------------------------------------------------------------
# The one compiled solve
# ---------------------------------------------------------------------------------------


def solve(problem: FitProblem, strategy: Strategy, starts_fit, extra_fit, Xb, yt, w, lp, strata=None):
    """Multi-start solve in free fit coordinates (traceable; vmap over ``w`` or ``lp``)."""
    s = strategy
    return multistart(problem.objective(), starts_fit, (Xb, yt, w, lp), solver=s.make_solver(), extra=extra_fit,
                      strata=strata, screen_k=s.screen_k, keep_k=s.keep_k, halving_iters=s.halving_iters,
                      max_iter=s.max_iter)


@functools.lru_cache(maxsize=64)
def hessian_fn(problem):
    """The objective's Hessian in free fit coordinates, compiled once per problem."""
    obj = problem.objective()
    return jax.jit(lambda th, args: obj.vgh(th, args)[2])


@functools.lru_cache(maxsize=64)
def compiled_solve(problem: FitProblem, strategy: Strategy, batched: bool = False, row_starts: bool = False):
    """``jit(solve)`` for one problem and strategy; ``batched`` vmaps over rows of ``(w, lp)``
    (and of the starts too with ``row_starts``: each row its own warm starts)."""
    fn = functools.partial(solve, problem, strategy)
    if batched:
        fn = jax.vmap(fn, in_axes=(0 if row_starts else None, None, None, None, 0, 0, None))
    return jax.jit(fn)


@dataclass(frozen=True)
class Prepared:
    """Validated data and starts in fit coordinates: everything a solve of ``problem`` needs."""

    problem: FitProblem
    strategy: Strategy
    loss: Loss
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
    n_rows: int = -1  # rows of the user's table (the arrays above are padded to a bucket size)
    recipe: object = None  # the Recipe followed (None: defaults)
    units: dict = dataclasses.field(default_factory=dict)  # input -> unit the parameters refer to
    data_units: dict = dataclasses.field(default_factory=dict)  # input -> unit of the user's table
    excluded: dict = dataclasses.field(default_factory=dict)  # row-selection reason -> rows excluded

    @property
    def Xb(self):
        return (self.Xfit, self.base_fit)

    @property
    def lp(self) -> jax.Array:
        return jnp.asarray(self.loss.array(), self.yt.dtype)

    def args(self, w=None):
        """The objective's ``args`` for these data (optionally other weights)."""
        return (self.Xb, self.yt, jnp.asarray(self.w if w is None else w, self.yt.dtype), self.lp)

    def to_user(self, theta_fit_free):
        """Free fit coordinates (..., k) to the full unconstrained vector (..., p), as numpy."""
        th = self.problem.full(jnp.asarray(theta_fit_free), self.base_fit)
        return np.asarray(self.problem.from_fit(th, self.aux))

    def residuals(self, theta_free) -> np.ndarray:
        """Residuals in the fit's residual space at free fit coordinates ``theta_free``, one per
        row of the user's table; ``nan`` at rows the fit does not use (weight 0)."""
        pred = np.asarray(self.problem.predict_fit(self.problem.full(jnp.asarray(theta_free), self.base_fit), self.Xfit))
        return np.where(self.w > 0, pred - np.asarray(self.yt), np.nan)[: self.n_rows]

    def used(self):
        """The rows of the user's table the fit uses (weight > 0): ``(X, w, index)`` with ``X`` the
        inputs of those rows (in the parameters' units), ``w`` their weights, ``index`` their rows."""
        w = np.asarray(self.w)[: self.n_rows]
        idx = np.flatnonzero(w > 0)
        return {k: np.asarray(v)[: self.n_rows][idx] for k, v in self.X.items()}, w[idx], idx

    def data_fingerprint(self) -> str:
        """A short hash of the rows the fit uses (inputs in the parameters' units, targets,
        weights): two results share it exactly when they were fitted to the same data."""
        import hashlib

        X, w, idx = self.used()
        h = hashlib.sha256()
        for k in sorted(X):
            h.update(k.encode())
            h.update(np.ascontiguousarray(X[k], dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(np.asarray(self.y)[idx], dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(w, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def to_fit(self, theta_user):
        """Unconstrained (..., p) to free fit coordinates (..., k)."""
        return self.problem.free(self.problem.to_fit(jnp.asarray(theta_user, self.yt.dtype), self.aux))


def fixed_values(law, fixed) -> dict:
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
    if len(fixed) == law.n_params:
        raise OptionError("fixed= leaves no parameter to fit")
    return fixed


def resolve_starts(law, starts, extra_starts, fixed):
    """Start points (S, p) and warm starts (E, p), unconstrained, fixed coordinates filled in."""
    if starts is None:
        starts = law.starts if law.starts is not None else default_starts(law)
    sobj = as_starts(starts)
    if fixed and isinstance(sobj, Grid):
        # Starts need only the free parameters; a fixed axis is its single value.
        axes = dict(sobj.axes)
        for k, v in fixed.items():
            axes[k] = [v] if sobj.space == "natural" else law.params[k].inverse([v])
        sobj = Grid(axes, space=sobj.space)
    starts_user = sobj.resolve(law)
    extra_user = np.zeros((0, law.n_params)) if extra_starts is None else as_starts(extra_starts).resolve(law)
    # Only the fixed values are mapped to unconstrained coordinates (a placeholder for the
    # others could lie outside their domain, e.g. 1.0 for a bounded(-3, 0) exponent).
    for k, v in fixed.items():
        i = law.param_names.index(k)
        starts_user[:, i] = law.params[k].inverse(np.asarray(v, dtype=float))
        extra_user[:, i] = starts_user[0, i]
    return starts_user, extra_user


def as_dtype(dtype):
    dt = jnp.float64 if dtype in (None, "float64", np.float64, jnp.float64) else jnp.float32
    if dtype not in (None, "float64", "float32", np.float64, np.float32, jnp.float64, jnp.float32):
        raise OptionError(f"dtype={dtype!r} must be 'float64' or 'float32'")
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise OptionError("float64 requested but jax_enable_x64 is off; enable it or pass dtype='float32'")
    return dt


def prepare(law, data, y: str = "loss", *, loss=None, residual: str | None = None, starts=None, extra_starts=None,
            weights=None, columns: Mapping[str, str] | None = None, fixed: Mapping[str, float] | None = None,
            strategy=None, dtype=None, recipe=None, bounds=None, units=None, where=(), best_per=(),
            drop_highest: int = 0) -> Prepared:
    """Validate data and options and move them into fit coordinates (shared by every job).

    ``recipe`` (a name of the law's recipes or a ``Recipe``) supplies every option not given;
    ``where``/``best_per``/``drop_highest``/``weights`` select runs (as zero weights, see
    ``_select``); ``bounds`` box parameters; ``units`` states the data's units, converted to
    the recipe's.
    """
    law = resolve_law(law)
    if not isinstance(y, str):
        raise OptionError(f"y must be a column name, got {y!r}")
    rec = resolve_recipe(law, recipe)
    o = merged(rec, loss=loss, residual=residual, starts=starts, weights=weights, strategy=strategy, bounds=bounds,
               fixed=fixed, where=where, best_per=best_per, drop_highest=drop_highest)
    law = bounded_law(law, o["bounds"])
    loss = as_loss(o["loss"])
    residual = check_residual(o["residual"] or "log")
    strategy = as_strategy(o["strategy"])
    starts, fixed = o["starts"], o["fixed"]
    data_units = dict(units or {})
    fit_units = dict(rec.units) if rec is not None else {}  # the units the recipe fits in
    scale = factors(law.inputs, data_units, fit_units)
    if columns is not None and not isinstance(columns, Mapping):
        raise OptionError(f"columns={columns!r} must be a dict {{input: column}}, e.g. {{'N': 'params'}}")
    needed = [(columns or {}).get(k, k) for k in law.inputs] + [y]
    data = derive_columns(data, needed)  # y="1 - acc", columns={"N": "C / (6*D)"}: computed columns
    sel = select(data, y, needed, where=o["where"], best_per=o["best_per"], drop_highest=o["drop_highest"],
                 weights=o["weights"])
    X, yv, w = load_arrays(sel.data, law.input_domains, y, columns=columns,
                           y_domain=Y_DOMAINS[residual], weights=sel.weights, check=law.check_inputs)
    X = convert(X, scale)
    fixed = fixed_values(law, fixed)
    free_names = [k for k in law.param_names if k not in fixed]
    check_identifiable(X, w, len(free_names), law.name, law.constant_ok)
    starts_user, extra_user = resolve_starts(law, starts, extra_starts, fixed)
    if law.form_status == "user" and not any(isinstance(v, jax.core.Tracer) for v in X.values()):
        law.probe(X, starts_user[0])  # the built-in laws are tested; a user's is run once first
    free_idx = tuple(law.param_names.index(k) for k in free_names) if fixed else None

    dt = as_dtype(dtype)
    n_rows = len(yv)
    X, yv, w = pad_rows(X, yv, w)
    strategy = strategy.sized(len(starts_user))
    if dt == jnp.float32:
        # float32 resolves f only to ~1e-7 relative: a tighter decrement test never fires.
        strategy = dataclasses.replace(strategy, ftol=max(strategy.ftol, 1e-6))
    # With fixed parameters the coordinates are not centred: centring mixes an exponent
    # into its coefficient, which would unfix a fixed coefficient.
    problem = FitProblem(law, loss.key, residual, free_idx, center=not fixed)
    Xfit, aux, base_fit, starts_fit, extra_fit = problem.setup(X, starts_user, extra_user, dt)
    yt = problem.target(jnp.asarray(yv, dt))
    strata = problem.strata(starts_user)
    strata = None if strata is None else jnp.asarray(strata, jnp.int32)
    return Prepared(problem, strategy, loss, X, yv, w, Xfit, aux, base_fit, starts_user, starts_fit, extra_user,
                    extra_fit, yt, fixed, strata, n_rows, rec, {**data_units, **fit_units}, data_units, sel.excluded)


@functools.lru_cache(maxsize=64)
def _bounded(law: Law, bounds: tuple) -> Law:
    return law.with_bounds(dict(bounds))


def bounded_law(law: Law, bounds) -> Law:
    """``law`` with ``bounds`` (cached, so refits with the same bounds reuse compiled programs)."""
    if not bounds:
        return law
    if not isinstance(bounds, Mapping):
        raise OptionError(f"bounds={bounds!r}: give {{param: (lo, hi)}}")
    try:
        key = tuple(sorted((str(k), (float(v[0]), float(v[1]))) for k, v in bounds.items()))
    except (TypeError, ValueError, IndexError):
        raise OptionError(f"bounds={bounds!r}: each bound is a pair (lo, hi), inf allowed") from None
    try:
        return _bounded(law, key)
    except LawError as e:
        raise OptionError(str(e)) from None


def pad_rows(X: dict, y, w):
    """Pad the rows to ``bucket_size`` with copies of the last row at zero weight.

    Compiled programs are specialised to shapes: with padding, every table of 241 to 256
    rows (say) shares one program, so a new table, a filtered table or another budget's
    runs do not compile again. Zero-weight rows add exactly 0 to the objective (see
    ``kernels.weighted_sum``) and are never resampled (resampling is over positive weights).
    """
    n = len(y)
    extra = bucket_size(n) - n
    if extra <= 0:
        return X, y, w
    pad = lambda a: np.concatenate([a, np.repeat(a[-1:], extra)])  # noqa: E731
    return {k: pad(np.asarray(v)) for k, v in X.items()}, pad(np.asarray(y)), np.concatenate([w, np.zeros(extra)])


def run(prep: Prepared):
    """The compiled multi-start solve on the prepared data (blocks until done)."""
    solver = compiled_solve(prep.problem, prep.strategy)
    return jax.block_until_ready(solver(prep.starts_fit, prep.extra_fit, prep.Xb, prep.yt,
                                        jnp.asarray(prep.w, prep.yt.dtype), prep.lp, prep.strata))


def check_same_study(a, b, what_a: str = "the fit", what_b: str = "the bootstrap"):
    """Refuse to combine two fits (or a fit and a bootstrap's fit) of different laws or of
    different data (their data fingerprints differ), naming both: an estimate from one study
    and intervals from another would not belong together."""
    if a is b:
        return
    if a.law.name != b.law.name:
        raise OptionError(f"{what_a} is of {a.law.name!r} and {what_b} of {b.law.name!r}: give results of the same law")
    pa, pb = getattr(a, "prepared", None), getattr(b, "prepared", None)
    if pa is None or pb is None:
        return
    check_same_data(what_a, a.n_points, pa.data_fingerprint(), what_b, b.n_points, pb.data_fingerprint())


def check_same_data(what_a: str, n_a, fp_a, what_b: str, n_b, fp_b):
    """Refuse two results whose data fingerprints (``Prepared.data_fingerprint``) differ,
    naming both with their run counts; a missing fingerprint (an older file) is not checked."""
    if fp_a and fp_b and fp_a != fp_b:
        raise OptionError(f"{what_a} was fitted to {n_a} runs (data {fp_a}) and {what_b} to {n_b} runs "
                          f"(data {fp_b}): give results of the same data")
