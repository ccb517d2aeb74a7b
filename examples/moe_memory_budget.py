"""How many experts, how large an active model and how many tokens, under a memory cap?

    python examples/moe_memory_budget.py [--quick]

Uses the Joint MoE law (Ludziejewski et al. 2025) with the paper's own coefficients (App. B
Table 3, verified by reproducing its Tables 1 and 4; see `jaxlaws laws joint_moe`). Total
parameters are modelled as N_active (1/3 + 2/3 E) (top-1 routing, 2/3 of the weights in the
experts); compute is 6 N_active D. Until 2026-12 this example used a secondary copy of the
coefficients with the signs of delta and omega flipped, which made MoE look worse than dense.

1. The allocation at the published coefficients for several memory caps.
2. The price of memory: d(optimal log loss)/d(log cap) by implicit differentiation through
   the constrained optimum, checked against a finite difference of two re-solves.

For bands over a fit's uncertainty, pass its bootstrap: `jl.allocate(prob, fit.params, batch,
draws=boot)` re-solves every cap under every draw in one call (`.quantiles()` per cap).
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxlaws as jl

# These lines compute with JAX directly (law functions, jit/vmap/grad of fits): they
# need float64, which jaxlaws enables only inside its own entry points.
jax.config.update("jax_enable_x64", True)

law = jl.laws.joint_moe
p = law.coefficient_set("ludziejewski2025")
prob = jl.moe_problem(law)
C = 1e21
caps = [5e8, 1e9, 2e9, 5e9, 2e10]
print(f"compute budget C = {C:g} FLOPs")
print(f"{'memory cap':>12} {'experts':>8} {'N_active':>10} {'D':>10} {'total':>10} {'loss':>8} {'status':>10}")
batch = {"C": [C] * len(caps), "M": caps}
r = jl.allocate(prob, p, batch)
for j, M in enumerate(caps):
    N, D, E = r.x["N"][j], r.x["D"][j], r.x["E"][j]
    print(f"{M:>12.3g} {E:>8.0f} {N:>10.3g} {D:>10.3g} {jl.total_params(N, E):>10.3g} "
          f"{float(np.exp(r.objective[j])):>8.4f} {r.status[j]:>10}")
print("\nA binding memory cap shows up as total == cap; the expert count is an integer, chosen among the")
print("floor and ceiling of the continuous optimum.")

# -- 2. the shadow price of memory ----------------------------------------------------------


@jax.jit
def log_loss(log_m):
    return jl.solve_allocation(prob, {**p, "C": C, "M": jnp.exp(log_m)})["objective"]


lm = np.log(2e9)
price = float(jax.grad(log_loss)(lm))
h = 1e-4
fd = (float(log_loss(lm + h)) - float(log_loss(lm - h))) / (2 * h)
print(f"\nat a 2e9 cap: d log(loss) / d log(cap) = {price:.6g} (implicit), {fd:.6g} (finite difference)")
print("i.e. 10% more memory lowers the optimal loss by about "
      f"{100 * (1 - 1.1 ** price):.2f}% at this budget")
