"""Refitting one prepared problem under many weight vectors (and loss parameters), in chunks.

Every row of a weight matrix is one refit: bootstrap resamples, jackknife deletions,
ablation filters. All rows of a chunk go through one ``jit(vmap(solve))`` call; chunks keep
memory flat for any number of rows, and the row axis of each chunk is sharded over all
devices (this is also how both cores of a CPU get used: XLA:CPU runs one vmapped batch on
one core). Loss parameters are a per-row array too, so rows may use different Huber deltas
under one compiled program. Finished chunks can be checkpointed and a killed run resumed
with identical results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import CheckpointError
from ._identify import bound_reasons, curvature_reasons, design_reasons, parameter_reasons
from ._prepare import Prepared, compiled_solve, hessian_fn
from ._progress import LOG, Progress
from ._util import mesh_sharding, pad_rows, shard_rows, to_host, write_atomic
from .kernels import results as R

_FIELDS = ("theta", "f", "status", "n_iter")


def fingerprint(prep: Prepared, W, strategy_name, chunk_size, extra) -> str:
    """A hash of everything that determines a refit run's results (data, options, weights)."""
    h = hashlib.sha256()
    for k in prep.problem.law.inputs:
        h.update(np.ascontiguousarray(prep.X[k]).tobytes())
    h.update(np.ascontiguousarray(prep.y).tobytes())
    h.update(W.key() if hasattr(W, "key") else np.ascontiguousarray(W).tobytes())
    h.update(np.ascontiguousarray(prep.starts_user).tobytes())
    h.update(np.ascontiguousarray(prep.extra_user).tobytes())
    h.update(json.dumps([prep.problem.law.name, str(prep.loss), prep.problem.residual,
                         dataclasses.asdict(prep.strategy), prep.problem.free_idx,
                         strategy_name, chunk_size, extra], sort_keys=True, default=str).encode())
    return h.hexdigest()


def load_checkpoint(path, fp):
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in _FIELDS}
    except Exception as e:  # any unreadable file (truncated zip, wrong format) is a corrupt checkpoint
        raise CheckpointError(f"checkpoint {path!r} is corrupt or partial ({type(e).__name__}); "
                              f"delete it to start over") from None
    if meta.get("fingerprint") != fp:
        raise CheckpointError(f"checkpoint {path!r} belongs to a different run (data, law, options or seed differ); "
                              f"use another file or delete it")
    n = meta["done"]
    if any(a.shape[0] != n for a in arrays.values()):
        raise CheckpointError(f"checkpoint {path!r} is inconsistent (array lengths differ from its record)")
    return n, arrays


def save_checkpoint(path, fp, done, arrays):
    meta = np.array(json.dumps({"fingerprint": fp, "done": done}))
    write_atomic(path, lambda tmp: np.savez(tmp, meta=meta, **{k: v[:done] for k, v in arrays.items()}), suffix=".npz")


CHUNK_CELLS = 5 * 10**6


