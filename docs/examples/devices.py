"""Bootstraps sharded over devices: the same numbers on one device or several.

Run with two CPU host devices:  XLA_FLAGS=--xla_force_host_platform_device_count=2 python devices.py
"""
import jax
import numpy as np

import jaxlaws as jl

runs = jl.example_data()["runs"]
print("devices:", jax.devices())
all_devices = jl.bootstrap("chinchilla", runs, n=1000, seed=0)
one_device = jl.bootstrap("chinchilla", runs, n=1000, seed=0, devices=1)
assert np.array_equal(all_devices.draws, one_device.draws, equal_nan=True)
print(all_devices.interval("alpha"))
