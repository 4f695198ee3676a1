"""Running a gridded fit: independent cells through ``apply_ufunc``, or one joint optimisation."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable

import numpy as np

from ..data.ingest import DataWarning
from ..engines.requests import Batching, CellBlock, FitHooks
from ..errors import InputError
from ..memory import peak_bytes
from ..progress import open_bar
from ..status import Status
from ..training.losses import to_unconstrained
from .align import on_grid
from .blocks import FitBlock, cells_with_data
from .checkpoint import data_fingerprint, open_cell_checkpoint
from .results import common_attrs, param_attrs, status_attrs, time_attrs
from .stack import unstack_cells

__all__ = ["run_independent", "run_joint", "estimate_text"]

log = logging.getLogger("pysciml.cells")

_STATE = "pysciml_state"


def estimate_text(info: dict) -> str:
    """What a per-cell fit tells the user after its first batch: batch size, predicted memory per
    batch and this process's peak memory so far (the progress bar shows the time left)."""
    return (
        f"{info['cells_per_batch']} cells/batch, ~{info['predicted_batch_bytes'] / 2**20:.0f} MiB/batch predicted, "
        f"peak RSS {peak_bytes() / 2**20:.0f} MiB, ~{info['estimated_seconds']:.0f} s for this block"
    )


def _log_estimate(info: dict) -> None:
    log.info("gridded fit: %s", estimate_text(info))


def _telling(bar):
    """The estimate hook of a block: the ``pysciml.cells`` logger at INFO, and the progress bar's
    postfix where there is one (a module-level function where not, so a dask task pickles it)."""
    if bar is None:
        return _log_estimate

    def tell(info: dict) -> None:
        _log_estimate(info)
        bar.set_postfix_str(estimate_text(info))

    return tell


