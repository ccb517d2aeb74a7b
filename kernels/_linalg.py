"""Small dense linear algebra written in plain ``jnp`` element operations.

Why not ``jnp.linalg``: the systems here are tiny (p <= ~12 fit parameters) and are solved
once per start per iteration under ``vmap``; an unrolled elimination vectorises across the
batch as well as any LAPACK call. More importantly, programs that combined ``jax.hessian``
with a LAPACK custom call (``eigh``, ``solve``) deadlocked under several host devices on
jaxlib 0.10.2 (see the project's JAX notes), and sharding the batch over devices is how the
bootstrap uses more than one core. Keeping LAPACK out of the solver keeps sharding safe.

The loops below run over the static matrix size at trace time.
"""

from __future__ import annotations

import jax.numpy as jnp


def modified_cholesky_solve(H, g):
    """Solve ``(H + E) x = g`` where ``H + E`` is a positive-definite modification of ``H``.

    Gill, Murray & Wright's modified Cholesky (Practical Optimization, 1981, sec. 4.4.2.2):
    the pivots are raised to at least ``|c_jj|``, ``(max_i |c_ij| / beta)^2`` and a floor, so
    the factor stays bounded and ``E`` is zero whenever ``H`` is safely positive definite.
    On an indefinite Hessian this gives a descent direction, like Newton with absolute
    eigenvalues, but with only element operations.
    """
    p = H.shape[-1]
    dtype = H.dtype
    eps = jnp.finfo(dtype).eps
    diag = jnp.abs(jnp.diagonal(H))
    gamma = jnp.max(diag)
    off = jnp.abs(H - jnp.diag(jnp.diagonal(H)))
    xi = jnp.max(off) if p > 1 else jnp.zeros((), dtype)
    beta2 = jnp.maximum(jnp.maximum(gamma, xi / jnp.sqrt(max(p * p - 1.0, 1.0))), eps)
    floor = jnp.maximum(eps * jnp.maximum(gamma + xi, 1.0), 1e-300)

    L = [[None] * p for _ in range(p)]
    d = [None] * p
    for j in range(p):
        cjj = H[j, j] - sum(L[j][k] * L[j][k] * d[k] for k in range(j)) if j else H[j, j]
        cs = []
        for i in range(j + 1, p):
            cij = H[i, j] - sum(L[i][k] * L[j][k] * d[k] for k in range(j)) if j else H[i, j]
            cs.append(cij)
        theta = _max_abs(cs, dtype)
        dj = jnp.maximum(jnp.maximum(jnp.abs(cjj), theta * theta / beta2), floor)
        d[j] = dj
        for idx, i in enumerate(range(j + 1, p)):
            L[i][j] = cs[idx] / dj
    return _ldl_solve(L, d, g)


def cholesky_solve(H, g):
    """Solve ``H x = g`` for a symmetric positive-definite ``H`` by an unmodified LDL^T.

    Used where ``H`` is the Hessian at a strict local minimum (implicit differentiation);
    a non-positive pivot there means the optimum is not strict, and the result is ``nan``
    so that callers see the failure instead of a silently wrong derivative.
    """
    p = H.shape[-1]
    L = [[None] * p for _ in range(p)]
    d = [None] * p
    for j in range(p):
        cjj = H[j, j] - sum(L[j][k] * L[j][k] * d[k] for k in range(j)) if j else H[j, j]
        d[j] = jnp.where(cjj > 0, cjj, jnp.nan)
        for i in range(j + 1, p):
            cij = H[i, j] - sum(L[i][k] * L[j][k] * d[k] for k in range(j)) if j else H[i, j]
            L[i][j] = cij / d[j]
    return _ldl_solve(L, d, g)


def _max_abs(xs, dtype):
    if not xs:
        return jnp.zeros((), dtype)
    out = jnp.abs(xs[0])
    for x in xs[1:]:
        out = jnp.maximum(out, jnp.abs(x))
    return out


def _ldl_solve(L, d, g):
    p = len(d)
    # forward: L y = g (unit lower triangular)
    y = [None] * p
    for i in range(p):
        y[i] = g[..., i] - sum(L[i][k] * y[k] for k in range(i)) if i else g[..., i]
    # diagonal
    z = [y[i] / d[i] for i in range(p)]
    # backward: L^T x = z
    x = [None] * p
    for i in reversed(range(p)):
        x[i] = z[i] - sum(L[k][i] * x[k] for k in range(i + 1, p)) if i < p - 1 else z[i]
    return jnp.stack(x, axis=-1)


def pivoted_solve(A, b):
    """Solve ``A x = b`` for a small general (e.g. indefinite KKT) matrix.

    Gaussian elimination with partial pivoting, unrolled over the static size; the pivot
    row is chosen with ``argmax`` and swapped with ``where``, so the whole solve stays
    element operations (no LAPACK: see the module docstring). ``A`` and ``b`` are kept
    apart so that the solve is visibly linear in ``b`` (JAX can then transpose it, as
    implicit differentiation needs). A zero pivot (a singular system, such as a degenerate
    active set) gives ``nan`` rather than a wrong answer. ``A``: (n, n); ``b``: (n,) or (n, m).
    """
    n = A.shape[-1]
    vec = b.ndim == 1
    B = b[:, None] if vec else b
    rows = jnp.arange(n)
    for j in range(n):
        p = j + jnp.argmax(jnp.abs(A[j:, j]))
        is_j, is_p = (rows == j)[:, None], (rows == p)[:, None]
        A = jnp.where(is_j, A[p], jnp.where(is_p, A[j], A))
        B = jnp.where(is_j, B[p], jnp.where(is_p, B[j], B))
        piv = jnp.where(A[j, j] == 0, jnp.nan, A[j, j])
        f = jnp.where(rows > j, A[:, j] / piv, 0.0)
        A = A - f[:, None] * A[j][None, :]
        B = B - f[:, None] * B[j][None, :]
    xs = [None] * n
    for i in reversed(range(n)):
        acc = B[i]
        for k in range(i + 1, n):
            acc = acc - A[i, k] * xs[k]
        xs[i] = acc / jnp.where(A[i, i] == 0, jnp.nan, A[i, i])
    x = jnp.stack(xs, axis=0)
    return x[:, 0] if vec else x
