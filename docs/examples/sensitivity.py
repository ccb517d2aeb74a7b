"""How much the conclusions lean on single runs and on fitting choices."""
import jaxlaws as jl

runs = jl.example_data()["runs"]
fit = jl.fit("chinchilla", runs)
infl = jl.influence(fit, derived={"a": ("a", {})})  # each run's effect, without refitting
print(infl.table().sort_values("d_a", key=abs, ascending=False).head(5))

table = jl.ablate("chinchilla", runs, {"loss": ["huber", "squared"], "drop_top": [0, 5]},
                  derived={"D/N": ("tokens_per_param", {"C": 5.88e23})})
print(table[["loss", "drop_top", "alpha", "beta", "D/N", "status"]])

ext = jl.rolling_extrapolation(["chinchilla", "kaplan"], runs, cutoffs=[1e20, 3e20])
print(ext.summary)
