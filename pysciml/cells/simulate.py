"""``solve_cells`` / ``forecast_cells``: run a model in every cell of a grid, parameters from a fit."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.to_xarray import time_coordinate
from ..engines.registry import engine_name, get_engine
from ..engines.requests import Batching, CellSolveRequest
from ..errors import InputError
from ..io.cf import append_history, clean_var_attrs
from ..ivp import check_model
from ..memory import parse_memory
from ..solvers.auto import Auto, choose_solver
from ..solvers.catalog import resolve_solver
from .align import grid_template, on_grid, output_times, u0_fields
from .blocks import SolveBlock
from .coupled import solve_coupled
from .results import fitted_solver, read_result, status_attrs
from .roles import split_start_values
from .spec import with_content_token
from .stack import stack_cells
from .workers import refuse_unused_workers, resolve_workers

__all__ = ["solve_cells", "forecast_cells"]

_STATE = "pysciml_state"
_TIME = "pysciml_time"


def _first_valid(a: np.ndarray) -> np.ndarray:
    """First non-NaN value along the last axis (NaN where there is none)."""
    a = np.asarray(a, dtype=float)
    ok = ~np.isnan(a)
    idx = np.argmax(ok, axis=-1)
    out = np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]
    return np.where(ok.any(axis=-1), out, np.nan)


def _params(model, params, stack):
    """(per-cell DataArrays, global values, networks, fitted u0 DataArrays, active DataArray, t0 or None)."""
    import xarray as xr

    if isinstance(params, xr.Dataset):
        rp = read_result(params, model, stack.grid_dims)
        t0 = params.attrs.get("pysciml_t0")
        return rp.per_cell, rp.values, rp.networks, rp.u0, rp.active, None if t0 is None else float(t0)
    glob, cells, nets = split_start_values(model, params, stack.grid_dims)
    return cells, glob, nets, {}, None, None


def _on_grid(da, stack, argument, extra_dims=()):

    return on_grid(
        da, stack, argument, extra_dims, what="the data's grid (the fit result must come from data on the same grid)"
    )


def _run(
    data,
    model,
    *,
    params,
    u0,
    t_model,
    t0_mode,
    mask,
    time_units,
    time_dim,
    solver,
    rtol,
    atol,
    max_steps,
    max_memory,
    cells_per_batch,
    workers,
    engine,
    what,
):
    import xarray as xr

    ref = time_units_from = None
    if isinstance(params, xr.Dataset):
        ref = params.attrs.get("pysciml_time_reference") or None
        time_units_from = params.attrs.get("pysciml_time_units") or None
    stack = stack_cells(
        data,
        states=model,
        time_units=time_units or time_units_from or model.time_units,
        time_dim=time_dim,
        reference_time=ref,
        mask=mask,
    )
    refuse_unused_workers(
        workers, "dask-backed data run chunk by chunk on the dask scheduler" if stack.is_lazy else None
    )
    n_workers = 1 if stack.is_lazy else resolve_workers(workers)
    cells, glob, nets_given, u0_fit, active, t0_fit = _params(model, params, stack)
    values = model.resolve_params(glob)
    nets = model.init_networks()
    nets.update(nets_given)
    ts = t_model(stack)
    n_s = model.n_states
    if u0 is not None:
        u0_das = u0_fields(u0, model, stack)
        t0 = float(ts[0]) if t0_mode == "first" else float(stack.t[-1])
    elif u0_fit:
        u0_das = [
            _on_grid(u0_fit[s], stack, "params") if s in u0_fit else grid_template(stack) for s in model.state_names
        ]
        t0 = float(stack.t[0]) if t0_fit is None else t0_fit
    elif t0_mode == "first":
        # no fitted or given initial state: each cell's first observation of each state
        first = []
        src = stack.source
        for s in model.state_names:
            if s in src.data_vars:
                v = src[s]
                first.append(
                    xr.apply_ufunc(
                        _first_valid,
                        v,
                        input_core_dims=[[stack.time.name]],
                        dask="parallelized",
                        output_dtypes=[np.float64],
                    )
                )
            else:
                first.append(xr.full_like(grid_template(stack), np.nan))
        u0_das = [_on_grid(f, stack, "data") for f in first]
        t0 = float(stack.t[0])
    else:
        raise InputError(
            "a forecast needs the fitted initial states (params=<fit result>) or the state at the "
            "data's last time (u0=...).",
            argument="params",
        )
    if ts[0] < t0 - 1e-9 * max(1.0, abs(t0)):
        raise InputError(
            f"starts at model time {ts[0]:.6g}, before the initial states' time {t0:.6g}; solve from "
            "the fitted start onwards.",
            argument="t",
        )
    per_cell = {
        k: _on_grid(v, stack, f"params.{k}", extra_dims=tuple(d for d in v.dims if d not in stack.grid_dims))
        for k, v in cells.items()
    }
    ok = xr.DataArray(stack.cell_mask.reshape(stack.grid_shape), dims=stack.grid_dims, coords=stack.grid_coords.coords)
    if active is not None:
        ok = ok & _on_grid(active, stack, "params").astype(bool)
    name = engine_name(engine)
    get_engine(name, operation="solve_cells")
    solver = resolve_solver(
        fitted_solver(params) if isinstance(solver, str) and solver == "auto" else solver, purpose="gridded cells"
    )
    if isinstance(solver, Auto):  # one static method for every cell, decided from the first one
        u0_first = np.array([float(np.asarray(d.values).reshape(-1)[0]) for d in u0_das])
        u0_first = np.where(np.isfinite(u0_first), u0_first, 0.0)
        first_pc = {k: np.asarray(v.values).reshape((-1,) + model.param_specs[k].shape)[0] for k, v in per_cell.items()}
        solver = choose_solver(
            solver,
            model,
            u0_first,
            t0,
            float(ts[-1]),
            {**values, **first_pc},
            nets,
            max_steps=int(max_steps),
            runtime_fallback=False,
        ).primary
    spec = CellSolveRequest(
        model=model,
        t0=t0,
        ts=np.asarray(ts, float),
        per_cell=tuple(per_cell),
        values={k: np.asarray(v, float) for k, v in values.items() if k not in per_cell},
        networks=nets,
        solver=solver,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
    )
    spec = with_content_token(spec)
    inputs = [ok] + u0_das + list(per_cell.values())
    if stack.is_lazy:
        chunks = {d: stack.source.chunksizes[d] for d in stack.grid_dims if d in stack.source.chunksizes}
        inputs = [a.chunk(chunks) for a in inputs]
    budget = parse_memory(max_memory)
    batching = Batching(
        cells_per_batch=cells_per_batch,
        max_memory=None if budget is None else budget // n_workers,
        workers=n_workers,
    )
    block = SolveBlock(spec, name, batching)
    if stack.is_lazy:  # chunk by chunk on the dask scheduler
        ys, status = xr.apply_ufunc(
            block,
            *inputs,
            input_core_dims=[[]] * (1 + n_s)
            + [[d for d in v.dims if d not in stack.grid_dims] for v in per_cell.values()],
            output_core_dims=[[_TIME, _STATE], []],
            dask="parallelized",
            output_dtypes=[np.float64, np.int8],
            dask_gufunc_kwargs={"output_sizes": {_TIME: ts.size, _STATE: n_s}},
            keep_attrs=False,
        )
        ys_data = ys.transpose(*stack.grid_dims, _TIME, _STATE).data
        status_data = status.transpose(*stack.grid_dims).data
    else:
        # every input is on the grid already (grid dims first, in order, coordinates checked): the block
        # takes the arrays as they are, without apply_ufunc's alignment (~2 ms of a 540-cell solve)
        ys_data, status_data = block(*(a.values for a in inputs))
    return _outputs(data, model, stack, ys_data, status_data, time_coordinate(ts, stack.time), what, solver.name)


def _outputs(data, model, stack, ys, status, tcoord, what: str, solver_name: str):
    """The solution as the user's type: a DataArray (DataArray data, one state) or a Dataset, each state over
    (time, *grid dims) with the grid's coordinates, and the per-cell solver status.

    ys: (*grid shape, n_t, n_states) and status (*grid shape), numpy or dask arrays. The objects are built
    from their variables in one go (no alignment: every piece is on the data's grid already).
    """
    import xarray as xr

    dims = (stack.time.name, *stack.grid_dims)
    order = (ys.ndim - 2, *range(ys.ndim - 2))  # time first
    # the grid's indexes are reused as they are (building them again from the coordinates is most of the cost)
    tname = stack.time.name
    tindex = xr.Coordinates({tname: tcoord})
    variables_c = {**stack.grid_coords.coords.variables, tname: tindex.variables[tname]}
    indexes = {**stack.grid_coords.xindexes, tname: tindex.xindexes[tname]}
    status_var = xr.Variable(
        stack.grid_dims, status, {**status_attrs(), "long_name": "solver status per cell (pysciml.Status code)"}
    )
    attrs = append_history(stack.attrs, f"{what} of model {model.name!r} with {solver_name}")
    variables = {}
    for j, s in enumerate(model.state_names):
        va = clean_var_attrs(stack.state_attrs[j])
        if stack.units[j]:
            va["units"] = stack.units[j]
        va.setdefault("long_name", f"{s} ({what} of model {model.name})")
        variables[s] = xr.Variable(dims, ys[..., j].transpose(order), va)
    if isinstance(data, xr.DataArray) and model.n_states == 1:
        (s,) = model.state_names
        var = variables[s]
        if "history" in attrs:
            var.attrs["history"] = attrs["history"]
        name = data.name if data.name is not None else s
        coords = xr.Coordinates({**variables_c, "status": status_var}, indexes=indexes)
        return xr.DataArray(var, coords=coords, name=name)
    coords = xr.Coordinates(variables_c, indexes=indexes)
    return xr.Dataset({**variables, "status": status_var}, coords=coords, attrs=attrs)


def solve_cells(
    data: Any,
    model: Any,
    *,
    params: Any = None,
    t: Any = None,
    u0: Any = None,
    mask=None,
    time_units: str | None = None,
    time_dim: str | None = None,
    solver: Any = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    max_memory: Any = "4GiB",
    cells_per_batch: int | None = None,
    workers: int | None = None,
    engine: str | None = None,
):
    """Solve ``model`` in every cell of ``data``'s grid; returns values over (time, *grid).

    Args:
        data: the gridded data (DataArray or Dataset) giving the grid, the time axis and,
            without fitted initial states, each cell's first observations.
        model: the model (scalar states; a coupled model is solved as one system).
        params: a fit result (per-cell parameters, shared ones, network weights, fitted
            initial states and the fit's time axis) or ``{name: value | DataArray over the grid}``.
        t: output times: like the data's (datetime64 / cftime) or model-time numbers;
            default: the data's times.
        u0: initial states at ``t[0]`` (numbers or DataArrays per state); default: the fit's
            initial states (at the fit's first time), else the data's first observations.
        mask: boolean DataArray over the grid (True = solve this cell).
        time_units, time_dim: as in :func:`fit_cells` (default: the fit's units).
        solver, rtol, atol, max_steps: solver settings (``"auto"`` decided once).
        max_memory, cells_per_batch: memory budget of the batches of cells (divided among
            ``workers``), or a batch's size.
        workers: batches run at once in threads (default: CPU cores, at most 4; in-memory data).
        engine: ``"jax"`` (default).

    Returns:
        a DataArray (time, *grid) for a one-state model called on a DataArray (coordinate
        ``status``: solver status per cell), else a Dataset of states plus ``status``; coords
        and attributes of the data kept, ``history`` appended. Cells not solved (masked, not
        fitted, NaN parameters) are NaN with ``Status.SKIPPED``.
    """
    model = check_model(model)
    if any(s.shape != () for s in model.layout.specs):
        return solve_coupled(
            data,
            model,
            params=params,
            t=t,
            u0=u0,
            time_units=time_units,
            time_dim=time_dim,
            solver=solver,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            engine=engine,
        )
    return _run(
        data,
        model,
        params=params,
        u0=u0,
        t_model=lambda st: output_times(t, st),
        t0_mode="first",
        mask=mask,
        time_units=time_units,
        time_dim=time_dim,
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        max_memory=max_memory,
        cells_per_batch=cells_per_batch,
        workers=workers,
        engine=engine,
        what="solve",
    )


def forecast_cells(
    data: Any,
    model: Any,
    horizon: float,
    *,
    params: Any = None,
    n: int = 101,
    u0: Any = None,
    mask=None,
    time_units: str | None = None,
    time_dim: str | None = None,
    solver: Any = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    max_memory: Any = "4GiB",
    cells_per_batch: int | None = None,
    workers: int | None = None,
    engine: str | None = None,
):
    """Extrapolate every cell ``horizon`` model-time units past the data's last time.

    The forecast continues each cell's fitted trajectory (from the fit's initial states,
    not from the noisy last observation), or starts from ``u0`` at the last time.

    Args:
        data: the data the model was fitted to (its grid and last time).
        model: the model.
        horizon: length of the forecast in model-time units (``time_units`` of the fit).
        params: the fit result.
        n: number of output times, evenly spaced from the last time to last + horizon.
        u0: the state at the data's last time instead of the fitted trajectory.
        (other arguments as in :func:`solve_cells`)
    """
    model = check_model(model)
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, (int, float, np.integer, np.floating))
        or not (np.isfinite(horizon) and horizon > 0)
    ):
        raise InputError(f"must be a positive number of model-time units, got {horizon!r}.", argument="horizon")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
        raise InputError(f"must be an integer >= 2, got {n!r}.", argument="n")
    if any(s.shape != () for s in model.layout.specs):
        return solve_coupled(
            data,
            model,
            params=params,
            horizon=float(horizon),
            n=int(n),
            u0=u0,
            time_units=time_units,
            time_dim=time_dim,
            solver=solver,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            engine=engine,
        )
    return _run(
        data,
        model,
        params=params,
        u0=u0,
        t_model=lambda st: float(st.t[-1]) + np.linspace(0.0, float(horizon), int(n)),
        t0_mode="last",
        mask=mask,
        time_units=time_units,
        time_dim=time_dim,
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        max_memory=max_memory,
        cells_per_batch=cells_per_batch,
        workers=workers,
        engine=engine,
        what="forecast",
    )
