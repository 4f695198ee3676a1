"""CF-convention metadata for pysciml outputs: history, variable attributes, attributes files can store."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import InputError

__all__ = ["history_line", "append_history", "clean_var_attrs", "cf_clean"]


def history_line(what: str) -> str:
    """One CF ``history`` entry: ``"<UTC ISO time> pysciml <version>: <what>"``."""

    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return f"{now} pysciml {__version__}: {what}"


def append_history(attrs: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """A copy of ``attrs`` with a history line appended (CF ``history``: newest last, newline separated)."""
    out = dict(attrs or {})
    old = str(out.get("history", "")).rstrip("\n")
    out["history"] = (old + "\n" if old else "") + history_line(what)
    return out


# variable attributes that describe the stored *input* values, not a model's output
_INPUT_ONLY_ATTRS = {
    "_FillValue",
    "missing_value",
    "valid_min",
    "valid_max",
    "valid_range",
    "actual_range",
    "scale_factor",
    "add_offset",
    "cell_methods",
    "coordinates",
    "ancillary_variables",
    "flag_values",
    "flag_meanings",
    "flag_masks",
    "_Unsigned",
    "_ChunkSizes",
    "chunksizes",
    "compression",
}


def clean_var_attrs(attrs: Mapping | None) -> dict:
    """Variable attributes worth keeping on model output (drops packing, fill and range attrs)."""
    return {k: v for k, v in dict(attrs or {}).items() if k not in _INPUT_ONLY_ATTRS}


def _clean_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            v = "yes" if v else "no"
        elif isinstance(v, (dict, list, tuple)) and not (
            isinstance(v, (list, tuple))
            and v
            and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in v)
        ):
            v = json.dumps(v, default=str)
        out[k] = v
    return out


def cf_clean(obj):
    """A Dataset whose attributes NetCDF and Zarr can store (booleans -> "yes"/"no", mappings -> JSON)."""
    import xarray as xr

    if not isinstance(obj, (xr.Dataset, xr.DataArray)):
        raise InputError(f"must be an xarray Dataset or DataArray, got {type(obj).__name__}.", argument="obj")
    ds = obj.to_dataset(name=obj.name or "data") if isinstance(obj, xr.DataArray) else obj.copy(deep=False)
    ds.attrs = _clean_attrs(ds.attrs)
    for name in list(ds.variables):
        ds[name].attrs = _clean_attrs(ds[name].attrs)
    return ds
