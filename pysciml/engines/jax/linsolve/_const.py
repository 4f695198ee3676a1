"""A numpy array held as static (hashable by identity) data of an equinox module."""

from __future__ import annotations

import numpy as np

__all__ = ["Const"]


class Const:
    """Wraps a constant numpy array so a strategy holding it stays hashable (a static field).

    Equality and hash are by identity: two strategies are the same static
    configuration only when they share the very same arrays (as after ``prepare``).
    """

    __slots__ = ("v",)

    def __init__(self, value):
        self.v = np.asarray(value)
        self.v.setflags(write=False)

    def __hash__(self):
        return id(self.v)

    def __eq__(self, other):
        return isinstance(other, Const) and other.v is self.v

    def __repr__(self):
        return f"Const({self.v.dtype}{list(self.v.shape)})"
