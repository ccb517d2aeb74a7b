"""Which points and which fitting choices drive a conclusion.

- ``influence(fit)``: the change in every parameter (and derived quantity) when each point,
  or each group of points, is removed, from the fit's own optimum without refitting: one
  Newton step of the reduced objective, ``dtheta_i = (H - h_i)^-1 g_i`` (``g_i``, ``h_i`` the
  point's gradient and Hessian, ``H`` the full Hessian), batched over points in one call.
  ``exact=True`` adds the exact leave-one-out refits (one batched call) for comparison.
- ``ablate(law, data, choices)``: every combination of fitting choices (loss, delta, residual
  space, dropped outliers, data range, start grid, law form, which column is N), fitted in
  batched calls (specifications that share a law and loss differ only in weights, so they
  are one weight matrix), as a tidy DataFrame.
- ``extrapolate(law, data, ...)``: fit below a cutoff, predict above; per-point errors.
- ``diagnostics(fit)``: the Hessian at the optimum in the unconstrained coordinates, its
  condition number and its poorly determined directions.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import ConvergenceWarning, OptionError
from ._fit import FitResult, fit, resolve_law
from .kernels import LOSSES, damped_newton


def _per_point_losses(problem):
    """``per_point(theta_free, w, Xfit, yt, base)`` -> weighted loss of each point (n,)."""
    rho = LOSSES[problem.loss.kind]
    delta = problem.loss.delta
    fi = problem.free_idx

    def per_point(theta, w, Xfit, yt, base):
        full = theta if fi is None else base.at[jnp.asarray(fi)].set(theta)
        r = problem.law._pred_fit(full, Xfit, problem.residual) - yt
        # zero-weight points contribute exactly zero, as in the fitting objective
        return jnp.where(w != 0, w * rho(r, delta), 0.0)

    return per_point


def _per_point_fn(f: FitResult):
    """theta_free (fit coords), w -> per-point weighted losses (n,) on the fit's own data."""
    prep = f._prepared
    per_point = _per_point_losses(prep.problem)
    return lambda theta, w: per_point(theta, w, prep.Xfit, prep.yt, prep.base_fit)


def _theta_fit(f: FitResult):
    prep = f._prepared
    th = prep.problem.law._to_fit(jnp.asarray(f.theta), prep.aux)
    fi = prep.problem.free_idx
    return th if fi is None else th[jnp.asarray(fi)]


def _natural(f: FitResult, theta_fit_free):
    """Fit coordinates (..., k) -> dict of natural parameter arrays."""
    prep = f._prepared
    fi = prep.problem.free_idx
    th = theta_fit_free
    if fi is not None:
        th = jnp.broadcast_to(prep.base_fit, th.shape[:-1] + prep.base_fit.shape).at[..., jnp.asarray(fi)].set(th)
    return prep.problem.law.constrain(prep.problem.law._from_fit(th, prep.aux))


@dataclass
class Influence:
    """Predicted (and optionally exact) parameter changes when points/groups are removed."""

    labels: np.ndarray
    names: list
    predicted: np.ndarray  # (units, quantities): value without the unit minus the full-data value
    exact: np.ndarray | None
    base: np.ndarray

    def table(self):
        import pandas as pd

        df = pd.DataFrame(self.predicted, columns=[f"d_{k}" for k in self.names])
        df.insert(0, "removed", self.labels)
        if self.exact is not None:
            for j, k in enumerate(self.names):
                df[f"exact_d_{k}"] = self.exact[:, j]
        return df

    def spearman(self) -> dict:
        """Rank correlation between predicted and exact changes, per quantity."""
        if self.exact is None:
            raise OptionError("no exact refits: call influence(..., exact=True)")
        out = {}
        for j, k in enumerate(self.names):
            a, b = _ranks(self.predicted[:, j]), _ranks(self.exact[:, j])
            out[k] = float(np.corrcoef(a, b)[0, 1])
        return out


def _ranks(x):
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    # average ties
    vals, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    if len(vals) < len(x):
        sums = np.zeros(len(vals))
        np.add.at(sums, inv, r)
        r = (sums / counts)[inv]
    return r