def refit(prep: Prepared, W, *, active=None, LP=None, starts=None, chunk_size=500, devices=None, progress=False,
          checkpoint=None, fingerprint_=None, on_chunk=None, label="bootstrap") -> dict:
    """Fit every row of ``W`` (weights over the ``active`` points) in chunks; numpy arrays out.

    ``LP`` (rows, k) gives each row its own loss parameters (default: ``prep``'s); ``starts``
    (rows, S, k) its own starts in free fit coordinates (default: ``prep``'s, shared). Returns
    free fit coordinates ``theta`` (B, k), objectives ``f``, result codes ``status`` and
    ``n_iter``.
    """
    if hasattr(W, "rows"):  # a WeightRows plan: rows generated a chunk at a time
        rows = W.rows
    else:
        W = np.asarray(W, float)
        rows = lambda lo, hi: W[lo:hi]  # noqa: E731
    B = W.shape[0]
    active = np.arange(len(prep.w)) if active is None else active
    law = prep.problem.law
    Xa = {k: np.asarray(v)[active] for k, v in prep.X.items()}
    # why each row's weighted design cannot identify the law (see to_draws), chunk by chunk so
    # that no (B, n) array is ever built
    design = [None] * B
    base_w = prep.w
    dt = prep.yt.dtype
    lp0 = np.asarray(prep.loss.array())
    LP = np.tile(lp0, (B, 1)) if LP is None else np.asarray(LP, float)
    solver = compiled_solve(prep.problem, prep.strategy, batched=True, row_starts=starts is not None)
    # A kinked loss (pinball, absolute) is reached by continuation in its smoothing, as a single
    # fit is (``Loss.schedule``): every row is solved at eps = 1e-3, 1e-4, ..., each stage warm-
    # started at the row's own previous optimum. Started directly at eps = 1e-6 the curvature
    # 1/eps made half of an asymmetric bootstrap's resamples hit the step limit.
    stages = [st.values for st in prep.loss.schedule()[:-1]]  # [] for every loss but a kinked one
    warm = compiled_solve(prep.problem, prep.strategy, batched=True, row_starts=True) if stages else None
    # PartitionSpec("batch") splits the leading (row) axis and keeps the rest whole
    sharding, n_dev = mesh_sharding(devices)
    # Chunk size: a multiple of the device count so every device gets equal rows, and small
    # enough that a chunk's batched solve (resamples x kept starts x points residuals and their
    # Jacobians) stays within CHUNK_CELLS: 122 resamples of 10^4 runs with 4 warm starts, 12 of
    # 10^5. Tables of today's sizes (a few hundred runs) keep the requested chunk.
    cells = len(prep.w) * max(1, prep.strategy.keep_k)
    cs = max(1, min(chunk_size, B, max(1, CHUNK_CELLS // cells)))
    cs = -(-cs // n_dev) * n_dev
    n_chunks = -(-B // cs)
    k = prep.starts_fit.shape[1]
    k_starts = prep.starts_fit.shape[0] if starts is None else np.shape(starts)[1]
    out = {"theta": np.zeros((B, k)), "f": np.zeros(B), "status": np.zeros(B, np.int32), "n_iter": np.zeros(B, np.int32)}
    done = 0
    if checkpoint and os.path.exists(checkpoint):
        done, arrs = load_checkpoint(checkpoint, fingerprint_)
        for key in out:
            out[key][:done] = arrs[key]
        # said, never silent: a resumed run's first chunks were computed by an earlier process
        LOG.warning(f"{label}: resumed from checkpoint {checkpoint}: {done} of {B} refits ({-(-done // cs)} of "
                    f"{n_chunks} chunks) were done; continuing from chunk {-(-done // cs) + 1}")
    bar = Progress(label, B, show=progress, start_done=done, log=n_chunks > 1)
    for c in range(n_chunks):
        lo, hi = c * cs, min((c + 1) * cs, B)
        weighted = rows(lo, hi) * base_w[active][None, :]
        design[lo:hi] = design_reasons(law, Xa, weighted, prep.problem.n_free)
        if hi <= done:  # a resumed run's finished chunk: its fits came from the checkpoint
            continue
        # Pad the last chunk with copies of the plain data so every call has one shape
        # (one compilation); padded rows are discarded.
        Wc = np.tile(base_w, (cs, 1))
        Wc[: hi - lo, active] = weighted
        LPc = np.tile(lp0, (cs, 1))
        LPc[: hi - lo] = LP[lo:hi]
        Wj = shard_rows(jnp.asarray(Wc, dt), sharding)
        LPj = shard_rows(jnp.asarray(LPc, dt), sharding)
        S0 = prep.starts_fit
        if starts is not None:
            S0 = shard_rows(jnp.asarray(pad_rows(starts[lo:hi], cs), dt), sharding)
        n_prev = 0
        for i, values in enumerate(stages):
            LPs = LPc.copy()
            LPs[:, 2] = np.maximum(LPc[:, 2], values[2])  # never below the row's own smoothing
            r = jax.block_until_ready((solver if i == 0 else warm)(
                S0, prep.extra_fit, prep.Xb, prep.yt, Wj, shard_rows(jnp.asarray(LPs, dt), sharding), prep.strata))
            n_prev = n_prev + r.n_iter
            # each row's optimum is its every start in the next stage (one basin: the starts agree)
            S0 = shard_rows(jnp.repeat(r.theta[:, None, :], k_starts, axis=1), sharding)
        r = jax.block_until_ready((warm if stages else solver)(
            S0, prep.extra_fit, prep.Xb, prep.yt, Wj, LPj, prep.strata))
        if stages:
            r = r._replace(n_iter=r.n_iter + n_prev)
        for key, val in zip(_FIELDS, (r.theta, r.f, r.status, r.n_iter)):
            out[key][lo:hi] = to_host(val)[: hi - lo]
        if checkpoint:
            save_checkpoint(checkpoint, fingerprint_, hi, out)
        if on_chunk is not None:
            on_chunk(hi, B)
        bar.update(hi)
    bar.close()
    out["design_reasons"] = design
    return out


def to_draws(prep: Prepared, out: dict, W=None, active=None, curvature: bool = False) -> dict:
    """Refit outputs (free fit coordinates, codes) to natural draws and status names.

    With the weight matrix ``W`` (rows over the ``active`` points; ``out`` from ``refit``, which
    checks each row's weighted design), a converged row whose
    weighted design cannot identify the law, or whose parameters ran to a bound, is
    ``degenerate`` (see ``_identify``): it is excluded from summaries and counted.
    ``curvature=True`` also checks each converged row's Hessian for a flat direction, as a
    single fit does (one Hessian per row: for a few rows such as extrapolation cutoffs, not for
    thousands of bootstrap resamples).
    """
    theta_user = prep.to_user(out["theta"])
    law = prep.problem.law
    draws = np.stack([np.asarray(v) for v in law.constrain(jnp.asarray(theta_user)).values()], axis=1)
    for k, v in prep.fixed.items():
        draws[:, law.param_names.index(k)] = v
    status = R.name_of(out["status"])
    status[~np.isfinite(out["f"])] = "nonfinite"
    reasons = [[] for _ in range(len(status))]
    idx = np.arange(len(prep.w)) if active is None else active
    if W is not None:
        reasons = [list(r) for r in out["design_reasons"]]  # computed chunk by chunk in refit
    for b, row in enumerate(draws):
        more = parameter_reasons(law, dict(zip(law.param_names, row)), prep.fixed)
        reasons[b] = reasons[b] + more
    bad = np.array([bool(r) for r in reasons]) & (status == "converged")
    status[bad] = "degenerate"
    if law.bounds:  # a resample whose optimum lies beyond a recipe's box
        boxed = set(law.bounds)
        hit = np.array([bool(bound_reasons(law, {k: v for k, v in zip(law.param_names, row) if k in boxed}, prep.fixed))
                        for row in draws])
        status[hit & (status == "converged")] = "at_bound"
    if curvature and W is not None:
        H = hessian_fn(prep.problem)
        for b in np.flatnonzero(status == "converged"):
            w = np.zeros(len(prep.w))
            w[idx] = (W.rows(b, b + 1)[0] if hasattr(W, "rows") else np.asarray(W)[b]) * prep.w[idx]
            flat = curvature_reasons(np.asarray(H(jnp.asarray(out["theta"][b]), prep.args(w))))[0]
            if flat:
                status[b], reasons[b] = "degenerate", reasons[b] + flat
                bad[b] = True
    return {"draws": draws, "objective": out["f"], "status": status, "n_iter": out["n_iter"],
            "reasons": [r if b else [] for r, b in zip(reasons, bad)]}
