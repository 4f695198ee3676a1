"""CF-convention metadata for pysciml outputs."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["history_line", "append_history", "solution_dataset"]


def history_line(what: str) -> str:
    """One CF ``history`` entry: ``"<UTC ISO time> pysciml <version>: <what>"``."""
    from .. import __version__

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{now} pysciml {__version__}: {what}"


def append_history(attrs: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """A copy of ``attrs`` with a history line appended (newest last, newline separated)."""
    out = dict(attrs or {})
    line = history_line(what)
    out["history"] = f"{out['history']}\n{line}" if out.get("history") else line
    return out


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
