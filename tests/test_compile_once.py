"""Everything that changes between solves of one problem is data: one compiled program serves it.

Counted two ways: the solvers built per problem (``compiled_solve``'s cache of jitted
functions) and the programs JAX lowers (its monitoring event for jaxpr -> MLIR lowering,
which fires on every jit cache miss, whatever the persistent compilation cache holds).
"""

import contextlib

import jax
import numpy as np
import pytest

import jaxlaws as jl
from jaxlaws import _prepare

GRID = jl.grid(E=[1.0, 2.0], A=[100.0, 1000.0], B=[100.0, 3000.0], alpha=[0.2, 0.5], beta=[0.2, 0.5])


def _design(seed=0, n=48):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e11), n))
    y = (1.8 + 400 / N**0.34 + 2000 / D**0.37) * np.exp(0.01 * rng.standard_normal(n))
    return {"N": N, "D": D, "loss": y}


@contextlib.contextmanager
def count_lowerings():
    """Yields a list that collects one entry per program JAX lowers (a compilation) meanwhile."""
    seen, active = [], [True]

    def listener(event, duration, **kw):
        if active[0] and event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            seen.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        active[0] = False


def _fresh_law():
    # a law object of its own, so its problem (and solver) is new to this process
    return jl.power_sum("chinchilla_copy", [("A", "alpha", "N"), ("B", "beta", "D")])


def test_ablate_over_six_deltas_builds_one_solver_and_new_deltas_compile_nothing():
    data, law = _design(), _fresh_law()
    deltas = [5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 8e-3]
    n0 = _prepare.compiled_solve.cache_info().currsize
    t1 = jl.ablate(law, data, {"delta": deltas, "starts": {"g": GRID}})
    assert _prepare.compiled_solve.cache_info().currsize == n0 + 1  # one batched solver for all six
    with count_lowerings() as lowered:
        t2 = jl.ablate(law, data, {"delta": [6e-4, 1.5e-3, 2.5e-3, 3.5e-3, 6e-3, 9e-3], "starts": {"g": GRID}})
    assert lowered == [], f"new deltas lowered {len(lowered)} programs"
    assert set(t1.status) == set(t2.status) == {"converged"}
    # six different deltas really gave six different fits
    assert len(np.unique(np.round(t1.alpha.to_numpy(), 10))) == 6
    # each row equals a plain fit with that delta (the same program, the same numbers)
    f = jl.fit(law, data, loss=jl.huber(5e-3), starts=GRID)
    row = t1[t1.delta == 5e-3].iloc[0]
    assert abs(row.alpha - f.params["alpha"]) < 1e-7
    assert abs(row.objective - f.objective) <= 1e-9 * f.objective


def test_new_delta_new_weights_and_new_resamples_compile_nothing():
    data, law = _design(1), _fresh_law()
    jl.fit(law, data, loss=jl.huber(1e-3), starts=GRID)
    b1 = jl.bootstrap(law, data, n=40, seed=0, starts=GRID, chunk_size=40)
    with count_lowerings() as lowered:
        f2 = jl.fit(law, data, loss=jl.huber(3e-2), starts=GRID)
        f3 = jl.fit(law, data, starts=GRID, weights=np.r_[np.zeros(5), np.ones(43)])
        b2 = jl.bootstrap(law, data, n=40, seed=1, starts=GRID, chunk_size=40)
    assert lowered == [], f"lowered {len(lowered)} programs"
    assert f2.converged and f3.converged and f2.params["alpha"] != f3.params["alpha"]
    assert not np.allclose(b1.draws, b2.draws)  # new weights, new answers, same program


