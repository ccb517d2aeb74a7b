"""Fitting recipes as data: everything a paper chose when it fitted its law.

Conclusions drawn from scaling laws flip with fitting choices nobody reports (Huber's delta,
log or raw residuals, the start grid, which runs were dropped). A ``Recipe`` names all of
them, so ``fit(law, data, recipe="besiroglu2024")`` (``jaxlaws fit ... --recipe NAME``)
reproduces a published fit in one argument and every result states the recipe it followed.
Explicit arguments override the recipe's choices; row filters (``where``) add to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ._errors import OptionError
from ._loss import Loss, as_loss
from ._units import check_unit


@dataclass(frozen=True)
class Recipe:
    """How a law was fitted: loss, residual space, starts, bounds, runs used, units.

    **Fields** (``None`` / empty: the default, or the caller's choice):
    - ``name``, ``source``: the recipe's key and where it is documented (paper, code).
    - ``loss``: a :class:`Loss` or its text form (``"huber:1e-3"``, ``"squared"``).
    - ``residual``: ``"log"``, ``"raw"`` or ``"log1p"``.
    - ``starts``: a start set (``jaxlaws.grid(...)``, ``random_starts``, points).
    - ``bounds``: ``{param: (lo, hi)}`` box bounds (``inf`` for one-sided).
    - ``where``: expressions selecting runs (all must hold; ``jaxlaws._expr``), in the authors' column
      names; ``best_per``: keep the lowest-target run per group of these columns;
      ``drop_highest``: drop the k highest-target runs (Epoch's 5 outliers).
    - ``weights``: a column or an expression over columns (``"1 / n_star_std**2"``).
    - ``fixed``: ``{param: value}`` held constant (a staged fit's first-stage values).
    - ``units``: ``{input: unit}`` the recipe fits in; data in other units of the same
      quantity are converted (``fit(..., units=...)`` states the data's units).
    - ``strategy``: ``"screen"`` or ``"full"``; ``note``: anything else a reader should know.
    """

    name: str
    source: str
    loss: Loss | str | None = None
    residual: str | None = None
    starts: object = None
    bounds: Mapping[str, tuple] = field(default_factory=dict)
    where: tuple = ()
    best_per: tuple = ()
    drop_highest: int = 0
    weights: str | None = None
    fixed: Mapping[str, float] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    strategy: str | None = None
    note: str = ""

    def __post_init__(self):
        if self.loss is not None:
            object.__setattr__(self, "loss", as_loss(self.loss))
        object.__setattr__(self, "where", (self.where,) if isinstance(self.where, str) else tuple(self.where))
        object.__setattr__(self, "best_per", (self.best_per,) if isinstance(self.best_per, str) else tuple(self.best_per))
        for k, u in self.units.items():
            check_unit(u, f"recipe {self.name} units of {k}")

    def lines(self) -> list[str]:
        """The recipe in words, one choice per line (``jaxlaws laws NAME``, reports)."""
        out = [f"recipe {self.name}: {self.source}"]
        if self.loss is not None:
            out.append(f"    loss: {self.loss}" + (f" on {self.residual} residuals" if self.residual else ""))
        elif self.residual:
            out.append(f"    residuals: {self.residual}")
        if self.starts is not None:
            out.append(f"    starts: {self.starts!r}")
        if self.bounds:
            out.append("    bounds: " + ", ".join(f"{lo:g} < {k} < {hi:g}" for k, (lo, hi) in self.bounds.items()))
        for w in self.where:
            out.append(f"    runs where: {w}")
        if self.best_per:
            out.append(f"    the best run per {', '.join(self.best_per)}")
        if self.drop_highest:
            out.append(f"    drop the {self.drop_highest} highest-target runs")
        if self.weights:
            out.append(f"    weights: {self.weights}")
        if self.fixed:
            out.append("    fixed: " + ", ".join(f"{k}={v:g}" for k, v in self.fixed.items()))
        if self.units:
            out.append("    units: " + ", ".join(f"{k} in {u}" for k, u in self.units.items()))
        if self.strategy:
            out.append(f"    strategy: {self.strategy}")
        if self.note:
            out.append(f"    note: {self.note}")
        return out

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "loss": None if self.loss is None else str(self.loss),
                "residual": self.residual, "starts": None if self.starts is None else repr(self.starts),
                "bounds": {k: list(v) for k, v in self.bounds.items()}, "where": list(self.where),
                "best_per": list(self.best_per), "drop_highest": self.drop_highest, "weights": self.weights,
                "fixed": dict(self.fixed), "units": dict(self.units), "strategy": self.strategy, "note": self.note}


def resolve_recipe(law, recipe) -> Recipe | None:
    """The recipe to follow: an explicit one (a ``Recipe`` or the name of one of the law's
    recipes), else the law's default recipe, else None (log-Huber, delta 1e-3)."""
    if recipe is None:
        return law.recipes[law.default_recipe] if law.default_recipe else None
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str):
        if recipe in law.recipes:
            return law.recipes[recipe]
        have = ", ".join(law.recipes) or "none"
        raise OptionError(f"{law.name} has no such recipe {recipe!r} (its recipes: {have})")
    raise OptionError(f"recipe={recipe!r}: give a recipe name or a jaxlaws.Recipe")


def merged(recipe: Recipe | None, **given) -> dict:
    """The options of a fit: each explicit (non-None) argument, else the recipe's choice.

    ``where`` filters add to the recipe's (both hold); ``drop_highest=0`` means "not given".
    """
    out = dict(given)
    if recipe is None:
        return out
    for k in ("loss", "residual", "starts", "weights", "strategy"):
        if out.get(k) is None:
            out[k] = getattr(recipe, k)
    for k in ("bounds", "fixed"):
        if not out.get(k):
            src = getattr(recipe, k)
            out[k] = dict(src) if src else None
    where = given.get("where") or ()
    if not isinstance(where, (str, list, tuple)):
        return out  # a malformed where= is named by the row selection (_select.select)
    out["where"] = tuple(recipe.where) + ((where,) if isinstance(where, str) else tuple(where))
    out["best_per"] = given.get("best_per") or recipe.best_per
    out["drop_highest"] = given.get("drop_highest") or recipe.drop_highest
    return out
