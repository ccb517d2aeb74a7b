"""IsoFLOP analysis (Hoffmann et al.'s Approach 2): per-budget minima, N*(C) = k C^a, honest
budget statuses, a bootstrap through both stages, the bias the design alone induces, and the
side-by-side Approach 3 estimate on the same runs.

Approach 2 is what most quoted compute-optimal exponents come from (Chinchilla, Llama 3,
Porian et al.), and it is biased by its design: a wide or off-centre size grid, or
alpha != beta, shifts the exponent even without noise. ``isoflop`` therefore reports, beside
the estimate, the bias its own design induces under the Approach-3 law fitted to the same
runs (``bias=``), and never uses a budget without a usable interior minimum.

Profiles: ``"parabola"`` (default; Chinchilla, Llama 3) or ``"cubic"`` fits of log loss on
log N, or ``"interp"``, the minimum of an Akima interpolant on a fine grid (Porian et al.).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._data import number
from ._errors import OptionError
from ._isoflop_design import Design, isoflop_design
from ._stats import finite_interval
from ._util import check_seed, x64
from .kernels import profile as P

PROFILES = {"parabola": 2, "cubic": 3, "interp": None}


@dataclass(frozen=True)
class IsoflopResult:
    """The outcome of ``jaxlaws.isoflop``.

    ``budgets``: one row per budget (C, runs, N*, D*, L*, status, flags, bootstrap sd of
    log N* and its interval). ``a``/``b``: the exponents of N*(C) = k C^a and D*(C) = k_D C^b
    with ``(estimate, lower, upper)``; ``target``: N*, D*, L* at ``target_C`` with intervals.
    ``bias``: what the design alone does to ``a`` and to N*(target) (simulated), with the
    bias-corrected ``a``; ``approach3``: the same quantities from the Chinchilla-law fit.
    """

    budgets: object
    a: tuple
    k: float
    b: tuple
    k_D: float
    target_C: float | None
    target: dict
    profile: str
    weighted: bool
    n_boot: int
    level: float
    draws_a: np.ndarray = field(repr=False)
    draws_logk: np.ndarray = field(default=None, repr=False)
    n_used: int = 0
    bias: dict | None = None
    approach3: dict | None = None
    flops_per_token: float = 6.0
    method: str = ""
    design: object = field(default=None, repr=False, compare=False)

    def profile_curves(self, num: int = 100) -> list:
        """Per budget ``(C, N, loss, status)``: the fitted profile over the budget's sampled sizes
        (for plots; the polynomial profiles are refitted on the data, the same solve as the estimate)."""
        des, out = self.design, []
        for g, C in enumerate(des.C):
            k = des.n_runs[g]
            if k < 3:
                out.append((C, np.array([]), np.array([]), self.budgets.status[g]))
                continue
            if PROFILES[self.profile] is None:
                gx, gy = P.akima_curve(des.logN[g, :k], des.y[g, :k])
                ln, ly = gx, gy[0]
            else:
                c = np.asarray(P.poly_coefficients(jnp.asarray(des.x[g]), jnp.asarray(des.y[g]), jnp.asarray(des.w[g]),
                                                   PROFILES[self.profile]))
                xs = np.linspace(-1.0, 1.0, num)
                ln, ly = des.mid[g] + des.half[g] * xs, np.polyval(c[::-1], xs)
            out.append((C, np.exp(ln), np.exp(ly), self.budgets.status[g]))
        return out

    def n_opt(self, C):
        """N*(C) = k C^a at budgets ``C`` (the point estimate)."""
        return self.k * np.asarray(C, float) ** self.a[0]

    def d_opt(self, C):
        return self.k_D * np.asarray(C, float) ** self.b[0]

    def comparison(self, approach1: "IsoflopResult | None" = None):
        """Approach 2 beside Approach 3 on the same runs (and Approach 1, given its result), with
        the gap between 2 and 3 in units of their mean half-band (log scale for N*, D*)."""
        import pandas as pd

        if self.approach3 is None:
            raise OptionError("isoflop(..., approach3=True) computes the Approach-3 side")
        rows = []
        for q in ("a", "N_opt", "D_opt", "L_opt"):
            two = self.a if q == "a" else self.target.get(q)
            three = self.approach3.get(q)
            if two is None or three is None:
                continue
            f = np.log if q in ("N_opt", "D_opt") else (lambda v: v)
            gap = f(two[0]) - f(three[0])
            half = 0.5 * ((f(two[2]) - f(two[1])) + (f(three[2]) - f(three[1])))
            row = {"quantity": q}
            if approach1 is not None:
                one = approach1.a if q == "a" else approach1.target.get(q, (np.nan,) * 3)
                row.update(approach1=one[0], approach1_low=one[1], approach1_high=one[2])
            row.update({"approach2": two[0], "approach2_low": two[1], "approach2_high": two[2],
                        "approach3": three[0], "approach3_low": three[1], "approach3_high": three[2],
                        "gap_2_vs_3_in_half_bands": gap / half if half > 0 else np.nan})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        out = {"method": self.method, "profile": self.profile, "weighted": self.weighted, "n_boot": self.n_boot,
               "level": self.level, "n_budgets_used": self.n_used, "a": list(self.a), "k": self.k, "b": list(self.b),
               "k_D": self.k_D, "target_C": self.target_C, "target": {k: list(v) for k, v in self.target.items()},
               "budgets": self.budgets.to_dict(orient="records"), "bias": self.bias, "approach3":
               None if self.approach3 is None else {k: list(v) if isinstance(v, tuple) else v for k, v in self.approach3.items()}}
        return out


@functools.lru_cache(maxsize=8)
def _pipeline(degree: int):
    """The profiles of every budget of every resample: one compiled program."""
    return jax.jit(lambda x, Y, W: P.profile_minima(x, Y, W, degree))


def _minima(des: Design, Y, W, profile: str):
    """Per resample and budget: log N*, log L*, status. ``Y``, ``W``: (B, G, m)."""
    if PROFILES[profile] is not None:
        xs, ys, _, st = _pipeline(PROFILES[profile])(jnp.asarray(des.x), jnp.asarray(Y), jnp.asarray(W))
        xs, ys, st = np.asarray(xs), np.asarray(ys), np.asarray(st)
        return des.mid + des.half * xs, ys, st
    B, G = Y.shape[0], Y.shape[1]
    lx, ly, st = np.full((B, G), np.nan), np.full((B, G), np.nan), np.zeros((B, G), int)
    for g in range(G):
        k = des.n_runs[g]
        xs_, ys_, s_ = P.akima_minimum(des.logN[g, :k], Y[:, g, :k])
        lx[:, g], ly[:, g], st[:, g] = xs_, ys_, s_
    return lx, ly, st


def _flags(des: Design, lx, status) -> list[str]:
    """Per budget: off-centre sampling (the minimum in the outer 20% of the sampled log range,
    or fewer than 2 runs on one side of it): usable, but the profile's shape there matters."""
    out = []
    for g in range(len(des.C)):
        if status[g] != P.OK:
            out.append("")
            continue
        ln = des.logN[g, : des.n_runs[g]]
        pos = (lx[g] - des.mid[g]) / des.half[g]
        side = min(int(np.sum(ln < lx[g])), int(np.sum(ln > lx[g])))
        out.append("off_centre" if abs(pos) > 0.6 or side < 2 else "")
    return out


