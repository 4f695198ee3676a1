"""Spatially coupled models: the state is the whole grid, fitted as one trajectory.

A model declared with ``states={"T": grid.shape}`` whose physics uses
``m.laplacian(T, grid)`` couples every cell to its neighbours, so it cannot be
fitted cell by cell.  The gridded observations become one trajectory of the flat
state (cells in C order over the data's grid dimensions, which must be in the
order of the state's shape) and go through the estimator's own machinery
(:func:`pysciml.fitting.problem.build_fit_request`, the engine's ``fit``), so the
model ends up fitted (``model.params_`` ...) as after ``model.fit``.  Masked cells
and missing values are simply unobserved; stiff problems use e.g.
``solver=ps.Rodas5P(linsolve=ps.SparseLU())``.
"""

from __future__ import annotations

import time as _time
from typing import Any

import numpy as np

from ..data.to_xarray import time_coordinate
from ..data.trajectory import Observations, Trajectory, robust_scales
from ..engines.registry import engine_name, get_engine
from ..engines.requests import FitHooks
from ..errors import InputError
from ..fitting.estimator import planned_steps, progress_bar
from ..fitting.problem import build_fit_request
from ..io.cf import append_history, clean_var_attrs
from ..ivp import solve
from ..status import Status
from .align import output_times, u0_fields
from .results import (
    common_attrs,
    fitted_solver,
    param_attrs,
    read_result,
    status_attrs,
    time_attrs,
)
from .roles import split_start_values
from .stack import stack_cells

__all__ = ["fit_coupled", "solve_coupled", "coupled_observations"]


def _stack(data, model, *, time_units, time_dim, reference_time=None, mask=None):

    names = list(model.state_names)
    stack = stack_cells(
        data,
        states=names,
        time_units=time_units or model.time_units,
        time_dim=time_dim,
        reference_time=reference_time,
        mask=mask,
    )
    for s in model.layout.specs:
        if s.shape != stack.grid_shape:
            raise InputError(
                f"state {s.name!r} has shape {s.shape} but the data's grid {dict(zip(stack.grid_dims, stack.grid_shape))} "
                f"has shape {stack.grid_shape}; the data's grid dimensions must be in the order of the state's "
                f"shape (e.g. data.transpose('time', 'lat', 'lon')).",
                argument="data",
            )
    return stack


def coupled_observations(stack, model):
    """The gridded observations as one trajectory of the model's flat state (masked cells unobserved)."""

    values = np.asarray(stack.values, dtype=float)  # (n_cells, n_t, n_states)
    values = np.where(stack.cell_mask[:, None, None], values, np.nan)
    n_t = stack.t.size
    y = np.concatenate([values[:, :, j].T for j in range(len(model.state_names))], axis=1)  # (n_t, n_flat)
    keep = ~np.isnan(y).all(axis=1)
    if keep.sum() < 2:
        raise InputError("fewer than 2 times have any observation outside the mask; nothing to fit.", argument="data")
    scales = np.concatenate(
        [np.full(s.size, robust_scales([values[:, :, j].reshape(-1, 1)])[0]) for j, s in enumerate(model.layout.specs)]
    )
    units = tuple(u for j, s in enumerate(model.layout.specs) for u in [stack.units[j]] * s.size)
    traj = Trajectory(
        stack.t[keep],
        y[keep],
        tuple(model.layout.flat_names()),
        units,
        "grid",
        stack.time,
        coord=np.asarray(stack.coord)[keep],
        attrs=stack.attrs,
    )
    del n_t
    return Observations.from_trajectories([traj], scales=scales, attrs=stack.attrs)


def _u0_field(u0, model, stack) -> np.ndarray | None:
    if u0 is None:
        return None
    fields = u0_fields(u0, model, stack)
    flat = np.concatenate([np.asarray(f.values, float).reshape(-1) for f in fields])
    return np.where(np.isfinite(flat), flat, 0.0)


