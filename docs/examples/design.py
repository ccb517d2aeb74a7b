"""Which runs to train next, and a decision under uncertainty."""
import jaxlaws as jl

runs = jl.example_data()["runs"]
fit = jl.fit("chinchilla", runs)
cand = jl.candidate_runs(fit, 1e21)  # (N, D) candidates within the budget
d = jl.design(fit, cand, "N_opt(C=1e24)", budget=1e21)
print(d.summary())

boot = jl.bootstrap("chinchilla", runs, n=1000, seed=0, full_fit=fit)
print(jl.decide("chinchilla", boot, [1e22, 1e24], objective="expected").to_frame())
