"""jaxlaws' batched numerical core: objectives and solvers on plain arrays.

Nothing here knows about laws, parameter names, pandas or files; the ``jaxlaws`` package
builds on these functions, never the reverse. Installed as ``jaxlaws.kernels``.
"""

from . import _status as status
from ._linalg import cholesky_solve as cholesky_solve
from ._linalg import modified_cholesky_solve as modified_cholesky_solve
from ._linalg import pivoted_solve as pivoted_solve
from ._losses import huber as huber
from ._losses import squared as squared
from ._losses import LOSSES as LOSSES
from ._lse import lse as lse
from ._multistart import MultiStartResult as MultiStartResult
from ._multistart import multistart as multistart
from ._newton import NewtonResult as NewtonResult
from ._newton import damped_newton as damped_newton
from ._objective import make_objective as make_objective
from ._power_sum import power_sum_objective as power_sum_objective
from ._scalar import ScalarResult as ScalarResult
from ._scalar import minimize_scalar as minimize_scalar

__all__ = [
    "status", "cholesky_solve", "modified_cholesky_solve", "pivoted_solve", "huber", "squared", "LOSSES",
    "lse", "MultiStartResult", "multistart", "NewtonResult", "damped_newton", "make_objective",
    "power_sum_objective", "ScalarResult", "minimize_scalar",
]
