"""NetCDF and Zarr writes that never leave a half-written file under the user's name."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .atomic import atomic_path

__all__ = ["write_netcdf", "write_zarr"]


def _netcdf_engine() -> str:
    for name, module in (("netcdf4", "netCDF4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
            return name
        except ImportError:
            continue
    raise InputError(
        "no NetCDF library is installed; pip install netCDF4 (or h5netcdf).", argument="engine"
    )


def write_netcdf(ds, path: str | os.PathLike, *, engine: str | None = None, **kwargs) -> Path:
    """Write ``ds`` (an ``xarray.Dataset``) to NetCDF at ``path`` atomically.

    The data go to a temporary file beside ``path`` that is renamed onto
    ``path`` only once complete, so an interruption leaves the previous file intact.

    Args:
        ds: the dataset.
        path: target file name (``.nc``).
        engine: xarray NetCDF engine (``"netcdf4"`` or ``"h5netcdf"``; default: whichever is installed).
        **kwargs: passed to ``xarray.Dataset.to_netcdf`` (``encoding=``...).
    """
    path = Path(path)
    engine = engine or _netcdf_engine()
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=engine, **kwargs)
    return path


def write_zarr(ds, path: str | os.PathLike, **kwargs) -> Path:
    """Write ``ds`` to a Zarr (v3) store at ``path`` atomically (a complete store, then a rename).

    Args:
        ds: the dataset.
        path: target store directory (``.zarr``).
        **kwargs: passed to ``xarray.Dataset.to_zarr``.
    """
    try:
        import zarr  # noqa: F401
    except ImportError:
        raise InputError('writing Zarr needs the zarr package; pip install "pysciml[dask]".', argument="path") from None
    path = Path(path)
    kwargs.setdefault("zarr_format", 3)
    kwargs.setdefault("consolidated", False)
    with atomic_path(path, directory=True) as tmp:
        ds.to_zarr(tmp, mode="w", **kwargs)
    return path
