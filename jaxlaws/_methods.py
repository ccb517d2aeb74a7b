"""The methods card: how exactly a result was obtained, in one dictionary.

A reader of a scaling-law result needs to know the law, the objective (loss, its delta, the
residual space, sum or mean), the starts, which runs were used and which were dropped and why,
the units, the recipe, the software versions and the command. Conclusions flip with these
choices, and papers rarely report all of them. Every saved fit and bootstrap carries this card
(``jaxlaws.save`` and the CLI's ``--json``), and ``jaxlaws report`` prints it.
"""

from __future__ import annotations

import platform
import sys


def versions() -> dict:
    """Versions of jaxlaws and the numerical stack, and the JAX backend that ran."""
    from importlib.metadata import PackageNotFoundError, version

    import jax

    out = {}
    for pkg in ("jaxlaws", "jax", "jaxlib", "numpy", "pandas", "optax", "equinox"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    out["python"] = sys.version.split()[0]
    out["platform"] = platform.platform()
    out["backend"] = f"{jax.default_backend()} ({jax.device_count()} device(s))"
    return out


def _bib_field(bibtex: str, name: str) -> str | None:
    """A BibTeX field's value (braced, possibly over several lines, nested braces kept)."""
    import re

    m = re.search(r"\b" + name + r"\s*=\s*([{\"])", bibtex, re.I)
    if not m:
        return None
    i, depth, out = m.end(), 1, []
    close = "}" if m.group(1) == "{" else '"'
    while i < len(bibtex) and depth:
        ch = bibtex[i]
        depth += ch == "{" and close == "}"
        depth -= ch == close
        if depth:
            out.append(ch)
        i += 1
    return " ".join("".join(out).replace("{", "").replace("}", "").split())


def _citation(bibtex: str) -> str | None:
    """``Authors (year). Title.`` from a BibTeX entry (its key when fields are missing)."""
    import re

    if not bibtex:
        return None
    author, year, title = (_bib_field(bibtex, f) for f in ("author", "year", "title"))
    if not (author and title):
        key = re.search(r"@\w+\{([^,]+),", bibtex)
        return key.group(1) if key else bibtex.splitlines()[0]
    authors = [x.strip() for x in author.split(" and ")]
    who = authors[0].split(",")[0] + (" et al." if len(authors) > 1 else "")
    return f"{who} ({year}). {title}."


def methods_card(fit=None, boot=None, command: str | None = None) -> dict:
    """The methods card of a fit (and its bootstrap, if given): see the module docstring.
    With neither, the versions and the command alone."""
    card = {}
    if boot is not None and fit is None:
        fit = boot.fit
    if fit is not None:
        law, prep = fit.law, fit.prepared
        n_rows = prep.n_rows if prep is not None else None
        card.update({
            "law": law.name,
            "form": getattr(law, "description", "") or None,
            "citation": _citation(getattr(law, "citation", "")),
            "objective": fit.objective_description,
            "loss": str(fit.loss),
            "huber_delta": fit.loss.delta,
            "residual": fit.residual,
            "aggregation": fit.loss.normalise,
            "solver": fit.strategy.solver,
            "starts": {"n": fit.n_starts, "strategy": fit.strategy.name, "outcomes": fit.counts},
            "recipe": None if fit.recipe is None else fit.recipe.name,
            "fixed": {k: float(v) for k, v in fit.fixed.items()},
            "bounds": {k: list(v) for k, v in law.bounds.items()},
            "units": dict(fit.units),
            "target": fit.y,
            "columns": dict(fit.columns),
            "runs": {"in_table": n_rows, "used": int(fit.n_points),
                     "dropped": {str(k): int(v) for k, v in fit.excluded.items()}},
            "data_fingerprint": prep.data_fingerprint() if prep is not None else None,
            "status": fit.status,
        })
    if boot is not None:
        card["bootstrap"] = {"resamples": boot.n_resamples, "converged": int(boot.ok.sum()),
                             "method": boot.weights_method, "strategy": boot.strategy, "seed": boot.seed,
                             "calibrated": boot.calibration is not None}
    card["versions"] = versions()
    card["command"] = command
    return card


def card_lines(card: dict) -> list:
    """The card as ``(field, value)`` text pairs, in reading order (for reports)."""
    rows = []
    for key in ("law", "form", "citation", "objective", "huber_delta", "residual", "aggregation", "solver", "starts",
                "recipe", "fixed", "bounds", "units", "target", "runs", "data_fingerprint", "status", "bootstrap",
                "versions", "command"):
        if key in card and card[key] not in (None, {}, ""):
            v = card[key]
            if key == "runs":
                dropped = ", ".join(f"{n} ({why})" for why, n in v["dropped"].items() if n) or "none"
                v = f"{v['in_table']} in the table, {v['used']} used; dropped: {dropped}"
            elif isinstance(v, dict):
                v = ", ".join(f"{k}: {x}" for k, x in v.items())
            rows.append((key.replace("_", " "), str(v)))
    return rows
