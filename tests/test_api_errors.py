"""Every public function answers bad arguments with the project's own error family
(``jaxlaws.JaxlawsError``: OptionError, DataError, LawError, FitError), naming the argument,
never a TypeError/AttributeError/ValueError from numpy, pandas or JAX."""

import numpy as np
import pytest

import jaxlaws as jl
from jaxlaws._demo_data import demo_data
from jaxlaws._errors import JaxlawsError

D = demo_data()

CASES = {
    "fit unknown law": (lambda: jl.fit("nope", D), "nope"),
    "fit data None": (lambda: jl.fit("chinchilla", None), "data"),
    "fit data a string": (lambda: jl.fit("chinchilla", "runs.csv"), "data"),
    "fit columns a list": (lambda: jl.fit("chinchilla", D, columns=["N", "D"]), "columns="),
    "fit y not a string": (lambda: jl.fit("chinchilla", D, y=3), "y"),
    "fit loss unknown": (lambda: jl.fit("chinchilla", D, loss="l7"), "l7"),
    "fit residual unknown": (lambda: jl.fit("chinchilla", D, residual="exp"), "exp"),
    "fit weights wrong length": (lambda: jl.fit("chinchilla", D, weights=np.ones(3)), "weights"),
    "fit where not a string": (lambda: jl.fit("chinchilla", D, where=5), "where"),
    "fit fixed unknown": (lambda: jl.fit("chinchilla", D, fixed={"zeta": 1.0}), "zeta"),
    "fit fixed text": (lambda: jl.fit("chinchilla", D, fixed={"alpha": "x"}), "alpha"),
    "fit bounds malformed": (lambda: jl.fit("chinchilla", D, bounds={"A": 3}), "bounds"),
    "bootstrap n text": (lambda: jl.bootstrap("chinchilla", D, n="many"), "n"),
    "bootstrap chunk zero": (lambda: jl.bootstrap("chinchilla", D, n=10, chunk_size=0), "chunk_size"),
    "bootstrap max_iter text": (lambda: jl.bootstrap("chinchilla", D, n=10, max_iter="x"), "max_iter"),
    "compute_optimal C text": (lambda: jl.compute_optimal("chinchilla", "hoffmann2022", "abc"), "C="),
    "compute_optimal params list": (lambda: jl.compute_optimal("chinchilla", [1, 2], 1e22), "params"),
    "compute_optimal n_bounds text": (lambda: jl.compute_optimal("chinchilla", "hoffmann2022", 1e22,
                                                                n_bounds=("a", "b")), "n_bounds"),
    "isoflop n text": (lambda: jl.isoflop(D, n="x"), "n="),
    "isoflop missing column": (lambda: jl.isoflop(D, budget="budget"), "budget"),
    "isoflop noise text": (lambda: jl.isoflop(D, noise="x"), "noise"),
    "grid axis text": (lambda: jl.fit("chinchilla", D, starts=jl.grid(alpha="x")), "alpha"),
    "parse_loss garbage": (lambda: jl.parse_loss("huber:abc"), "huber"),
    "huber negative": (lambda: jl.huber(-1.0), "delta"),
    "bounded reversed": (lambda: jl.bounded(2.0, 1.0), "lower < upper"),
    "resample_weights method": (lambda: jl.resample_weights(5, "sideways"), "sideways"),
    "load missing": (lambda: jl.load("/nonexistent.json"), "does not exist"),
    "score params text": (lambda: jl.score("chinchilla", D, {"E": "x", "A": 1, "B": 1, "alpha": 1, "beta": 1}), "E"),
    "total_params text": (lambda: jl.total_params("big", 8), "N='big'"),
    "extrapolate cutoff text": (lambda: jl.extrapolate("chinchilla", D, cutoff="x"), "cutoff"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_public_functions_raise_the_projects_own_errors(name):
    fn, frag = CASES[name]
    with pytest.raises(JaxlawsError) as e:
        fn()
    assert frag in str(e.value), str(e.value)
    assert "\n" not in str(e.value).strip()


def test_the_error_family_is_catchable_as_one():
    """One ``except jaxlaws.JaxlawsError`` catches every kind the library raises."""
    for cls in (jl.OptionError, jl.DataError, jl.LawError, jl.FitError):
        assert issubclass(cls, JaxlawsError)
