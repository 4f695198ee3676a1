"""Argument checks and solve wrappers shared by the climate models."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...errors import InputError
from ...solution import is_concrete

__all__ = ["finite_number", "output_times", "concrete_solution"]


def finite_number(value, name: str, *, positive: bool = False, unit_interval: bool = False) -> float:
    """``value`` as a finite float (positive, or in [0, 1], when asked), else an InputError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a finite number, got {value!r}.", argument=name) from None
    if not math.isfinite(v):
        raise InputError(f"must be a finite number, got {value!r}.", argument=name)
    if positive and v <= 0:
        raise InputError(f"must be positive, got {value!r}.", argument=name)
    if unit_interval and not 0.0 <= v <= 1.0:
        raise InputError(f"is an albedo and must lie in [0, 1], got {value!r}.", argument=name)
    return v


def output_times(t) -> np.ndarray:
    """At least two increasing output times (years) as a float array."""
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise InputError("must be at least two increasing output times in years.", argument="t")
    return t


def concrete_solution(sol: Any) -> Any:
    """``sol`` when it holds values and succeeded (before it is turned into xarray)."""
    if not is_concrete(sol.u):
        raise InputError(
            "simulate returns xarray, which cannot hold jax tracers; inside jax.grad use trajectory().",
            argument="params",
        )
    if not sol.ok:
        raise InputError(f"the integration failed: {sol.message}", argument="t")
    return sol
