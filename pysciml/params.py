"""Parameter declarations: defaults, bounds, units.

A model's parameters are declared as a mapping ``{"k1": 0.04, ...}``; a bare
number (or array) is the default value, a :class:`Param` adds bounds, units
and a description.  Everything here is plain numpy: no engine is imported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InputError, ModelError

__all__ = ["Param", "ParamSpec", "normalise_params"]


@dataclasses.dataclass(frozen=True, eq=False)
class Param:
    """A physics parameter declaration.

    Args:
        default: default value, a number or an array (a field over a grid).
        bounds: ``(low, high)``; either end may be ``None`` for unbounded.
            Fits keep the parameter inside through a smooth transform.
        units: units string (CF/UDUNITS style, e.g. ``"1/day"``), carried to outputs.
        description: free text carried to outputs as ``long_name``.
        fixed: when True, fits never change this parameter.
    """

    default: Any
    bounds: tuple[float | None, float | None] | None = None
    units: str | None = None
    description: str | None = None
    fixed: bool = False


@dataclasses.dataclass(frozen=True, eq=False)
class ParamSpec:
    """A normalised parameter declaration (name, default as float64 array, bounds...)."""

    name: str
    default: np.ndarray
    bounds: tuple[float | None, float | None] | None
    units: str | None
    description: str | None
    fixed: bool

    @property
    def shape(self) -> tuple[int, ...]:
        return self.default.shape

    @property
    def size(self) -> int:
        return int(self.default.size)

    def check_value(self, value, *, argument: str, error: type = InputError) -> None:
        """Raise :class:`InputError` if a concrete value is non-finite or out of bounds."""
        try:
            arr = np.asarray(value, dtype=float)
        except Exception:  # a tracer or something odd: nothing to check concretely
            return
        if not np.all(np.isfinite(arr)):
            raise error(
                f"parameter {self.name!r} has a NaN or infinite value ({value!r}); pass finite numbers.",
                argument=argument,
            )
        if self.bounds is not None:
            lo, hi = self.bounds
            if lo is not None and np.any(arr < lo) or hi is not None and np.any(arr > hi):
                raise error(
                    f"parameter {self.name!r} = {value!r} is outside its declared bounds "
                    f"{self.bounds}; pass a value inside them or change the declaration.",
                    argument=argument,
                )


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(
            f"{what} name {name!r} is not a valid Python identifier; names are used as "
            f"attributes (p.name), so use letters, digits and underscores.",
            argument=what + "s",
        )
    return name


def _bounds(name: str, bounds: Any) -> tuple[float | None, float | None] | None:
    """``(low, high)`` with ``None`` for an open end (an infinite end is open too); ``None`` if unbounded."""
    if bounds is None:
        return None
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
        raise ModelError(
            f"bounds of {name!r} must be (low, high) with None for an open end, got {bounds!r}.",
            argument=f"params.{name}",
        )
    ends = []
    for b in bounds:
        try:
            ends.append(None if b is None else float(b))
        except (TypeError, ValueError):
            raise ModelError(
                f"bounds of {name!r} must be numbers or None, got {bounds!r}.", argument=f"params.{name}"
            ) from None
    lo, hi = ends
    if lo is not None and (np.isnan(lo) or lo == np.inf) or hi is not None and (np.isnan(hi) or hi == -np.inf):
        raise ModelError(
            f"bounds of {name!r} must satisfy low < high with finite ends (None for an open end), got {bounds!r}.",
            argument=f"params.{name}",
        )
    lo = None if lo == -np.inf else lo
    hi = None if hi == np.inf else hi
    if lo is not None and hi is not None and not lo < hi:
        raise ModelError(f"bounds of {name!r} must satisfy low < high, got {bounds!r}.", argument=f"params.{name}")
    return None if lo is None and hi is None else (lo, hi)


def normalise_params(params: Mapping[str, Any] | None) -> dict[str, ParamSpec]:
    """Turn a user's ``params=`` mapping into ordered :class:`ParamSpec` objects."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ModelError(
            f"params must be a mapping of name -> default value or ps.Param, got "
            f"{type(params).__name__}; e.g. params={{'k1': 0.04}}.",
            argument="params",
        )
    out: dict[str, ParamSpec] = {}
    for name, decl in params.items():
        _check_name(name, "param")
        if not isinstance(decl, Param):
            decl = Param(decl)
        try:
            default = np.array(decl.default, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelError(
                f"default of parameter {name!r} is not numeric ({decl.default!r}): {exc}",
                argument=f"params.{name}",
            ) from None
        bounds = _bounds(name, decl.bounds)
        if not isinstance(decl.fixed, (bool, np.bool_)):
            raise ModelError(f"fixed of {name!r} must be True or False, got {decl.fixed!r}.", argument=f"params.{name}")
        for what in ("units", "description"):
            if getattr(decl, what) is not None and not isinstance(getattr(decl, what), str):
                raise ModelError(
                    f"{what} of {name!r} must be a string or None, got {getattr(decl, what)!r}.",
                    argument=f"params.{name}",
                )
        spec = ParamSpec(name, default, bounds, decl.units, decl.description, bool(decl.fixed))
        if not np.all(np.isfinite(default)):
            raise ModelError(
                f"default of parameter {name!r} has NaN or infinite entries; give a finite default.",
                argument=f"params.{name}",
            )
        spec.check_value(default, argument=f"params.{name}", error=ModelError)
        out[name] = spec
    return out
