"""What ``linsolve="auto"`` means on the jax engine: dense LU when small or dense, lagged sparse beyond.

``prepare`` decides once, outside ``jit``, from the state size and (above
``dense_max``) the detected Jacobian pattern: a sparse factorisation is used
only when its symbolic analysis predicts clearly fewer flops than dense LU
(a dense-ish Jacobian, e.g. a neural network coupling every state, stays
dense).  The sparse choice is :class:`.lagged.LaggedSparseLU` (a sparse LU of
``W`` kept over steps as the preconditioner of an exact matrix-free GMRES
solve), which beat both dense LU and a sparse LU refactorised every step from
about 100 states on.  It returns the chosen, prepared strategy itself.

The size threshold is :data:`pysciml.solvers.linear.DENSE_MAX`, measured by
``benchmarks/linsolve_crossover.py`` (results in ``benchmarks/results/linsolve_crossover.md``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ....solvers.linear import DENSE_MAX
from .base import AbstractLinearSolver

__all__ = ["AutoSolver"]


@dataclasses.dataclass(frozen=True, eq=False)  # sparsity may be an array: compared by identity
class AutoSolver(AbstractLinearSolver):
    """Resolves to ``DenseLU`` (``n <= dense_max`` or dense-ish Jacobian) or ``LaggedSparseLU`` in :meth:`prepare`.

    Args:
        dense_max: largest number of states solved densely without looking at the pattern.
        sparsity: optional ``(n, n)`` Jacobian pattern (skips detection).
        sparse_gain: use the sparse strategy only when its predicted factorisation
            flops are below ``sparse_gain`` times dense LU's ``2 n^3 / 3``.
    """

    dense_max: int = DENSE_MAX
    sparsity: Any = None
    sparse_gain: float = 0.25

    def prepare(self, fun, t0, y0, args) -> AbstractLinearSolver:
        from .dense import DenseLU

        n = int(np.size(y0))
        if n <= self.dense_max:
            return DenseLU().prepare(fun, t0, y0, args)
        from .lagged import LaggedSparseLU

        lagged = LaggedSparseLU(sparsity=self.sparsity).prepare(fun, t0, y0, args)
        if lagged.prepared().prepared()[1].flops > self.sparse_gain * (2.0 * n**3 / 3.0):
            return DenseLU().prepare(fun, t0, y0, args)
        return lagged

    def factor(self, fun, t, y, args, c):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")

    def solve(self, state, b):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")
