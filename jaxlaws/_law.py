"""Laws: pure JAX functions of named, constrained parameters and named inputs.

A ``Law`` wraps a plain function ``fn(params, *inputs) -> prediction`` where ``params`` is a
dict of natural parameter values. The wrapper records the parameter constraints (which define
the unconstrained coordinates the optimiser works in), the input names and domains, and the
metadata a published law carries (citation, coefficient sets, default start grid, derived
quantities). A law stays callable exactly like the function it wraps.

``PowerSumLaw`` is the numerically safe special case ``y = E + sum_k A_k x_k^(-alpha_k)``
(Chinchilla's form): its log-prediction is the log-sum-exp ``LSE(log A_k - alpha_k log x_k,
log E)``, evaluated directly from the log-coefficients, so start values such as ``A = e^25``
never overflow, and its fit coordinates are centred on the mean log input, which cuts the
Hessian's condition number ~1000x on the Chinchilla data.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import jax.numpy as jnp
import numpy as np

from ._constraints import Constraint, Free, Positive
from ._data import rows_text
from ._errors import DataError, LawError
from ._units import UNITS
from .kernels import lse

# "fraction": a share in [0, 1) such as a sparsity S, where (1 - S) is raised to a power.
INPUT_DOMAINS = ("positive", "real", "fraction")
# How sure we are of a law's functional form (the survey's tags): checked against the
# authors' released code or data; as stated in the abstract; from a secondary summary;
# from memory (verify before relying on it); a generic form; or written by the user.
FORM_STATUSES = ("verified", "abstract", "secondary", "unverified", "generic", "user")




@dataclass(frozen=True)
class CoefficientSet:
    """Published coefficient values with where they come from, how sure we are, and input units.

    ``status`` uses the tags of the project's law survey: ``"verified"`` (checked against the
    paper or the authors' released code or data, with a number the paper states reproduced),
    ``"abstract"``, ``"secondary"``, ``"unverified"``. ``units`` maps each input of the law to
    the unit the coefficients assume (one of ``UNITS``), e.g. ``{"N": "parameters", "D": "tokens"}``.
    ``recipe`` names the law's fitting recipe (``law.recipes``) that produced the values, if known.
    """

    values: Mapping[str, float]
    source: str
    status: str = "unverified"
    note: str = ""
    units: Mapping[str, str] = field(default_factory=dict)
    recipe: str = ""

    def __post_init__(self):
        bad = {k: u for k, u in self.units.items() if u not in UNITS}
        if bad:
            raise LawError(f"coefficient set units {bad} are not among {UNITS}")


class Law:
    """A scaling law: a pure function of named parameters and named inputs.

    **Arguments:**
    - ``fn``: ``fn(params, *inputs)``, with ``params`` a dict of natural values; pure JAX.
    - ``inputs``: input names in the order ``fn`` takes them, or a dict ``name -> domain``
      with domain ``"positive"`` (the default: counts, sizes, compute), ``"real"`` or
      ``"fraction"`` (in [0, 1), e.g. a sparsity).
    - ``params``: dict ``name -> constraint`` (``positive()``, ``bounded(lo, hi)``, ``free()``).
    - ``log_fn``: optional ``log_fn(params, *inputs) -> log prediction`` written to stay
      finite where ``log(fn(...))`` would over- or underflow.
    - ``starts``: the default start grid (``jaxlaws.grid(...)``) used when ``fit`` is given none.
    - ``citation``, ``coefficients``, ``derived``, ``output``: metadata shown by ``jaxlaws laws``.
    - ``constant_ok``: inputs that may be the same in every row without leaving a parameter
      undetermined (e.g. the pool size of a single-pool learning curve); other constant
      inputs are refused before fitting.
    - ``form_status``: how sure we are of the functional form, one of ``FORM_STATUSES``
      (``"user"`` for laws you write); ``source``: the primary source the form was checked
      against (or why it could not be).
    - ``recipes``: ``{name: Recipe}``, the published fitting recipes of this law (loss,
      residual space, starts, bounds, row selection, units; see ``jaxlaws.Recipe``);
      ``default_recipe`` names the one ``fit`` follows when given no loss or residual (laws
      whose papers fit by least squares default to it; otherwise log-Huber, delta 1e-3).
    - ``input_check``: optional ``check(X) -> (bad_rows_mask, message) | None`` over the
      validated input arrays (a dict of numpy arrays), for constraints that involve several
      inputs (e.g. at most ``max_epochs`` epochs, ``n / P``). ``message`` may name inputs as
      ``{n}``, ``{P}``: they are replaced by the user's column names.
    """

    def __init__(
        self,
        fn: Callable,
        *,
        inputs: Sequence[str] | Mapping[str, str],
        params: Mapping[str, Constraint],
        name: str | None = None,
        log_fn: Callable | None = None,
        starts=None,
        citation: str = "",
        coefficients: Mapping[str, CoefficientSet] | None = None,
        derived: Mapping[str, Callable] | None = None,
        output: str = "loss",
        description: str = "",
        example=None,
        input_check: Callable | None = None,
        form_status: str = "user",
        constant_ok: Sequence[str] = (),
        source: str = "",
        recipes: Mapping | None = None,
        default_recipe: str | None = None,
    ):
        if not callable(fn):
            raise LawError(f"law function must be callable, got {type(fn).__name__}")
        if isinstance(inputs, Mapping):
            domains = dict(inputs)
        else:
            if isinstance(inputs, str):
                inputs = (inputs,)
            domains = {str(k): "positive" for k in inputs}
        if not domains:
            raise LawError("a law needs at least one input name")
        for k, dom in domains.items():
            if dom not in INPUT_DOMAINS:
                raise LawError(f"input {k!r}: domain {dom!r} is not one of {INPUT_DOMAINS}")
        if not params:
            raise LawError("a law needs at least one parameter")
        for k, c in params.items():
            if not isinstance(c, Constraint):
                raise LawError(
                    f"parameter {k!r}: constraint must be jaxlaws.positive(), bounded(lo, hi) "
                    f"or free(), got {c!r}"
                )
        if form_status not in FORM_STATUSES:
            raise LawError(f"form_status {form_status!r} is not one of {FORM_STATUSES}")
        if input_check is not None and not callable(input_check):
            raise LawError(f"input_check must be callable, got {type(input_check).__name__}")
        bad = [k for k in constant_ok if k not in domains]
        if bad:
            raise LawError(f"constant_ok names {bad}, which are not inputs {list(domains)}")
        clash = set(domains) & set(params)
        if clash:
            raise LawError(f"names used both as input and parameter: {sorted(clash)}")
        self.fn = fn
        self.log_fn = log_fn
        self.name = name or getattr(fn, "__name__", "law")
        self.input_domains = domains
        self.inputs = tuple(domains)
        self.params = dict(params)
        self.param_names = tuple(params)
        self.starts = starts
        self.citation = citation
        self.coefficients = dict(coefficients or {})
        self.derived = dict(derived or {})
        self.output = output
        # (truth: dict, design: callable(seed) -> dict of input arrays): a plausible parameter
        # set and a realistic design, used by the recovery tests and the docs.
        self.example = example
        self.input_check = input_check
        self.form_status = form_status
        self.source = source
        self.constant_ok = tuple(constant_ok)
        self.recipes = dict(recipes or {})
        self.bounds = {}  # box bounds added by with_bounds (name -> (lo, hi)), for reports
        if default_recipe is not None and default_recipe not in self.recipes:
            raise LawError(f"default_recipe {default_recipe!r} is not among the recipes {list(self.recipes)}")
        self.default_recipe = default_recipe
        self.description = description or inspect.getdoc(fn) or ""
        self.__doc__ = self.description
        for set_name, cs in self.coefficients.items():
            missing = set(self.param_names) - set(cs.values)
            if missing:
                raise LawError(f"coefficient set {set_name!r} of {self.name} lacks {sorted(missing)}")
            if cs.recipe and cs.recipe not in self.recipes:
                raise LawError(f"coefficient set {set_name!r} of {self.name} names recipe {cs.recipe!r}, "
                               f"not among {list(self.recipes)}")
            extra_units = set(cs.units) - set(self.inputs)
            if extra_units:
                raise LawError(f"coefficient set {set_name!r} of {self.name} gives units for {sorted(extra_units)}, "
                               f"which are not inputs {list(self.inputs)}")

    # -- calling --------------------------------------------------------------------------
    def __call__(self, params, *args, **kwargs):
        """Evaluate the law: ``law(params, N, D)`` or ``law(params, N=..., D=...)``."""
        return self.fn(params, *args, **kwargs)

    def check_inputs(self, X: Mapping, columns: Mapping[str, str] | None = None):
        """Raise ``DataError`` naming columns and rows where ``X`` violates ``input_check``."""
        if self.input_check is None:
            return
        out = self.input_check({k: np.asarray(X[k]) for k in self.inputs})
        if out is None:
            return
        bad, message = out
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            cols = {k: repr((columns or {}).get(k, k)) for k in self.inputs}
            raise DataError(f"{self.name}: {message.format(**cols)} at rows {rows_text(bad)}")

    def __repr__(self):
        ps = ", ".join(f"{k}: {v!r}" for k, v in self.params.items())
        return f"Law({self.name}, inputs={self.inputs}, params={{{ps}}})"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    # -- coordinates ----------------------------------------------------------------------
    def constrain(self, theta) -> dict:
        """Unconstrained vector (last axis ordered as ``param_names``) to natural dict."""
        return {k: self.params[k].forward(theta[..., i]) for i, k in enumerate(self.param_names)}

    def unconstrain(self, values: Mapping[str, float]) -> np.ndarray:
        """Natural dict to unconstrained vector; raises naming any value out of domain."""
        missing = [k for k in self.param_names if k not in values]
        if missing:
            raise LawError(f"{self.name}: values for parameters {missing} are missing")
        out = []
        for k in self.param_names:
            v = np.asarray(values[k], dtype=float)
            if not np.all(self.params[k].contains(v)):
                raise LawError(f"{self.name}: value {values[k]!r} for {k!r} is outside {self.params[k]!r}")
            out.append(self.params[k].inverse(v))
        return np.stack(out, axis=-1)

    def coefficient_set(self, name: str | None = None) -> dict:
        """A published coefficient set as a dict of floats (the first one by default)."""
        if not self.coefficients:
            raise LawError(f"{self.name} ships no published coefficients")
        if name is None:
            name = next(iter(self.coefficients))
        if name not in self.coefficients:
            raise LawError(f"{self.name}: no coefficient set {name!r}; have {list(self.coefficients)}")
        return {k: float(v) for k, v in self.coefficients[name].values.items()}

    def with_bounds(self, bounds: Mapping[str, tuple]) -> "Law":
        """This law with box bounds on some parameters (``{"A": (1, inf), "alpha": (0, 2)}``).

        A recipe's bounds (some papers bound A, B >= 1 or box every parameter) become the
        parameters' constraints, so the optimiser works in unconstrained coordinates that
        cannot leave the box. The result is a plain ``Law`` (a power sum's centred
        coordinates assume unbounded log-coefficients); its default starts are the original
        starts clipped into the box. An optimum on a bound is reported as such by ``fit``.
        """
        from ._constraints import interval

        if not bounds:
            return self
        unknown = [k for k in bounds if k not in self.params]
        if unknown:
            raise LawError(f"bounds name {unknown}, which are not parameters of {self.name} {list(self.param_names)}")
        params = dict(self.params)
        for k, (lo, hi) in bounds.items():
            params[k] = interval(lo, hi)
        starts = None
        if self.starts is not None:
            from ._starts import clipped_starts

            starts = clipped_starts(self, self.starts, params)
        kw = {k: getattr(self, k) for k in ("citation", "coefficients", "derived", "output", "description", "example",
                                             "input_check", "form_status", "constant_ok", "source", "recipes",
                                             "default_recipe")}
        kw["coefficients"] = {}  # published values need not lie inside the user's box
        out = Law(self.fn, inputs=self.input_domains, params=params, name=self.name, log_fn=self.log_fn,
                  starts=starts, **kw)
        out.bounds = {**getattr(self, "bounds", {}), **{k: (float(lo), float(hi)) for k, (lo, hi) in bounds.items()}}
        return out

    def probe(self, X: Mapping, theta) -> None:
        """Run the law once, eagerly, on the first rows of ``X`` at unconstrained ``theta``: a law
        you wrote that raises or returns the wrong shape is reported here as a ``LawError``
        naming it, not as a traceback from inside the compiled solver."""
        m = min(4, len(next(iter(X.values()))))
        rows = [jnp.asarray(np.asarray(X[k])[:m]) for k in self.inputs]
        try:
            out = jnp.shape(self.log_predict(self.constrain(jnp.asarray(theta)), *rows))
        except Exception as e:  # the user's code: any exception, reported in one line
            raise LawError(f"law {self.name!r} failed when evaluated on the first {m} rows of the table: "
                           f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
        if out not in ((), (m,)):
            raise LawError(f"law {self.name!r} returned shape {out} for {m} rows: a law must return one value per "
                           f"row (shape ({m},)), computed element-wise from its inputs")

    def log_predict(self, params, *inputs):
        """``log`` of the prediction, through ``log_fn`` when the law has one."""
        if self.log_fn is not None:
            return self.log_fn(params, *inputs)
        return jnp.log(self.fn(params, *inputs))


class PowerSumLaw(Law):
    """``y = E + sum_k A_k * x_k^(-alpha_k)`` with a log-sum-exp evaluation path.

    Built by ``jaxlaws.power_sum``. ``A_k`` and ``E`` must be ``positive()`` (they enter the
    log-sum-exp as their logarithms); exponents may be ``free()`` or ``positive()``. The law
    declares its structure (``terms``: ``(coefficient, exponent, input)`` triples, and
    ``constant``); the fitting core (``FitProblem``) reads it to centre coordinates and to
    use the analytic Hessian.
    """

    def __init__(self, *, terms, constant, name, params, **kw):
        self.terms = tuple(terms)
        self.constant = constant
        inputs = tuple(dict.fromkeys(t[2] for t in self.terms))
        for coef, expo, x in self.terms:
            if not isinstance(params[coef], Positive):
                raise LawError(f"power_sum: coefficient {coef!r} must be positive()")
            if not isinstance(params[expo], (Free, Positive)):
                raise LawError(f"power_sum: exponent {expo!r} must be free() or positive()")
        if constant is not None and not isinstance(params[constant], Positive):
            raise LawError(f"power_sum: constant {constant!r} must be positive()")
        terms_ = self.terms
        const_ = constant

        def fn(p, *xs):
            xd = dict(zip(inputs, xs))
            out = p[const_] if const_ is not None else 0.0
            for coef, expo, x in terms_:
                out = out + p[coef] / xd[x] ** p[expo]
            return out

        def log_fn(p, *xs):
            xd = dict(zip(inputs, xs))
            zs = [jnp.log(p[c]) - p[e] * jnp.log(xd[x]) for c, e, x in terms_]
            if const_ is not None:
                zs.append(jnp.broadcast_to(jnp.log(p[const_]), zs[0].shape))
            return lse(*zs)

        fn.__name__ = name
        super().__init__(fn, inputs=inputs, params=params, name=name, log_fn=log_fn, **kw)


def power_sum(
    name: str,
    terms: Sequence[tuple[str, str, str]],
    constant: str | None = "E",
    exponents: str = "free",
    **kw,
) -> PowerSumLaw:
    """Build ``y = E + sum_k A_k x_k^(-alpha_k)`` from ``(coefficient, exponent, input)`` triples.

    Coefficients and the constant are ``positive()``; exponents are ``free()`` (the default,
    which admits Hoffmann et al.'s grid values alpha = 0) or ``positive()``.
    """
    from ._constraints import free, positive

    params = {}
    if constant is not None:
        params[constant] = positive()
    for c, _, _ in terms:
        params[c] = positive()
    for _, e, _ in terms:
        params[e] = free() if exponents == "free" else positive()
    return PowerSumLaw(terms=terms, constant=constant, name=name, params=params, **kw)


def law(
    inputs: Sequence[str] | Mapping[str, str],
    params: Mapping[str, Constraint],
    *,
    name: str | None = None,
    log_fn: Callable | None = None,
    **kw,
):
    """Decorator turning ``fn(params, *inputs)`` into a :class:`Law`.

    ```python
    @jaxlaws.law(inputs=("N", "D"), params={"E": jl.positive(), "A": jl.positive(), ...})
    def chinchilla(p, N, D):
        return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
    ```
    """

    def wrap(fn):
        return Law(fn, inputs=inputs, params=params, name=name, log_fn=log_fn, **kw)

    return wrap
