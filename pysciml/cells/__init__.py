"""Cells of gridded xarray data: per-cell and spatially coupled models, fitted and solved, over dask too.

    res = ds["sst"].sciml.fit(model, per_cell=["damping", "forcing"], time_units="days",
                              mask=ds["land"] == 0)
    sim = ds["sst"].sciml.solve(model, params=res)
    res.sciml.to_netcdf("fit.nc")

The same as plain functions: :func:`fit_cells`, :func:`solve_cells`,
:func:`forecast_cells`, :func:`to_netcdf`, :func:`to_zarr`.  Importing this module
registers the ``.sciml`` accessor (``import pysciml`` arranges it as soon as
xarray is imported).  No engine is imported here.
"""

from ..io.files import to_netcdf, to_zarr
from .accessor import SciMLAccessor, register
from .fit import DEFAULT_CELL_OPTIMIZERS, DEFAULT_JOINT_OPTIMIZERS, fit_cells
from .simulate import forecast_cells, solve_cells

register()

__all__ = [
    "fit_cells",
    "solve_cells",
    "forecast_cells",
    "to_netcdf",
    "to_zarr",
    "SciMLAccessor",
    "register",
    "DEFAULT_CELL_OPTIMIZERS",
    "DEFAULT_JOINT_OPTIMIZERS",
]
