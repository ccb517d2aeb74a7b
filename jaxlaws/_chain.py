"""Two-step predictions: a loss law, then a link law from loss to a downstream metric.

Labs pick models and data mixtures by predicting a downstream metric in two steps (Gadre et
al. 2024; the OLMo ladder): a loss law ``L(N, D)`` fitted on small runs predicts the loss of a
run nobody has trained, and a link law (``downstream_error``: ``Err = eps - k exp(-gamma L)``,
``two_step_downstream``, ``observational_sigmoid`` or the user's) fitted on (loss, metric)
pairs turns that loss into the metric, one link per task. Both steps are uncertain, and the
second inherits the first's uncertainty through its input.

``chain(loss_fit, link_fit, at)`` bootstraps both stages jointly: every draw refits the loss
law on a resample of its runs and every task's link on a resample of its rows, then pushes
that draw's predicted losses at ``at`` through that draw's links. With ``runs=`` (the run
labels of both tables) the two stages share one resample of runs (a cluster bootstrap: a
model drawn twice counts twice in both stages), which is right when the stages were measured
on the same models; without it they are resampled independently (different runs). All
``draws x (1 + tasks)`` refits and the composition are one compiled program (``vmap`` over
draws and tasks; each refit warm-starts at its stage's own fit).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._constraints import Positive, bound_of
from ._data import load_arrays
from ._errors import OptionError
from ._fit import fit_arrays
from ._groups import GroupFit
from ._identify import MAX_LOG_MAGNITUDE, design_reasons
from ._prepare import Strategy
from ._resample import resample_weights
from ._extrapolation import invalid_outputs, outside
from ._stats import caveat, percentile_interval, refusal

# a chained value the fitted metric values make impossible (an error rate below 0) is not a prediction
INVALID = "invalid: outside what the fitted metric values allow (e.g. negative where all were positive)"
from ._units import convert, factors
from ._util import x64
from .kernels import results as R


@dataclass(frozen=True)
class ChainResult:
    """Two-step predictions with joint-bootstrap bands.

    ``loss_draws`` (draws, rows) are the first stage's predicted losses at ``at``; ``draws``
    (tasks, draws, rows) the metric; ``ok`` (tasks, draws) marks draws where both stages'
    refits converged (only those enter a band). ``estimate`` (tasks, rows) is the plug-in: each
    task's fitted link at the fitted loss law's prediction.
    """

    at: object = field(repr=False)
    by: tuple
    tasks: list
    task_status: list
    loss_estimate: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    loss_draws: np.ndarray = field(repr=False)
    draws: np.ndarray = field(repr=False)
    ok: np.ndarray = field(repr=False)
    joint: bool = False
    residual_df: int | None = None  # the smaller stage's points minus free parameters
    outside: tuple = ()  # (decades, texts) of ``at`` beyond the loss fit's runs (_extrapolation)
    invalid: np.ndarray | None = field(default=None, repr=False)  # (tasks, rows): impossible metric values

    def note(self) -> str:
        """The caveat of the bands' few residual degrees of freedom ('' from ``CAVEAT_DF`` on):
        the loss stage's mean band covered 86.5% at 90% at n - k = 12 (bench_calibration_bands)."""
        return caveat(self.residual_df)

    @property
    def n_draws(self) -> int:
        return self.draws.shape[1]

    def table(self, level: float = 0.95):
        """One row per (task, row of ``at``): ``at``'s columns, the task labels, the predicted
        loss with its band, the metric's estimate, SE and band, and the draws used."""
        import pandas as pd

        if not 0 < level < 1:
            raise OptionError(f"level={level!r} must be in (0, 1)")
        at = self.at.reset_index(drop=True)
        lok = np.isfinite(self.loss_draws).all(1) & self.ok.any(0)
        # a band from fewer than MIN_USED_FRACTION of the draws is not a band (support_note)
        # (and none from a stage with fewer than MIN_DF residual degrees of freedom: _stats.refusal)
        l_ok = refusal(self.residual_df, int(lok.sum()), self.n_draws, self.loss_estimate) is None
        l_lo, l_hi = percentile_interval(self.loss_draws[lok], level) if l_ok else (np.nan, np.nan)
        frames = []
        for g, key in enumerate(self.tasks):
            d = self.draws[g][self.ok[g]]
            out = at.copy()
            for c, v in zip(self.by, key):
                out[c] = v
            # rows of `at` that name their task keep only that task's prediction
            mine = np.ones(len(at), bool)
            for c, v in zip(self.by, key):
                if c in at.columns:
                    mine &= (at[c] == v).to_numpy()
            out["loss"], out[f"loss_lower_{level:g}"], out[f"loss_upper_{level:g}"] = self.loss_estimate, l_lo, l_hi
            out["estimate"] = self.estimate[g]
            why = refusal(self.residual_df, int(d.shape[0]), self.n_draws, self.estimate[g])
            if why is None:
                lo, hi = percentile_interval(d, level)
                out["se"], out[f"lower_{level:g}"], out[f"upper_{level:g}"] = d.std(0, ddof=1), lo, hi
            else:
                out["se"] = out[f"lower_{level:g}"] = out[f"upper_{level:g}"] = np.nan
            out["n_used"], out["status"] = int(d.shape[0]), self.task_status[g]
            if self.invalid is not None and self.invalid[g].any():
                out.loc[self.invalid[g], "status"] = INVALID
            if self.outside:
                out["decades_outside"], out["extrapolation"] = self.outside
            out["band"] = "ok" if why is None else why
            frames.append(out[mine])
        return pd.concat(frames, ignore_index=True)

    def to_dict(self, level: float = 0.95) -> dict:
        return {"n_draws": self.n_draws, "joint": self.joint, "by": list(self.by), "level": level,
                "residual_df": self.residual_df, "note": self.note(),
                "predictions": self.table(level).to_dict(orient="records")}