def fit_coupled(
    data: Any,
    model: Any,
    *,
    fit=None,
    shared=None,
    fixed=None,
    params=None,
    u0=None,
    fit_u0: Any = "auto",
    mask=None,
    time_units=None,
    time_dim=None,
    reference_time=None,
    strategy=None,
    optimizers=None,
    loss=None,
    l2=0.0,
    solver="auto",
    adjoint=None,
    rtol=1e-6,
    atol=1e-8,
    max_steps=10_000,
    seed=0,
    engine=None,
    verbose=1,
    callback=None,
):
    """Fit a spatially coupled model to gridded data (called by :func:`pysciml.cells.fit_cells`).

    ``per_cell`` and ``shared`` both name parameters to fit (a coupled model's parameters
    are global, or fields declared with the grid's shape); the rest as in ``fit_cells``.
    """
    import xarray as xr

    stack = _stack(data, model, time_units=time_units, time_dim=time_dim, reference_time=reference_time, mask=mask)
    obs = coupled_observations(stack, model)
    glob, cells, nets = split_start_values(model, params, stack.grid_dims)
    for k, v in cells.items():
        glob[k] = np.asarray(v.transpose(*stack.grid_dims, ...).values, float)
    names = None
    if fit is not None or shared is not None:
        names = []
        for v in (fit, shared):
            names += [v] if isinstance(v, str) else list(v or [])
    u0_flat = _u0_field(u0, model, stack)
    problem = build_fit_request(
        model,
        obs,
        params=glob,
        fit=names,
        fixed=fixed if names is None else None,
        u0=u0_flat,
        fit_u0=fit_u0,
        loss=loss,
        l2=l2,
        strategy=strategy,
        optimizers=optimizers,
        solver=solver,
        adjoint=adjoint,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        seed=seed,
        network_params=nets,
    )
    if names is not None and fixed:
        extra = [f for f in ([fixed] if isinstance(fixed, str) else fixed) if f in names]
        if extra:
            raise InputError(f"{extra} are both fitted and fixed.", argument="fixed")
    name = engine_name(engine)
    eng = get_engine(name, operation="fit")
    bar, update = progress_bar(planned_steps(problem.strategy, problem.optimizers), verbose)
    t_start = _time.perf_counter()
    try:
        result = eng.fit(problem, FitHooks(progress=update, callback=callback))
    finally:
        if bar is not None:
            bar.close()
    model._store_fit(result, obs, problem, name, _time.perf_counter() - t_start)
    ds = xr.Dataset()
    fitted = {f.name for f in problem.free}
    for k, v in result.params.items():
        v = np.asarray(v)
        if v.shape == stack.grid_shape and v.ndim == len(stack.grid_dims):
            da = xr.DataArray(v, dims=stack.grid_dims).assign_coords(stack.grid_coords.coords)
        else:
            da = xr.DataArray(v, dims=[f"{k}_dim{i}" for i in range(v.ndim)])
        ds[k] = da.assign_attrs(param_attrs(model, k, "shared" if k in fitted else "fixed"))
        if k in model.param_std_:
            ds[f"{k}_std"] = xr.DataArray(
                np.asarray(model.param_std_[k]).reshape(v.shape),
                dims=da.dims,
                attrs={"long_name": f"standard error of {k} (Laplace approximation)"},
            )
    for k, w in result.network_params.items():
        ds[k] = xr.DataArray(
            np.asarray(w),
            dims=[f"{k}_weight"],
            attrs=param_attrs(model, k, "shared" if k in problem.free_networks else "fixed"),
        )
    active = xr.DataArray(stack.cell_mask.reshape(stack.grid_shape), dims=stack.grid_dims).assign_coords(
        stack.grid_coords.coords
    )
    u0 = result.u0[0]
    for j, s in enumerate(model.layout.specs):
        field = u0[model.layout.slice_of(s.name)].reshape(s.shape)
        ds[f"u0_{s.name}"] = (
            xr.DataArray(field, dims=stack.grid_dims)
            .assign_coords(stack.grid_coords.coords)
            .where(active)
            .assign_attrs(
                long_name=f"fitted initial {s.name} at {stack.coord[0]}",
                **({"units": stack.units[j]} if stack.units[j] else {}),
            )
        )
    ds["active"] = active.astype(np.int8).assign_attrs(
        long_name="cells fitted (1) or masked (0)", flag_values=np.array([0, 1], np.int8), flag_meanings="masked active"
    )
    ds["loss"] = xr.DataArray(result.final_loss, attrs={"long_name": "final loss of the coupled fit", "units": "1"})
    ds["status"] = xr.DataArray(
        np.int8(int(result.status)), attrs={**status_attrs(), "long_name": "fit status (pysciml.Status code)"}
    )
    ds["loss_history"] = xr.DataArray(
        result.loss_history,
        dims=["iteration"],
        coords={"iteration": np.arange(1, result.loss_history.size + 1)},
        attrs={"long_name": "loss after each optimiser step", "units": "1"},
    )
    options = {
        "fit": sorted(fitted | set(problem.free_networks)),
        "strategy": problem.strategy,
        "optimizers": list(problem.optimizers),
        "loss": problem.loss,
        "l2": problem.l2,
        "solver": getattr(result.solver, "name", str(result.solver)),
        "rtol": problem.rtol,
        "atol": problem.atol,
        "max_steps": problem.max_steps,
        "seed": problem.seed,
        "engine": name,
    }
    attrs = common_attrs(stack.attrs, model, "coupled fit", options)
    attrs.update(time_attrs(stack.time))
    attrs.update(
        {
            "pysciml_coupled": "yes",
            "pysciml_t0": float(stack.t[0]),
            "initial_time": str(stack.coord[0]),
            "fit_status": result.status.name.lower(),
            "fit_message": result.message,
        }
    )
    ds.attrs = attrs
    if verbose and result.status is not Status.SUCCESS:
        print(f"pysciml coupled fit: {result.status.name}: {result.message}")
    return ds


