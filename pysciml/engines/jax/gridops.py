"""Grid operators of the jax engine: ``m.laplacian``, ``m.advect``, ``m.gradient``, ``m.divergence``.

Same discretisation as the numpy reference in :mod:`pysciml.grid` (both run
the kernels of :mod:`pysciml.grid.operators`, here with ``jax.numpy``), documented
in ``docs/grid.md``.  All four are jit-able, vmap-able (fields may carry leading
batch axes too) and differentiable with respect to the field and the velocity.
A grid is a static description: close over it (``lambda T: laplacian(T, grid)``)
or mark it static (``jax.jit(f, static_argnums=...)``); grids hash by identity.

float64 needs ``jax.config.update("jax_enable_x64", True)`` (the jax engine sets it).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...grid.base import AxisOps, GridOps
from ...grid.checks import (
    check_field,
    check_grid,
    check_scheme,
    check_vector,
    check_velocity,
)
from ...grid.operators import advect as fv_advect
from ...grid.operators import divergence as fv_divergence
from ...grid.operators import gradient as fv_gradient
from ...grid.operators import laplacian as fv_laplacian

__all__ = ["laplacian", "advect", "gradient", "divergence", "mean"]

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _jax_ops(grid) -> GridOps:
    """The grid's coefficient arrays as jax arrays (converted once per grid and dtype mode)."""
    key = jnp.result_type(float)
    with _lock:
        per_grid = _cache.setdefault(grid, {})
        ops = per_grid.get(key)
        if ops is None:
            # concrete constants even when first called under jit (never cache tracers)
            with jax.ensure_compile_time_eval():
                ops = _convert(grid.coefficients, key)
            per_grid[key] = ops
        return ops


def _convert(g: GridOps, dtype) -> GridOps:
    def conv(a: AxisOps) -> AxisOps:
        return a._replace(
            **{k: jnp.asarray(v, dtype=dtype) for k, v in a._asdict().items() if isinstance(v, np.ndarray)}
        )

    mask: Any = None if g.mask is None else jnp.asarray(g.mask)
    inv_area: Any = jnp.asarray(g.inv_area, dtype=dtype)
    return GridOps(conv(g.y), conv(g.x), inv_area, mask)


def laplacian(f, grid):
    """Conservative finite-volume Laplacian ``div(grad f)``.

    Args:
        f: field, shape ``(..., ny, nx)``.
        grid: a :class:`pysciml.grid.RegularGrid` or :class:`pysciml.grid.LatLonGrid`.
    Returns:
        same shape; units of ``f`` per length^2 (per m^2 on the sphere); 0 in masked cells.
    """
    grid = check_grid(grid)
    return fv_laplacian(check_field(f, grid, "f", jnp), _jax_ops(grid), jnp)


def advect(f, velocity, grid, scheme: str = "upwind"):
    """Advective tendency ``-div(velocity f)`` (flux form).

    Args:
        f: transported field, shape ``(..., ny, nx)``.
        velocity: ``(u, v)`` at centres, ``u`` along x / east, ``v`` along y / north
            (m/s on the sphere); numbers or arrays broadcastable to ``f``.
        grid: the grid.
        scheme: ``"upwind"`` (first order) or ``"centered"`` (second order).
    Returns:
        ``df/dt`` due to transport, same shape as ``f``; 0 in masked cells.
    """
    grid = check_grid(grid)
    f = check_field(f, grid, "f", jnp)
    u, v = check_velocity(velocity, f, grid, jnp)
    return fv_advect(f, u, v, _jax_ops(grid), check_scheme(scheme), jnp)


def gradient(f, grid):
    """``(df/dy, df/dx)`` at cell centres (north / east on the sphere, per metre).

    Args:
        f: field, shape ``(..., ny, nx)``.
        grid: the grid.
    """
    grid = check_grid(grid)
    return fv_gradient(check_field(f, grid, "f", jnp), _jax_ops(grid), jnp)


def divergence(vector, grid):
    """Flux-form divergence of ``vector = (fy, fx)`` given at cell centres.

    Args:
        vector: ``(fy, fx)``, +y / north and +x / east components, each ``(..., ny, nx)``.
        grid: the grid.
    """
    grid = check_grid(grid)
    fy, fx = check_vector(vector, grid, jnp)
    return fv_divergence(fy, fx, _jax_ops(grid), jnp)


def mean(f, grid):
    """Area-weighted mean over active cells, shape ``f.shape[:-2]`` (same as ``grid.mean``)."""
    return check_grid(grid).mean(jnp.asarray(f))
