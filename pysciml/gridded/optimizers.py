"""Levenberg-Marquardt: the default optimiser of per-cell fits (least squares, few parameters per cell).

A cell of a gridded fit has a handful of parameters and a least-squares loss, the
case Gauss-Newton methods are made for: the Jacobian of the residuals comes from
one forward-mode pass through the solver (one tangent per parameter), and each
step solves a tiny damped normal system.  Measured on damped-relaxation cells
(``benchmarks/gridded.py``), 25 steps reach the optimum to rounding in cells
where 250 Adam steps leave a tenth of the cells at several times the optimal loss.
"""

from __future__ import annotations

import dataclasses

from ..options import options
from ..errors import InputError
from ..fitting.optimizers import Optimizer

__all__ = ["LevenbergMarquardt"]


@options
@dataclasses.dataclass(frozen=True)
class LevenbergMarquardt(Optimizer):
    """Levenberg-Marquardt for least-squares losses (``ps.MSE``), per cell of a gridded fit.

    Step: solve ``(J^T J + mu diag(J^T J)) d = -J^T r`` for the scaled residuals ``r``; a step
    that lowers the loss is kept and ``mu`` divided by 3, otherwise it is rejected and ``mu``
    doubled.  A cell stops when its gradient norm falls below ``tol``; a non-finite
    residual (a failed solve) is a rejected step for that cell only.

    Args:
        steps: number of iterations (each one forward-mode solve per cell).
        damping: initial ``mu``.
        tol: stop a cell when ``|J^T r|`` (max norm) falls below this.
    """

    steps: int = 25
    damping: float = 1e-3
    tol: float = 1e-12

    def __post_init__(self):
        if not isinstance(self.steps, int) or isinstance(self.steps, bool) or self.steps < 1:
            raise InputError(f"must be a positive integer, got {self.steps!r}.", argument="LevenbergMarquardt.steps")
        for name in ("damping", "tol"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise InputError(f"must be a positive number, got {v!r}.", argument=f"LevenbergMarquardt.{name}")