def _stage(law, loss, residual, fixed_keys, n_starts):
    """``refit(X, y, w, starts, fixed_vals) -> (params, code)``, traceable; warm starts only."""
    # warm starts sit in their basins: a refit that needs more than 50 Newton steps is flagged
    # (max_iter), not waited for (under vmap every row of the batch waits for the slowest)
    st = Strategy(screen_k=n_starts, keep_k=n_starts, halving_iters=0, name="warm", line_search=3, max_iter=50)

    def refit(X, y, w, starts, fixed_vals):
        p, r = fit_arrays(law, X, y, w, starts=starts, loss=loss, residual=residual, strategy=st,
                          fixed=dict(zip(fixed_keys, fixed_vals)), return_result=True)
        return jnp.stack([p[k] for k in law.param_names]), r.status

    return refit


@functools.lru_cache(maxsize=8)
def _program(s1, s2, loss_law, link_law, residual1):
    """One program: every draw's loss refit, every (task, draw) link refit, the composition."""
    refit1 = _stage(*s1)
    refit2 = _stage(*s2)
    names1, names2 = loss_law.param_names, link_law.param_names

    def run(X1, y1, W1, S1, F1, X2, y2, W2, S2, F2, Xat):
        P1, c1 = jax.vmap(lambda w: refit1(X1, y1, w, S1, F1))(W1)  # (B, p1)

        def loss_at(th):
            p = dict(zip(names1, th))
            xs = [Xat[k] for k in loss_law.inputs]
            # through the log form (finite where the plain form overflows), unless fitted raw
            return jnp.exp(loss_law.log_predict(p, *xs)) if residual1 == "log" else loss_law(p, *xs)

        L = jax.vmap(loss_at)(P1)  # (B, m)

        def task(X, y, Wg, Sg):
            return jax.vmap(lambda w: refit2(X, y, w, Sg, F2))(Wg)

        P2, c2 = jax.vmap(task)(X2, y2, W2, S2)  # (G, B, p2)
        metric = jax.vmap(lambda P: jax.vmap(lambda th, l: link_law(dict(zip(names2, th)), l))(P, L))(P2)
        return L, metric, P1, c1, P2, c2

    return jax.jit(run)


def _row_ok(law, P, codes, fixed, X, W, n_free):
    """Converged rows whose parameters the data hold: finite, positive coefficients within
    ``e^100`` of 1, no bounded parameter on its bound, and a design that identifies the law
    (the checks ``to_draws`` makes of bootstrap resamples, vectorised)."""
    ok = (np.asarray(codes) == R.CONVERGED) & np.isfinite(P).all(1)
    for j, k in enumerate(law.param_names):
        if k in fixed:
            continue
        c = law.params[k]
        if isinstance(c, Positive):
            with np.errstate(divide="ignore", invalid="ignore"):
                ok &= (P[:, j] > 0) & (np.abs(np.log(np.abs(P[:, j]) + 1e-300)) <= MAX_LOG_MAGNITUDE)
        else:  # a bounded parameter on its bound: the optimum lies beyond the box
            ok &= np.array([bound_of(c, float(v)) is None for v in P[:, j]])
    ok &= np.array([not r for r in design_reasons(law, X, W, n_free)])
    return ok


