"""jaxlaws' batched numerical core: losses, objectives and solvers on plain arrays.

Nothing here knows about laws, parameter names, pandas or files; the ``jaxlaws`` package
builds on these functions, never the reverse. Installed as ``jaxlaws.kernels`` (the
``jaxlaws/kernels`` entry is a link to this top-level folder).

The pieces:
- ``results``: the one result vocabulary (``CONVERGED``, ``MAX_STEPS``, ``NONFINITE``,
  ``PRUNED_*``, ``STALLED``, ``AT_BOUND``, ``INFEASIBLE``, ``DEGENERATE``) and ``Solution``;
- losses ``rho(r, lp)`` with their parameters as data (``LOSSES``, ``derivatives``);
- objectives ``Objective(value, vgh)`` on ``args = (X, y, w, lp)`` (``make_objective``,
  the analytic ``power_sum_objective``);
- solvers implementing ``AbstractSolver`` (``init/step/terminate/postprocess``):
  ``DampedNewton``, ``BFGS``, ``Bracketed1D``, ``AugmentedLagrangian``; one driver
  ``iterate``; ``multistart`` wraps any minimiser;
- ``profile``: isoFLOP profile minima (polynomial, Akima), the power law through them, and
  the loss envelope E + A C^-alpha by variable projection;
- ``design``: which candidate runs most reduce a target's variance per unit cost (greedy,
  rank-one covariance updates).
"""

from . import _results as results  # noqa: F401  (the result vocabulary, as a namespace)
from . import _profile as profile  # noqa: F401  (isoFLOP profiles and their power law)
from . import _design as design  # noqa: F401  (greedy variance-reduction experiment design)
from ._auglag import AugmentedLagrangian as AugmentedLagrangian
from ._bfgs import BFGS as BFGS
from ._linalg import cholesky_solve as cholesky_solve
from ._linalg import modified_cholesky_solve as modified_cholesky_solve
from ._linalg import pivoted_solve as pivoted_solve
from ._losses import LOSSES as LOSSES
from ._losses import LossKind as LossKind
from ._losses import derivatives as derivatives
from ._lse import lse as lse
from ._multistart import MultiStartResult as MultiStartResult
from ._multistart import multistart as multistart
from ._multistart import screen_rows as screen_rows
from ._multistart import strata_groups as strata_groups
from ._multistart import stratified_key as stratified_key
from ._multistart import stratified_top_k as stratified_top_k
from ._multistart import stratified_top_k_rows as stratified_top_k_rows
from ._multistart import weighted_objectives as weighted_objectives
from ._multistart import select_best as select_best
from ._newton import DampedNewton as DampedNewton
from ._objective import Objective as Objective
from ._objective import make_objective as make_objective
from ._objective import row_blocked as row_blocked
from ._objective import weighted_sum as weighted_sum
from ._power_sum import power_sum_objective as power_sum_objective
from ._results import Solution as Solution
from ._scalar import Bracketed1D as Bracketed1D
from ._scalar import minimize_scalar as minimize_scalar
from ._solver import AbstractSolver as AbstractSolver
from ._solver import iterate as iterate
from ._solver import iterate_batch as iterate_batch

SOLVERS = {"newton": DampedNewton, "bfgs": BFGS}
"""Minimisers selectable by name (``Strategy(solver=...)``, CLI ``--solver``)."""
