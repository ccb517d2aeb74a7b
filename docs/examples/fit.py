"""Fit a law, read its report, follow a paper's recipe, fit your own law."""
import jaxlaws as jl

runs = jl.example_data()["runs"]  # the project's synthetic isoFLOP runs: columns N, D, C, loss

fit = jl.fit("chinchilla", runs)  # Huber(1e-3) on log loss, Hoffmann et al.'s 4500-start grid
print(fit.report())  # estimates, sandwich SEs and intervals, n, residual scale, AIC/BIC
print(fit.status, fit.counts)  # every start accounted for

# A published recipe in one argument: loss, residual space, starts, bounds, filters, units
besiroglu = jl.fit("chinchilla", runs, recipe="besiroglu2024")
print(besiroglu.objective_description)


@jl.law(inputs=("N", "D"), params={"E": jl.positive(), "A": jl.positive(), "B": jl.positive(),
                                   "alpha": jl.positive(), "beta": jl.positive()})
def my_law(p, N, D):
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


mine = jl.fit(my_law, runs, starts=jl.grid(E=[1, 2], A=[1e2, 1e4], B=[1e2, 1e4], alpha=[0.2, 0.5], beta=[0.2, 0.5]))
assert abs(mine.params["alpha"] - fit.params["alpha"]) < 1e-4  # the same optimum
print(mine.summary())
