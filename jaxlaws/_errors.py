"""The library's own exception and warning types.

Every problem a user can cause (a missing column, a non-positive value under a log, an
invalid option) raises a ``JaxlawsError`` subclass whose message names the argument, column
or row at fault and says what to do. ``JaxlawsError`` subclasses ``ValueError`` so existing
``except ValueError`` code keeps working.
"""

from __future__ import annotations


class JaxlawsError(ValueError):
    """Base class for every error jaxlaws raises on purpose."""


class DataError(JaxlawsError):
    """The data (a frame, a dict of arrays, a file) cannot be used as given."""


class LawError(JaxlawsError):
    """A law definition, a law name or a parameter specification is invalid."""


class OptionError(JaxlawsError):
    """An option value (delta, number of resamples, a start grid, ...) is invalid."""


class FitError(JaxlawsError):
    """No start produced a finite objective, so there is no fit to return."""


class CheckpointError(JaxlawsError):
    """A checkpoint file is corrupt, partial, or belongs to a different run."""


class ConvergenceWarning(UserWarning):
    """A fit (or some resamples) did not converge; results are flagged, not hidden."""
