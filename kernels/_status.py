"""Integer status codes shared by the solvers (plain ints, so they travel as array data)."""

CONVERGED = 0  # Newton decrement below tolerance: a (local) minimum to working precision
MAX_ITER = 1  # iteration cap reached while still improving
NONFINITE = 2  # objective, gradient or Hessian was nan/inf at the start or along the way
PRUNED_SCREEN = 3  # never optimised: its starting objective ranked outside the screened set
PRUNED_HALVING = 4  # optimised for a few iterations, then ranked outside the kept set
STALLED = 5  # no step reduced the objective for `patience` iterations, decrement not small

NAMES = {
    CONVERGED: "converged",
    MAX_ITER: "max_iter",
    NONFINITE: "nonfinite",
    PRUNED_SCREEN: "pruned_screen",
    PRUNED_HALVING: "pruned_halving",
    STALLED: "stalled",
}
