"""``Allocation``: the one result type of every allocation (compute-optimal and constrained).

Arrays have shape ``(budgets,)``, or ``(draws, budgets)`` when solved over parameter draws;
``quantiles()`` then summarises each budget over the draws whose solve converged. Status
codes are the shared result vocabulary (``kernels.results``); names are built on demand
(for millions of problems the string array costs more than the solve's tail).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._errors import OptionError
from .kernels import results as R


@dataclass(frozen=True)
class Allocation:
    """Optimal variables ``x`` for each budget in ``batch`` (and each parameter draw).

    ``objective``: the minimised objective at the solution; ``violation`` and
    ``inequalities``: constraint diagnostics (constrained problems); ``extra``: inputs held
    fixed; ``labels``: column names used by ``to_frame``/``quantiles`` (compute-optimal
    results call ``N`` ``N_opt`` and the objective ``loss``).
    """

    x: dict
    objective: np.ndarray
    status_code: np.ndarray
    batch: dict = field(default_factory=dict)
    violation: np.ndarray | None = None
    inequalities: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    @property
    def status(self) -> np.ndarray:
        """Status names (converged / max_iter / nonfinite / at_bound / infeasible)."""
        return R.name_of(self.status_code)

    @property
    def N(self) -> np.ndarray:
        return self.x["N"]

    @property
    def D(self) -> np.ndarray:
        return self.x["D"]

    @property
    def C(self) -> np.ndarray:
        return self.batch["C"]

    @property
    def loss(self) -> np.ndarray:
        return self.objective

    @property
    def tokens_per_param(self) -> np.ndarray:
        return self.D / self.N

    def _columns(self):
        """(label, array) for every reported quantity, in table order."""
        cols = [(self.labels.get(k, k), np.asarray(v)) for k, v in self.x.items()]
        if "N" in self.x and "D" in self.x:
            cols.append(("tokens_per_param", self.tokens_per_param))
        cols.append((self.labels.get("objective", "objective"), np.asarray(self.objective)))
        return cols

    def to_frame(self):
        """One row per budget (point allocations)."""
        import pandas as pd

        if np.ndim(self.objective) != 1:
            raise OptionError("to_frame() is for point allocations; use quantiles() for draws")
        d = {k: np.asarray(v) for k, v in self.batch.items()}
        d.update({k: np.ravel(v) for k, v in self._columns()})
        if self.violation is not None:
            d["violation"] = np.ravel(self.violation)
        d["status"] = np.ravel(self.status)
        d.update({k: np.full(len(d["status"]), v) for k, v in self.extra.items()})
        return pd.DataFrame(d)

    def quantiles(self, q=(0.1, 0.5, 0.9)):
        """Per budget: quantiles of every variable, D/N and the objective over the draws whose
        solve converged (``n_draws`` says how many)."""
        import pandas as pd

        if np.ndim(self.objective) != 2:
            raise OptionError("quantiles() needs an allocation over parameter draws")
        cols = self._columns()
        rows = []
        for j in range(self.objective.shape[1]):
            ok = self.status_code[:, j] == R.CONVERGED
            row = {k: float(np.asarray(v)[j]) for k, v in self.batch.items()}
            row["n_draws"] = int(ok.sum())
            for name, arr in cols:
                for qq in q:
                    row[f"{name}_q{qq:g}"] = float(np.quantile(arr[ok, j], qq)) if ok.any() else np.nan
            rows.append(row)
        return pd.DataFrame(rows)
