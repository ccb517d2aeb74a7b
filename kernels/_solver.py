"""The solver interface and the one driver loop every solver runs in.

As in optimistix (``AbstractIterativeSolver``), a solver is a frozen ``equinox.Module`` of
hyperparameters with four pure methods, and the loop lives in one place:

- ``init(fn, y0, args) -> state``: everything the iteration carries (may already mark a
  non-finite start as finished);
- ``step(fn, y, args, state) -> (y, state)``: one iteration;
- ``terminate(fn, y, args, state) -> (done, result)``: whether to stop, and with which code
  from ``_results`` (checked after ``init`` and after every step);
- ``postprocess(fn, y, args, state, result) -> Solution``: the final point, objective,
  result and stats.

``fn`` is whatever the solver needs to evaluate (an ``Objective`` for the minimisers). The
driver runs one member; ``vmap`` it for many starts: JAX turns a batched ``while_loop`` into
"run while any member is active" and freezes finished members with ``select``, which is
exactly the lock-step semantics the multi-start pipeline relies on.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from . import _results as R


class AbstractSolver(eqx.Module):
    """Base of every solver: ``init``/``step``/``terminate``/``postprocess`` (see module doc)."""

    @abc.abstractmethod
    def init(self, fn, y0, args):
        ...

    @abc.abstractmethod
    def step(self, fn, y, args, state):
        ...

    @abc.abstractmethod
    def terminate(self, fn, y, args, state):
        ...

    @abc.abstractmethod
    def postprocess(self, fn, y, args, state, result, n_steps) -> R.Solution:
        ...


def iterate(solver: AbstractSolver, fn, y0, args, max_steps: int) -> R.Solution:
    """Run ``solver`` on one member from ``y0`` for at most ``max_steps`` steps.

    A member still going at the cap ends with ``MAX_STEPS``; otherwise with the code its
    ``terminate`` gave. ``max_steps = 0`` returns the start as evaluated by ``init``.
    """
    state = solver.init(fn, y0, args)
    done, result = solver.terminate(fn, y0, args, state)

    def cond(carry):
        it, _, _, done, _ = carry
        return (it < max_steps) & ~done

    def body(carry):
        it, y, st, _, _ = carry
        y, st = solver.step(fn, y, args, st)
        done, result = solver.terminate(fn, y, args, st)
        return it + 1, y, st, done, result

    init = (jnp.zeros((), jnp.int32), y0, state, done, jnp.asarray(result, jnp.int32))
    n, y, state, done, result = jax.lax.while_loop(cond, body, init)
    result = jnp.where(done, result, R.MAX_STEPS).astype(jnp.int32)
    return solver.postprocess(fn, y, args, state, result, n)


def iterate_batch(solver: AbstractSolver, fn, y0, args, max_steps: int) -> R.Solution:
    """``iterate`` from every row of ``y0`` (shape ``(B, ...)``), sharing ``args``."""
    return jax.vmap(lambda y: iterate(solver, fn, y, args, max_steps))(y0)
