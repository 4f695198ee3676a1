"""Argument checks shared by every engine's grid operators (numpy only)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .base import Grid
from .operators import SCHEMES

__all__ = ["check_grid", "check_field", "check_velocity", "check_scheme", "check_vector"]


def check_grid(grid) -> Grid:
    """Raise :class:`InputError` unless ``grid`` is a pysciml grid."""
    if not isinstance(grid, Grid):
        raise InputError(
            f"must be a pysciml grid (ps.grid.RegularGrid, ps.grid.LatLonGrid or "
            f"ps.grid.from_xarray(da)); got {type(grid).__name__}.",
            argument="grid",
        )
    return grid


def check_field(f, grid: Grid, argument: str, xp):
    """``f`` as a floating ``xp`` array of shape ``(..., ny, nx)``."""
    try:
        f = xp.asarray(f)
    except (TypeError, ValueError):
        raise InputError(f"must be an array of numbers; got {type(f).__name__}.", argument=argument) from None
    if not xp.issubdtype(f.dtype, xp.floating):
        f = f.astype(xp.result_type(float))
    grid.check_field(f, argument)
    return f


def check_velocity(velocity, f, grid: Grid, xp, argument: str = "velocity"):
    """``(u, v)`` as two floating arrays broadcastable to ``f``'s shape."""
    if isinstance(velocity, (str, bytes)) or not hasattr(velocity, "__len__") or len(velocity) != 2:
        raise InputError(
            "must be a pair (u, v): u along x / eastward, v along y / northward, each a "
            "number or an array of shape (ny, nx) at cell centres (m/s on the sphere).",
            argument=argument,
        )
    out = []
    for name, c in zip("uv", velocity):
        c = check_field(c, grid, argument, xp) if np.ndim(c) >= 2 else xp.asarray(c, dtype=f.dtype)
        try:
            np.broadcast_shapes(np.shape(c), np.shape(f))
        except ValueError:
            raise InputError(
                f"component {name} has shape {np.shape(c)}, which does not broadcast with the "
                f"field's shape {np.shape(f)}.",
                argument=argument,
            ) from None
        if c.ndim < 2:
            c = xp.broadcast_to(c, grid.shape)
        out.append(c)
    return out


def check_scheme(scheme):
    if scheme not in SCHEMES:
        raise InputError(
            f"unknown advection scheme {scheme!r}; choose 'upwind' (first order, "
            "monotone) or 'centered' (second order).",
            argument="scheme",
        )
    return scheme


def check_vector(vector, grid, xp):
    """``(fy, fx)`` as two floating ``xp`` arrays of shape ``(..., ny, nx)``."""
    if isinstance(vector, (str, bytes)) or not hasattr(vector, "__len__") or len(vector) != 2:
        raise InputError("must be a pair (fy, fx) of fields of shape (..., ny, nx).", argument="vector")
    return check_field(vector[0], grid, "vector", xp), check_field(vector[1], grid, "vector", xp)
