"""isoFLOP analysis (Approach 2): per-budget minima, N*(C) = k C^a with intervals, design bias."""
import jaxlaws as jl

runs = jl.example_data()["runs"]
res = jl.isoflop(runs, budget="C", size="N", loss="loss", n=1000, seed=0, target=1e24, approach3=True)
print(res.budgets)  # one row per budget: its minimum, status and whether it is used
print("a =", res.a)  # estimate and interval (bootstrap through both stages)
print(res.comparison())  # Approach 2 beside Approach 3 when computed (approach3=True)
