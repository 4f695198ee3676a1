"""Optimiser objects chained by a fit: ``optimizers=[ps.Adam(1e-2, steps=1500), ps.LBFGS(steps=300)]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..options import check_int, check_number, options

__all__ = ["Optimizer", "Adam", "LBFGS", "LevenbergMarquardt", "resolve_optimizers", "DEFAULT_OPTIMIZERS"]

_SCHEDULES = ("constant", "cosine", "exponential", "warmup_cosine")


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """Base of the optimiser objects (abstract)."""

    @property
    def name(self) -> str:
        return type(self).__name__


def _positive(value: Any, name, *, integer=False, allow_none=False):
    check_number(value, name, low=0, allow_none=allow_none)
    if integer and value is not None and not float(value).is_integer():
        raise InputError(f"must be a positive integer, got {value!r}.", argument=name)


@options
@dataclasses.dataclass(frozen=True)
class Adam(Optimizer):
    """Adam (optax) with an optional learning-rate schedule, clipping and early stopping.

    Args:
        learning_rate: initial learning rate.
        steps: number of steps.
        schedule: ``"constant"``, ``"cosine"`` (decay to ``final_fraction``),
            ``"exponential"`` (decay to ``final_fraction``) or ``"warmup_cosine"``.
        final_fraction: final learning rate as a fraction of the initial one.
        clip: clip the global gradient norm to this value (``None``: no clipping).
        patience: stop early when the loss has not improved by ``min_delta`` (relative)
            for this many steps (``None``: never).
        min_delta: relative improvement that counts for ``patience``.
    """

    learning_rate: float = 1e-2
    steps: int = 1000
    schedule: str = "constant"
    final_fraction: float = 0.1
    clip: float | None = 10.0
    patience: int | None = None
    min_delta: float = 1e-4

    def __post_init__(self):
        _positive(self.learning_rate, "Adam.learning_rate")
        _positive(self.steps, "Adam.steps", integer=True)
        _positive(self.clip, "Adam.clip", allow_none=True)
        _positive(self.patience, "Adam.patience", integer=True, allow_none=True)
        if self.schedule not in _SCHEDULES:
            raise InputError(
                f"unknown schedule {self.schedule!r}; choose one of {_SCHEDULES}.", argument="Adam.schedule"
            )
        check_number(self.final_fraction, "Adam.final_fraction", low=0, high=1)
        check_number(self.min_delta, "Adam.min_delta", low=0, low_open=False)
        if self.patience is not None and self.patience >= self.steps:
            raise InputError(
                f"patience={self.patience} is not below steps={self.steps}, so early stopping could never "
                "happen; lower patience or leave it None.",
                argument="Adam.patience",
            )


@options
@dataclasses.dataclass(frozen=True)
class LBFGS(Optimizer):
    """Limited-memory BFGS with a line search (optax), for the final polish.

    Args:
        steps: maximum number of iterations.
        memory: number of stored correction pairs.
        tol: stop when the gradient norm falls below this.
    """

    steps: int = 300
    memory: int = 10
    tol: float = 1e-9

    def __post_init__(self):
        _positive(self.steps, "LBFGS.steps", integer=True)
        _positive(self.memory, "LBFGS.memory", integer=True)
        _positive(self.tol, "LBFGS.tol")


DEFAULT_OPTIMIZERS = (Adam(1e-2, steps=1500, schedule="cosine", final_fraction=0.1), LBFGS(steps=300))


# -- Levenberg-Marquardt: the default optimiser of per-cell fits ---------------------------
# A cell of a gridded fit has a handful of parameters and a least-squares loss, the case
# Gauss-Newton methods are made for: the Jacobian of the residuals comes from one forward-mode
# pass through the solver (one tangent per parameter), and each step solves a tiny damped
# normal system.  Measured on damped-relaxation cells (``benchmarks/gridded.py``), 25 steps
# reach the optimum to rounding in cells where 250 Adam steps leave a tenth of the cells at
# several times the optimal loss.
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
        check_int(self.steps, "LevenbergMarquardt.steps")
        for name in ("damping", "tol"):
            check_number(getattr(self, name), f"LevenbergMarquardt.{name}", low=0)


def resolve_optimizers(value: Any) -> tuple[Optimizer, ...]:
    """A tuple of optimiser objects from one object, a list, or ``None`` (the default chain)."""
    if value is None:
        return DEFAULT_OPTIMIZERS
    if isinstance(value, Optimizer):
        return (value,)
    if isinstance(value, Sequence) and not isinstance(value, str) and value:
        bad = [v for v in value if not isinstance(v, Optimizer)]
        if not bad:
            return tuple(value)
    raise InputError(
        f"must be an optimiser or a list of them, e.g. [ps.Adam(1e-2, steps=1500), ps.LBFGS(steps=300)]; "
        f"got {value!r}.",
        argument="optimizers",
    )