def solve_coupled(
    data,
    model,
    *,
    params=None,
    t=None,
    u0=None,
    horizon=None,
    n=101,
    time_units=None,
    time_dim=None,
    solver="auto",
    rtol=1e-6,
    atol=1e-8,
    max_steps=100_000,
    engine=None,
):
    """Solve a coupled model over the grid of ``data``; values over (time, *grid)."""
    import xarray as xr

    ref = units = None
    if isinstance(params, xr.Dataset):
        ref = params.attrs.get("pysciml_time_reference") or None
        units = params.attrs.get("pysciml_time_units") or None
    stack = _stack(data, model, time_units=time_units or units, time_dim=time_dim, reference_time=ref)
    active = None
    if isinstance(params, xr.Dataset):
        rp = read_result(params, model, stack.grid_dims)
        values = dict(rp.values)
        values.update({k: np.asarray(v.transpose(*stack.grid_dims, ...).values) for k, v in rp.per_cell.items()})
        nets, fitted_u0, active = rp.networks, rp.u0, rp.active
        t0 = float(params.attrs.get("pysciml_t0", stack.t[0]))
    else:
        glob, cells, nets = split_start_values(model, params, stack.grid_dims)
        values = {**glob, **{k: np.asarray(v.values) for k, v in cells.items()}}
        fitted_u0, t0 = {}, float(stack.t[0])
    if horizon is not None:
        ts = float(stack.t[-1]) + np.linspace(0.0, horizon, n)
    else:
        ts = output_times(t, stack)
    if u0 is not None:
        y0 = _u0_field(u0, model, stack)
        t0 = float(ts[0]) if horizon is None else float(stack.t[-1])
    elif fitted_u0:
        y0 = np.concatenate(
            [
                np.nan_to_num(np.asarray(fitted_u0[s].transpose(*stack.grid_dims).values, float))
                for s in model.state_names
            ]
        )
    elif horizon is None:
        first = np.asarray(stack.values[:, 0, :], dtype=float)
        y0 = np.nan_to_num(np.concatenate([first[:, j] for j in range(len(model.state_names))]))
        t0 = float(stack.t[0])
    else:
        raise InputError("a forecast needs the fitted initial state (params=<fit result>) or u0=...", argument="params")
    if ts[0] < t0 - 1e-9 * max(1.0, abs(t0)):
        raise InputError(f"starts at model time {ts[0]:.6g}, before the initial state's time {t0:.6g}.", argument="t")
    grid_t = ts if ts[0] > t0 else ts
    span = np.concatenate([[t0], grid_t]) if grid_t[0] > t0 else grid_t
    if span.size < 2:
        span = np.array([t0, t0 + 1e-9])
    if isinstance(solver, str) and solver == "auto":
        solver = fitted_solver(params)
    sol = solve(
        model,
        y0,
        span,
        params={**values, **nets},
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        engine=engine,
    )
    u = sol.u[-ts.size :] if span.size > ts.size else sol.u[: ts.size]
    tname = stack.time.name
    out = {}
    what = "forecast" if horizon is not None else "solve"
    for j, s in enumerate(model.layout.specs):
        field = u[:, model.layout.slice_of(s.name)].reshape((ts.size,) + s.shape)
        va = clean_var_attrs(stack.state_attrs[j])
        if stack.units[j]:
            va["units"] = stack.units[j]
        da = xr.DataArray(field, dims=(tname,) + stack.grid_dims, attrs=va).assign_coords(stack.grid_coords.coords)
        if active is not None:
            da = da.where(active.transpose(*stack.grid_dims).astype(bool))
        out[s.name] = da.assign_coords({tname: time_coordinate(ts, stack.time)})
    attrs = append_history(
        stack.attrs, f"{what} of coupled model {model.name!r} ({sol.stats.get('solver')}, {sol.status.name.lower()})"
    )
    if isinstance(data, xr.DataArray) and len(out) == 1:
        da = next(iter(out.values()))
        da.attrs["history"] = attrs["history"]
        return da.assign_coords(status=np.int8(int(sol.status)))
    ds = xr.Dataset(out, attrs=attrs)
    ds["status"] = xr.DataArray(np.int8(int(sol.status)))
    return ds
