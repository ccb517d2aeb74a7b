"""Helper run as a subprocess by test_bootstrap.py: a small bootstrap, optionally slow
between chunks (so a test can kill it mid-way), saving its draws to an .npz."""

import sys
import time

import numpy as np

import jaxlaws as jl
from jaxlaws._demo_data import demo_data

out, checkpoint, sleep = sys.argv[1], sys.argv[2], float(sys.argv[3])
GRID = jl.grid(space="unconstrained", E=[0.0, 0.5], A=[4.0, 7.0], B=[4.0, 8.0], alpha=[0.2, 0.5], beta=[0.2, 0.5])
b = jl.bootstrap(
    "chinchilla", demo_data(), n=240, seed=7, strategy="grid", starts=GRID, chunk_size=40,
    checkpoint=None if checkpoint == "-" else checkpoint, on_chunk=lambda done, total: time.sleep(sleep),
)
np.savez(out, draws=b.draws, objective=b.objective, status=b.status.astype("U16"))
print("done")
