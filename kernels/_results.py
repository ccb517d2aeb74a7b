"""One result vocabulary for every solver, fit, resample and allocation.

Codes are plain ``int32`` values so they travel through ``jit``/``vmap``/sharding as array
data; names are attached only at the edges (tables, JSON, the CLI) through ``name_of``.
Every job reports with these codes, so ``2`` means the same thing in a fit, a bootstrap
member and an allocation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

CONVERGED = 0  # the solver's own convergence test passed: a (local) optimum to working precision
MAX_STEPS = 1  # the step cap was reached while still improving
NONFINITE = 2  # objective, gradient or Hessian was nan/inf at the start or along the way
PRUNED_SCREEN = 3  # a start never optimised: its starting objective ranked outside the screen
PRUNED_HALVING = 4  # a start optimised for a few steps, then ranked outside the kept set
STALLED = 5  # no step reduced the objective for `patience` steps, decrement still large
AT_BOUND = 6  # the optimum sits on a box bound (of an allocation variable, a bounded parameter)
INFEASIBLE = 7  # no point satisfies the constraints (a budget that cannot be met)
DEGENERATE = 8  # a finite point the data cannot determine (flat or infinite directions)

NAMES = (
    "converged",
    "max_iter",  # kept as the public spelling of MAX_STEPS (saved JSON and checkpoints use it)
    "nonfinite",
    "pruned_screen",
    "pruned_halving",
    "stalled",
    "at_bound",
    "infeasible",
    "degenerate",
)
CODES = {name: code for code, name in enumerate(NAMES)}


def name_of(codes) -> Any:
    """Status names for an int code or an array of codes (vectorised, for millions of rows)."""
    arr = np.asarray(codes)
    # a fixed-width string array as wide as the longest name, so that any entry can later be
    # set to any other status name without truncation
    out = np.asarray(NAMES)[arr.astype(np.int64)]
    return str(out) if arr.ndim == 0 else out


class Solution(NamedTuple):
    """What every solver returns (one member; ``vmap`` adds a leading axis to each field).

    ``value``: the final point; ``f``: the objective there (``inf`` if non-finite);
    ``result``: a code above; ``stats``: a dict of diagnostics (``n_steps`` always).
    """

    value: Any
    f: Any
    result: Any
    stats: dict
