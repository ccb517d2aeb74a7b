"""Built-in laws (the zoo). ``get_law(name)`` looks one up; ``list_laws()`` lists them."""

from __future__ import annotations

from ._chinchilla import chinchilla as chinchilla
from ._kaplan import kaplan as kaplan
from ._filtering import data_filtering as data_filtering
from ._filtering import data_filtering_law, data_filtering_mixture
from ._moe import joint_moe as joint_moe
from ._moe import moe_sparsity as moe_sparsity
from ._muennighoff import muennighoff as data_constrained
from .._errors import LawError
from ._gadre import overtraining_from_authors
from ._zoo import ZOO

REGISTRY = {law.name: law for law in (chinchilla, kaplan, data_constrained, joint_moe, moe_sparsity, data_filtering, *ZOO)}
globals().update({law.name: law for law in ZOO})


def get_law(name: str):
    """The built-in law called ``name``."""
    if name not in REGISTRY:
        raise LawError(f"unknown law {name!r}; built-in laws: {sorted(REGISTRY)}")
    return REGISTRY[name]


def list_laws() -> list:
    """All built-in laws, in registry order."""
    return list(REGISTRY.values())


__all__ = [
    "chinchilla", "kaplan", "data_constrained", "joint_moe", "moe_sparsity", "data_filtering",
    "data_filtering_law", "data_filtering_mixture", "overtraining_from_authors", "get_law", "list_laws", "REGISTRY",
]
