"""What ``linsolve="auto"`` means on the jax engine: dense LU when small or dense, sparse beyond.

``prepare`` decides once, outside ``jit``, from the state size and (above
``dense_max``) the detected Jacobian pattern: a sparse factorisation is used
only when its symbolic analysis predicts clearly fewer flops than dense LU
(a dense-ish Jacobian, e.g. a neural network coupling every state, stays
dense).  It returns the chosen, prepared strategy itself.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np

from .base import AbstractLinearSolver

__all__ = ["AutoSolver", "DENSE_MAX"]

#: default size up to which dense LU is used (see benchmarks/dev_brusselator.py)
DENSE_MAX = 256


class AutoSolver(AbstractLinearSolver):
    """Resolves to ``DenseLU`` (``n <= dense_max`` or dense-ish Jacobian) or ``SparseLU`` in :meth:`prepare`.

    Args:
        dense_max: largest number of states solved densely without looking at the pattern.
        sparsity: optional ``(n, n)`` Jacobian pattern (skips detection).
        sparse_gain: use the sparse strategy only when its predicted factorisation
            flops are below ``sparse_gain`` times dense LU's ``2 n^3 / 3``.
    """

    dense_max: int = eqx.field(static=True, default=DENSE_MAX)
    sparsity: Any = eqx.field(static=True, default=None)
    sparse_gain: float = eqx.field(static=True, default=0.25)

    def prepare(self, fun, t0, y0, args) -> AbstractLinearSolver:
        from .dense import DenseLU

        n = int(np.size(y0))
        if n <= self.dense_max:
            return DenseLU().prepare(fun, t0, y0, args)
        from .sparse import SparseLU

        sparse = SparseLU(sparsity=self.sparsity).prepare(fun, t0, y0, args)
        if sparse.plan.flops > self.sparse_gain * (2.0 * n**3 / 3.0):
            return DenseLU().prepare(fun, t0, y0, args)
        return sparse

    def factor(self, fun, t, y, args, c):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")

    def solve(self, state, b):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")
