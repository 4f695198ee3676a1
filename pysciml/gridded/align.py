"""Putting user DataArrays (masks, start values, initial states, fitted fields) on the data's grid."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["on_grid", "grid_template"]


def grid_template(stack):
    """A zero DataArray over the stack's grid, with its coordinates."""
    import xarray as xr

    return xr.DataArray(np.zeros(stack.grid_shape), dims=stack.grid_dims).assign_coords(stack.grid_coords.coords)


def _same_coords(da, stack) -> bool:
    for d in stack.grid_dims:
        if d in stack.grid_coords.coords and d in da.coords:
            a, b = np.asarray(da[d].values), np.asarray(stack.grid_coords[d].values)
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
        raise InputError(f"its coordinates differ from {what} along {list(d for d in da.dims if d in stack.grid_dims)}; "
                         "it must come from data on the same grid (reindex it first, e.g. "
                         ".reindex_like(data, method='nearest')).", argument=argument)
    if all(d in da.dims for d in stack.grid_dims):
        out = da
    else:
        out = da.broadcast_like(grid_template(stack))
    out = out.transpose(*stack.grid_dims, *[d for d in out.dims if d not in stack.grid_dims])
    missing = {k: c for k, c in stack.grid_coords.coords.items() if k not in out.coords}
    return out.assign_coords(missing) if missing else out
