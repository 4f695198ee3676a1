"""How many batches of in-memory cells run at once in threads (per-cell fits, solves and forecasts)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

__all__ = ["resolve_workers", "refuse_unused_workers"]


def resolve_workers(workers) -> int:
    """``workers`` checked; None: the CPU cores, at most 4 (XLA runs one batch on one core)."""
    if workers is None:
        return max(1, min(4, os.cpu_count() or 1))
    if not isinstance(workers, (int, np.integer)) or isinstance(workers, bool) or workers < 1:
        raise InputError(f"must be a positive integer, got {workers!r}.", argument="workers")
    return int(workers)


def refuse_unused_workers(workers, why: str | None) -> None:
    """An ``InputError`` when the user set ``workers=`` but the run cannot use threads (``why`` says why)."""
    if workers is not None and why is not None:
        raise InputError(
            f"workers= runs batches of in-memory cells in threads; {why}, so it would not be used. Drop workers=.",
            argument="workers",
        )
