"""Who fits what in a gridded fit: per-cell, shared and fixed parameters, and where they start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["Roles", "resolve_roles", "split_start_values"]


class Roles:
    """The parameter roles of a gridded fit (names in the model's declaration order)."""

    def __init__(self, per_cell, shared, shared_networks, fixed, fixed_networks):
        self.per_cell = tuple(per_cell)
        self.shared = tuple(shared)
        self.shared_networks = tuple(shared_networks)
        self.fixed = tuple(fixed)
        self.fixed_networks = tuple(fixed_networks)

    def as_attrs(self) -> dict:
        return {
            "per_cell_parameters": " ".join(self.per_cell),
            "shared_parameters": " ".join(self.shared + self.shared_networks),
            "fixed_parameters": " ".join(self.fixed + self.fixed_networks),
        }


def _names(value, argument: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(
        f"must be a list of parameter names, e.g. ['damping', 'forcing']; got {value!r}.", argument=argument
    )


def resolve_roles(model, per_cell=None, shared=None, fixed=None) -> Roles:
    """Check ``per_cell`` / ``shared`` / ``fixed`` against the model and fill in the defaults.

    Defaults: networks are shared; physics parameters are fitted per cell unless listed in
    ``shared`` or ``fixed`` or declared ``fixed``; when ``per_cell`` is given, physics
    parameters it does not name (and that are not shared) stay fixed.
    """
    specs, nets = model.param_specs, model.networks
    known = list(specs) + list(nets)
    lists = {}
    for arg, value in (("per_cell", per_cell), ("shared", shared), ("fixed", fixed)):
        names = _names(value, arg)
        if names is not None:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise InputError(
                    f"unknown parameters {unknown}; the model has parameters {list(specs)}"
                    + (f" and networks {list(nets)}" if nets else "")
                    + ".",
                    argument=arg,
                )
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise InputError(f"names {dup} more than once.", argument=arg)
        lists[arg] = names
    pc, sh, fx = lists["per_cell"], lists["shared"], lists["fixed"]
    for arg in ("per_cell", "shared"):
        declared_fixed = [n for n in lists[arg] or () if n in specs and specs[n].fixed]
        if declared_fixed:
            raise InputError(
                f"{declared_fixed} are declared ps.Param(..., fixed=True) in the model; remove them from "
                f"{arg}= or declare them without fixed=True.",
                argument=arg,
            )
    for a, b in (("per_cell", "shared"), ("per_cell", "fixed"), ("shared", "fixed")):
        both = sorted(set(lists[a] or ()) & set(lists[b] or ()))
        if both:
            raise InputError(f"{both} are named in both {a}= and {b}=; give each parameter one role.", argument=b)
    if pc is not None:
        bad = [n for n in pc if n in nets]
        if bad:
            raise InputError(
                f"networks {bad} cannot be fitted per cell (one network per grid cell would not "
                f"generalise); list them in shared= (the default for networks).",
                argument="per_cell",
            )
    fx = fx or []
    if sh is None:
        sh = [n for n in nets if n not in fx]
    if pc is None:
        pc = [n for n in specs if n not in sh and n not in fx and not specs[n].fixed]
    per_cell_names = [n for n in specs if n in pc]
    shared_names = [n for n in specs if n in sh]
    shared_nets = [n for n in nets if n in sh]
    fixed_names = [n for n in specs if n not in per_cell_names and n not in shared_names]
    fixed_nets = [n for n in nets if n not in shared_nets]
    return Roles(per_cell_names, shared_names, shared_nets, fixed_names, fixed_nets)


def split_start_values(model, params: Any, grid_dims: Sequence[str]):
    """Split ``params=`` into global values, per-cell DataArrays and network weights.

    Args:
        model: the model.
        params: None, a mapping ``{name: number | array | DataArray over the grid}`` or an
            ``xr.Dataset`` (a previous fit's result: its parameter variables are used).
        grid_dims: the data's grid dimensions.

    Returns:
        ``(global_values {name: ndarray}, per_cell {name: DataArray}, networks {name: ndarray})``.
    """
    import xarray as xr

    if params is None:
        return {}, {}, {}
    if isinstance(params, xr.Dataset):
        items = {k: params[k] for k in list(model.param_specs) + list(model.networks) if k in params.data_vars}
    elif isinstance(params, Mapping):
        items = dict(params)
    else:
        raise InputError(
            f"must be a mapping of parameter name -> value or a fit result (xr.Dataset); got {type(params).__name__}.",
            argument="params",
        )
    glob, cells, nets = {}, {}, {}
    for name, value in items.items():
        if name in model.networks:
            w = np.asarray(getattr(value, "values", value), dtype=float).reshape(-1)
            if w.size != model.networks[name].n_params:
                raise InputError(
                    f"network {name!r} has {model.networks[name].n_params} weights, got {w.size}.",
                    argument=f"params.{name}",
                )
            nets[name] = w
            continue
        if name not in model.param_specs:
            raise InputError(f"unknown parameter {name!r}; the model has {list(model.param_specs)}.", argument="params")
        if isinstance(value, xr.DataArray) and any(d in grid_dims for d in value.dims):
            cells[name] = value
        else:
            arr = np.asarray(getattr(value, "values", value), dtype=float)
            spec = model.param_specs[name]
            try:
                arr = np.broadcast_to(arr, spec.shape).copy()
            except ValueError:
                raise InputError(
                    f"has shape {arr.shape}; the parameter's shape is {spec.shape}.", argument=f"params.{name}"
                ) from None
            spec.check_value(arr, argument=f"params.{name}")
            glob[name] = arr
    return glob, cells, nets