@x64
def isoflop(data, budget: str = "C", size: str = "N", loss: str = "loss", *, tokens: str | None = None,
            profile: str = "parabola", n: int = 1000, seed: int = 0, noise: float | None = None, weighted: bool = False,
            target: float | None = None, level: float = 0.95, bias: int = 0, approach3: bool = False,
            flops_per_token: float = 6.0, point: str = "data", where=(), by: str | None = None):
    """Approach 2: per-budget profile minima, then N*(C) = k C^a, with intervals through both stages.

    **Arguments:**
    - ``budget``, ``size``, ``loss`` (and optionally ``tokens``): column names or expressions
      over columns; runs sharing a budget value form one isoFLOP profile. Without ``tokens``,
      D = C / (flops_per_token N); with ``tokens`` and no ``size`` column, N = C / (flops_per_token D).
    - ``where``: row filters (expressions, all must hold), e.g. ``"dataset == 'rw'"``.
    - ``by``: a column: one analysis per value (several data sets in one table are never
      pooled into one profile per budget); returns ``{value: IsoflopResult}`` in table order.
    - ``profile``: ``"parabola"`` (default), ``"cubic"`` or ``"interp"`` (Akima, minimised on
      25 points per interval; Porian et al.).
    - ``n``, ``seed``: bootstrap resamples through both stages: runs resampled within each
      budget (polynomial profiles) and, with ``noise`` (the relative run-to-run SD of the
      loss, e.g. 0.005), seed noise added to every loss (Porian et al.'s recipe; the only
      resampling for ``"interp"``). Each resample refits every profile and the power law.
    - ``weighted``: weight each budget by 1 / var(log N*) from the bootstrap (floored at a
      third of the budget's size-grid spacing, as Porian et al.); default unweighted.
    - ``point``: each budget's N* from the data (``"data"``, default) or the median of its
      bootstrap minima (``"median"``, Porian et al.'s reported estimate).
    - ``target``: a budget C at which to report N*, D*, L* with intervals.
    - ``bias``: simulate this many data sets from the Approach-3 law fitted to the same runs,
      at this exact design with the fitted noise, and run the same Approach 2 on each: the
      expected bias and spread of ``a`` (and of log N*(target)) that the design induces.
    - ``approach3``: also fit the Chinchilla law to the runs and report its a, N*, D*, L*.

    A budget with fewer than 4 runs, no interior minimum (concave or monotone profile) or its
    minimum at or beyond the sampled sizes is excluded from the power law and counted in its
    status; an off-centre minimum is used and flagged.
    """
    if by is not None:
        from ._select import as_frame

        df = as_frame(data)
        if by not in df.columns:
            raise OptionError(f"by={by!r} is not a column (columns: {list(df.columns)})")
        kw = dict(budget=budget, size=size, loss=loss, tokens=tokens, profile=profile, n=n, seed=seed, noise=noise,
                  weighted=weighted, target=target, level=level, bias=bias, approach3=approach3,
                  flops_per_token=flops_per_token, point=point, where=where)
        return {key: isoflop(df[df[by] == key].reset_index(drop=True), **kw) for key in df[by].drop_duplicates()}
    if profile not in PROFILES:
        raise OptionError(f"profile={profile!r} must be one of {list(PROFILES)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise OptionError(f"n={n!r} must be an integer >= 0")
    check_seed(seed)
    if isinstance(bias, bool) or not isinstance(bias, (int, np.integer)) or bias < 0:
        raise OptionError(f"bias={bias!r} must be an integer >= 0 (data sets simulated at this design)")
    if not (0 < level < 1):
        raise OptionError(f"level={level!r} must be between 0 and 1")
    if noise is not None:
        noise = number("noise", noise)
    if noise is not None and not (np.isfinite(noise) and noise >= 0):
        raise OptionError(f"noise={noise!r} must be a relative SD >= 0 (e.g. 0.005)")
    if profile == "interp" and n and not noise:
        raise OptionError("the interp profile's bootstrap adds seed noise: give noise= (relative SD of the loss)")
    if target is not None and not (np.isfinite(target) and target > 0):
        raise OptionError(f"target={target!r} must be a positive budget in FLOPs")
    if point not in ("data", "median"):
        raise OptionError(f"point={point!r} must be 'data' or 'median'")
    if point == "median" and not n:
        raise OptionError("point='median' needs bootstrap resamples (n > 0)")
    des = isoflop_design(data, budget, size, loss, tokens, flops_per_token, where)
    if len(des.C) < 2:
        raise OptionError(f"isoflop needs at least 2 budgets in column {budget!r}; found {len(des.C)}")
    G = len(des.C)
    logc = np.log(des.C)
    # the point estimate
    lx0, ly0, st0 = _minima(des, des.y[None], des.w[None], profile)
    lx0, ly0, st0 = lx0[0], ly0[0], st0[0]
    # the bootstrap through both stages
    rng = np.random.default_rng(seed)
    sd = np.full(G, np.nan)
    if n:
        W = np.zeros((n, G, des.w.shape[1]))
        Y = np.broadcast_to(des.y, W.shape).copy()
        for g in range(G):
            k = des.n_runs[g]
            if profile == "interp":
                W[:, g, :k] = 1.0
            else:
                W[:, g, :k] = rng.multinomial(k, np.full(k, 1.0 / k), size=n)
        if noise:
            # multiplicative seed noise, log-normal so a loss never turns negative:
            # log L' = log L + noise z (relative SD ~ noise for small noise)
            Y = Y + noise * rng.standard_normal(Y.shape)
        lxb, lyb, stb = _minima(des, Y, W, profile)
        lx_all = lxb  # every draw's minimum, edge minima included (for point="median")
        lxb = np.where(stb == P.OK, lxb, np.nan)
        lyb = np.where(stb == P.OK, lyb, np.nan)
        with warnings.catch_warnings():  # a budget with no usable draw has no spread (nan)
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(lxb, axis=0)
        spacing = np.array([np.median(np.diff(des.logN[g, : des.n_runs[g]])) if des.n_runs[g] > 1 else np.nan
                            for g in range(G)])
        sd = np.fmax(sd, spacing / 3.0)
    if point == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(lx_all, axis=0)
        # the median over all draws, edge minima included: a budget whose median minimum is on
        # the edge of its sampled sizes is excluded (Porian et al. keep interior minima only)
        lo = np.array([des.logN[g, 0] for g in range(G)])
        hi = np.array([des.logN[g, des.n_runs[g] - 1] for g in range(G)])
        edge = ~np.isfinite(med) | (med <= lo + 1e-9 * np.abs(lo)) | (med >= hi - 1e-9 * np.abs(hi))
        st0 = np.where((st0 == P.OK) & edge, P.AT_EDGE, st0)
        lx0 = np.where(np.isfinite(med), med, lx0)
    use = st0 == P.OK
    wts = np.where(use, 1.0 / sd**2 if weighted else 1.0, 0.0)
    if weighted and not np.all(np.isfinite(wts[use])):
        raise OptionError("weighted=True needs bootstrap resamples (n > 0) for every usable budget")
    a_hat, logk = (float(v) for v in P.power_fit(jnp.asarray(logc), jnp.asarray(lx0), jnp.asarray(wts)))
    if int(use.sum()) < 2:
        a_hat, logk = np.nan, np.nan
    draws_a, draws_lk = np.full(n, np.nan), np.full(n, np.nan)
    tgt = {}
    if n:
        wb = np.where(stb == P.OK, wts[None, :] if weighted else 1.0, 0.0) * use[None, :]
        ab, lkb = (np.asarray(v) for v in P.power_fit(jnp.asarray(logc), jnp.asarray(np.nan_to_num(lxb)), jnp.asarray(wb)))
        draws_a, draws_lk = ab, lkb
    ia = finite_interval(draws_a, level, a_hat)
    fpt = des.fpt
    k = float(np.exp(logk))
    k_D = 1.0 / (fpt * k)
    if target is not None:
        tgt["L_opt"] = _loss_at(des.C[use], ly0[use], lyb[:, use] if n else None, target, level)
        n_t = k * target**a_hat
        band = (np.exp(lkb) * target**ab) if n else np.array([np.nan])
        lo, hi = finite_interval(band, level, n_t)
        tgt["N_opt"] = (n_t, lo, hi)
        tgt["D_opt"] = (target / (fpt * n_t), target / (fpt * hi), target / (fpt * lo))
    import pandas as pd

    flags = _flags(des, lx0, st0)
    band_N = np.array([finite_interval(lxb[:, g], level) for g in range(G)]) if n else None
    tab = pd.DataFrame({
        "C": des.C, "runs": des.n_runs, "N_opt": np.exp(lx0), "D_opt": des.C / (fpt * np.exp(lx0)), "L_opt": np.exp(ly0),
        "status": [P.STATUS_NAMES[s] for s in st0], "flag": flags, "sd_log_N_opt": sd,
        "N_opt_low": np.exp(band_N[:, 0]) if n else np.nan,
        "N_opt_high": np.exp(band_N[:, 1]) if n else np.nan,
        "used": use,
    })
    for c in ("N_opt", "D_opt", "L_opt"):
        tab.loc[~use, c] = np.nan  # an unusable budget has no minimum to report
    res = IsoflopResult(
        budgets=tab, a=(a_hat, *ia), k=k, b=(1.0 - a_hat, 1.0 - ia[1], 1.0 - ia[0]), k_D=k_D, target_C=target,
        target=tgt, profile=profile, weighted=weighted, n_boot=n, level=level, draws_a=draws_a, draws_logk=draws_lk,
        n_used=int(use.sum()),
        flops_per_token=fpt, design=des,
        method=(f"Approach 2: {profile} profile of log loss on log N per budget; "
                f"{'weighted (1/var log N*)' if weighted else 'ordinary'} least squares of log N* on log C"),
    )
    if bias or approach3:
        from ._isoflop_a3 import with_approach3

        res = with_approach3(res, des, bias=bias, approach3=approach3, seed=seed, profile=profile, minima=_minima)
    return res


def _loss_at(C, logL, logL_draws, target, level):
    """L*(target) from the budgets' minimum losses: ``L*(C) = E + A C^-alpha`` (the loss envelope
    Porian et al. fit) by least squares, with an interval from the bootstrap draws."""
    if len(C) < 4:
        return (np.nan, np.nan, np.nan)
    rel = target / C.min()

    def at(L):
        E, A, alpha = P.envelope_fit(C, L)
        return E + A * rel**-alpha

    est = float(at(np.exp(logL))[0])
    if logL_draws is None:
        return (est, np.nan, np.nan)
    # E + A C^-alpha is undefined (nan) when the envelope's E <= 0: then no interval either
    return (est, *finite_interval(at(np.exp(logL_draws)), level, est))

