"""Dense linear-solve strategy: Jacobian by forward-mode AD, LU with partial pivoting.

For small systems (``n <= small_max``) the factorisation is an unrolled Gaussian
elimination written in plain ``jax.numpy`` operations: XLA fuses it into the step,
where LAPACK custom calls (``jax.scipy.linalg.lu_factor``) cost several microseconds
each on CPU and loop over the batch under ``vmap``.  Larger systems use
``jax.scipy.linalg.lu_factor`` / ``lu_solve``.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from .base import AbstractLinearSolver

__all__ = ["DenseLU", "small_lu_factor", "small_lu_solve"]


def small_lu_factor(w):
    """LU with partial pivoting of a small ``(n, n)`` matrix, unrolled over columns.

    Returns ``(lu, perm, ok)``: unit-lower ``L`` below and ``U`` on and above the
    diagonal of ``lu``; ``perm`` (n,) int32 with ``P w = L U`` meaning row ``i`` of
    ``P w`` is row ``perm[i]`` of ``w``; ``ok`` False when a pivot is zero or not finite.
    """
    n = w.shape[0]
    idx = jnp.arange(n)
    perm = idx
    ok = jnp.array(True)
    for k in range(n):
        if k < n - 1:
            col = jnp.abs(w[k:, k])
            p = k + jnp.argmax(col)
            # swap rows k and p (p >= k) with selects, which fuse well and batch cheaply
            is_p = (idx == p)[:, None]
            row_k = w[k]
            row_p = jnp.sum(jnp.where(is_p, w, 0.0), axis=0)
            w = jnp.where(is_p, row_k[None, :], w)
            w = w.at[k].set(row_p)
            perm_k = perm[k]
            perm_p = jnp.sum(jnp.where(idx == p, perm, 0))
            perm = jnp.where(idx == p, perm_k, perm).at[k].set(perm_p)
        piv = w[k, k]
        ok = ok & (piv != 0) & jnp.isfinite(piv)
        if k < n - 1:
            lcol = w[k + 1:, k] / piv
            w = w.at[k + 1:, k].set(lcol)
            w = w.at[k + 1:, k + 1:].add(-lcol[:, None] * w[k, k + 1:][None, :])
    return w, perm, ok


def small_lu_solve(lu, perm, b):
    """Solve ``w x = b`` from :func:`small_lu_factor`'s ``(lu, perm)``; ``b`` is ``(n,)``."""
    n = lu.shape[0]
    x = b[perm]
    # forward substitution with unit L, back substitution with U; unrolled
    ys = []
    for i in range(n):
        v = x[i]
        for j in range(i):
            v = v - lu[i, j] * ys[j]
        ys.append(v)
    xs = [None] * n
    for i in range(n - 1, -1, -1):
        v = ys[i]
        for j in range(i + 1, n):
            v = v - lu[i, j] * xs[j]
        xs[i] = v / lu[i, i]
    return jnp.stack(xs)


class DenseLU(AbstractLinearSolver):
    """Dense ``J`` by ``jax.jacfwd``, ``W = I - c J`` factorised by LU with partial pivoting.

    Args:
        small_max: systems with at most this many states use the unrolled
            elimination (no LAPACK call); larger ones use ``jax.scipy.linalg.lu_factor``.
    """

    small_max: int = eqx.field(static=True, default=12)
    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 1}

    def jacobian(self, fun, t, y, args):
        """Dense ``(n, n)`` Jacobian of ``fun(t, y, args)`` with respect to ``y``."""
        return jax.jacfwd(lambda yy: fun(t, yy, args))(y)

    def factor(self, fun, t, y, args, c):
        n = y.shape[0]
        jac = self.jacobian(fun, t, y, args)
        w = jnp.eye(n, dtype=y.dtype) - c * jac
        if n <= self.small_max:
            lu, perm, ok = small_lu_factor(w)
            return (lu, perm, ok)
        lu, piv = jsl.lu_factor(w)
        d = jnp.diagonal(lu)
        ok = jnp.all((d != 0) & jnp.isfinite(d))
        return (lu, piv, ok)

    def solve(self, state, b):
        lu, p, ok = state
        if lu.shape[0] <= self.small_max:
            x = small_lu_solve(lu, p, b)
        else:
            x = jsl.lu_solve((lu, p), b)
        return x, ok & jnp.all(jnp.isfinite(x))
