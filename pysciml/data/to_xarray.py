"""Model-time results -> xarray on the user's time axis, with CF attributes and history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..io.cf import append_history, clean_var_attrs
from .timeaxis import TimeMeta, model_time_to_coord
from .trajectory import Observations

__all__ = ["to_dataset", "time_coordinate", "solution_dataset"]


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
        raise InputError(
            f"u has shape {arr.shape}; expected (n_t, n_states) = ({t.size}, {len(state_names)}).", argument="u"
        )
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
        coords["model_time"] = xr.Variable(
            (tdim,),
            t,
            attrs={
                "long_name": "model time",
                "units": meta.units or "",
                "comment": f"model time 0 = {meta.reference}"
                + (f" ({meta.calendar} calendar)" if meta.calendar else ""),
            },
        )
    ds_attrs = append_history(attrs or {}, what)
    if name is not None:
        ds_attrs["trajectory"] = str(name)
    return xr.Dataset(data_vars, coords=coords, attrs=ds_attrs)


def solution_dataset(sol, *, time_units: str | None = None, attrs: Mapping[str, Any] | None = None):
    """Build the ``xarray.Dataset`` of a :class:`pysciml.Solution`."""
    import xarray as xr

    model = sol.model
    time_units = time_units or model.time_units
    data_vars = {}
    for spec in model.layout.specs:
        values = sol[spec.name]
        dims = ("time",) + tuple(f"{spec.name}_dim{i}" for i in range(len(spec.shape)))
        var_attrs = {"long_name": spec.description or spec.name}
        if spec.units:
            var_attrs["units"] = spec.units
        data_vars[spec.name] = xr.Variable(dims, np.asarray(values), var_attrs)
    t_attrs = {"long_name": "time", "standard_name": "time", "axis": "T"}
    if time_units:
        t_attrs["units"] = time_units
    ds_attrs = {
        "Conventions": "CF-1.10",
        "title": f"pysciml solution of {model.name}",
        "source": f"pysciml solve ({sol.stats.get('engine', 'jax')} engine, {sol.stats.get('solver')})",
        "solver_status": sol.status.name,
        "solver_message": sol.message,
    }
    for k, v in sol.stats.items():
        if isinstance(v, (int, float, str)):
            ds_attrs[f"solver_{k}"] = v
    if sol.params:
        for k, v in sol.params.items():
            v = np.asarray(v)
            if v.ndim == 0:
                ds_attrs[f"param_{k}"] = float(v)
    ds_attrs.update(attrs or {})
    ds_attrs = append_history(ds_attrs, f"solved {model.name} with {sol.stats.get('solver')}")
    return xr.Dataset(data_vars, coords={"time": ("time", np.asarray(sol.t), t_attrs)}, attrs=ds_attrs)
