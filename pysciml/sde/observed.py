"""Observed sample paths for :func:`pysciml.fit_sde`: ``(t, x)`` from the forms users hold.

Accepted: an :class:`pysciml.SDESolution`; an ``xarray.Dataset`` with one variable per
state over ``(path, time[, ...])`` (what ``SDESolution.to_xarray()`` writes); an
``xarray.DataArray`` over ``(path, time[, state])``; or an array
``(n_paths, n_times, n_states)`` (``(n_paths, n_times)`` for one state) with ``t``.
The paths share their observation times, which may be unevenly spaced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .solution import SDESolution
from .spec import SDEModel

__all__ = ["observed_paths"]


def _is_xarray(data, kind: str) -> bool:
    return type(data).__module__.startswith("xarray") and type(data).__name__ == kind


def _time_coordinate(data) -> np.ndarray:
    if "time" not in data.coords:
        raise InputError(
            "has no 'time' coordinate; give the paths' dimension 'path' and their time dimension 'time' "
            "with numeric times as its coordinate.",
            argument="data",
        )
    t = np.asarray(data["time"].values)
    if not np.issubdtype(t.dtype, np.number):
        raise InputError(
            f"has a 'time' coordinate of dtype {t.dtype}; fit_sde needs numeric model time (convert "
            "datetimes to elapsed time in the model's units first).",
            argument="data",
        )
    return t.astype(float)


def _from_dataset(model: SDEModel, ds) -> tuple[np.ndarray, np.ndarray]:
    missing = [s for s in model.state_names if s not in ds.data_vars]
    if missing:
        raise InputError(
            f"has no variable for the states {missing}; the model's states are {list(model.state_names)} "
            f"and the dataset holds {list(ds.data_vars)}.",
            argument="data",
        )
    blocks = []
    for spec in model.layout.specs:
        var = ds[spec.name]
        if var.dims[:2] != ("path", "time") and not {"path", "time"} <= set(var.dims):
            raise InputError(
                f"variable {spec.name!r} has dims {var.dims}; it needs ('path', 'time') first.", argument="data"
            )
        var = var.transpose("path", "time", ...)
        arr = np.asarray(var.values, dtype=float)
        if arr.shape[2:] != tuple(spec.shape):
            raise InputError(
                f"variable {spec.name!r} has state shape {arr.shape[2:]}, the model declares {tuple(spec.shape)}.",
                argument="data",
            )
        blocks.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    return _time_coordinate(ds), np.concatenate(blocks, axis=2)


def _from_dataarray(model: SDEModel, da) -> tuple[np.ndarray, np.ndarray]:
    dims = tuple(da.dims)
    extra = [d for d in dims if d not in ("path", "time")]
    if "path" not in dims or "time" not in dims or len(extra) > 1:
        raise InputError(
            f"has dims {dims}; a DataArray of paths needs dims ('path', 'time') or ('path', 'time', 'state').",
            argument="data",
        )
    if extra:
        da = da.transpose("path", "time", extra[0])
        labels = da.coords[extra[0]].values if extra[0] in da.coords else None
        if labels is not None and labels.dtype.kind in "UO":
            names = [str(v) for v in labels]
            if sorted(names) != sorted(model.state_names) or len(model.state_names) != model.n_states:
                raise InputError(
                    f"labels its states {names}; the model's states are {list(model.state_names)}.",
                    argument="data",
                )
            da = da.sel({extra[0]: list(model.state_names)})
        x = np.asarray(da.values, dtype=float)
    else:
        x = np.asarray(da.transpose("path", "time").values, dtype=float)[:, :, None]
    return _time_coordinate(da), x


def observed_paths(model: SDEModel, data: Any, t: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(t, x)``: times ``(n_times,)`` and states ``(n_paths, n_times, n_states)``, checked."""
    from_coords = isinstance(data, SDESolution) or _is_xarray(data, "Dataset") or _is_xarray(data, "DataArray")
    if from_coords and t is not None:
        raise InputError(
            "the times come from the data's own time axis here; leave t out (pass t only with a plain array).",
            argument="t",
        )
    if isinstance(data, SDESolution):
        if not data.ok:
            raise InputError(f"is an SDE solution with failed paths ({data.message}).", argument="data")
        t_arr, x = np.asarray(data.t, dtype=float), np.asarray(data.u, dtype=float)
    elif _is_xarray(data, "Dataset"):
        t_arr, x = _from_dataset(model, data)
    elif _is_xarray(data, "DataArray"):
        t_arr, x = _from_dataarray(model, data)
    else:
        try:
            x = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"must be an array (n_paths, n_times, n_states), an xarray Dataset/DataArray over "
                f"('path', 'time') or an SDESolution; got {type(data).__name__}.",
                argument="data",
            ) from None
        if x.ndim == 2 and model.n_states == 1:
            x = x[:, :, None]
        if x.ndim != 3:
            raise InputError(
                f"has shape {x.shape}; it must be (n_paths, n_times, n_states) = (.., .., {model.n_states})"
                + (" or (n_paths, n_times) for a one-state model." if model.n_states == 1 else "."),
                argument="data",
            )
        if t is None:
            raise InputError("is needed with an array of paths: the observation times, shape (n_times,).", argument="t")
        try:
            t_arr = np.asarray(t, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"must be an array of numeric times, got {type(t).__name__}.", argument="t") from None
    if x.shape[2] != model.n_states:
        raise InputError(
            f"has {x.shape[2]} state values per time; the model {model.name!r} has {model.n_states} "
            f"({list(model.state_names)}).",
            argument="data",
        )
    if t_arr.ndim != 1 or t_arr.shape[0] != x.shape[1]:
        raise InputError(
            f"has shape {t_arr.shape}; it must hold one time per observation, ({x.shape[1]},).", argument="t"
        )
    if x.shape[1] < 2:
        raise InputError(
            f"has {x.shape[1]} observation time(s); fitting an SDE needs transitions, at least 2 times per path.",
            argument="data",
        )
    if x.shape[0] < 1:
        raise InputError("holds no paths.", argument="data")
    if not np.all(np.isfinite(t_arr)):
        raise InputError("contains NaN or infinite times.", argument="t")
    if not np.all(np.diff(t_arr) > 0):
        i = int(np.nonzero(np.diff(t_arr) <= 0)[0][0])
        raise InputError(
            f"must increase strictly; t[{i}] = {t_arr[i]} and t[{i + 1}] = {t_arr[i + 1]}. Sort the times "
            "(and the data with them) and drop repeated times.",
            argument="t",
        )
    bad = ~np.isfinite(x)
    if bad.any():
        p, k, j = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(
            f"contains {int(bad.sum())} NaN or infinite values (first: path {p}, time index {k}, state value {j}); "
            "the transition likelihood needs every path observed at every time: drop or split those paths.",
            argument="data",
        )
    return t_arr, x
