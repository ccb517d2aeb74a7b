"""Bulk refitting: bootstrap, jackknife and any weight matrix, in chunked compiled calls.

Every resample is a row of a weight matrix over the data's points, refitted by ``_refit``
(chunked, sharded, checkpointed). This module draws the weights, chooses the starts each
resample uses, and summarises the draws (intervals, derived quantities, prediction bands).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from ._errors import ConvergenceWarning, OptionError
from ._extrapolation import with_extrapolation
from ._data import positive_int
from ._fit import fit
from ._grid_starts import grid_warm_starts
from ._prepare import Prepared, Strategy, prepare
from ._refit import fingerprint, refit, to_draws
from ._resample import plan_weights, resample_weights
from ._stats import Interval, bca_interval, caveat, percentile_interval, refusal
from ._units import convert, factors
from ._util import x64

STRATEGIES = ("fast", "grid", "grid_independent", "single")


@dataclass(frozen=True)
class BootstrapResult:
    """Per-resample fits plus summaries.

    ``draws`` is a ``(B, p)`` array of natural parameter values (``params`` names the
    columns); ``status`` holds each resample's status string. Summaries use converged
    resamples only; how many were excluded is in ``n_failed``.
    """

    fit: object
    params: tuple
    draws: np.ndarray
    objective: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    weights_method: str
    strategy: str
    seed: int
    timings: dict = field(default_factory=dict)
    prepared: Prepared | None = field(default=None, repr=False, compare=False)
    active: np.ndarray | None = field(default=None, repr=False, compare=False)
    chunk_size: int = 500
    calibration: object = field(default=None, repr=False, compare=False)  # a Calibration (jl.calibrate)

    @property
    def ok(self) -> np.ndarray:  # converged resamples: the ones every summary uses
        return self.status == "converged"

    @property
    def n_resamples(self) -> int:  # resamples drawn
        return int(self.status.shape[0])

    @property
    def n_failed(self) -> int:
        """Resamples excluded from every summary (not converged, non-finite or degenerate)."""
        return int((~self.ok).sum())

    @property
    def n_degenerate(self) -> int:
        """Resamples whose data could not identify the law (e.g. a group bootstrap that drew one model size)."""
        return int((self.status == "degenerate").sum())

    def exclusion_summary(self) -> str:
        """One line: how many resamples summaries leave out, and why."""
        if not self.n_failed:
            return f"all {self.n_resamples} resamples converged; intervals use all of them"
        why = dict(zip(*np.unique(self.status[~self.ok], return_counts=True)))
        parts = []
        if why.pop("degenerate", 0):
            parts.append(f"{self.n_degenerate} of {self.n_resamples} resamples could not identify the law (degenerate)")
        parts += [f"{int(c)} {k}" + (" (raise the step cap: max_iter=, --max-iter)" if k == "max_iter" else "")
                  for k, c in why.items()]
        return f"{'; '.join(parts)}; intervals use {self.n_resamples - self.n_failed}"

    def table(self):
        """One row per resample: parameters, objective, status, iterations."""
        import pandas as pd

        df = pd.DataFrame(self.draws, columns=list(self.params))
        return df.assign(objective=self.objective, status=self.status, iterations=self.iterations, strategy=self.strategy)

    to_frame = table

    def _values(self, fn, **kw):
        law = self.fit.law
        if isinstance(fn, str):
            if fn in self.params:
                j = self.params.index(fn)
                return self.draws[:, j], self.fit.params[fn], (lambda D: D[:, j])
            if fn in law.derived:
                fn = law.derived[fn]
            elif "(" in fn:  # a target such as "N_opt(C=1e24)" (log for log targets: exp'd below)
                from ._target import parse_target, target_programs

                t = parse_target(law, fn)
                many, one = target_programs(t)
                fn = lambda p: t.natural(many(p) if jnp.ndim(p[self.params[0]]) else one(p))  # noqa: E731
            else:
                raise OptionError(f"{fn!r} is neither a parameter nor a derived quantity of {law.name} {list(law.derived)}")
        names = self.params

        def apply(D):
            # Laws' derived quantities are elementwise jnp expressions: one call on columns.
            p = {k: jnp.asarray(D[:, i]) for i, k in enumerate(names)}
            return np.asarray(fn(p, **kw))

        est = float(np.asarray(fn({k: jnp.asarray(v) for k, v in self.fit.params.items()}, **kw)))
        return apply(self.draws), est, apply

    def default_method(self, fn) -> str:
        """``"calibrated"`` for a quantity this result carries a calibration for, else ``"percentile"``."""
        cal = self.calibration
        return "calibrated" if cal is not None and self._key(fn) in cal.ranks else "percentile"

    def _key(self, fn):
        """The name a calibration knows ``fn`` by (targets are normalised: ``N_opt(C=1e+24)``)."""
        if not isinstance(fn, str):
            return None
        if "(" in fn:
            from ._target import parse_target

            return parse_target(self.fit.law, fn).name
        return fn

    @x64
    def interval(self, fn, level: float = 0.95, method: str | None = None, **kw) -> Interval:
        """Interval for a parameter name, a law-derived name, a target (``"N_opt(C=1e24)"``) or
        ``fn(params, **kw)``. ``method``: ``"percentile"``, ``"bca"`` or ``"calibrated"``
        (percentile tails set by ``jl.calibrate``); default: calibrated where this result
        carries a calibration for the quantity, else percentile."""
        if not (0 < level < 1):
            raise OptionError(f"level={level!r} must be in (0, 1)")
        method = self.default_method(fn) if method is None else method
        vals, est, apply = self._values(fn, **kw)
        v = vals[self.ok]
        finite = np.isfinite(v)
        v = v[finite]
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", "derived")
        why = self.refusal(v.size, est)
        if why is not None:
            nan = float("nan")
            return Interval(name, est, nan, nan, nan, level, method, int(v.size), self.n_resamples, why)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge draw gives SE inf, not a numpy warning
            se = float(np.std(v, ddof=1))
        if method == "percentile":
            lo, hi = percentile_interval(v, level)
        elif method == "bca":
            jk = apply(self.jackknife_draws())
            lo, hi = bca_interval(v, np.asarray(est), jk[np.isfinite(jk)], level)
        elif method == "calibrated":
            if self.calibration is None:
                raise OptionError("method='calibrated' needs a calibration: boot = jl.calibrate(boot, ...)")
            qa, qb = self.calibration.tails(self._key(fn) or getattr(fn, "__name__", "derived"), level)
            lo, hi = np.quantile(v, qa), np.quantile(v, qb)
        else:
            raise OptionError(f"method={method!r} must be 'percentile', 'bca' or 'calibrated'")
        return Interval(name, est, se, float(lo), float(hi), level, method, int(v.size), self.n_resamples,
                        caveat(self.residual_df if self.weights_method != "user" else None))

    @property
    def residual_df(self) -> int:  # points used minus free parameters
        return int(self.fit.n_points) - (len(self.params) - len(self.fit.fixed))

    def refusal(self, n_used: int, estimate=0.0) -> str | None:  # why no interval (``_stats.refusal``), or None
        return refusal(self.residual_df if self.weights_method != "user" else None, n_used, self.n_resamples, estimate)

    def derived(self, fn, level: float = 0.95, method: str | None = None, **kw) -> Interval:
        """Interval for any function of the parameters, e.g. ``derived("tokens_per_param", C=5.88e23)``."""
        return self.interval(fn, level=level, method=method, **kw)

    def converged_draws(self) -> dict:
        """The converged resamples' parameter values, ``{name: 1-D array}``."""
        return {k: self.draws[self.ok, i] for i, k in enumerate(self.params)}

    @property
    def se(self) -> dict:
        return {k: float(np.std(v, ddof=1)) for k, v in self.converged_draws().items()}

    @x64
    def predict(self, data, level: float = 0.95, columns=None, kind: str = "mean", noise=None, seed: int = 0,
                n_samples: int = 20000):
        """Predictions with percentile bands at the rows of ``data`` (e.g. an extrapolation grid).

        One row per input row: ``estimate`` (the full fit's prediction), ``se`` and the
        ``level`` interval, and how far outside the fitted runs it lies (``decades_outside``,
        ``extrapolation``). ``kind="mean"``: over the converged resamples' predictions (where
        the law is). ``kind="new-run"``: where a new training run will land, each resample's
        prediction plus a draw of the run-to-run noise (``noise``: a ``NoiseModel``, default
        ``noise_model(fit)``: the fit's own residuals, resampled), ``n_samples`` in all, in the
        fit's residual space. Every draw is evaluated in one vectorised call (the law in log
        space). Inputs are validated as for a fit (columns named, rows reported).
        """
        from ._bands import band_table, refused_table
        from ._data import load_arrays

        law = self.fit.law
        X, _, _ = load_arrays(data, law.input_domains, None, columns=columns or self.fit.columns,
                              check=law.check_inputs)
        # in the units the parameters refer to, as the full fit's own prediction (estimate) does
        X = convert(X, factors(law.inputs, self.fit.data_units, self.fit.units))
        nm = None
        if kind == "new-run":
            from ._noise import noise_model

            nm = noise_model(self.fit) if noise is None else noise
        est = self.fit.predict(data, columns=columns)
        why = self.refusal(int(self.ok.sum()))
        if why is not None:  # no band: the estimate alone, and the reason in every row
            tab = refused_table(X, data, est, level, why)
        else:
            tab = band_table(law, self.params, self.draws[self.ok], X, data, est, level=level, kind=kind, noise=nm,
                             residual=self.fit.residual, seed=seed, n_samples=n_samples)
        return with_extrapolation(tab, self.fit.input_ranges, X, law.input_domains)

    @x64
    def summary(self, level: float = 0.95, method: str | None = None, derived=None):
        """A DataFrame: estimate, SE and interval for each parameter (and derived quantity),
        with the method each interval used (see ``interval``).

        ``derived`` is a dict ``label -> (name_or_fn, kwargs)``.
        """
        import pandas as pd

        rows = []
        items = [(k, k, {}) for k in self.params]
        for label, (fn, kw) in (derived or {}).items():
            items.append((label, fn, kw))
        for label, fn, kw in items:
            iv = self.interval(fn, level=level, method=method, **kw)
            rows.append({"quantity": label, "estimate": iv.estimate, "se": iv.se,
                         f"lower_{level:g}": iv.lower, f"upper_{level:g}": iv.upper, "method": iv.method,
                         "n_used": iv.n_used, "df": self.residual_df, "note": iv.note})
        return pd.DataFrame(rows).set_index("quantity")

    @x64
    def jackknife_draws(self) -> np.ndarray:
        """Leave-one-out refits of the same data (batched, warm-started; converged ones only)."""
        W = resample_weights(len(self.active), "loo")
        res = to_draws(self.prepared, refit(self.prepared, W, active=self.active, chunk_size=self.chunk_size))
        return res["draws"][res["status"] == "converged"]