def _quantities(f: FitResult, derived):
    law = f.law
    fns = [(k, (lambda p, k=k: p[k])) for k in law.param_names]
    for label, spec in (derived or {}).items():
        name, kw = spec if isinstance(spec, tuple) else (spec, {})
        fn = law.derived[name] if isinstance(name, str) else name
        fns.append((label, (lambda p, fn=fn, kw=kw: fn(p, **kw))))
    return fns


def influence(f: FitResult, groups=None, derived=None, exact: bool = False, steps: int = 1) -> Influence:
    """Effect of removing each point (or each group of points) on parameters and derived quantities.

    ``groups``: one label per data row (e.g. model size) to remove whole groups;
    ``derived``: ``{label: (name_or_fn, kwargs)}``. Points with zero weight are skipped.
    ``steps``: Newton steps from the full-data optimum (1 is the one-step jackknife, enough
    for single points; removing whole groups is a larger perturbation and wants 2-3).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise OptionError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(f, FitResult) or f._prepared is None:
        raise OptionError("influence() needs a FitResult from jaxlaws.fit")
    prep = f._prepared
    w = jnp.asarray(prep.w, prep.yt.dtype)
    active = np.flatnonzero(prep.w > 0)
    n = len(prep.w)
    if groups is None:
        labels = active
        M = np.zeros((len(active), n))
        M[np.arange(len(active)), active] = 1.0
    else:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise OptionError(f"groups must have one label per row ({n})")
        labels = np.unique(g[active])
        M = np.stack([(g == lab) & (prep.w > 0) for lab in labels]).astype(float)
    qs = _quantities(f, derived)
    names = [k for k, _ in qs]
    res = _influence_core(f, jnp.asarray(M, w.dtype), w, tuple(fn for _, fn in qs), steps)
    base = np.array([float(fn({k: jnp.asarray(v) for k, v in f.params.items()})) for _, fn in qs])
    pred = np.asarray(res) - base
    ex = None
    if exact:
        from ._bootstrap import bootstrap

        W = 1.0 - M[:, active]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            b = bootstrap(f.law, _frame_from(prep, f.y), f.y, weights_matrix=W, strategy="fast", full_fit=f,
                          loss=prep.problem.loss, residual=prep.problem.residual, weights=prep.w, fixed=f.fixed or None)
        params = {k: jnp.asarray(b.draws[:, i]) for i, k in enumerate(b.params)}
        ex = np.stack([np.asarray(fn(params)) for _, fn in qs], axis=1) - base
        ex[~b.ok] = np.nan
    return Influence(labels, names, pred, ex, base)


def _frame_from(prep, y):
    d = {k: np.asarray(v) for k, v in prep.X.items()}
    d[y] = np.asarray(prep.y)
    return d


def _influence_core(f, M, w, fns, steps=1):
    th = _theta_fit(f)
    prep = f._prepared
    deltas = _influence_steps(prep.problem, steps)(th, M, w, prep.Xfit, prep.yt, prep.base_fit)
    p = _natural(f, th[None, :] + deltas)
    return jnp.stack([fn(p) for fn in fns], axis=1)


@functools.lru_cache(maxsize=32)
def _influence_steps(problem, steps: int):
    """Compiled once per problem: the parameter change for each removed unit, from
    ``steps`` Newton steps on the objective without that unit, started at theta*."""
    per_point = _per_point_losses(problem)

    @jax.jit
    def run(th, M, w, Xfit, yt, base):
        def reduced(t, m):
            return jnp.sum((1.0 - m) * per_point(t, w, Xfit, yt, base))

        def one_step(m):
            # The classical one-step jackknife: at theta* the reduced objective's gradient is
            # -sum_i m_i g_i and its Hessian H - sum_i m_i h_i.
            g = jax.grad(reduced)(th, m)
            H = jax.hessian(reduced)(th, m)
            return -jnp.linalg.solve(H, g)

        value, vgh = problem.objective()

        def damped(m):
            # Larger removals: a few iterations of the fitting solver itself (damped Newton
            # with a line search) on the reduced objective, warm-started at theta*.
            r = damped_newton(vgh, value, th[None], ((Xfit, base), yt, w * (1.0 - m)), max_iter=steps)
            return r.theta[0] - th

        one = one_step if steps == 1 else damped
        return jax.vmap(one)(M)

    return run


def diagnostics(f: FitResult, threshold: float = 1e6) -> dict:
    """Hessian of the objective at the optimum in the law's unconstrained coordinates.

    Returns the condition number, eigenvalues, and the eigenvectors of the smallest ones as
    ``{param: weight}`` dicts: a weak direction mixing e.g. ``A`` and ``alpha`` says the data
    pin a combination of them, not each one. ``ill_conditioned`` is ``cond > threshold``.
    """
    prep = f._prepared
    law = prep.problem.law
    per_point = _per_point_fn(f)
    fi = prep.problem.free_idx
    names = [k for i, k in enumerate(law.param_names) if fi is None or i in fi]
    w = jnp.asarray(prep.w, prep.yt.dtype)

    def obj_user(theta_user_free):
        full = jnp.asarray(f.theta)
        full = theta_user_free if fi is None else full.at[jnp.asarray(fi)].set(theta_user_free)
        tf = law._to_fit(full, prep.aux)
        tf = tf if fi is None else tf[jnp.asarray(fi)]
        return jnp.sum(per_point(tf, w))

    tu = jnp.asarray(f.theta) if fi is None else jnp.asarray(f.theta)[jnp.asarray(fi)]
    H = np.asarray(jax.hessian(obj_user)(tu))
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    cond = float(np.abs(lam).max() / max(np.abs(lam).min(), 1e-300))
    weak = []
    for j in np.argsort(np.abs(lam))[:2]:
        v = V[:, j] / np.abs(V[:, j]).max()
        weak.append({k: round(float(c), 4) for k, c in zip(names, v) if abs(c) > 0.05})
    return {"hessian": H, "eigenvalues": lam, "condition_number": cond, "weak_directions": weak,
            "ill_conditioned": cond > threshold, "coordinates": [f"log {k}" if type(law.params[k]).__name__ == "Positive" else k for k in names]}


def _choice_grid(choices: Mapping) -> list[dict]:
    keys = list(choices)
    for k in keys:
        if k not in ABLATION_KEYS:
            raise OptionError(f"ablate: unknown choice {k!r}; choose from {sorted(ABLATION_KEYS)}")
        if isinstance(choices[k], (str, bytes)) or not hasattr(choices[k], "__iter__"):
            raise OptionError(f"ablate: choices[{k!r}] must be a list of options")
    vals = [list(choices[k].items()) if isinstance(choices[k], Mapping) else [(v, v) for v in choices[k]] for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*vals)]


# The fitting choices ablate() can vary, in the order tables and plots show them.
ABLATION_KEYS = ("loss", "delta", "residual", "drop_top", "max_compute", "min_compute", "min_N", "starts", "law", "N_column")


def _ablate_fingerprint(data, y, choices, derived, base_weights) -> str:
    import hashlib
    import json

    from ._data import _get_column

    h = hashlib.sha256()
    cols = [y, "N", "D"] + [c for c in choices.get("N_column", []) if isinstance(c, str)]
    for c in dict.fromkeys(cols):
        try:
            h.update(np.ascontiguousarray(_get_column(data, c)).tobytes())
        except Exception:
            h.update(c.encode())
    if base_weights is not None:
        h.update(np.ascontiguousarray(np.asarray(base_weights, float)).tobytes())
    h.update(repr(sorted((k, [repr(v) for v in (vs.keys() if isinstance(vs, Mapping) else vs)]) for k, vs in choices.items())).encode())
    h.update(json.dumps(sorted((derived or {}).keys())).encode())
    return h.hexdigest()


def _load_ablate_checkpoint(path, fingerprint):
    import json
    import os

    from ._errors import CheckpointError

    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as fh:
            d = json.load(fh)
        groups = {int(k): v for k, v in d["groups"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(f"ablation checkpoint {path!r} is corrupt or partial; delete it to start over") from None
    if d.get("fingerprint") != fingerprint:
        raise CheckpointError(f"ablation checkpoint {path!r} belongs to a different ablation (data or choices differ)")
    return groups


def _save_ablate_checkpoint(path, fingerprint, groups):
    import json

    from ._fit import write_atomic

    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump({"fingerprint": fingerprint, "groups": {str(k): v for k, v in groups.items()}}, fh,
                      default=_json_default)

    write_atomic(path, write)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def ablate(law, data, choices: Mapping, *, y: str = "loss", derived=None, compute=None, base_weights=None,
           checkpoint: str | None = None):
    """Fit every combination of ``choices`` and return one row per specification.

    ``choices`` keys (each a list of options; ``law``/``starts`` may be dicts label -> value):
    ``loss`` ("huber"/"squared"), ``delta`` (Huber deltas), ``residual`` ("log"/"raw"),
    ``drop_top`` (drop the k highest-loss points), ``min_compute``/``max_compute`` (keep
    runs with 6ND in range; ``None`` for no bound), ``min_N``, ``starts`` (start grids),
    ``law`` (law forms), ``N_column`` (which column is N). ``derived`` is
    ``{label: (name, kwargs)}``, evaluated for each specification's fit.
    Specifications that share law, loss, residual, starts and N column differ only in point
    weights and are fitted together in one batched call. With ``checkpoint=FILE.json`` each
    finished group is saved, and a rerun resumes from the file with identical results.
    """
    import pandas as pd

    from ._data import _get_column

    specs = _choice_grid(choices)
    if not specs:
        raise OptionError("ablate: no specifications")
    # Huber's delta means nothing to the squared loss: such specifications would differ only
    # in a label, and fitting and counting the copies would overweight squared loss in the
    # multiverse. Keep one of each (its delta shown as missing).
    seen, unique = set(), []
    for s in specs:
        if "delta" in s and s.get("loss", ("huber", "huber"))[1] == "squared":
            s = {**s, "delta": (None, None)}
        key = tuple((k, repr(v[0])) for k, v in s.items())
        if key not in seen:
            seen.add(key)
            unique.append(s)
    specs = unique
    yv = _get_column(data, y)
    n = len(yv)
    base_w = np.ones(n) if base_weights is None else np.asarray(base_weights, float)
    groups: dict = {}
    for s in specs:
        sel = {k: v[1] for k, v in s.items()}
        lw = sel.get("law", law)
        lossk = sel.get("loss", "huber")
        delta = sel.get("delta", 1e-3)
        key = (id(resolve_law(lw)), lossk, delta if lossk == "huber" else None, sel.get("residual", "log"),
               s["starts"][0] if "starts" in s else None, sel.get("N_column", "N"))
        groups.setdefault(key, []).append(s)
    rows = []
    fp = _ablate_fingerprint(data, y, choices, derived, base_weights) if checkpoint else None
    done = _load_ablate_checkpoint(checkpoint, fp)
    for gi, (key, ss) in enumerate(groups.items()):
        if gi in done:
            rows.extend(done[gi])
            continue
        group_rows = []
        sel0 = {k: v[1] for k, v in ss[0].items()}
        L = resolve_law(sel0.get("law", law))
        Ncol = sel0.get("N_column", "N")
        Nv = _get_column(data, Ncol)
        Dv = _get_column(data, "D") if "D" in L.inputs else None
        C = compute(data) if compute is not None else (6 * Nv * Dv if Dv is not None else None)
        W = []
        for s in ss:
            sel = {k: v[1] for k, v in s.items()}
            wv = base_w.copy()
            for name, op in (("min_compute", np.greater_equal), ("max_compute", np.less)):
                if sel.get(name) is not None:
                    if C is None:
                        raise OptionError(f"ablate: {name} needs a compute column (pass compute=)")
                    wv *= op(C, sel[name])
            if sel.get("min_N") is not None:
                wv *= Nv >= sel["min_N"]
            k = int(sel.get("drop_top", 0) or 0)
            if k:
                live = np.flatnonzero(wv > 0)
                wv[live[np.argsort(-yv[live], kind="stable")[:k]]] = 0.0
            W.append(wv)
        W = np.array(W)
        lossobj = None
        from ._objective import huber, squared

        lossobj = squared() if sel0.get("loss", "huber") == "squared" else huber(sel0.get("delta", 1e-3))
        common = dict(loss=lossobj, residual=sel0.get("residual", "log"), starts=sel0.get("starts"),
                      columns={"N": Ncol} if Ncol != "N" else None)
        # Every specification of the group is one row of a weight matrix: one batched call,
        # each row screening the whole start grid (no shared warm start across choices).
        from ._bootstrap import _mesh_sharding, _run_weights
        from ._fit import Strategy, prepare

        prep = prepare(L, data, y, strategy=Strategy(screen_k=64, keep_k=8, halving_iters=8, max_iter=100, name="grid"),
                       **common)
        ctx = {"prep": prep, "problem": prep.problem, "active": np.arange(n), "sharding": _mesh_sharding(None)}
        out = _run_weights(ctx, W, chunk_size=max(len(W), 1), progress=False)
        for i, s in enumerate(ss):
            row = {k: v[0] for k, v in s.items()}
            row["n_points"] = int((W[i] > 0).sum())
            p = {k: float(out["draws"][i, j]) for j, k in enumerate(L.param_names)}
            row.update(p)
            row["objective"] = float(out["objective"][i])
            row["status"] = out["status"][i]
            for label, spec in (derived or {}).items():
                name, kw = spec if isinstance(spec, tuple) else (spec, {})
                if isinstance(name, str) and name not in L.derived:
                    row[label] = np.nan  # this law form does not define the quantity
                    continue
                fn = L.derived[name] if isinstance(name, str) else name
                try:
                    row[label] = float(fn({k: jnp.asarray(v) for k, v in p.items()}, **kw))
                except KeyError:
                    row[label] = np.nan
            group_rows.append({k: _json_default(v) if isinstance(v, (np.generic,)) else v for k, v in row.items()})
        rows.extend(group_rows)
        if checkpoint:
            done[gi] = group_rows
            _save_ablate_checkpoint(checkpoint, fp, done)
    return pd.DataFrame(rows)


def extrapolate(law, data, *, y: str = "loss", cutoff: float, by=None, **fit_kw):
    """Fit on rows with ``by < cutoff`` (default ``by`` = 6ND), predict the rest.

    Returns ``(fit, table)``: the table has one row per held-out point with its actual and
    predicted value and the relative and log errors; ``table.attrs['summary']`` has the
    mean absolute and root-mean-square log errors.
    """
    import pandas as pd

    from ._data import _get_column

    law = resolve_law(law)
    if by is None:
        by_v = 6 * _get_column(data, "N") * _get_column(data, "D")
    elif isinstance(by, str):
        by_v = _get_column(data, by)
    else:
        by_v = np.asarray(by, float)
    train = by_v < cutoff
    if train.sum() == 0 or (~train).sum() == 0:
        raise OptionError(f"cutoff {cutoff:g} leaves {int(train.sum())} training and {int((~train).sum())} held-out rows")
    f = fit(law, data, y, weights=train.astype(float), **fit_kw)
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    held = df[~train].copy()
    pred = f.predict(held)
    actual = held[y].to_numpy(float)
    held["predicted"] = pred
    held["rel_error"] = pred / actual - 1
    held["log_error"] = np.log(pred) - np.log(actual)
    held.attrs["summary"] = {
        "n_train": int(train.sum()), "n_heldout": int((~train).sum()),
        "mae_log": float(np.mean(np.abs(held.log_error))), "rmse_log": float(np.sqrt(np.mean(held.log_error**2))),
    }
    return f, held


def information_criteria(f: FitResult) -> dict:
    """AIC and BIC from the squared log residuals of the fit's points (Gaussian working likelihood)."""
    prep = f._prepared
    keep = prep.w > 0
    r = np.log(f.predict(_frame_from(prep, f.y)))[keep] - np.log(prep.y[keep])
    n, k = int(keep.sum()), f.law.n_params - len(f.fixed)
    rss = float(np.sum(r**2))
    ll = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1)
    return {"n": n, "k": k, "rss_log": rss, "aic": 2 * k - 2 * ll, "bic": k * np.log(n) - 2 * ll}
