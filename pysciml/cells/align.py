"""Putting user input on the data's grid and time axis: masks, start values, initial states, output times."""

from __future__ import annotations

from typing import Any, overload

import numpy as np

from ..data.timeaxis import to_model_time
from ..errors import InputError

__all__ = ["on_grid", "grid_template", "u0_fields", "output_times", "is_calendar"]


def grid_template(stack):
    """A zero DataArray over the stack's grid, with its coordinates."""
    import xarray as xr

    # the coordinates go in with the constructor: assign_coords would align them again (~1 ms per call)
    return xr.DataArray(np.zeros(stack.grid_shape), dims=stack.grid_dims, coords=stack.grid_coords.coords)


def _same_coords(da, stack) -> bool:
    for d in stack.grid_dims:
        if d in stack.grid_coords.coords and d in da.coords:
            # (the coordinate variables: indexing the DataArray would build a new DataArray per coordinate)
            a = np.asarray(da.coords.variables[d].values)
            b = np.asarray(stack.grid_coords.coords.variables[d].values)
            if a.shape != b.shape or not np.array_equal(a, b):
                return False
        elif da.sizes.get(d, None) not in (None, stack.grid_shape[stack.grid_dims.index(d)]):
            return False
    return True


def on_grid(da, stack, argument: str, extra_dims=(), what: str = "the data's grid"):
    """``da`` over ``stack.grid_dims`` (+ ``extra_dims``), in that order; an InputError naming ``argument``
    if it has other dimensions or coordinates that differ from the data's."""

    other = [d for d in da.dims if d not in stack.grid_dims and d not in extra_dims]
    if other:
        raise InputError(f"has dimensions {other} that {what} {list(stack.grid_dims)} lacks.", argument=argument)
    if not _same_coords(da, stack):
        raise InputError(
            f"its coordinates differ from {what} along {list(d for d in da.dims if d in stack.grid_dims)}; "
            "it must come from data on the same grid (reindex it first, e.g. "
            ".reindex_like(data, method='nearest')).",
            argument=argument,
        )
    if all(d in da.dims for d in stack.grid_dims):
        out = da
    else:
        out = da.broadcast_like(grid_template(stack))
    order = (*stack.grid_dims, *[d for d in out.dims if d not in stack.grid_dims])
    if out.dims != order:
        out = out.transpose(*order)
    missing = {k: c for k, c in stack.grid_coords.coords.items() if k not in out.coords}
    return out.assign_coords(missing) if missing else out


@overload
def u0_fields(u0: None, model, stack) -> None: ...
@overload
def u0_fields(u0: Any, model, stack) -> list[Any]: ...
def u0_fields(u0, model, stack) -> list[Any] | None:
    """``u0=`` as one DataArray per state over the grid (NaN = from the data), or None."""
    import xarray as xr

    if u0 is None:
        return None
    names = model.state_names
    if isinstance(u0, xr.Dataset):
        u0 = {s: u0[f"u0_{s}"] if f"u0_{s}" in u0 else u0[s] for s in names if f"u0_{s}" in u0 or s in u0}
    if isinstance(u0, xr.DataArray) and len(names) == 1:
        u0 = {names[0]: u0}
    if not isinstance(u0, dict):
        arr = np.asarray(u0, dtype=float).reshape(-1)
        if arr.size != len(names):
            raise InputError(
                f"has {arr.size} values but the model has {len(names)} states {list(names)}.", argument="u0"
            )
        u0 = dict(zip(names, arr))
    unknown = [k for k in u0 if k not in names]
    if unknown:
        raise InputError(f"names unknown states {unknown}; the states are {list(names)}.", argument="u0")
    template = None
    out = []
    for s in names:
        v: Any = u0.get(s, np.nan)
        if isinstance(v, xr.DataArray):
            v = on_grid(v, stack, "u0")
            out.append(v if v.dtype == np.float64 else v.astype(float))
        else:
            template = grid_template(stack) if template is None else template
            out.append(xr.full_like(template, float(v)))
    return out


def is_calendar(values) -> bool:
    arr = np.asarray(values)
    return arr.dtype.kind in "MmOUS"


def output_times(t, stack):
    """Model times of ``t`` (calendar values like the data's, or model-time numbers)."""
    if t is None:
        return np.asarray(stack.t, float)
    arr = np.atleast_1d(np.asarray(getattr(t, "values", t)))
    if is_calendar(arr):
        (tm,), _ = to_model_time([arr], time_units=stack.time.units, reference_time=stack.time.reference, argument="t")
        tm = np.asarray(tm, float)
    else:
        try:
            tm = arr.astype(float)
        except (TypeError, ValueError):
            raise InputError(
                f"must be times like the data's or model-time numbers; got {arr.dtype}.", argument="t"
            ) from None
    if tm.ndim != 1 or tm.size < 1 or not np.all(np.isfinite(tm)):
        raise InputError("must be a 1-D array of finite times.", argument="t")
    if np.any(np.diff(tm) <= 0):
        raise InputError("output times must be strictly increasing (sort them and drop duplicates).", argument="t")
    return tm
