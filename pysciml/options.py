"""Option objects (solvers, optimisers, strategies): a class decorator for friendly errors, and the checks
of single option values their constructors share."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from .errors import InputError

__all__ = ["options", "check_int", "check_number", "check_bool"]


def options(cls):
    """Make unknown or surplus constructor arguments an :class:`InputError` naming the class.

    Apply on top of ``@dataclasses.dataclass``; the dataclass' own checks
    (``__post_init__``) still run.
    """
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls) if f.init]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in names]
        if unknown or len(args) > len(names):
            what = f"unknown option(s) {unknown}" if unknown else f"{len(args)} positional arguments"
            raise InputError(
                f"{what}; {cls.__name__} takes {', '.join(names) or 'no options'}.",
                argument=cls.__name__,
            )
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


def _real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_int(value, argument: str, *, minimum: int = 1, allow_none: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is an integer ``>= minimum`` (``True`` is not an integer here)."""
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InputError(f"must be {what}{' or None' if allow_none else ''}, got {value!r}.", argument=argument)


def check_number(
    value,
    argument: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = True,
    high_open: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite real number inside the interval.

    ``low``/``high`` ``None`` leave that side open; ``low_open``/``high_open`` exclude the end itself
    (the default ``low=0`` check is ``value > 0``).
    """
    if value is None and allow_none:
        return
    ok = _real(value) and bool(np.isfinite(float(value)))  # type: ignore[arg-type]
    x = float(value) if ok else 0.0  # type: ignore[arg-type]
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        if low == 0 and high is None:
            what = "a positive number" if low_open else "a non-negative number"
        elif low is None and high is None:
            what = "a finite number"
        else:
            lb = ("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}")
            hb = ("inf" if high is None else f"{high:g}") + (")" if high_open else "]")
            what = f"a number in {lb}, {hb}"
        raise InputError(f"must be {what}{' or None' if allow_none else ''}, got {value!r}.", argument=argument)


def positive_float(value, argument: str) -> float:
    """``value`` as a float, after :func:`check_number` (positive and finite); 0-d arrays count as numbers."""
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        value = value.item()  # a 0-d numpy or (concrete) jax array
    check_number(value, argument, low=0)
    return float(value)


def check_bool(value, argument: str, *, allow_none: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is ``True`` or ``False`` (or ``None`` where allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"must be True or False{' or None' if allow_none else ''}, got {value!r}.", argument=argument)
