"""Model-time results -> xarray on the user's time axis, with CF attributes and history."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from .timeaxis import TimeMeta, model_time_to_coord
from .trajectory import Observations

__all__ = ["to_dataset", "time_coordinate", "history_line", "append_history", "clean_var_attrs"]

# variable attributes that describe the stored *input* values, not a model's output
_INPUT_ONLY_ATTRS = {
    "_FillValue", "missing_value", "valid_min", "valid_max", "valid_range", "actual_range",
    "scale_factor", "add_offset", "cell_methods", "coordinates", "ancillary_variables", "flag_values",
    "flag_meanings", "flag_masks", "_Unsigned", "_ChunkSizes", "chunksizes", "compression",
}


def history_line(what: str) -> str:
    """``"<ISO time UTC> pysciml <version>: <what>"``."""
    from .. import __version__

    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return f"{now} pysciml {__version__}: {what}"


def append_history(attrs: Mapping, what: str) -> dict:
    """A copy of ``attrs`` with a history line appended (CF ``history`` attribute)."""
    out = dict(attrs)
    old = str(out.get("history", "")).rstrip("\n")
    out["history"] = (old + "\n" if old else "") + history_line(what)
    return out


def clean_var_attrs(attrs: Mapping | None) -> dict:
    """Variable attributes worth keeping on model output (drops packing, fill and range attrs)."""
    return {k: v for k, v in dict(attrs or {}).items() if k not in _INPUT_ONLY_ATTRS}


def time_coordinate(t_model: Any, meta: TimeMeta):
    """The user's time coordinate (an ``xr.Variable``) for model times, with CF attrs and encoding.

    Args:
        t_model: (n_t,) model times.
        meta: time metadata of the observations.
    """
    import xarray as xr

    values = model_time_to_coord(np.asarray(t_model, dtype=np.float64).reshape(-1), meta)
    attrs = {k: v for k, v in meta.attrs.items() if k not in ("bounds", "climatology")}  # no bounds variable here
    encoding = {}
    if meta.kind in ("datetime64", "cftime"):
        attrs.pop("units", None)
        attrs.pop("calendar", None)
        attrs.setdefault("standard_name", "time")
        attrs.setdefault("axis", "T")
        encoding = {"units": meta.cf_units, "calendar": meta.calendar}
    elif meta.kind == "timedelta64":
        attrs.pop("units", None)
    else:
        attrs.setdefault("axis", "T")
        if meta.units:
            attrs.setdefault("units", meta.units)
    var = xr.Variable((meta.name,), values, attrs=attrs)
    var.encoding.update(encoding)
    return var


def to_dataset(
    t_model: Any,
    u: Any,
    meta: TimeMeta | Observations,
    *,
    state_names: Sequence[str] | None = None,
    units: Sequence[str | None] | None = None,
    attrs: Mapping | None = None,
    state_attrs: Sequence[Mapping] | None = None,
    name: str | None = None,
    what: str = "model output",
):
    """Model-time results -> ``xr.Dataset``, one variable per state, on the user's time axis.

    Args:
        t_model: (n_t,) model times (``meta.units`` since ``meta.reference``).
        u: (n_t, n_states) values.
        meta: the TimeMeta of the observations, or the Observations themselves (then
            state names, units and attrs default to theirs).
        state_names: one name per column of ``u``.
        units: units per state (``None`` = unknown), stored as the CF ``units`` attr.
        attrs: dataset attributes to keep (e.g. the input's); ``history`` gets a line appended.
        state_attrs: per-state variable attributes to keep (long_name, standard_name ...).
        name: trajectory id, stored as the ``trajectory`` attribute.
        what: what produced the values, for the history line (``"predict"`` ...).

    Returns:
        xr.Dataset with dims (time,), the time coordinate in the user's kind and calendar,
        and a ``model_time`` coordinate (float, in model units) for calendar times.
    """
    import xarray as xr

    if isinstance(meta, Observations):
        obs = meta
        meta = obs.time
        state_names = obs.state_names if state_names is None else state_names
        units = obs.units if units is None else units
        attrs = obs.attrs if attrs is None else attrs
        state_attrs = obs.state_attrs if state_attrs is None else state_attrs
    if state_names is None:
        raise InputError("give state_names (one per column of u).", argument="state_names")
    t = np.asarray(t_model, dtype=np.float64).reshape(-1)
    arr = np.asarray(u, dtype=np.float64)
    if arr.ndim == 1 and len(state_names) == 1:
        arr = arr[:, None]
    if arr.shape != (t.size, len(state_names)):
        raise InputError(f"u has shape {arr.shape}; expected (n_t, n_states) = ({t.size}, {len(state_names)}).",
                         argument="u")
    units = list(units) if units is not None else [None] * len(state_names)
    sattrs = list(state_attrs) if state_attrs is not None else [{}] * len(state_names)
    tdim = meta.name
    data_vars = {}
    for j, s in enumerate(state_names):
        va = clean_var_attrs(sattrs[j] if j < len(sattrs) else {})
        if units[j] is not None:
            va["units"] = units[j]
        va.setdefault("long_name", s)
        data_vars[s] = xr.Variable((tdim,), arr[:, j], attrs=va)
    coords = {tdim: time_coordinate(t, meta)}
    if meta.kind != "numeric" or float(meta.reference or 0.0) != 0.0:
        coords["model_time"] = xr.Variable((tdim,), t, attrs={
            "long_name": "model time", "units": meta.units or "",
            "comment": f"model time 0 = {meta.reference}" + (f" ({meta.calendar} calendar)" if meta.calendar else ""),
        })
    ds_attrs = append_history(attrs or {}, what)
    if name is not None:
        ds_attrs["trajectory"] = str(name)
    return xr.Dataset(data_vars, coords=coords, attrs=ds_attrs)
