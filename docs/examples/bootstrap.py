"""Bootstrap a fit: intervals for parameters and derived quantities, bands for new runs."""
import pandas as pd

import jaxlaws as jl

runs = jl.example_data()["runs"]
boot = jl.bootstrap("chinchilla", runs, n=2000, seed=0)  # one compiled call per chunk of resamples
print(boot.exclusion_summary())
print(boot.summary(derived={"a": ("a", {}), "D/N at 1e24": ("tokens_per_param", {"C": 1e24})}))
print(boot.interval("N_opt(C=1e24)", level=0.8))  # a target by name

bigger = pd.DataFrame({"N": [7e9, 7e10], "D": [1.4e11, 1.4e12]})
print(boot.predict(bigger, kind="new-run", level=0.8))  # where a new training run will land

# Resample whole model sizes (cluster bootstrap): runs of one size share their tuning
by_size = jl.bootstrap("chinchilla", runs, n=1000, seed=0, groups=runs.N)
print(by_size.interval("alpha"))
