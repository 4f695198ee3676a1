"""Grids and method-of-lines operators for spatially coupled models.

Grid descriptions are engine-free (numpy only); each engine implements the
operators natively with the same discretisation.  This module holds the grid
specs and the numpy reference operators; the jax engine's are in
:mod:`pysciml.engines.jax.gridops`; the exact formulas are in ``docs/grid.md``.

Example::

    grid = ps.grid.LatLonGrid(lat=ds.lat, lon=ds.lon, mask=ds.land == 0)  # True = ocean
    def ebm(T, p, t, m):
        return (p.forcing - p.lam * T + p.D * m.laplacian(T, grid)) / p.C

Discretisation in one paragraph: cell-centred finite volumes.  Fields are
values at cell centres, shape ``(..., ny, nx)``.  Every operator is a sum of
fluxes through the four faces of a cell divided by the cell area, each flux
computed once per face, so area-weighted sums are conserved to round-off.
Faces between an active and a masked cell, Neumann walls and pole faces carry
no flux; masked cells' inputs are ignored and their outputs are exactly 0, so
NaN on land is harmless.  Sign conventions: ``gradient`` returns
``(d/dy, d/dx)`` (north, east on the sphere) whatever the order of the
coordinates; ``advect`` takes ``velocity=(u, v)`` with ``u`` along x / east and
``v`` along y / north (m/s on the sphere) and returns the *tendency*
``-div(velocity * f)``, the rate of change of ``f`` due to transport.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from . import _ops
from ._base import Grid
from .latlon import EARTH_RADIUS, LatLonGrid, from_xarray
from .matrix import laplacian_matrix
from .regular import RegularGrid

__all__ = [
    "Grid", "RegularGrid", "LatLonGrid", "EARTH_RADIUS", "from_xarray",
    "laplacian_numpy", "advect_numpy", "gradient_numpy", "divergence_numpy", "laplacian_matrix",
]


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
                f"field's shape {np.shape(f)}.", argument=argument) from None
        if c.ndim < 2:
            c = xp.broadcast_to(c, grid.shape)
        out.append(c)
    return out


def check_scheme(scheme):
    if scheme not in _ops.SCHEMES:
        raise InputError(f"unknown advection scheme {scheme!r}; choose 'upwind' (first order, "
                         "monotone) or 'centered' (second order).", argument="scheme")
    return scheme


def laplacian_numpy(f, grid):
    """Conservative finite-volume Laplacian of ``f`` (numpy reference).

    Args:
        f: field, shape ``(..., ny, nx)``, in any units ``U``.
        grid: a :class:`RegularGrid` or :class:`LatLonGrid`.
    Returns:
        ``div(grad f)``, same shape, units ``U / length^2`` (``U/m^2`` on the sphere);
        exactly 0 in masked cells.
    """
    grid = check_grid(grid)
    return _ops.laplacian(check_field(f, grid, "f", np), grid._ops, np)


def advect_numpy(f, velocity, grid, scheme: str = "upwind"):
    """Advective tendency ``-div(velocity f)`` in flux form (numpy reference).

    Args:
        f: transported field, shape ``(..., ny, nx)``.
        velocity: ``(u, v)`` at cell centres: ``u`` along x (eastward), ``v`` along y
            (northward), numbers or arrays of shape ``(ny, nx)`` (m/s on the sphere).
        grid: the grid.
        scheme: ``"upwind"`` (first order) or ``"centered"`` (second order).
    Returns:
        ``df/dt`` due to transport, same shape as ``f``, 0 in masked cells.
    """
    grid = check_grid(grid)
    f = check_field(f, grid, "f", np)
    u, v = check_velocity(velocity, f, grid, np)
    return _ops.advect(f, u, v, grid._ops, check_scheme(scheme), np)


def gradient_numpy(f, grid):
    """Gradient ``(df/dy, df/dx)`` at cell centres (numpy reference).

    Args:
        f: field, shape ``(..., ny, nx)``.
        grid: the grid.
    Returns:
        two arrays like ``f``: the northward / +y and eastward / +x derivatives
        (per metre on the sphere); 0 in masked cells.
    """
    grid = check_grid(grid)
    return _ops.gradient(check_field(f, grid, "f", np), grid._ops, np)


def divergence_numpy(vector, grid):
    """Flux-form divergence of a vector field given at cell centres (numpy reference).

    Args:
        vector: ``(fy, fx)``: +y / northward and +x / eastward components, each of shape
            ``(..., ny, nx)`` (the order :func:`gradient_numpy` returns).
        grid: the grid.
    Returns:
        ``div(vector)``, shape ``(..., ny, nx)``; 0 in masked cells.
    """
    grid = check_grid(grid)
    fy, fx = check_vector(vector, grid, np)
    return _ops.divergence(fy, fx, grid._ops, np)


def check_vector(vector, grid, xp):
    if isinstance(vector, (str, bytes)) or not hasattr(vector, "__len__") or len(vector) != 2:
        raise InputError("must be a pair (fy, fx) of fields of shape (..., ny, nx).", argument="vector")
    return check_field(vector[0], grid, "vector", xp), check_field(vector[1], grid, "vector", xp)
