"""The ``.sciml`` accessor on xarray DataArrays and Datasets.

``da.sciml.fit(model, ...)``, ``.solve(...)``, ``.forecast(...)`` call
:func:`pysciml.cells.fit_cells`, :func:`~pysciml.cells.solve_cells` and
:func:`~pysciml.cells.forecast_cells` with the object as ``data``;
``res.sciml.to_netcdf(path)`` / ``.to_zarr(path)`` write atomically
(:mod:`pysciml.io.files`); ``res.sciml.plot(name)``, ``.plot_quality()`` and
``.plot_cell(data=..., model=..., lat=..., lon=...)`` draw (:mod:`pysciml.cells.pictures`).  Registered when :mod:`pysciml.cells` is imported,
and, through the import hook ``pysciml`` installs, as soon as xarray is imported.
"""

from __future__ import annotations

import threading

from ..io.files import to_netcdf, to_zarr
from .fit import fit_cells
from .pictures import cell_picture, map_picture, quality_picture
from .simulate import forecast_cells, solve_cells

__all__ = ["SciMLAccessor", "register"]

_lock = threading.Lock()
_registered = False


class SciMLAccessor:
    """pysciml methods on an xarray object (``obj.sciml``)."""

    def __init__(self, obj):
        self._obj = obj

    def fit(self, model, **options):
        """Fit ``model`` to this gridded data (see :func:`pysciml.cells.fit_cells`)."""

        return fit_cells(self._obj, model, **options)

    def solve(self, model, **options):
        """Solve ``model`` in every cell on this data's grid (see :func:`pysciml.cells.solve_cells`)."""

        return solve_cells(self._obj, model, **options)

    def forecast(self, model, horizon, **options):
        """Extrapolate ``horizon`` model-time units past the data's last time
        (see :func:`pysciml.cells.forecast_cells`)."""

        return forecast_cells(self._obj, model, horizon, **options)

    def plot(self, name=None, *, coastlines=None, ax=None):
        """Maps of ``name`` (a variable or a list; default: the per-cell parameters of a fit
        result); coastlines when cartopy is installed and the grid is lat/lon. ``(fig, axes)``."""

        return map_picture(self._obj, name, coastlines=coastlines, ax=ax)

    def plot_quality(self, *, coastlines=None, ax=None):
        """Maps of a fit's quality: status per cell, loss and RMSE per state. ``(fig, axes)``."""

        return quality_picture(self._obj, coastlines=coastlines, ax=ax)

    def plot_cell(self, *, data, model, n: int = 200, ax=None, **where):
        """One cell, nearest to ``where`` (``lat=10, lon=200``): its data and the fitted model.
        ``(fig, axes)``."""

        return cell_picture(self._obj, data=data, model=model, n=n, ax=ax, **where)

    def to_netcdf(self, path, **kwargs):
        """Write to NetCDF atomically (temporary file, then rename); returns the path."""

        return to_netcdf(self._obj, path, **kwargs)

    def to_zarr(self, path, **kwargs):
        """Write a Zarr v3 store atomically (complete store, then rename); returns the path."""

        return to_zarr(self._obj, path, **kwargs)


def register() -> None:
    """Register ``.sciml`` on ``xr.DataArray`` and ``xr.Dataset`` (idempotent)."""
    global _registered
    import xarray as xr  # may run the import hook, which calls register() first: fine

    with _lock:
        if _registered:
            return
        for cls, reg in ((xr.DataArray, xr.register_dataarray_accessor), (xr.Dataset, xr.register_dataset_accessor)):
            if not hasattr(cls, "sciml"):  # never override someone else's attribute
                reg("sciml")(SciMLAccessor)
        _registered = True
