"""Gridded data <-> a ``(cell, time, state)`` layout, keeping dask arrays lazy.

Every dimension of the state variables other than time is a grid dimension;
cells are numbered in C order over the grid dimensions in the order they have
in the (first) state variable.  For a spatially coupled model whose state
``T`` has the grid's shape, ``values[:, :, j]`` transposed to (time, cell) is
exactly that state's flat (C-order) layout.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.ingest import DataWarning, state_names_of
from ..data.readers import (
    ReadOptions,
    dataarray_to_dataset,
    decode_time_coord,
    find_time_dim,
)
from ..data.timeaxis import TimeMeta, to_model_time
from ..data.to_xarray import time_coordinate
from ..data.validate import as_array, check_time_order
from ..errors import DataError, InputError
from ..io.cf import append_history, clean_var_attrs

__all__ = ["GridStack", "stack_cells", "unstack_cells", "cells_to_dataset"]


def _is_dask(a) -> bool:
    return type(a).__module__.split(".")[0] == "dask"


@dataclasses.dataclass(frozen=True, eq=False)
class GridStack:
    """Gridded observations as cells x time x states, and how to put results back.

    Attributes:
        t: (n_t,) float64 model time.
        values: (n_cells, n_t, n_states) float64, NaN = missing; a dask array if the
            input was dask-backed (nothing is computed).
        mask: (n_cells, n_t, n_states) bool, True = observed (lazy for dask input).
        cell_mask: (n_cells,) bool numpy, False for cells the user masked out.
        time: time metadata (to convert model times back).
        state_names, units, state_attrs: per state.
        attrs: dataset attributes of the input.
        grid_dims, grid_shape: the grid dimensions (C order of cells) and their sizes.
        grid_coords: the input's coordinates that do not involve time (an xr.Dataset
            holding only coordinates).
        coord: (n_t,) the user's time values.
        source: the input as a Dataset of state variables with time decoded and, for
            dask input, time in one chunk: hand it to ``xarray.apply_ufunc``.
    """

    t: np.ndarray
    values: Any
    mask: Any
    cell_mask: np.ndarray
    time: TimeMeta
    state_names: tuple[str, ...]
    units: tuple[str | None, ...]
    state_attrs: tuple[dict, ...]
    attrs: dict
    grid_dims: tuple[str, ...]
    grid_shape: tuple[int, ...]
    grid_coords: Any
    coord: np.ndarray
    source: Any

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.grid_shape, dtype=int))

    @property
    def is_lazy(self) -> bool:
        return _is_dask(self.values)


def _refuse_inf(block, state: str, argument: str):
    """A dask block of values, or the DataError numpy input gets at once (run when the block is computed)."""
    if np.isinf(block).any():
        raise DataError(
            f"values of {state!r} contain infinite values; replace them with NaN (missing), "
            "e.g. ds.where(np.isfinite(ds)).",
            argument=argument,
        )
    return block


def _cell_mask(mask, template, grid_dims, grid_shape):
    import xarray as xr

    if mask is None:
        return np.ones(int(np.prod(grid_shape, dtype=int)), bool)
    if not isinstance(mask, xr.DataArray):
        arr = as_array(mask, what="the mask", argument="mask")
        if arr.shape != tuple(grid_shape):
            raise DataError(
                f"has shape {arr.shape}; the grid {dict(zip(grid_dims, grid_shape))} needs "
                f"shape {tuple(grid_shape)} (or pass a DataArray with the grid's coordinates).",
                argument="mask",
            )
        mask = xr.DataArray(arr, dims=grid_dims)
    extra = [d for d in mask.dims if d not in grid_dims]
    if extra:
        raise DataError(
            f"has dimensions {extra} that the data's grid {list(grid_dims)} lacks; "
            "give a mask over the grid dimensions only (e.g. land.isel(time=0)).",
            argument="mask",
        )
    if mask.dtype.kind not in "bui":
        raise DataError(
            f"has dtype {mask.dtype}; give booleans (True = fit this cell), e.g. land == 0.", argument="mask"
        )
    try:
        template, mask = xr.align(template, mask, join="exact")
    except ValueError:
        bad = [
            d
            for d in mask.dims
            if d in template.coords
            and d in mask.coords
            and not np.array_equal(np.asarray(template[d]), np.asarray(mask[d]))
        ]
        raise DataError(
            f"its coordinates differ from the data's along {bad or list(mask.dims)}; put it on the data's "
            "grid first, e.g. mask.reindex_like(data, method='nearest') or mask.interp_like(data).",
            argument="mask",
        ) from None
    full = mask.broadcast_like(template).transpose(*grid_dims)
    return np.asarray(full.values, dtype=bool).reshape(-1)


def stack_cells(
    data: Any,
    *,
    states: Any = None,
    time_units: str | None = None,
    time_dim: str | None = None,
    state_dim: str | None = None,
    reference_time: Any = None,
    mask: Any = None,
    argument: str = "data",
) -> GridStack:
    """Gridded DataArray/Dataset -> model time and a ``(n_cells, n_t, n_states)`` array.

    Args:
        data: DataArray (one state, or a state dimension) or Dataset (one variable per
            state) over time and any grid dimensions; dask-backed arrays stay lazy.
        states: the model's states (default: the DataArray's name / the Dataset's
            variables that have the time dimension). States missing from the data
            become NaN (latent) with a DataWarning.
        time_units, time_dim, state_dim, reference_time: as in as_observations.
        mask: optional boolean DataArray (or array of the grid's shape) over the grid
            dimensions, True = use this cell; its coordinates must equal the data's.
        argument: the caller's argument name, used in error messages.
    """
    import xarray as xr

    if not isinstance(data, (xr.Dataset, xr.DataArray)):
        raise DataError(
            f"gridded data must be an xarray DataArray or Dataset, got {type(data).__name__}.", argument=argument
        )
    if states is None:
        if isinstance(data, xr.DataArray):
            names = (str(data.name) if data.name is not None else "u",)
        else:
            tdim0 = find_time_dim(data, time_dim, argument=argument)
            names = tuple(str(v) for v in data.data_vars if tdim0 in data[v].dims)
            if not names:
                raise DataError(
                    f"no variable of the Dataset has the time dimension {tdim0!r} (variables: "
                    f"{ {str(k): list(v.dims) for k, v in data.data_vars.items()} }); give gridded variables over "
                    "time, or name the states with states=[...].",
                    argument=argument,
                )
    else:
        names = state_names_of(states)[0]
    if isinstance(data, xr.DataArray):
        data = dataarray_to_dataset(
            data if data.name is not None or len(names) != 1 else data.rename(names[0]),
            ReadOptions(names, time_dim, state_dim, None),
            argument,
            [],
        )
    tdim = find_time_dim(data, time_dim, argument=argument)
    if tdim not in data.coords:
        raise DataError(
            f"time dimension {tdim!r} has no coordinate values; add them with ds.assign_coords({tdim}=...).",
            argument=argument,
        )
    data = decode_time_coord(data, tdim, argument=argument)
    present = [s for s in names if s in data.data_vars]
    if not present:
        raise DataError(
            f"none of the states {list(names)} is in the data; its variables are {list(map(str, data.data_vars))}.",
            argument="states",
        )
    missing = [s for s in names if s not in present]
    if missing:
        warnings.warn(
            f"{argument}: state(s) {missing} are not in the data; they are treated as latent (all NaN).",
            DataWarning,
            stacklevel=2,
        )
    variables = []
    for s in present:
        v = data[s]
        if tdim not in v.dims:
            raise DataError(
                f"variable {s!r} has no time dimension {tdim!r} (its dimensions: {list(v.dims)}).", argument=argument
            )
        if v.dtype.kind not in "iuf":
            raise DataError(
                f"values of {s!r} are not numbers (dtype {v.dtype}); convert with .astype(float).", argument=argument
            )
        variables.append(v)
    if len(variables) > 1:
        variables = list(xr.broadcast(*variables))
        grid_dims = tuple(d for d in variables[0].dims if d != tdim)
        src = xr.Dataset({s: v.transpose(*grid_dims, tdim) for s, v in zip(present, variables)}, attrs=data.attrs)
    else:  # one variable: no broadcasting, and its Dataset built without aligning (each costs ~1 ms)
        (v,) = variables
        grid_dims = tuple(d for d in v.dims if d != tdim)
        src = (v if v.dims == (*grid_dims, tdim) else v.transpose(*grid_dims, tdim)).to_dataset(name=present[0])
        src.attrs = dict(data.attrs)
    chunks = src.chunks if any(_is_dask(v.data) for v in src.data_vars.values()) else {}
    if chunks and len(chunks.get(tdim, ())) > 1:
        warnings.warn(
            f"{argument}: the time axis is split into {len(chunks[tdim])} dask chunks; rechunking it "
            f"into one (data.chunk({{'{tdim}': -1}})) so each cell's series is whole. Chunk over the "
            "grid dimensions instead to avoid this.",
            DataWarning,
            stacklevel=2,
        )
        src = src.chunk({tdim: -1})
    if src.sizes[tdim] == 0:
        raise DataError(
            f"the time dimension {tdim!r} is empty; give at least one time (check a .sel(...) on it).",
            argument=argument,
        )
    coord = np.asarray(data[tdim].values)
    (t,), meta = to_model_time(
        [coord],
        time_units=time_units,
        reference_time=reference_time,
        name=str(tdim),
        attrs=dict(data[tdim].attrs),
        argument=argument,
    )
    check_time_order(t, coord, argument=argument, time_name=str(tdim))
    grid_shape = tuple(int(src.sizes[d]) for d in grid_dims)
    n_cells, n_t = int(np.prod(grid_shape, dtype=int)), t.size
    lazy = any(_is_dask(v.data) for v in src.data_vars.values())
    if lazy:
        import dask.array as xp

        # numpy input is checked for inf below; dask input when computed, by the fit's own reads of source too
        src = src.copy()
        for s in present:
            if _is_dask(src[s].data):
                checked = src[s].data.map_blocks(_refuse_inf, state=s, argument=argument, dtype=src[s].dtype)
                src[s] = src[s].copy(data=checked)
    else:
        xp = np
    cols = []
    for s in names:
        if s in src.data_vars:
            a = src[s].data.astype(np.float64)
            if not lazy and np.isinf(a).any():
                raise DataError(
                    f"values of {s!r} contain infinite values; replace them with NaN (missing), "
                    "e.g. ds.where(np.isfinite(ds)).",
                    argument=argument,
                )
            cols.append(a.reshape(n_cells, n_t))
        else:
            cols.append(xp.full((n_cells, n_t), np.nan))
    values = xp.stack(cols, axis=-1)
    template = src[present[0]].isel({tdim: 0}, drop=True)
    grid_coords = src.drop_dims(tdim)  # the coordinates without time, their indexes kept
    grid_coords.attrs = {}
    return GridStack(
        t=t,
        values=values,
        mask=~xp.isnan(values),
        cell_mask=_cell_mask(mask, template, grid_dims, grid_shape),
        time=meta,
        state_names=tuple(names),
        units=tuple(data[s].attrs.get("units") if s in present else None for s in names),
        state_attrs=tuple(dict(data[s].attrs) if s in present else {} for s in names),
        attrs=dict(data.attrs),
        grid_dims=grid_dims,
        grid_shape=grid_shape,
        grid_coords=grid_coords,
        coord=coord,
        source=src,
    )


def unstack_cells(
    values: Any,
    stack: GridStack,
    *,
    dims: Sequence[str] = (),
    coords: dict | None = None,
    name: str | None = None,
    attrs: dict | None = None,
):
    """Per-cell results -> a DataArray on the original grid (numpy or dask, kept lazy).

    Args:
        values: (n_cells, *rest) array, cells in the order of ``stack``.
        stack: the GridStack the cells came from.
        dims: names of the trailing ``rest`` dimensions (e.g. ``("time",)``).
        coords: coordinates for those trailing dimensions.
        name, attrs: the DataArray's name and attributes.
    """
    import xarray as xr

    shape = tuple(values.shape)
    if not shape or shape[0] != stack.n_cells or len(shape) - 1 != len(dims):
        raise InputError(
            f"values have shape {shape}; expected (n_cells={stack.n_cells}, ...) with one name in "
            f"dims={tuple(dims)} per trailing axis.",
            argument="values",
        )
    arr = values.reshape(stack.grid_shape + shape[1:])
    da = xr.DataArray(arr, dims=stack.grid_dims + tuple(dims), name=name, attrs=dict(attrs or {}))
    da = da.assign_coords(stack.grid_coords.coords)
    return da.assign_coords(coords) if coords else da


def cells_to_dataset(u: Any, stack: GridStack, *, t_model: Any = None, what: str = "model output"):
    """Per-cell trajectories (n_cells, n_t, n_states) -> Dataset of states over (time, *grid).

    Args:
        u: (n_cells, n_t, n_states) values (numpy or dask).
        stack: the GridStack of the observations.
        t_model: (n_t,) model times of ``u`` (default: the observation times).
        what: what produced the values, for the history line.
    """
    import xarray as xr

    t = stack.t if t_model is None else np.asarray(t_model, dtype=np.float64).reshape(-1)
    if tuple(u.shape) != (stack.n_cells, t.size, len(stack.state_names)):
        raise InputError(
            f"u has shape {tuple(u.shape)}; expected (n_cells, n_t, n_states) = "
            f"({stack.n_cells}, {t.size}, {len(stack.state_names)}).",
            argument="u",
        )
    tname = stack.time.name
    out = {}
    for j, s in enumerate(stack.state_names):
        va = clean_var_attrs(stack.state_attrs[j])
        if stack.units[j] is not None:
            va["units"] = stack.units[j]
        da = unstack_cells(u[:, :, j], stack, dims=(tname,), name=s, attrs=va)
        out[s] = da.transpose(tname, *stack.grid_dims)
    ds = xr.Dataset(out, attrs=append_history(stack.attrs, what))
    return ds.assign_coords({tname: time_coordinate(t, stack.time)})