def _z0_inputs(model, stack, cell_starts):
    """Per-cell starting values as unconstrained DataArrays (grid dims + ``<name>_dim<i>``)."""
    import xarray as xr

    out = {}
    for name, da in cell_starts.items():
        spec = model.param_specs[name]
        own = [d for d in da.dims if d not in stack.grid_dims]
        if len(own) != len(spec.shape):
            raise InputError(
                f"has dimensions {list(da.dims)}; give the grid dimensions {list(stack.grid_dims)}"
                + (f" plus {len(spec.shape)} for the parameter's shape {spec.shape}." if spec.shape else "."),
                argument=f"params.{name}",
            )
        da = on_grid(da, stack, f"params.{name}", extra_dims=own)
        values = np.asarray(da.values, dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size:
            spec.check_value(finite, argument=f"params.{name}")
        with np.errstate(over="ignore"):  # softplus inverse of large values: exact branch chosen anyway
            z = to_unconstrained(np.where(np.isfinite(values), values, spec.default), spec.bounds)
        out[name] = xr.DataArray(
            z, dims=stack.grid_dims + tuple(f"{name}_dim{i}" for i in range(len(own)))
        ).assign_coords(stack.grid_coords.coords)
    return out


def _finish(ds, spec, stack, roles, options, what, extra_attrs=None):
    """Fixed parameters, networks and attributes common to both kinds of fit."""
    import xarray as xr

    model = spec.model
    for n in roles.fixed:
        v = np.asarray(spec.fixed[n])
        ds[n] = xr.DataArray(v, dims=[f"{n}_dim{i}" for i in range(v.ndim)], attrs=param_attrs(model, n, "fixed"))
    for k in roles.fixed_networks:
        ds[k] = xr.DataArray(
            np.asarray(spec.networks_init[k]), dims=[f"{k}_weight"], attrs=param_attrs(model, k, "fixed")
        )
    attrs = common_attrs(stack.attrs, model, what, options)
    attrs.update(time_attrs(stack.time))
    attrs.update(roles.as_attrs())
    attrs["initial_time"] = str(stack.coord[0])
    attrs["pysciml_t0"] = float(stack.t[0])
    attrs.update(extra_attrs or {})
    ds.attrs = attrs
    return ds


def _state_vars(ds, arr, stack, prefix, long_name, units=True):
    for j, s in enumerate(stack.state_names):
        a = {"long_name": long_name.format(state=s)}
        if units and stack.units[j]:
            a["units"] = stack.units[j]
        ds[f"{prefix}{s}"] = arr.isel({_STATE: j}, drop=True).assign_attrs(a)


def _cell_vars(ds, outs, spec, stack):
    """Per-cell outputs (DataArrays over the grid) into the result Dataset."""
    model = spec.model
    for f in spec.per_cell:
        ds[f.name] = outs[f.name].assign_attrs(param_attrs(model, f.name, "per_cell"))
    _state_vars(ds, outs["u0"], stack, "u0_", f"fitted initial {{state}} at {stack.coord[0]}")
    ds["loss"] = outs["loss"].assign_attrs(
        long_name="final loss per cell",
        units="1",
        comment="mean over observed values of ((model - data) / s)**2, s = the cell's standard deviation of "
        "each state (for ps.MSE); NaN where the cell was skipped or its solve failed",
    )
    ds["status"] = outs["status"].assign_attrs(status_attrs())
    ds["rejected_steps"] = outs["rejected_steps"].assign_attrs(
        long_name="optimiser steps rejected in the cell (non-finite loss or gradient)", units="1"
    )
    _state_vars(ds, outs["rmse"], stack, "rmse_", "root mean square error of {state} over the observed times")
    if "sigma" in outs:
        _state_vars(ds, outs["sigma"], stack, "sigma_", "fitted noise standard deviation of {state}")


def run_independent(
    spec,
    stack,
    roles,
    cell_starts,
    u0_arrays,
    eng,
    engine,
    options,
    *,
    budget,
    cells_per_batch,
    workers,
    verbose,
    checkpoint=None,
    resume=False,
    checkpoint_cells=None,
):
    """Per-cell parameters only: every block of cells through ``xarray.apply_ufunc``.

    ``checkpoint`` (a folder), ``resume`` and ``checkpoint_cells``: see :mod:`pysciml.cells.checkpoint`.
    """
    import xarray as xr

    src = stack.source
    tdim = stack.time.name
    lazy = stack.is_lazy
    present = [j for j, s in enumerate(stack.state_names) if s in src.data_vars]
    mask = xr.DataArray(stack.cell_mask.reshape(stack.grid_shape), dims=stack.grid_dims).assign_coords(
        stack.grid_coords.coords
    )
    z0 = _z0_inputs(spec.model, stack, cell_starts)
    u0 = list(u0_arrays or [])
    chunks = {}
    if lazy:
        chunks = {d: src.chunksizes[d] for d in stack.grid_dims if d in src.chunksizes}
        mask = mask.chunk(chunks)
        z0 = {k: v.chunk(chunks) for k, v in z0.items()}
        u0 = [v.chunk(chunks) for v in u0]
    inputs = [src[stack.state_names[j]] for j in present] + [mask] + list(z0.values()) + u0
    ckpt = None
    if checkpoint is not None or resume or checkpoint_cells is not None:
        fingerprint = f"{spec.token}:{data_fingerprint(inputs)}:{stack.grid_shape}:{engine}"
        ckpt = open_cell_checkpoint(checkpoint, resume, fingerprint, checkpoint_cells)
    if ckpt is not None:
        ids = xr.DataArray(
            np.arange(stack.n_cells, dtype=np.int64).reshape(stack.grid_shape), dims=stack.grid_dims
        ).assign_coords(stack.grid_coords.coords)
        inputs.append(ids.chunk(chunks) if lazy else ids)
    steps = eng.cell_history_steps(spec)
    bar = None if lazy else open_bar(int(stack.cell_mask.sum()), verbose, desc="fit cells", unit="cell")
    batching = Batching(
        cells_per_batch=cells_per_batch,
        max_memory=None if budget is None else budget // (1 if lazy else workers),
        workers=1 if lazy else workers,
    )
    block = FitBlock(
        spec,
        present,
        list(z0),
        bool(u0),
        len(steps),
        engine,
        batching,
        progress=None if bar is None else bar.update,
        checkpoint=ckpt,
        estimate=_telling(bar),
    )
    names = block.output_names()
    core = {f.name: [f"{f.name}_dim{i}" for i in range(np.ndim(f.z0))] for f in spec.per_cell}
    core.update(
        u0=[_STATE], loss=[], status=[], rejected_steps=[], rmse=[_STATE], history=["iteration"], sigma=[_STATE]
    )
    dtypes = {"status": np.int8, "rejected_steps": np.int32, "history": np.float32}
    sizes = {_STATE: spec.n_states, "iteration": len(steps)}
    for f in spec.per_cell:
        sizes.update({f"{f.name}_dim{i}": s for i, s in enumerate(np.shape(f.z0))})
    try:
        results = xr.apply_ufunc(
            block,
            *inputs,
            input_core_dims=[[tdim]] * len(present)
            + [[]]
            + [[d for d in v.dims if d not in stack.grid_dims] for v in z0.values()]
            + [[]] * len(u0)
            + [[]] * (ckpt is not None),
            output_core_dims=[core[n] for n in names],
            dask="parallelized",
            output_dtypes=[dtypes.get(n, np.float64) for n in names],
            dask_gufunc_kwargs={"output_sizes": sizes},
            keep_attrs=False,
        )
    finally:
        if bar is not None:
            bar.close()
    outs = {n: r.transpose(*stack.grid_dims, *core[n]) for n, r in zip(names, results)}
    ds = xr.Dataset()
    _cell_vars(ds, outs, spec, stack)
    hist = outs["history"].astype(np.float64).mean(stack.grid_dims, skipna=True)
    ds["loss_history"] = hist.assign_coords(iteration=np.asarray(steps)).assign_attrs(
        long_name="mean over fitted cells of the per-cell loss, recorded every chunk of optimiser steps", units="1"
    )
    ds["iteration"].attrs.update(long_name="optimiser steps taken", units="1")
    extra: dict = {"pysciml_fit": "per-cell"}
    if ckpt is not None:
        extra.update(checkpoint=ckpt.folder, checkpoint_cells=ckpt.cells)
    if not lazy:
        extra.update(_status_counts(np.asarray(ds["status"].values)))
        extra.update(block.info)
    return _finish(ds, spec, stack, roles, options, "per-cell fit", extra)


def _status_counts(status: np.ndarray) -> dict:
    return {
        "cells_success": int((status == int(Status.SUCCESS)).sum()),
        "cells_skipped": int((status == int(Status.SKIPPED)).sum()),
        "cells_failed": int(((status != int(Status.SUCCESS)) & (status != int(Status.SKIPPED))).sum()),
    }


def run_joint(
    spec, stack, roles, cell_starts, u0_arrays, eng, engine, options, *, budget, cells_per_batch, verbose, callback
):
    """Shared parameters: all cells in memory, one joint optimisation."""
    import xarray as xr

    if stack.is_lazy:
        nbytes = stack.n_cells * stack.t.size * len(stack.state_names) * 8
        warnings.warn(
            f"shared parameters couple every cell at every step, so the observations "
            f"({nbytes / 2**20:.0f} MiB) are loaded into memory; fit per-cell parameters only to "
            "process dask chunks separately.",
            DataWarning,
            stacklevel=3,
        )
    y = np.asarray(stack.values, dtype=float)
    active = cells_with_data(y, stack.cell_mask)
    if not active.any():
        raise InputError("no cell has at least 2 observed times outside the mask; nothing to fit.", argument="data")
    n = stack.n_cells
    z0 = {
        k: np.asarray(v.values).reshape((n,) + v.shape[len(stack.grid_dims) :])[active]
        for k, v in _z0_inputs(spec.model, stack, cell_starts).items()
    }
    u0 = None
    if u0_arrays:
        u0 = np.stack([np.asarray(a.values, float).reshape(n) for a in u0_arrays], axis=1)[active]
    total = sum(o.steps for o in spec.optimizers) + (
        spec.strategy.stages * spec.strategy.steps if hasattr(spec.strategy, "stages") else 0
    )
    bar = open_bar(total, verbose, desc="fit cells", unit="step")
    progress: Callable[[int, float], None] | None = None
    if bar is not None:

        def show_progress(k, loss):
            bar.update(k)
            bar.set_postfix_str(f"loss {loss:.4g}")

        progress = show_progress

    try:
        res = eng.fit_cells(
            spec,
            CellBlock(y, np.flatnonzero(active), z0, u0),
            Batching(cells_per_batch=cells_per_batch, max_memory=budget),
            FitHooks(progress=progress, callback=callback),
        )
    finally:
        if bar is not None:
            bar.close()
    n_s = spec.n_states
    full: dict[str, np.ndarray] = {f.name: np.full((n,) + np.shape(f.z0), np.nan) for f in spec.per_cell}
    full.update(
        u0=np.full((n, n_s), np.nan),
        loss=np.full(n, np.nan),
        status=np.full(n, int(Status.SKIPPED), np.int8),
        rejected_steps=np.zeros(n, np.int32),
        rmse=np.full((n, n_s), np.nan),
    )
    if res.sigma is not None:
        full["sigma"] = np.full((n, n_s), np.nan)
    for k in full:
        src = res.params[k] if k in res.params else getattr(res, "rejected" if k == "rejected_steps" else k)
        full[k][active] = src
    dims = {f.name: [f"{f.name}_dim{i}" for i in range(np.ndim(f.z0))] for f in spec.per_cell}
    dims.update(u0=[_STATE], rmse=[_STATE], sigma=[_STATE])
    outs = {k: unstack_cells(v, stack, dims=dims.get(k, [])) for k, v in full.items()}
    ds = xr.Dataset()
    _cell_vars(ds, outs, spec, stack)
    model = spec.model
    for k, v in res.shared_params.items():
        ds[k] = xr.DataArray(v, dims=[f"{k}_dim{i}" for i in range(np.ndim(v))], attrs=param_attrs(model, k, "shared"))
    for k, w in res.networks.items():
        ds[k] = xr.DataArray(w, dims=[f"{k}_weight"], attrs=param_attrs(model, k, "shared"))
    ds["loss_history"] = xr.DataArray(
        res.history,
        dims=["iteration"],
        coords={"iteration": res.history_steps},
        attrs={"long_name": "joint loss: mean over cells of the cell losses", "units": "1"},
    )
    extra = {
        "pysciml_fit": "joint",
        "fit_status": res.fit_status.name.lower(),
        "pysciml_events": json.dumps(list(res.events[:200])),
    }
    extra.update(_status_counts(full["status"]))
    extra.update(cells_per_batch=int(res.batch), predicted_batch_bytes=int(res.predicted_bytes))
    return _finish(ds, spec, stack, roles, options, "per-cell fit with shared parameters", extra)
