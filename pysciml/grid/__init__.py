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

from .base import Grid
from .checks import check_field, check_grid, check_scheme, check_vector, check_velocity
from .latlon import EARTH_RADIUS, LatLonGrid, from_xarray
from .matrix import laplacian_matrix
from .numpy_operators import (
    advect_numpy,
    divergence_numpy,
    gradient_numpy,
    laplacian_numpy,
)
from .regular import RegularGrid

__all__ = [
    "Grid",
    "RegularGrid",
    "LatLonGrid",
    "EARTH_RADIUS",
    "from_xarray",
    "laplacian_numpy",
    "advect_numpy",
    "gradient_numpy",
    "divergence_numpy",
    "laplacian_matrix",
    "check_grid",
    "check_field",
    "check_velocity",
    "check_scheme",
    "check_vector",
]
