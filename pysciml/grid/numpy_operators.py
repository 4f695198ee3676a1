"""The numpy reference grid operators (``m.laplacian`` ... under numpy), for checks and discovery."""

from __future__ import annotations

import numpy as np

from .checks import check_field, check_grid, check_scheme, check_vector, check_velocity
from .operators import advect, divergence, gradient, laplacian

__all__ = ["laplacian_numpy", "advect_numpy", "gradient_numpy", "divergence_numpy"]


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
    return laplacian(check_field(f, grid, "f", np), grid.coefficients, np)


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
    return advect(f, u, v, grid.coefficients, check_scheme(scheme), np)


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
    return gradient(check_field(f, grid, "f", np), grid.coefficients, np)


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
    return divergence(fy, fx, grid.coefficients, np)
