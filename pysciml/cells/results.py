"""The Dataset a gridded fit returns, and reading parameters back from one.

Variables (grid dimensions as in the data): each per-cell parameter over the grid;
``u0_<state>`` (the fitted initial state at the first time); ``loss``,
``rmse_<state>``, ``status`` (a CF flag variable of :class:`pysciml.Status`
codes), ``rejected_steps``; shared and fixed parameters and network weights
(``<net>`` along ``<net>_weight``); ``loss_history(iteration)``.  Every parameter
variable has ``pysciml_role`` = ``per_cell`` / ``shared`` / ``fixed``.  Attributes
record the model, the options, the time axis (units, calendar, reference) and
the CF ``history``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data.timeaxis import ref_string
from ..errors import InputError
from ..io.cf import append_history
from ..status import Status

__all__ = [
    "fitted_solver",
    "status_attrs",
    "param_attrs",
    "time_attrs",
    "common_attrs",
    "ResultParams",
    "read_result",
    "RESULT_KIND",
]

#: ``attrs["pysciml_result"]`` of the datasets gridded fits return
RESULT_KIND = "gridded-fit"


def fitted_solver(params):
    """The solver a fit result was fitted with (``"auto"`` when unknown)."""
    try:
        return json.loads(params.attrs["pysciml_options"])["solver"]
    except Exception:  # noqa: BLE001 - not a fit result
        return "auto"


def status_attrs() -> dict:
    """CF flag attributes of a status variable."""
    return {
        "long_name": "fit status per cell (pysciml.Status code)",
        "flag_values": np.array([int(s) for s in Status], dtype=np.int8),
        "flag_meanings": " ".join(s.name.lower() for s in Status),
        "comment": "; ".join(f"{s.name.lower()}: {s.advice}" for s in Status),
    }


def param_attrs(model, name: str, role: str) -> dict:
    spec = model.param_specs.get(name)
    attrs = {"pysciml_role": role}
    if spec is not None:
        attrs["long_name"] = spec.description or (
            f"{name} fitted in each cell" if role == "per_cell" else f"{name} ({role.replace('_', ' ')})"
        )
        if spec.units:
            attrs["units"] = spec.units
        if spec.bounds is not None:
            attrs["pysciml_bounds"] = json.dumps(list(spec.bounds))
    else:  # a network
        net = model.networks[name]
        attrs.update(
            long_name=f"flat weights of network {name} (layer by layer: W row-major, then b)",
            mlp_n_in=net.n_in,
            mlp_n_out=net.n_out,
            mlp_width=net.width,
            mlp_depth=net.depth,
            mlp_activation=net.activation,
            mlp_final_activation=net.final_activation,
        )
    return attrs


def time_attrs(meta) -> dict:
    """Attributes recording how model time maps to the data's time axis."""

    out = {"pysciml_time_kind": meta.kind, "pysciml_time_units": meta.units or ""}
    if meta.kind in ("datetime64", "cftime"):
        out["pysciml_time_reference"] = ref_string(meta.reference)
        out["pysciml_time_calendar"] = meta.calendar or ""
    elif meta.reference is not None:
        out["pysciml_time_reference"] = str(meta.reference)
    return out


def common_attrs(base: Mapping, model, what: str, options: Mapping[str, Any]) -> dict:
    """Dataset attributes: the input's, CF conventions, model, options (JSON), history."""
    attrs = {k: v for k, v in dict(base).items() if k not in ("Conventions",)}
    attrs.update(
        {
            "Conventions": "CF-1.10",
            "title": f"pysciml {what} of model {model.name!r}",
            "source": f"pysciml (model {model!r})",
            "pysciml_result": RESULT_KIND,
            "pysciml_model": model.name,
            "pysciml_states": " ".join(model.state_names),
            "pysciml_options": json.dumps({k: _plain(v) for k, v in options.items()}, sort_keys=True),
        }
    )
    return append_history(attrs, f"{what} of model {model.name!r}")


def _plain(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return repr(v)


class ResultParams:
    """Parameters and initial states read from a fit result Dataset.

    Attributes:
        per_cell: {name: DataArray over grid dims (+ the parameter's own dims)}.
        values: {name: ndarray} parameters without grid dims.
        networks: {name: flat weights}.
        u0: {state: DataArray over the grid} or {} if the result has none.
        reference_time, time_units: the fit's time axis (model time 0 and units), or None.
        active: DataArray (bool) of cells that were fitted (status success), or None.
        coupled: True for a spatially coupled fit's result.
    """

    def __init__(self):
        self.per_cell, self.values, self.networks, self.u0 = {}, {}, {}, {}
        self.reference_time = self.time_units = None
        self.active = None
        self.coupled = False


def read_result(res, model, grid_dims) -> ResultParams:
    """Read a gridded fit's result (or any Dataset with parameter variables) for ``model``."""
    import xarray as xr

    if not isinstance(res, xr.Dataset):
        raise InputError(f"must be a fit result (an xr.Dataset); got {type(res).__name__}.", argument="params")
    out = ResultParams()
    for name in model.param_specs:
        if name in res.data_vars:
            v = res[name]
            if any(d in grid_dims for d in v.dims):
                out.per_cell[name] = v
            else:
                out.values[name] = np.asarray(v.values, float).reshape(model.param_specs[name].shape)
    for name, net in model.networks.items():
        if name in res.data_vars:
            w = np.asarray(res[name].values, float).reshape(-1)
            if w.size != net.n_params:
                raise InputError(
                    f"variable {name!r} has {w.size} weights; network {name!r} has {net.n_params}.", argument="params"
                )
            out.networks[name] = w
    for s in model.state_names:
        if f"u0_{s}" in res.data_vars:
            out.u0[s] = res[f"u0_{s}"]
    if "status" in res.data_vars and any(d in grid_dims for d in res["status"].dims):
        out.active = res["status"] == int(Status.SUCCESS)
    elif "active" in res.data_vars:
        out.active = res["active"].astype(bool)
    ref = res.attrs.get("pysciml_time_reference")
    out.reference_time = ref if ref not in (None, "") else None
    out.time_units = res.attrs.get("pysciml_time_units") or None
    out.coupled = res.attrs.get("pysciml_coupled", "no") == "yes"
    return out
