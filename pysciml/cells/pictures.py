"""Pictures of gridded results: parameter maps, fit-quality maps, and one cell picked by coordinates.

``res.sciml.plot("lam")``, ``res.sciml.plot_quality()`` and
``res.sciml.plot_cell(data=..., model=..., lat=..., lon=...)`` call these; the drawing is
:mod:`pysciml.plotting.cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.timeaxis import to_model_time
from ..errors import InputError
from ..plotting.cells import plot_cell_series, plot_maps
from .simulate import solve_cells

__all__ = ["map_picture", "quality_picture", "cell_picture"]


def _dataset(obj):
    import xarray as xr

    return obj if isinstance(obj, xr.Dataset) else obj.to_dataset(name=obj.name or "value")


def _maps_of(ds, names: Sequence[str]) -> list:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise InputError(f"no variables {missing}; this result has {sorted(map(str, ds.data_vars))}.", argument="name")
    return [ds[n] for n in names]


def map_picture(obj, name: str | Sequence[str] | None = None, *, coastlines: bool | None = None, ax=None):
    """Maps of ``name`` (a variable or list of variables; default: the per-cell parameters)."""
    ds = _dataset(obj)
    if name is None:
        names = [str(k) for k, v in ds.data_vars.items() if v.attrs.get("pysciml_role") == "per_cell"]
        if not names:
            raise InputError("this object has no per-cell parameters; name the variable to draw.", argument="name")
    else:
        names = [name] if isinstance(name, str) else list(name)
    return plot_maps(_maps_of(ds, names), coastlines=coastlines, ax=ax)


def quality_picture(obj, *, coastlines: bool | None = None, ax=None):
    """Maps of the fit quality: ``status``, ``loss`` and each ``rmse_<state>``."""
    ds = _dataset(obj)
    names = [n for n in ("status", "loss") if n in ds.data_vars]
    names += sorted(str(n) for n in ds.data_vars if str(n).startswith("rmse_"))
    names = [n for n in names if ds[n].ndim == 2]
    if not names:
        raise InputError("no fit-quality variables (status, loss, rmse_*); is this a fit result?", argument="obj")
    return plot_maps(_maps_of(ds, names), coastlines=coastlines, ax=ax)


def cell_picture(res, *, data: Any, model: Any, n: int = 200, ax=None, **where):
    """The cell of ``res`` nearest to ``where`` (e.g. ``lat=10, lon=200``): its data and fitted model.

    Args:
        res: a gridded fit result.
        data: the data that was fitted (DataArray or Dataset).
        model: the model that was fitted.
        n: points on the model curve.
        ax: an Axes (or one per state) to draw into.
        **where: grid coordinate values; the nearest cell is drawn.
    """
    import xarray as xr

    if data is None or model is None:
        raise InputError(
            "plot_cell needs the fitted data and model: res.sciml.plot_cell(data=da, model=m, lat=...).",
            argument="data" if data is None else "model",
        )
    if not isinstance(res, xr.Dataset):
        raise InputError("plot_cell is for a gridded fit result (a Dataset from fit_cells).", argument="res")
    unknown = [k for k in where if k not in res.dims]
    if unknown or not where:
        raise InputError(
            f"give the cell by its grid coordinates {[str(d) for d in res.dims if d in data.dims]}"
            + (f"; unknown {unknown}" if unknown else ""),
            argument=unknown[0] if unknown else "where",
        )
    pick = {k: [v] for k, v in where.items()}
    res_cell = res.sel(pick, method="nearest")
    data_cell = data.sel(pick, method="nearest")
    label = ", ".join(f"{k}={float(res_cell[k].values[0]):.4g}" for k in where)
    time_name = next(d for d in data_cell.dims if d not in res.dims)
    units = res.attrs.get("pysciml_time_units") or None
    ref = res.attrs.get("pysciml_time_reference") or None
    (t_data,), _ = to_model_time([data_cell[time_name].values], time_units=units, reference_time=ref, argument="data")
    t_model = np.linspace(float(t_data[0]), float(t_data[-1]), int(n))
    sim = solve_cells(data_cell, model, params=res_cell, t=t_model, time_units=units)
    states = list(model.state_names)
    sim_ds = _dataset(sim) if not isinstance(sim, xr.Dataset) else sim
    data_ds = data_cell if isinstance(data_cell, xr.Dataset) else data_cell.to_dataset(name=states[0])
    if not isinstance(data_cell, xr.Dataset):
        sim_ds = sim_ds.rename({next(iter(sim_ds.data_vars)): states[0]}) if states[0] not in sim_ds else sim_ds
    y_data = np.stack([np.asarray(data_ds[s].values).reshape(len(t_data)) for s in states], axis=1)
    y_model = np.stack([np.asarray(sim_ds[s].values).reshape(len(t_model)) for s in states], axis=1)
    label_t = f"time ({units} since {ref})" if units and ref else (f"time ({units})" if units else "time")
    return plot_cell_series(states, t_data, y_data, t_model, y_model, where=label, time_label=label_t, ax=ax)
