"""Benchmark: MoE allocation under a memory cap, over parameter draws, against scipy SLSQP.

Problem (jaxlaws.moe_problem with the Joint MoE law): minimise log L(N_active, D, E) subject
to 6 N D = C and N (1/3 + 2/3 E) <= M, E an integer in [1, 256]. jaxlaws solves
2,000 parameter draws x 8 (C, M) budgets = 16,000 problems in one compiled call (draws
sharded over both cores; warm median of 3).

The scipy baseline follows the same recipe per problem: SLSQP on the continuous relaxation in
log variables (3 starts, as jaxlaws uses), then SLSQP again with E fixed at the floor and at
the ceiling of the relaxed optimum; the better feasible one is kept. It is timed on 40
problems and extrapolated. The two are also compared on those 40 problems: jaxlaws'
objective minus scipy's (negative = jaxlaws found a lower loss) and whether the chosen
expert counts agree.

Usage: python bench/bench_constrained.py   (2 host devices unless XLA_FLAGS is set)
"""

import os
import platform
import statistics
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import numpy as np

from _common import peak_rss_mb, write_results

import jaxlaws as jl

law = jl.laws.joint_moe
p = law.coefficient_set("ludziejewski2025")
prob = jl.moe_problem(law)
rng = np.random.default_rng(0)
B = 2000
draws = {k: v * (1 + 0.02 * rng.standard_normal(B)) for k, v in p.items()}
budgets = {"C": np.repeat([1e20, 1e21, 1e22, 1e23], 2), "M": np.tile([1e9, 1e10], 4) * np.repeat([0.5, 1, 4, 16], 2)}

t0 = time.perf_counter()
r = jl.allocate(prob, p, budgets, draws=draws)
first = time.perf_counter() - t0
times = []
for _ in range(3):
    t0 = time.perf_counter()
    r = jl.allocate(prob, p, budgets, draws=draws)
    times.append(time.perf_counter() - t0)
warm = statistics.median(times)
n_prob = r.objective.size
n_conv = int((r.status == "converged").sum())

import scipy.optimize  # noqa: E402


def scipy_one(q, C, M):
    lo = np.log([1e6, 1e8, 1.0])
    hi = np.log([1e14, 1e16, 256.0])

    def f(u):
        return float(np.log(law(q, np.exp(u[0]), np.exp(u[1]), np.exp(u[2]))))

    cons = [{"type": "eq", "fun": lambda u: np.log(6.0) + u[0] + u[1] - np.log(C)},
            {"type": "ineq", "fun": lambda u: np.log(M) - u[0] - np.log(1 / 3 + 2 / 3 * np.exp(u[2]))}]

    def solve(bounds, x0s):
        best = None
        for x0 in x0s:
            s = scipy.optimize.minimize(f, x0, method="SLSQP", bounds=bounds, constraints=cons,
                                        options={"ftol": 1e-14, "maxiter": 500})
            viol = max(abs(cons[0]["fun"](s.x)), max(0.0, -cons[1]["fun"](s.x)))
            if viol < 1e-8 and (best is None or s.fun < best[0]):
                best = (float(s.fun), s.x)
        return best

    x0s = [lo + (hi - lo) * t for t in (0.12, 0.5, 0.88)]
    relaxed = solve(list(zip(lo, hi)), x0s)
    if relaxed is None:
        return None
    e = np.exp(relaxed[1][2])
    cands = []
    for E in {max(1.0, np.floor(e)), min(256.0, np.ceil(e))}:
        b = list(zip(lo, hi))
        b[2] = (np.log(E), np.log(E))
        s = solve(b, [np.array([x[0], x[1], np.log(E)]) for x in x0s])
        if s is not None:
            cands.append((s[0], E))
    return min(cands) if cands else None


n_ref = 40
diffs, agree, t_ref = [], 0, 0.0
for i in range(n_ref):
    d, j = i % B, i % len(budgets["C"])
    q = {k: v[d] for k, v in draws.items()}
    t0 = time.perf_counter()
    ref = scipy_one(q, budgets["C"][j], budgets["M"][j])
    t_ref += time.perf_counter() - t0
    if ref is not None and r.status[d, j] == "converged":
        diffs.append(float(r.objective[d, j]) - ref[0])
        agree += int(r.x["E"][d, j] == ref[1])
per = t_ref / n_ref
print(f"jaxlaws: {B} draws x {len(budgets['C'])} budgets = {n_prob:,} MoE problems: {warm:.2f} s warm "
      f"(first call {first:.1f} s), {n_conv:,} converged; peak RSS {peak_rss_mb():.0f} MB")
print(f"scipy SLSQP (same recipe): {per * 1e3:.1f} ms per problem -> {per * n_prob:.0f} s for all "
      f"({per * n_prob / warm:.0f}x)")
print(f"agreement on {len(diffs)} problems: objective jaxlaws - scipy in [{min(diffs):.2e}, {max(diffs):.2e}], "
      f"same expert count in {agree}")
out = write_results("constrained", {
    "machine": platform.platform(), "jaxlaws_warm_s": warm, "jaxlaws_first_s": first, "problems": n_prob,
    "converged": n_conv, "scipy_per_problem_s": per, "compared": len(diffs), "objective_diff_min": min(diffs),
    "objective_diff_max": max(diffs), "same_experts": agree, "peak_rss_mb": peak_rss_mb(),
})
print(f"wrote {out}")
