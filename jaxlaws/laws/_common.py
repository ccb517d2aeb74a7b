"""Helpers shared by the zoo's modules: citation blocks and example designs."""

from __future__ import annotations

import numpy as np


def bib(key, title, authors, where, year):
    return f"@article{{{key},\n  title   = {{{title}}},\n  author  = {{{authors}}},\n  journal = {{{where}}},\n  year    = {{{year}}}\n}}"


def logspace(lo, hi, n, seed_offset=0):
    def design(seed=0):
        rng = np.random.default_rng(seed + seed_offset)
        return np.sort(10 ** rng.uniform(lo, hi, n))

    return design
