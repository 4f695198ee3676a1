"""NetCDF and Zarr writes that never leave a half-written file under the user's name."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .atomic import atomic_path, check_target
from .cf import cf_clean

__all__ = ["write_netcdf", "write_zarr", "to_netcdf", "to_zarr"]


_NETCDF_ENGINES = ("netcdf4", "h5netcdf", "scipy")


def _check_dataset(ds) -> None:
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        raise InputError(f"must be an xarray.Dataset, got {type(ds).__name__}.", argument="ds")


def _netcdf_engine() -> str:
    for name, module in (("netcdf4", "netCDF4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
            return name
        except ImportError:
            continue
    raise InputError("no NetCDF library is installed; pip install netCDF4 (or h5netcdf).", argument="engine")


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
    _check_dataset(ds)
    path = check_target(path, argument="path")
    if "mode" in kwargs:
        raise InputError(
            "atomic writes always write a complete new file (mode='w'); to add variables, "
            "merge them into the dataset and write it again.",
            argument="mode",
        )
    if engine is not None and engine not in _NETCDF_ENGINES:
        raise InputError(
            f"unknown NetCDF engine {engine!r}; use one of {list(_NETCDF_ENGINES)} (or None).", argument="engine"
        )
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
    _check_dataset(ds)
    path = check_target(path, argument="path", directory=True)
    if "mode" in kwargs or "append_dim" in kwargs:
        raise InputError(
            "atomic writes always write a complete new store; merge the new data into the dataset and write it again.",
            argument="mode" if "mode" in kwargs else "append_dim",
        )
    if (
        path.is_dir()
        and any(path.iterdir())
        and not any((path / marker).exists() for marker in ("zarr.json", ".zgroup", ".zarray"))
    ):
        raise InputError(
            f"{path} is a directory that is not a Zarr store; writing would replace everything in it. "
            "Choose a new name (e.g. results.zarr) or remove the directory yourself.",
            argument="path",
        )
    kwargs.setdefault("zarr_format", 3)
    kwargs.setdefault("consolidated", False)
    with atomic_path(path, directory=True) as tmp:
        ds.to_zarr(tmp, mode="w", **kwargs)
    return path


def to_netcdf(obj, path: str | os.PathLike, **kwargs) -> Path:
    """Write a result (Dataset or DataArray) to NetCDF atomically.

    Args:
        obj: the result; dask-backed values are computed chunk by chunk while writing.
        path: target file; an interrupted write leaves the previous file intact.
        **kwargs: passed to :func:`write_netcdf` (``engine=``, ``encoding=`` ...).
    """
    return write_netcdf(cf_clean(obj), path, **kwargs)


def to_zarr(obj, path: str | os.PathLike, **kwargs) -> Path:
    """Write a result to a Zarr v3 store atomically (see :func:`write_zarr`)."""
    return write_zarr(cf_clean(obj), path, **kwargs)
