"""Compute-optimal allocation with bands, and a constrained allocation (MoE under a memory cap)."""
import jaxlaws as jl

runs = jl.example_data()["runs"]
fit = jl.fit("chinchilla", runs)
boot = jl.bootstrap("chinchilla", runs, n=1000, seed=0, full_fit=fit)

point = jl.compute_optimal("chinchilla", fit, [1e22, 1e24])
print(point.to_frame())
print(jl.compute_optimal("chinchilla", boot, [1e22, 1e24]).quantiles((0.1, 0.5, 0.9)))

# How many experts and how large a model for 1e21 FLOPs with at most 2e9 parameters in memory?
moe = jl.moe_problem()
law = jl.laws.joint_moe
res = jl.allocate(moe, law.coefficients["ludziejewski2025"].values, {"C": [1e21], "M": [2e9]})
print(res.to_frame())