def _ids(runs, n, label):
    v = np.asarray(runs)
    if v.ndim != 1 or len(v) != n:
        raise OptionError(f"runs: the {label} table's labels must be one per row ({n}), got shape {v.shape}")
    if any(x is None or (isinstance(x, float) and np.isnan(x)) for x in v.tolist()):
        raise OptionError(f"runs: the {label} table's run labels have missing values")
    return v


def _stage_inputs(fit_obj):
    prep = fit_obj.prepared
    law = prep.problem.law
    fixed = dict(prep.fixed)
    return prep, law, fixed, tuple(fixed), tuple(jnp.asarray(fixed[k]) for k in fixed)


@x64
def chain(loss_fit, link_fit, at, *, n: int = 1000, seed: int = 0, runs=None, link_input: str | None = None,
          columns=None) -> ChainResult:
    """Predict a downstream metric at the rows of ``at`` through ``loss_fit`` then ``link_fit``.

    **Arguments:**
    - ``loss_fit``: a ``jaxlaws.fit`` of a loss law (e.g. Chinchilla, Gadre's ``overtraining``).
    - ``link_fit``: a fit of a one-input link law (``downstream_error``, ``two_step_downstream``,
      ``observational_sigmoid``, a user law) or a per-task ``GroupFit`` (``fit(..., by="task")``):
      every task is predicted, all tasks' refits in the same program.
    - ``at``: a table (or dict) of the loss law's inputs; its other columns (labels) are kept.
    - ``n``, ``seed``: bootstrap draws; ``runs``: a pair ``(loss_runs, link_runs)`` of run
      labels, one per row of each stage's table, for a joint (cluster) resample of the runs the
      stages share; without it the stages are resampled independently.
    - ``link_input``: which input of the link law receives the loss (default: its only input).
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise OptionError(f"n={n!r} must be an integer >= 2")
    if not hasattr(loss_fit, "prepared") or isinstance(loss_fit, GroupFit) or getattr(loss_fit, "status", None) is None:
        raise OptionError("chain: loss_fit must be a jaxlaws.fit result of a loss law")
    if loss_fit.status != "converged":
        raise OptionError(f"chain: the loss fit is {loss_fit.status!r}; a chain needs a converged loss law")
    groups = isinstance(link_fit, GroupFit)
    if not groups and not hasattr(link_fit, "prepared"):
        raise OptionError("chain: link_fit must be a jaxlaws.fit result (or a per-task fit with by=)")
    prep1, law1, fixed1, fk1, fv1 = _stage_inputs(loss_fit)
    prep2, law2, fixed2, fk2, fv2 = _stage_inputs(link_fit)
    if link_input is None:
        if len(law2.inputs) != 1:
            raise OptionError(f"chain: the link law {law2.name} has inputs {list(law2.inputs)}; name the one the "
                              f"loss feeds with link_input=")
        link_input = law2.inputs[0]
    if tuple(law2.inputs) != (link_input,):
        raise OptionError(f"chain: link_input={link_input!r}, but the link law {law2.name} must have that one input "
                          f"(it has {list(law2.inputs)})")
    if groups and not np.any(link_fit.converged):
        raise OptionError("chain: no task's link fit converged")
    if not groups and link_fit.status != "converged":
        raise OptionError(f"chain: the link fit is {link_fit.status!r}")

    # the rows to predict at, validated as for a prediction and in the parameters' units
    at_df = at if isinstance(at, pd.DataFrame) else pd.DataFrame(at)
    Xat, _, _ = load_arrays(at_df, law1.input_domains, None, columns=columns or loss_fit.columns,
                            check=law1.check_inputs)
    Xat = convert(Xat, factors(law1.inputs, loss_fit.data_units, loss_fit.units))

    # stage 1: the loss fit's used rows
    X1, w1, idx1 = prep1.used()
    y1 = np.asarray(prep1.y)[idx1]
    # stage 2: each task's used rows, padded to one length with zero weight
    w2_all = np.asarray(prep2.w)[: prep2.n_rows]
    if groups:
        members = [np.flatnonzero((link_fit.weights[g][: prep2.n_rows] > 0) & (w2_all > 0)) for g in range(link_fit.n_groups)]
        keys, by = list(link_fit.keys), tuple(link_fit.by)
        P_fit = np.asarray(link_fit.params, float)
        task_status = [str(s) for s in link_fit.status]
    else:
        members = [np.flatnonzero(w2_all > 0)]
        keys, by = [()], ()
        P_fit = np.array([[link_fit.params[k] for k in law2.param_names]])
        task_status = [link_fit.status]
    G = len(members)
    m2 = max(len(mb) for mb in members)
    X2src = {k: np.asarray(v)[: prep2.n_rows] for k, v in prep2.X.items()}
    y2src = np.asarray(prep2.y)[: prep2.n_rows]
    rows2 = np.stack([np.concatenate([mb, np.full(m2 - len(mb), mb[0] if len(mb) else 0)]) for mb in members])
    base2 = np.stack([np.concatenate([w2_all[mb], np.zeros(m2 - len(mb))]) for mb in members])  # (G, m2)

    # resample weights: (B, n1) over the loss rows, (G, B, m2) over each task's rows
    if runs is not None:
        if not (isinstance(runs, (tuple, list)) and len(runs) == 2):
            raise OptionError("runs= must be a pair (loss_runs, link_runs): one label per row of each table")
        r1 = _ids(runs[0], prep1.n_rows, "loss")[idx1]
        r2 = _ids(runs[1], prep2.n_rows, "link")
        labels, inv = np.unique(np.concatenate([r1.astype(str), r2.astype(str)]), return_inverse=True)
        u1, u2 = inv[: len(r1)], inv[len(r1):]
        # one cluster resample of the runs both stages saw, applied to every row of either table
        C = resample_weights(len(labels), "ordinary", int(n), seed)
        W1 = C[:, u1]
        W2 = np.stack([C[:, u2[rows2[g]]] for g in range(G)])
    else:
        W1 = resample_weights(len(idx1), "ordinary", int(n), seed)
        W2 = np.zeros((G, int(n), m2))
        for g, mb in enumerate(members):
            if len(mb):
                W2[g, :, : len(mb)] = resample_weights(len(mb), "ordinary", int(n), (seed + 1 + g) % 2**32)
    W1 = W1 * w1[None, :]
    W2 = W2 * base2[:, None, :]

    # warm starts: the loss fit's best distinct optima; each task's own fitted parameters
    S1 = jnp.asarray(loss_fit.basins(4))
    S2 = jnp.asarray(np.stack([np.asarray(law2.unconstrain(dict(zip(law2.param_names, np.where(np.isfinite(p), p, 1.0))))).reshape(1, -1)
                               for p in P_fit]))
    s1 = (law1, prep1.loss, prep1.problem.residual, fk1, int(S1.shape[0]))
    s2 = (law2, prep2.loss, prep2.problem.residual, fk2, 1)
    prog = _program(s1, s2, law1, law2, prep1.problem.residual)
    X2 = {k: jnp.asarray(X2src[k][rows2]) for k in law2.inputs}
    L, metric, P1, c1, P2, c2 = (np.asarray(a) for a in prog(
        {k: jnp.asarray(v) for k, v in X1.items()}, jnp.asarray(y1), jnp.asarray(W1), S1, fv1,
        X2, jnp.asarray(y2src[rows2]), jnp.asarray(W2), S2, fv2, {k: jnp.asarray(v) for k, v in Xat.items()}))
    ok1 = _row_ok(law1, P1, c1, fixed1, X1, W1, prep1.problem.n_free) & np.isfinite(L).all(1)
    ok = np.zeros((G, int(n)), bool)
    for g in range(G):
        if task_status[g] != "converged" or not len(members[g]):
            continue  # a task whose own fit is not converged gets no band
        Xg = {k: X2src[k][rows2[g]] for k in law2.inputs}
        ok[g] = ok1 & _row_ok(law2, P2[g], c2[g], fixed2, Xg, W2[g], prep2.problem.n_free) & np.isfinite(metric[g]).all(1)

    loss_est = loss_fit.predict(at_df, columns=columns)
    est = np.stack([np.asarray(law2(dict(zip(law2.param_names, jnp.asarray(p))), jnp.asarray(loss_est))) for p in P_fit])
    inval = np.stack([invalid_outputs(est[g], y2src[members[g]]) for g in range(G)])
    df = min([len(idx1) - prep1.problem.n_free] + [len(mb) - prep2.problem.n_free for mb in members if len(mb)])
    return ChainResult(at=at_df, by=by, tasks=keys, task_status=task_status, loss_estimate=loss_est, estimate=est,
                       loss_draws=L, draws=metric, ok=ok, joint=runs is not None, residual_df=int(df),
                       outside=outside(loss_fit.input_ranges, Xat, law1.input_domains), invalid=inval)
