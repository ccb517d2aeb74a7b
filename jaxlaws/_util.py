"""The bottom layer: helpers every job shares (precision, padding, sharding, atomic writes).

Imports nothing of jaxlaws but its errors, so any module may use it without a cycle.
"""

from __future__ import annotations

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import OptionError


def x64(fn):
    """Run ``fn`` with float64 enabled, restoring the caller's ``jax_enable_x64`` afterwards.

    Why: the Chinchilla objective is ~1e-3 and its optimum is defined to ~1e-12 relative;
    float32's 1e-7 resolution cannot certify that, and on CPU float64 costs little. But
    ``import jaxlaws`` must not change a user's dtypes behind their back, so precision is
    scoped to each host-side entry point (``fit``, ``bootstrap``, ``allocate``, ...), whose
    results leave as numpy arrays. Array-level functions that run inside the user's own
    ``jit`` (``fit_arrays``, ``solve_allocation``) use the user's setting instead.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper


def bucket_size(n: int) -> int:
    """The padded size for ``n`` entries: 8 up to 8, then multiples of 1/8 of the leading power of two.

    Compiled programs are specialised to shapes: padding lets 3, 5 or 7 entries share the
    program compiled for 8, with at most 12.5% of a large batch wasted on padding.
    """
    if n <= 8:
        return 8
    step = 1 << (n.bit_length() - 4)
    return -(-n // step) * step


def check_seed(seed, name: str = "seed"):
    """A random seed is an integer in [0, 2^32) (numpy's generators refuse negative ones)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise OptionError(f"{name} must be an integer in [0, 2^32), got {seed!r}")


def pad_rows(x, size: int | None = None) -> np.ndarray:
    """``x`` (host array) padded along its first axis to ``size`` rows (default: its size
    bucket, ``bucket_size``) with copies of its last row.

    Padding on the host: done with jnp ops it would itself compile a small program per row count.
    """
    x = np.asarray(x)
    size = bucket_size(len(x)) if size is None else size
    return np.concatenate([x, np.repeat(x[-1:], size - len(x), axis=0)]) if size > len(x) else x


def pad_to_bucket(arrays: dict) -> tuple[dict, int]:
    """Equal-length 1-D arrays padded to ``bucket_size`` (``pad_rows``), as device arrays.

    Callers slice results back to the returned original length.
    """
    if not arrays:
        return arrays, 0
    n = next(iter(arrays.values())).shape[0]
    size = bucket_size(n)
    if size == n:
        return arrays, n
    return {k: jnp.asarray(pad_rows(v, size)) for k, v in arrays.items()}, n


def mesh_sharding(n_devices: int | None = None):
    """``(NamedSharding over a 1-D device mesh splitting the leading axis, n_devices)``; ``(None, 1)`` for one device."""
    devs = jax.devices()
    if n_devices is not None:
        if isinstance(n_devices, bool) or not isinstance(n_devices, int) or n_devices < 1 or n_devices > len(devs):
            raise OptionError(f"devices={n_devices!r}: between 1 and {len(devs)} available")
        devs = devs[:n_devices]
    if len(devs) == 1:
        return None, 1
    mesh = jax.sharding.Mesh(np.array(devs), ("batch",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch")), len(devs)


def shard_rows(x, sharding):
    """Put ``x`` on the devices of ``sharding``, split along its leading axis (unchanged for ``None``)."""
    return x if sharding is None else jax.device_put(x, sharding)


def to_host(x) -> np.ndarray:
    """``x`` as a numpy array on this host, whole. An array sharded over the devices of several
    processes (after ``jax.distributed.initialize``) is gathered from all of them first
    (``process_allgather``, a collective: every process must call it, as every process runs the
    same jaxlaws call); a local array is copied as ``np.asarray`` would."""
    if getattr(x, "is_fully_addressable", True):
        return np.asarray(x)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def shard_draws(arrays: dict) -> tuple[dict, int]:
    """Put 1-D arrays of parameter draws on all devices, split along the draws axis.

    Pads to a multiple of the device count with copies of the first draw (callers slice the
    result back to the returned original length). With one device, returns them unchanged.
    """
    n = next(iter(arrays.values())).shape[0]
    sharding, n_dev = mesh_sharding(None)
    if sharding is None:
        return arrays, n
    pad = (-n) % n_dev
    return {k: shard_rows(jnp.concatenate([v, jnp.repeat(v[:1], pad)]), sharding) for k, v in arrays.items()}, n


def writes_files() -> bool:
    """Whether this process writes results: always, except processes other than 0 of a
    multi-process run (``jax.distributed``), which compute the same results silently."""
    return jax.process_count() == 1 or jax.process_index() == 0


def _refuse_directory(path: str):
    # a folder is never overwritten, with or without force (the rename would fail after the work)
    if os.path.isdir(path):
        raise OptionError(f"{path!r} is a directory; give a file name")


def write_atomic(path: str, write, suffix: str = ""):
    """``write(tmp)`` to a temporary file beside ``path``, then rename it onto ``path``.

    The rename is atomic, so a reader (or a resumed run) sees the old file or the new one,
    never half of one. ``suffix`` is for writers that append an extension (``np.savez``).
    The temporary file is removed on any failure. With several processes (``jax.distributed``)
    every process computes the same result and only process 0 writes it.
    """
    if not writes_files():
        return
    _refuse_directory(path)
    _remove_stale(path)
    tmp = f"{path}.tmp-{os.getpid()}{suffix}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def json_safe(obj):
    """``obj`` with numpy scalars and arrays as plain Python and every non-finite number as ``None``.

    JSON has no NaN or Infinity (Python's ``json`` writes them, and strict readers reject the
    file); a non-finite value is reported as null beside the status that explains it.
    """
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if np.isfinite(x) else None
    return obj


def _remove_stale(path: str):
    """Remove temporary files a killed writer (SIGKILL: no cleanup ran) left beside ``path``.

    A temporary file is named ``path.tmp-PID...``; it is stale when no process has that PID.
    """
    import glob

    for tmp in glob.glob(glob.escape(path) + ".tmp-*"):
        pid = tmp[len(path) + 5:].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.remove(tmp)
            except OSError:
                pass
        except PermissionError:
            pass  # a live process of another user


def write_json_atomic(path: str, obj, force: bool = False):
    """Write strict JSON (non-finite numbers as null) via a temporary file and rename;
    refuse to overwrite unless ``force``."""
    if not writes_files():
        return
    _refuse_directory(path)
    if os.path.exists(path) and not force:
        raise OptionError(f"{path} exists; pass force=True (CLI: --force) to overwrite it")
    clean = json_safe(obj)

    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(clean, fh, indent=2, sort_keys=False, allow_nan=False)
            fh.write("\n")

    write_atomic(path, write)