@x64
def bootstrap(
    law,
    data,
    y: str = "loss",
    *,
    n: int = 1000,
    seed: int = 0,
    method: str | None = None,
    groups=None,
    weights_matrix=None,
    strategy: str = "fast",
    start=None,
    n_basins: int = 4,
    chunk_size: int = 500,
    checkpoint: str | None = None,
    progress: bool | None = None,
    devices: int | None = None,
    loss=None,
    residual: str | None = None,
    starts=None,
    weights=None,
    columns=None,
    fixed=None,
    recipe=None,
    bounds=None,
    units=None,
    where=(),
    best_per=(),
    drop_highest: int = 0,
    full_fit=None,
    grid_strategy=None,
    on_chunk=None,
    by=None,
    max_iter: int | None = None,
) -> BootstrapResult:
    """Refit ``law`` on many resamples of ``data`` in chunked, batched, compiled calls.

    **Arguments** (beyond those of ``jaxlaws.fit``):
    - ``n``, ``seed``, ``method``: the resampling plan (``"ordinary"``, ``"group"`` with
      ``groups=COLUMN``, ``"loo"``, ``"logo"``, ``"epoch"``), or ``weights_matrix=`` (B, rows).
      The default is ``"group"`` when ``groups`` is given, else ``"ordinary"``; an explicit
      method that ignores groups is refused.
      Resampling is over the points with positive ``weights`` (dropped rows stay dropped).
    - ``strategy``: ``"fast"`` (default: warm starts at the full-data fit's ``n_basins``
      best distinct local optima), ``"grid"`` (every resample screens the law's whole start
      grid on its own weights and is converged from the best basins its own best starts
      reach, the solves shared across resamples done once: see ``_grid_starts``),
      ``"grid_independent"`` (every resample runs the whole screen, halving and convergence
      alone: the reference, ~4x slower), ``"single"`` (one start per resample, ``start=`` a
      dict of natural values; Besiroglu et al.'s protocol).
    - ``chunk_size``: resamples per compiled call (memory stays flat); ``checkpoint``: a
      ``.npz`` file; finished chunks are saved and a rerun resumes from it.
    - ``grid_strategy``: the :class:`Strategy` of the grid strategies (``screen_k`` starts kept
      per resample, ``keep_k`` converged; default 64 and 8, at most 100 Newton steps).
    - ``on_chunk(done, total)``: called after each finished chunk (progress hooks).
    - ``devices``: how many devices to shard the resample axis over (default: all).
    - ``max_iter``: the step cap of every solve, the full fit's and each resample's (default 1000,
      100 per kept start for the grid strategies); a refit that reaches it is ``max_iter`` and
      left out of the intervals, so raise it when the summary says many did.
    - ``by``: a column (or columns): bootstrap each group's own fit (ordinary resamples within
      each group, all groups' refits in one batched call); returns a ``GroupBootstrap``.
    """
    if by is not None:
        from ._groups import bootstrap_by

        if method not in (None, "ordinary") or groups is not None or weights_matrix is not None:
            raise OptionError("by= resamples the rows within each group (ordinary); method, groups and "
                              "weights_matrix do not apply")
        return bootstrap_by(law, data, by, y, n=n, seed=seed, chunk_size=chunk_size, loss=loss, residual=residual,
                            starts=starts, weights=weights, columns=columns, fixed=fixed, recipe=recipe,
                            bounds=bounds, units=units, where=where, best_per=best_per, drop_highest=drop_highest)
    t0 = time.perf_counter()
    if method is None:
        method = "ordinary" if groups is None else "group"
    if strategy not in STRATEGIES:
        raise OptionError(f"strategy={strategy!r} must be one of {STRATEGIES}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise OptionError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if max_iter is not None:
        positive_int("max_iter", max_iter)
    cap = {} if max_iter is None else {"max_iter": max_iter}
    common = dict(loss=loss, residual=residual, weights=weights, columns=columns, fixed=fixed, recipe=recipe,
                  bounds=bounds, units=units, where=where, best_per=best_per, drop_highest=drop_highest)
    if full_fit is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            full_fit = fit(law, data, y, starts=starts, strategy=Strategy(**cap) if cap else None, **common)
    t1 = time.perf_counter()
    if strategy in ("grid", "grid_independent"):
        # Per-resample grid: the screen as in fit, fewer kept starts and a tighter cap than a
        # single fit (under vmap every resample of a chunk waits for the slowest member);
        # a resample whose winner hits the cap is flagged, not returned as converged.
        gs = grid_strategy or Strategy(screen_k=64, keep_k=8, halving_iters=8, name="grid", **{"max_iter": 100, **cap})
        prep = prepare(law, data, y, starts=starts, strategy=gs, **common)
    elif strategy == "fast":
        basins = full_fit.basins(n_basins)
        k = len(basins)
        # Warm starts sit in their basins: three step sizes suffice for the line search, and
        # each dropped candidate saves one objective evaluation per member per iteration.
        prep = prepare(law, data, y, starts=basins,
                       strategy=Strategy(screen_k=k, keep_k=k, halving_iters=0, name="fast", line_search=3, **cap), **common)
    else:
        if start is None:
            raise OptionError("strategy='single' needs start= (a dict of natural parameter values)")
        prep = prepare(law, data, y, starts=start,
                       strategy=Strategy(screen_k=1, keep_k=1, halving_iters=0, name="single", line_search=3, **cap), **common)
    active = np.flatnonzero(prep.w > 0)
    W, method_name = plan_weights(data, prep.n_rows, active, method, n, seed, groups, weights_matrix)
    row_starts = None
    if strategy == "grid":
        # every resample screens the whole grid on its own weights; the solves it shares with
        # the other resamples are done once (see _grid_starts)
        row_starts = grid_warm_starts(prep, W, active, chunk_size)
        k = row_starts.shape[1]
        prep = dataclasses.replace(prep, strategy=dataclasses.replace(prep.strategy, screen_k=k, keep_k=k,
                                                                      halving_iters=0),
                                   starts_fit=jnp.asarray(row_starts[0]), strata=None)
    fp = fingerprint(prep, W, strategy, chunk_size, [method_name, seed]) if checkpoint else None
    out = to_draws(prep, refit(prep, W, active=active, starts=row_starts, chunk_size=chunk_size, devices=devices,
                               progress=progress, checkpoint=checkpoint, fingerprint_=fp, on_chunk=on_chunk),
                   W, active)
    t2 = time.perf_counter()
    res = BootstrapResult(
        fit=full_fit, params=prep.problem.law.param_names, draws=out["draws"], objective=out["objective"],
        status=out["status"], iterations=out["n_iter"], weights_method=method_name, strategy=strategy,
        seed=seed, timings={"full_fit_s": t1 - t0, "resamples_s": t2 - t1}, prepared=prep, active=active,
        chunk_size=chunk_size,
    )
    if res.n_failed:
        warnings.warn(res.exclusion_summary(), ConvergenceWarning, stacklevel=2)
    return res
