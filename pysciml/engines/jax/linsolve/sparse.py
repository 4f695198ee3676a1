"""Sparse direct strategy: coloured sparse Jacobian + multifrontal LU of ``W`` in pure JAX.

``prepare`` (outside ``jit``) detects the Jacobian pattern (or takes the
user's), colours its columns and runs the symbolic analysis; each step's
``factor`` then costs ``n_colours`` forward-mode products and one numeric
multifrontal factorisation, and each ``solve`` a sweep up and down the
assembly tree.  No host callbacks: ``jit``, ``vmap``, ``jax.vjp`` and
``jax.export`` all work.
"""

from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._const import Const
from .base import AbstractLinearSolver
from .coloring import ColoredJacobian
from .multifrontal import MultifrontalPlan
from .sparsity import as_pattern, detect_sparsity

__all__ = ["SparseLU", "prepare_pattern"]


def prepare_pattern(fun, t0, y0, args, sparsity, *, argument: str = "SparseLU.sparsity"):
    """The boolean CSR pattern (with diagonal) given by the user, or detected from ``fun``."""
    n = int(np.size(y0))
    if sparsity is None:
        return detect_sparsity(fun, t0, np.asarray(y0), args)
    return as_pattern(sparsity, n, argument=argument)


class SparseLU(eqx.Module, AbstractLinearSolver):
    """``W = I - c J`` from a coloured sparse ``J`` and a multifrontal LU (pure JAX).

    Args:
        sparsity: ``(n, n)`` boolean pattern of ``J`` (numpy or scipy.sparse), or
            None to detect it in :meth:`prepare`.
        leaf_size: largest piece of the nested-dissection tree factorised as one
            dense front (smaller: fewer flops, more operations).
        min_pivots: tree nodes with fewer pivots are merged into their parent
            (fewer, larger fronts: fewer sequential operations, more flops).
    """

    sparsity: Any = eqx.field(static=True, default=None)
    leaf_size: int = eqx.field(static=True, default=16)
    min_pivots: int = eqx.field(static=True, default=0)
    jac: ColoredJacobian | None = None
    plan: MultifrontalPlan | None = None
    diag_: Const | None = eqx.field(static=True, default=None)  # (nnz,) 1.0 on the diagonal entries
    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 1}
    loop_stages: ClassVar[bool | None] = True

    def prepare(self, fun, t0, y0, args) -> SparseLU:
        if self.plan is not None:
            return self
        pat = prepare_pattern(fun, t0, y0, args, self.sparsity)
        jac = ColoredJacobian.build(pat)
        plan = MultifrontalPlan.build(pat, leaf_size=self.leaf_size, min_pivots=self.min_pivots)
        diag = (jac.rows == jac.cols).astype(np.float64)
        return SparseLU(
            sparsity=None, leaf_size=self.leaf_size, min_pivots=self.min_pivots, jac=jac, plan=plan, diag_=Const(diag)
        )

    def prepared(self) -> tuple[ColoredJacobian, MultifrontalPlan, Const]:
        """The coloured Jacobian, the factorisation plan and the diagonal marker made by ``prepare``."""
        if self.jac is None or self.plan is None or self.diag_ is None:
            raise RuntimeError("SparseLU.prepare(fun, t0, y0, args) must run (outside jit) before factor/solve.")
        return self.jac, self.plan, self.diag_

    def w_values(self, fun, t, y, args, c):
        """Entries of ``W = I - c J`` at the pattern's stored positions (CSR order), ``(nnz,)``."""
        jac, _, diag = self.prepared()
        jv = jac.values(fun, t, y, args)
        return jnp.asarray(diag.v, jv.dtype) - c * jv

    def factor(self, fun, t, y, args, c):
        w = self.w_values(fun, t, y, args, c)
        factors, ok = self.prepared()[1].factor(w)
        return factors, ok

    def solve(self, state, b):
        factors, ok = state
        x = self.prepared()[1].solve(factors, b)
        return x, ok & jnp.all(jnp.isfinite(x))
