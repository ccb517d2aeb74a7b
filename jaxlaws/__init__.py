"""jaxlaws: JAX-accelerated, differentiable fitting of empirical scaling laws.

Importing jaxlaws changes no JAX setting. Host-side entry points (``fit``, ``bootstrap``,
``ablate``, ``influence``, ``compute_optimal``, ``allocate``, ...) run in float64 inside a
scoped ``jax.enable_x64`` and return numpy results; the Chinchilla objective is ~1e-3 and
its optimum is defined to ~1e-12 relative, which float32 cannot certify. Array-level
functions that run inside your own ``jit`` (``fit_arrays``, ``solve_allocation``) follow
your ``jax_enable_x64`` and the dtypes you pass.
"""

from ._allocation import Allocation as Allocation
from ._allocate import compute_optimal as compute_optimal
from ._allocate import optimal_log_n as optimal_log_n
from ._constrained import AllocationProblem as AllocationProblem
from ._constrained import ConstrainedAllocation as ConstrainedAllocation
from ._constrained import allocate as allocate
from ._constrained import inference_problem as inference_problem
from ._constrained import moe_problem as moe_problem
from ._constrained import solve_allocation as solve_allocation
from ._constrained import total_params as total_params
from ._bootstrap import BootstrapResult as BootstrapResult
from ._bootstrap import Interval as Interval
from ._bootstrap import bootstrap as bootstrap
from ._constraints import bounded as bounded
from ._constraints import free as free
from ._constraints import positive as positive
from ._errors import CheckpointError as CheckpointError
from ._errors import ConvergenceWarning as ConvergenceWarning
from ._errors import DataError as DataError
from ._errors import FitError as FitError
from ._errors import JaxlawsError as JaxlawsError
from ._errors import LawError as LawError
from ._errors import OptionError as OptionError
from ._ablate import ablate as ablate
from ._diagnostics import diagnostics as diagnostics
from ._candidates import candidate_runs as candidate_runs
from ._candidates import isoflop_extension as isoflop_extension
from ._candidates import random_runs as random_runs
from ._decide import Decision as Decision
from ._demo_data import example_data as example_data
from ._saved import load as load
from ._saved import save as save
from ._decide import decide as decide
from ._decide import value_of_information as value_of_information
from ._design import Design as Design
from ._design import design as design
from ._design_sim import compare_designs as compare_designs
from ._information import effective_noise as effective_noise
from ._chain import ChainResult as ChainResult
from ._chain import chain as chain
from ._coverage import Calibration as Calibration
from ._coverage import calibrate as calibrate
from ._coverage import coverage as coverage
from ._extrapolate import RollingExtrapolation as RollingExtrapolation
from ._extrapolate import rolling_extrapolation as rolling_extrapolation
from ._prepare import Strategy as Strategy
from ._fit import fit as fit
from ._fit import fit_arrays as fit_arrays
from ._groups import GroupFit as GroupFit
from ._isoflop import IsoflopResult as IsoflopResult
from ._isoflop import isoflop as isoflop
from ._envelope import envelope as envelope
from ._law import FORM_STATUSES as FORM_STATUSES
from ._law import CoefficientSet as CoefficientSet
from ._law import Law as Law
from ._law import law as law
from ._law import power_sum as power_sum
from ._loss import Loss as Loss
from ._loss import absolute as absolute
from ._loss import asymmetric as asymmetric
from ._loss import custom as custom_loss  # noqa: F401  (jaxlaws.custom_loss(rho, values))
from ._loss import huber as huber
from ._loss import expectile as expectile
from ._loss import logcosh as logcosh
from ._loss import parse_loss as parse_loss
from ._loss import squared as squared
from ._problem import FitProblem as FitProblem
from ._recipe import Recipe as Recipe
from ._resample import resample_weights as resample_weights
from ._result import FitResult as FitResult
from ._sensitivity import Influence as Influence
from ._sensitivity import extrapolate as extrapolate
from ._sensitivity import influence as influence
from ._report import FitReport as FitReport
from ._report import fit_report as fit_report
from ._report import information_criteria as information_criteria
from ._sensitivity import score as score
from ._starts import grid as grid
from ._starts import random_starts as random_starts
from . import laws as laws

__version__ = "0.1.0"
