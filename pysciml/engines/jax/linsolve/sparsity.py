"""Jacobian sparsity patterns: detection by forward-mode probing, or from the user.

Detection runs once, outside ``jit``, with concrete values: the Jacobian of
``fun(t, y, args)`` is evaluated column block by column block (``block``
forward-mode products at a time, never a dense ``n x n`` at once) at a few
random states near ``y0``, and the non-zeros are united.  Random states make
an accidental zero (a derivative ``u^2`` evaluated where ``u = 0``) unlikely;
a pattern that is known can always be passed instead (``SparseLU(sparsity=...)``).

The result is a :class:`scipy.sparse.csr_array` of booleans with the
diagonal included (``W = I - c J`` needs it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ....errors import InputError

__all__ = ["detect_sparsity", "as_pattern"]


def as_pattern(pattern, n: int, *, argument: str = "sparsity"):
    """A user-given pattern as a boolean CSR ``(n, n)`` with the diagonal added.

    Args:
        pattern: numpy bool/0-1 array or scipy.sparse matrix/array, ``(n, n)``.
        n: number of states.
        argument: name used in error messages.
    """
    import scipy.sparse as sp

    if sp.issparse(pattern):
        pat = sp.csr_array(pattern, dtype=bool)
    else:
        arr = np.asarray(pattern)
        if arr.ndim != 2:
            raise InputError(f"must be a 2-D (n, n) pattern, got shape {arr.shape}.", argument=argument)
        pat = sp.csr_array(arr != 0)
    if pat.shape != (n, n):
        raise InputError(
            f"has shape {pat.shape} but the state has {n} values; give an ({n}, {n}) pattern "
            "(row i, column j true when d f_i / d y_j can be non-zero).",
            argument=argument,
        )
    pat: Any = (pat + sp.eye_array(n, dtype=bool, format="csr")).astype(bool)  # scipy.sparse is loosely typed
    pat.sum_duplicates()
    pat.sort_indices()
    return pat


def detect_sparsity(fun, t0, y0, args=None, *, n_probes: int = 2, block: int = 256, scale: float = 0.1, seed: int = 0):
    """Detect the Jacobian pattern of ``fun`` by blocks of forward-mode products.

    Args:
        fun: ``fun(t, y, args) -> dy`` with ``y`` flat ``(n,)``.
        t0: a time (scalar) at which to probe; ``t0 + 1e-3`` is probed too.
        y0: ``(n,)`` example state.
        args: passed through to ``fun``.
        n_probes: number of random states ``y0 * (1 + scale r) + scale r'``
            (``r``, ``r'`` uniform in [-1, 1]) to probe and unite.
        block: columns per batched forward-mode product (memory ``n * block``).
        scale: relative size of the random perturbation.
        seed: random seed.

    Returns:
        boolean :class:`scipy.sparse.csr_array` ``(n, n)`` including the diagonal.
    """
    import jax
    import jax.numpy as jnp
    import scipy.sparse as sp

    y0 = np.asarray(y0, dtype=float)
    n = y0.size
    block = max(1, min(int(block), n))
    rng = np.random.default_rng(seed)
    starts = np.arange(0, n, block)

    @jax.jit
    def columns(t, y, start):
        # columns start .. start+block-1 of the Jacobian, (n, block); rows past n are padding.
        eye = (jnp.arange(n)[:, None] == start + jnp.arange(block)[None, :]).astype(y.dtype)

        def jvp(v):
            return jax.jvp(lambda z: fun(t, z, args), (y,), (v,))[1]

        cols = jax.vmap(jvp, in_axes=1, out_axes=1)(eye)
        # only the structure leaves the device (a bool array is 8x smaller to transfer)
        return (cols != 0) | ~jnp.isfinite(cols)

    rows_all, cols_all = [np.arange(n)], [np.arange(n)]
    for k in range(max(1, int(n_probes))):
        r1 = rng.uniform(-1.0, 1.0, n)
        r2 = rng.uniform(-1.0, 1.0, n)
        y = y0 * (1.0 + scale * r1) + scale * r2
        t = float(t0) + 1e-3 * k
        for s in starts:
            rr, cc = np.nonzero(np.asarray(columns(t, jnp.asarray(y), s)))
            keep = s + cc < n
            rows_all.append(rr[keep])
            cols_all.append(s + cc[keep])
    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    pat = sp.csr_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n, n))
    pat.sum_duplicates()
    pat.sort_indices()
    return pat.astype(bool)
