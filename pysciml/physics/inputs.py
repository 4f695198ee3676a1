"""Checks of the numbers a simulator is built from: one value per item (joint, spring, body) or a fixed shape.

Each check returns a float array or raises :class:`~pysciml.errors.InputError` naming the argument
and the first offending entry.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["per_item", "of_shape", "SIGNS"]

#: what each ``sign`` requires, in the words of the error message
SIGNS = {"positive": "positive and finite", ">= 0": ">= 0 and finite", "any": "numbers (not NaN)"}


def per_item(value, n: int | None, argument: str, *, sign: str = "positive", item: str = "") -> np.ndarray:
    """``value`` as an ``(n,)`` float array: one number broadcast, or ``n`` numbers.

    Args:
        value: a number or ``n`` numbers.
        n: how many items; ``None``: any count of at least one (a 1-d array, no broadcasting).
        argument: the argument's name, for the error.
        sign: ``"positive"`` (finite, > 0), ``">= 0"`` (finite) or ``"any"`` (not NaN; infinities
            allowed, as for unbounded limits).
        item: what one entry is for (``"joint"``, ``"spring"``): named in the shape error.
    """
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {list(SIGNS)}, got {sign!r}")
    count = "numbers" if n is None else f"one number or {n} numbers"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"must be {count}, got {value!r}.", argument=argument) from None
    if n is None:
        if arr.ndim != 1 or arr.size < 1:
            raise InputError(f"must be a 1-d array of at least one value, got shape {arr.shape}.", argument=argument)
    else:
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            each = f" (one per {item})" if item else ""
            raise InputError(f"must be one number or {n} numbers{each}, got shape {arr.shape}.", argument=argument)
    bad = np.isnan(arr) if sign == "any" else ~np.isfinite(arr)
    if sign == "positive":
        bad |= arr <= 0
    elif sign == ">= 0":
        bad |= arr < 0
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"must be {SIGNS[sign]}; {argument}[{i}] = {arr[i]!r}.", argument=argument)
    return arr


def of_shape(value, shape: tuple[int, ...], argument: str) -> np.ndarray:
    """``value`` as a finite float array of exactly ``shape``."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"must be an array of numbers of shape {shape}.", argument=argument) from None
    if arr.shape != shape:
        raise InputError(f"must have shape {shape}, got {arr.shape}.", argument=argument)
    if not np.all(np.isfinite(arr)):
        raise InputError("contains NaN or infinite values.", argument=argument)
    return arr
