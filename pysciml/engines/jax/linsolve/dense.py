"""Dense linear-solve strategy: Jacobian by forward-mode AD, then a direct solve of ``W``.

Small systems (``n <= small_max``) invert ``W`` explicitly by Gauss-Jordan
elimination with partial pivoting, unrolled in plain ``jax.numpy`` operations:
XLA fuses it into the step and each stage's solve is one matrix-vector
product, where the LAPACK custom calls behind ``jax.scipy.linalg.lu_factor`` /
``lu_solve`` cost several microseconds each on CPU (and loop over the batch
under ``vmap``).  The inverse has a ``custom_jvp`` (``d(W^-1) = -W^-1 dW W^-1``),
so reverse mode never differentiates the elimination itself.  Medium systems
(``n <= inverse_max``) form ``W^-1`` from LAPACK's LU once per step (four custom
calls, then matrix-vector products); larger ones keep the LU factors.  See
``benchmarks/dev/rosenbrock_variants.py`` for the measurements behind ``small_max``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from .base import AbstractLinearSolver

__all__ = ["DenseLU", "small_inverse", "lu_inverse"]


@jax.custom_jvp
def small_inverse(w):
    """Inverse of a small ``(n, n)`` matrix by Gauss-Jordan elimination with partial pivoting.

    Returns ``(w_inv, ok)``; ``ok`` is False when a pivot is zero or not finite
    (``w`` singular to working precision).  Unrolled over the ``n`` columns:
    meant for ``n`` up to about 8.
    """
    n = w.shape[0]
    idx = jnp.arange(n)
    aug = jnp.concatenate([w, jnp.eye(n, dtype=w.dtype)], axis=1)
    ok = jnp.array(True)
    for k in range(n):
        col = jnp.where(idx >= k, jnp.abs(aug[:, k]), -1.0)
        p = jnp.argmax(col)
        is_p = (idx == p)[:, None]
        is_k = (idx == k)[:, None]
        row_k = aug[k]
        row_p = jnp.sum(jnp.where(is_p, aug, 0.0), axis=0)
        aug = jnp.where(is_p, row_k[None, :], aug)  # row p <- row k (row k is overwritten below)
        piv = row_p[k]
        ok = ok & (piv != 0) & jnp.isfinite(piv)
        rk = row_p / piv
        fac = jnp.where(is_k[:, 0], 0.0, aug[:, k])
        aug = jnp.where(is_k, rk[None, :], aug - fac[:, None] * rk[None, :])
    return aug[:, n:], ok


@small_inverse.defjvp
def _small_inverse_jvp(primals, tangents):
    (w,), (dw,) = primals, tangents
    w_inv, ok = small_inverse(w)
    return (w_inv, ok), (-(w_inv @ dw @ w_inv), jnp.zeros(jnp.shape(ok), dtype=jax.dtypes.float0))


@jax.custom_jvp
def lu_inverse(w):
    """Inverse of ``w`` from LAPACK's LU with partial pivoting: ``W^-1 = U^-1 L^-1 P``.

    Four custom calls per factorisation (LU, pivots to permutation, two triangular
    solves with a matrix right-hand side); each stage's solve is then one fused
    matrix-vector product instead of three custom calls.  Returns ``(w_inv, ok)``.
    """
    n = w.shape[0]
    lu, _piv, perm = jax.lax.linalg.lu(w)
    d = jnp.diagonal(lu)
    ok = jnp.all((d != 0) & jnp.isfinite(d))
    p_eye = jnp.eye(n, dtype=w.dtype)[perm]  # P: rows of I permuted, P w = L U
    z = jax.lax.linalg.triangular_solve(lu, p_eye, left_side=True, lower=True, unit_diagonal=True)
    w_inv = jax.lax.linalg.triangular_solve(lu, z, left_side=True, lower=False)
    return w_inv, ok


@lu_inverse.defjvp
def _lu_inverse_jvp(primals, tangents):
    (w,), (dw,) = primals, tangents
    w_inv, ok = lu_inverse(w)
    return (w_inv, ok), (-(w_inv @ dw @ w_inv), jnp.zeros(jnp.shape(ok), dtype=jax.dtypes.float0))


@dataclasses.dataclass(frozen=True)
class DenseLU(AbstractLinearSolver):
    """Dense ``J`` by ``jax.jacfwd`` and a direct solve of ``W = I - c J``.

    Args:
        small_max: systems with at most this many states use the unrolled explicit
            inverse (no LAPACK call; compile time grows with ``n``).
        inverse_max: up to this many states, ``W^-1`` is formed from LAPACK's LU
            (:func:`lu_inverse`) and stage solves are matrix-vector products; larger
            systems keep the LU factors and call ``lu_solve`` per stage.
        fuse_max: from ``small_max + 1`` up to this many states the matrix-vector
            product with ``W^-1`` is a multiply-and-sum that XLA fuses into the stage
            (HIRES, n = 8: 3.6 vs 3.9 µs/step; for n = 3 the dot is faster: 2.0 vs 2.1).
    """

    small_max: int = 4
    inverse_max: int = 64
    fuse_max: int = 16
    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 1}

    def jacobian(self, fun, t, y, args):
        """Dense ``(n, n)`` Jacobian of ``fun(t, y, args)`` with respect to ``y``."""
        return jax.jacfwd(lambda yy: fun(t, yy, args))(y)

    def factor(self, fun, t, y, args, c):
        n = y.shape[0]
        jac = self.jacobian(fun, t, y, args)
        w = jnp.eye(n, dtype=y.dtype) - c * jac
        if n <= self.small_max:
            w_inv, ok = small_inverse(w)
            return (w_inv, ok)
        if n <= self.inverse_max:
            w_inv, ok = lu_inverse(w)
            return (w_inv, ok)
        lu, piv = jsl.lu_factor(w)
        d = jnp.diagonal(lu)
        ok = jnp.all((d != 0) & jnp.isfinite(d))
        return (lu, piv, ok)

    def solve(self, state, b):
        if len(state) == 2:
            w_inv, ok = state
            if self.small_max < w_inv.shape[0] <= self.fuse_max:
                # multiply-and-reduce fuses with the neighbouring elementwise work; a dot
                # would be a separate kernel per stage
                x = jnp.sum(w_inv * b[None, :], axis=1)
            else:
                x = w_inv @ b
        else:
            lu, piv, ok = state
            x = jsl.lu_solve((lu, piv), b)
        return x, ok & jnp.all(jnp.isfinite(x))
