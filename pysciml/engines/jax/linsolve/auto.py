"""What ``linsolve="auto"`` means on the jax engine: dense LU when small, banded or lagged sparse beyond.

``prepare`` decides once, outside ``jit``, from the state size and (above
``dense_max``) the Jacobian pattern, detected once (or the one given):

* a narrow band: when the half-bandwidth after reverse Cuthill-McKee ordering
  is at most :data:`.banded.BAND_MAX` (a method-of-lines problem in one space
  dimension), :class:`.banded.BandedLU` (block cyclic reduction; 1-D
  Brusselator, 1,000 states, Rodas5P at ``rtol=1e-3``: about 4x faster than
  the lagged sparse LU);
* otherwise a sparse factorisation, but only when its symbolic analysis
  predicts clearly fewer flops than dense LU (a dense-ish Jacobian, e.g. a
  neural network coupling every state, stays dense).  The sparse choice is
  :class:`.lagged.LaggedSparseLU` (a sparse LU of ``W`` kept over steps as the
  preconditioner of an exact matrix-free GMRES solve), which beat both dense
  LU and a sparse LU refactorised every step from about 100 states on.

It returns the chosen, prepared strategy itself.

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
    """Resolves to ``DenseLU`` (``n <= dense_max`` or dense-ish Jacobian), ``BandedLU`` (narrow band
    after ordering) or ``LaggedSparseLU`` in :meth:`prepare`.

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
        import equinox as eqx  # (here: the dense path above loads no equinox)

        from .banded import BAND_MAX, BandedLU, band_ordering
        from .lagged import LaggedSparseLU
        from .sparse import SparseLU, prepare_pattern

        pat = prepare_pattern(fun, t0, y0, args, self.sparsity)  # detected once, shared below
        ordering = band_ordering(pat)
        if ordering[1] <= BAND_MAX:
            return BandedLU().from_pattern(pat, ordering)
        lagged = LaggedSparseLU()
        direct = SparseLU(sparsity=pat, leaf_size=lagged.leaf_size, min_pivots=lagged.min_pivots).prepare(
            fun, t0, y0, args
        )
        if direct.prepared()[1].flops > self.sparse_gain * (2.0 * n**3 / 3.0):
            return DenseLU().prepare(fun, t0, y0, args)
        return eqx.tree_at(lambda s: s.direct, lagged, direct, is_leaf=lambda x: x is None)

    def factor(self, fun, t, y, args, c):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")

    def solve(self, state, b):  # pragma: no cover - replaced by prepare
        raise RuntimeError("AutoSolver.prepare(fun, t0, y0, args) must run first; it returns the chosen strategy.")
