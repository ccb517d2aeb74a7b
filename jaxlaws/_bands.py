"""Prediction bands from parameter draws: where the law is, and where a new run will land.

Shared by ``BootstrapResult.predict`` (draws in memory) and ``jaxlaws predict`` on a saved
bootstrap (draws read back from its JSON): every draw's prediction at every row in one
vectorised call, then percentile bands, optionally with run-to-run noise added per draw.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import OptionError
from ._stats import percentile_interval


def band_table(law, names, draws, X, data, estimate, *, level: float, kind: str, noise=None, residual: str = "log",
               seed: int = 0, n_samples: int = 20000):
    """``data``'s rows (every column kept) with ``estimate``, ``se`` and the ``level`` band.

    ``draws``: ``(B, p)`` natural parameters in the order ``names``; ``X``: the rows' inputs
    in the parameters' units; ``kind``: ``"mean"`` (draws only) or ``"new-run"`` (each draw's
    prediction plus a draw of ``noise``, a ``NoiseModel``, in ``residual`` space).
    """
    import pandas as pd

    if not (0 < level < 1):
        raise OptionError(f"level={level!r} must be in (0, 1)")
    if kind not in ("mean", "new-run"):
        raise OptionError(f"kind={kind!r} must be 'mean' or 'new-run'")
    D = jnp.asarray(draws)
    if D.shape[0] < 2:
        raise OptionError("fewer than two converged resamples: no band")
    xs = tuple(jnp.asarray(X[k]) for k in law.inputs)
    # through the law's log form: finite where the plain form would overflow
    logp = jax.vmap(lambda th: law.log_predict(dict(zip(names, th)), *xs))(D)
    pred = np.exp(np.asarray(logp))  # (draws, rows)
    if kind == "new-run":
        from ._noise import with_noise

        if noise is None:
            raise OptionError("a new-run band needs a noise model")
        pred = with_noise(pred, noise, residual, X, int(n_samples), seed)
    lo, hi = percentile_interval(pred, level)
    out = data.reset_index(drop=True).copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(
        {k: X[k] for k in law.inputs})
    with np.errstate(over="ignore", invalid="ignore"):
        se = np.std(pred, axis=0, ddof=1)
    out["estimate"] = estimate
    out["se"], out[f"lower_{level:g}"], out[f"upper_{level:g}"] = se, lo, hi
    return out


def refused_table(X, data, estimate, level: float, why: str):
    """The rows of ``data`` with the fit's estimate and no band (nan), and ``why`` in a ``note``
    column: a band the draws cannot support is not printed as one."""
    import pandas as pd

    out = data.reset_index(drop=True).copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(X)
    out["estimate"] = estimate
    out["se"] = out[f"lower_{level:g}"] = out[f"upper_{level:g}"] = np.nan
    out["note"] = why
    return out
