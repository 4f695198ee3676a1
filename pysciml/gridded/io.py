"""Writing gridded results: NetCDF and Zarr v3, atomically, with CF-clean attributes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["to_netcdf", "to_zarr", "cf_clean"]


def _clean_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            v = "yes" if v else "no"
        elif isinstance(v, (dict, list, tuple)) and not (isinstance(v, (list, tuple)) and v and all(
                isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in v)):
            v = json.dumps(v, default=str)
        out[k] = v
    return out


def cf_clean(obj):
    """A Dataset whose attributes NetCDF and Zarr can store (booleans -> "yes"/"no", mappings -> JSON)."""
    import xarray as xr

    from ..errors import InputError

    if not isinstance(obj, (xr.Dataset, xr.DataArray)):
        raise InputError(f"must be an xarray Dataset or DataArray, got {type(obj).__name__}.", argument="obj")
    ds = obj.to_dataset(name=obj.name or "data") if isinstance(obj, xr.DataArray) else obj.copy(deep=False)
    ds.attrs = _clean_attrs(ds.attrs)
    for name in list(ds.variables):
        ds[name].attrs = _clean_attrs(ds[name].attrs)
    return ds


def to_netcdf(obj, path: str | os.PathLike, **kwargs) -> Path:
    """Write a result (Dataset or DataArray) to NetCDF atomically.

    Args:
        obj: the result; dask-backed values are computed chunk by chunk while writing.
        path: target file; an interrupted write leaves the previous file intact.
        **kwargs: passed to :func:`pysciml.io.files.write_netcdf` (``engine=``, ``encoding=`` ...).
    """
    from ..io.files import write_netcdf

    return write_netcdf(cf_clean(obj), path, **kwargs)


def to_zarr(obj, path: str | os.PathLike, **kwargs) -> Path:
    """Write a result to a Zarr v3 store atomically (see :func:`pysciml.io.files.write_zarr`)."""
    from ..io.files import write_zarr

    return write_zarr(cf_clean(obj), path, **kwargs)
