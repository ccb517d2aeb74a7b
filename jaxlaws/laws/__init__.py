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
from ._zoo import ZOO

REGISTRY = {law.name: law for law in (chinchilla, kaplan, data_constrained, joint_moe, moe_sparsity, data_filtering, *ZOO)}
globals().update({law.name: law for law in ZOO})

# How sure we are of each built-in law's form, from the tags of the project's law survey
# (shared LAWS.md): "verified" = checked against the authors' released code or data,
# "secondary" = from a summary or independent copies, "abstract" = as the abstract states it,
# "unverified" = written from memory (verify before relying on it), "generic" = a textbook form.
FORM_STATUS = {
    "chinchilla": "verified", "kaplan": "secondary", "data_constrained": "verified",
    "joint_moe": "secondary", "moe_sparsity": "secondary", "data_filtering": "verified",
    "power_law": "generic", "power_law_constant": "generic", "broken_power_law": "unverified",
    "kaplan_steps": "secondary", "critical_batch": "secondary", "overtraining": "verified",
    "downstream_error": "verified", "routed_lm": "unverified", "weight_sparsity": "verified",
    "precision": "unverified", "quantization_degradation": "unverified", "fp_quantization": "unverified",
    "step_law_lr": "secondary", "step_law_batch": "secondary", "power_lines_tau": "abstract",
    "data_mixture": "secondary", "two_step_downstream": "verified", "loss_to_loss": "unverified",
    "observational_sigmoid": "verified", "rectified_finetune": "unverified",
    "multiplicative_finetune": "unverified", "upcycling": "unverified",
}
for _name, _law in REGISTRY.items():
    _law.form_status = FORM_STATUS[_name]


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
    "data_filtering_law", "data_filtering_mixture", "get_law", "list_laws", "REGISTRY",
]
