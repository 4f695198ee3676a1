"""Optimiser objects chained by a fit: ``optimizers=[ps.Adam(1e-2, steps=1500), ps.LBFGS(steps=300)]``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..options import options

__all__ = ["Optimizer", "Adam", "LBFGS", "resolve_optimizers", "DEFAULT_OPTIMIZERS"]

_SCHEDULES = ("constant", "cosine", "exponential", "warmup_cosine")


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """Base of the optimiser objects (abstract)."""

    @property
    def name(self) -> str:
        return type(self).__name__


def _positive(value, name, *, integer=False, allow_none=False):
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise InputError(f"must be {kind}, got {value!r}.", argument=name)


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
            raise InputError(f"unknown schedule {self.schedule!r}; choose one of {_SCHEDULES}.", argument="Adam.schedule")
        if not 0 < self.final_fraction <= 1:
            raise InputError(f"must be in (0, 1], got {self.final_fraction!r}.", argument="Adam.final_fraction")


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