def test_tables_of_other_sizes_in_one_bucket_compile_nothing():
    law = _fresh_law()
    full = _design(2, n=60)
    jl.fit(law, {k: v[:57] for k, v in full.items()}, starts=GRID).report()  # 57 rows: the 60-row bucket
    with count_lowerings() as lowered:
        f58 = jl.fit(law, {k: v[:58] for k, v in full.items()}, starts=GRID)
        f60 = jl.fit(law, full, starts=GRID)
        f58.report(), f60.report()  # the report's standard errors too (as the CLI prints them)
    assert lowered == [], f"lowered {len(lowered)} programs"
    assert f58.n_points == 58 and f60.n_points == 60
    # padding changes nothing: the 58-row fit equals a fit with the two extra rows weighted 0
    f58w = jl.fit(law, full, starts=GRID, weights=np.r_[np.ones(58), 0.0, 0.0])
    assert abs(f58.objective - f58w.objective) <= 1e-12 * f58.objective
    assert abs(f58.params["alpha"] - f58w.params["alpha"]) < 1e-9


@pytest.mark.e2e  # heavy (10-18 s): CI runs it with the e2e set; the default run stays under 5 minutes
def test_a_24_specification_ablation_builds_two_solvers_and_squared_rows_equal_plain_fits():
    """Huber (two deltas) and squared, log and raw residuals, two drop and two cutoff choices:
    24 specifications, one solver per residual space (squared is Huber with delta = inf, data
    of the same program); each squared specification equals a plain squared-loss fit."""
    data, law = _design(1), _fresh_law()
    C = 6 * data["N"] * data["D"]
    choices = {"loss": ["huber", "squared"], "delta": [1e-3, 1e-2], "residual": ["log", "raw"],
               "drop_top": [0, 3], "max_compute": [None, float(np.quantile(C, 0.8))], "starts": {"g": GRID}}
    n0 = _prepare.compiled_solve.cache_info().currsize
    tab = jl.ablate(law, data, choices)  # max_compute cuts on 6ND
    assert len(tab) == 24
    assert _prepare.compiled_solve.cache_info().currsize == n0 + 2
    sq = tab[(tab["loss"] == "squared") & (tab["drop_top"] == 0) & tab["max_compute"].isna()]
    for res in ("log",):  # (raw: the same code path; one plain fit keeps the test short)
        row = sq[sq.residual == res].iloc[0]
        ref = jl.fit(law, data, loss="squared", residual=res, starts=GRID)
        for k in ("E", "A", "B", "alpha", "beta"):
            assert np.isclose(row[k], ref.params[k], rtol=1e-7), (res, k, row[k], ref.params[k])
        assert np.isclose(row["objective"], ref.objective, rtol=1e-9)


def test_fast_compile_uses_the_classic_cpu_emitters_only_where_jaxlib_has_the_flag(monkeypatch):
    import os

    from jaxlaws import _cli, _xla_flags

    v = _xla_flags._jaxlib_version()
    known = v is not None and _xla_flags.KNOWN[0] <= v < _xla_flags.KNOWN[1]
    env = {"XLA_FLAGS": "--xla_backend_optimization_level=0"}
    assert _xla_flags.classic_emitters(env) is known
    assert ("--xla_cpu_use_fusion_emitters=false" in env["XLA_FLAGS"]) is known
    assert env["XLA_FLAGS"].startswith("--xla_backend_optimization_level=0")  # the user's flags stay
    # the user's own setting of the flag wins
    env = {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    assert _xla_flags.classic_emitters(env) is False and env == {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    # XLA aborts on a flag it does not know: an unknown or later jaxlib gets nothing
    for version in (None, (0, 6), (0, 11), (1, 0)):
        monkeypatch.setattr(_xla_flags, "_jaxlib_version", lambda version=version: version)
        env = {}
        assert _xla_flags.classic_emitters(env) is False and env == {}
    # the CLI asks for it only when JAXLAWS_FAST_COMPILE=1 (in this process XLA has read its
    # flags already, so this checks only what main() asks for)
    monkeypatch.setattr(_xla_flags, "_jaxlib_version", lambda: _xla_flags.KNOWN[0])
    for opt_in, expected in (("0", "--xla_backend_optimization_level=0"),
                             ("1", "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false")):
        monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
        monkeypatch.setenv("JAXLAWS_FAST_COMPILE", opt_in)
        assert _cli.main(["laws"]) == 0
        assert os.environ["XLA_FLAGS"] == expected
