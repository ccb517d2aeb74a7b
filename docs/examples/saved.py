"""Save a fit and a bootstrap, load them back, and refuse to combine results of different data."""
import os
import tempfile

import jaxlaws as jl

runs = jl.example_data()["runs"]
fit = jl.fit("chinchilla", runs)
boot = jl.bootstrap("chinchilla", runs, n=500, seed=0, full_fit=fit)
folder = tempfile.mkdtemp()
jl.save(fit, os.path.join(folder, "fit.json"))
jl.save(boot, os.path.join(folder, "boot.json"))

again = jl.load(os.path.join(folder, "fit.json"))
assert again.params == fit.params  # bit for bit
print(jl.load(os.path.join(folder, "boot.json")).interval("alpha"))

smaller = jl.fit("chinchilla", runs.iloc[:80])
try:
    smaller.report(boot=boot)
except jl.OptionError as e:
    print("refused:", e)
