"""``fit_cells``: fit a model in every cell of a gridded DataArray / Dataset.

Per-cell parameters, parameters shared by all cells (a network over the whole
grid), or both.  Independent cells run block by block through
``xarray.apply_ufunc(..., dask="parallelized")`` (in memory, on dask chunks or on a
dask.distributed cluster), each block in compiled, vmapped, memory-bounded batches;
shared parameters need every cell at every step, so that fit loads the cells into
memory and runs one joint optimisation.  Spatially coupled models (a state over the
whole grid) go to :mod:`.coupled`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..engines.registry import engine_name, get_engine
from ..engines.requests import CellFitRequest, FreeParam
from ..errors import InputError
from ..ivp import check_model
from ..memory import parse_memory
from ..options import check_bool
from ..solvers.auto import Auto, choose_solver
from ..solvers.catalog import resolve_solver
from ..solvers.runge_kutta import Tsit5
from ..training.losses import MSE, resolve_loss, to_unconstrained
from ..training.optimizers import LBFGS, Adam, LevenbergMarquardt, resolve_optimizers
from ..training.strategies import (
    GrowingHorizon,
    OneStepAhead,
    SingleShooting,
    resolve_strategy,
)
from .align import u0_fields
from .coupled import fit_coupled
from .execute import run_independent, run_joint
from .roles import resolve_roles, split_start_values
from .spec import with_content_token
from .stack import stack_cells
from .workers import refuse_unused_workers, resolve_workers

__all__ = ["fit_cells", "DEFAULT_CELL_OPTIMIZERS", "DEFAULT_CELL_OPTIMIZERS_NLL", "DEFAULT_JOINT_OPTIMIZERS"]

#: per-cell fits (least squares, few parameters per cell): a short Adam warm-up, then Levenberg-Marquardt
DEFAULT_CELL_OPTIMIZERS = (Adam(5e-2, steps=50, schedule="cosine"), LevenbergMarquardt(steps=25))
#: per-cell fits with a loss that is not least squares (ps.GaussianNLL)
DEFAULT_CELL_OPTIMIZERS_NLL = (Adam(5e-2, steps=200, schedule="cosine", final_fraction=0.02), LBFGS(steps=50))
#: joint fits (shared networks): the estimator's schedule, shorter
DEFAULT_JOINT_OPTIMIZERS = (Adam(1e-2, steps=1000, schedule="cosine", final_fraction=0.1), LBFGS(steps=200))


def _strategy(strategy, joint: bool):

    if strategy is None:
        return GrowingHorizon(stages=3, steps=300) if joint else SingleShooting()
    if isinstance(strategy, OneStepAhead):
        return strategy
    s = resolve_strategy(strategy)
    inner = s.then if isinstance(s, GrowingHorizon) else s
    if not isinstance(inner, SingleShooting):
        raise InputError(
            f"{s.name} is not available for per-cell fits yet; use ps.SingleShooting(), "
            "ps.GrowingHorizon() (then=ps.SingleShooting()) or OneStepAhead().",
            argument="strategy",
        )
    return s


def _optimizers(optimizers, joint: bool, loss):

    least_squares = isinstance(resolve_loss(loss), MSE)
    if optimizers is None:
        if joint:
            return DEFAULT_JOINT_OPTIMIZERS
        return DEFAULT_CELL_OPTIMIZERS if least_squares else DEFAULT_CELL_OPTIMIZERS_NLL
    opts = resolve_optimizers(optimizers)
    if any(isinstance(o, LevenbergMarquardt) for o in opts):
        if joint:
            raise InputError(
                "LevenbergMarquardt is for per-cell parameters only (a few per cell); with shared "
                "parameters use ps.Adam(...) and ps.LBFGS(...).",
                argument="optimizers",
            )
        if not least_squares:
            raise InputError(
                "LevenbergMarquardt needs a least-squares loss (ps.MSE()); with ps.GaussianNLL use "
                "ps.Adam(...) and ps.LBFGS(...).",
                argument="optimizers",
            )
    return opts


def _fit_u0(fit_u0, u0, strategy) -> bool:

    if isinstance(strategy, OneStepAhead):
        if u0 is not None:
            raise InputError(
                "OneStepAhead solves every step from an observation, so an initial state would not be "
                "used; drop u0= (or use ps.SingleShooting()).",
                argument="u0",
            )
        if fit_u0 is True:
            raise InputError(
                "OneStepAhead solves every step from an observation: there is no initial state to "
                "fit; leave fit_u0='auto'.",
                argument="fit_u0",
            )
        return False
    return (u0 is None) if fit_u0 == "auto" else bool(fit_u0)


def _check_positive_int(value, argument):
    if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1):
        raise InputError(f"must be a positive integer, got {value!r}.", argument=argument)


def fit_cells(
    data: Any,
    model: Any,
    *,
    per_cell=None,
    shared=None,
    fixed=None,
    params=None,
    u0=None,
    fit_u0: Any = "auto",
    mask=None,
    time_units: str | None = None,
    time_dim: str | None = None,
    reference_time: Any = None,
    coupled: bool | None = None,
    strategy=None,
    optimizers=None,
    loss=None,
    l2: float = 0.0,
    solver: Any = "auto",
    adjoint=None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 10_000,
    seed: int = 0,
    differentiation: str = "auto",
    max_memory: Any = "4GiB",
    cells_per_batch: int | None = None,
    workers: int | None = None,
    engine: str | None = None,
    verbose: int = 1,
    callback=None,
    checkpoint=None,
    resume: bool = False,
    checkpoint_cells: int | None = None,
):
    """Fit ``model`` to gridded ``data``: parameters per cell, shared by all cells, or both.

    Args:
        data: ``xr.DataArray`` (one state; a state dimension is also read) or ``xr.Dataset``
            (one variable per state) over a time dimension and any grid dimensions; numpy- or
            dask-backed (dask: processed chunk by chunk, the result stays lazy for per-cell fits).
        model: a :class:`pysciml.ODEModel` with scalar states (a model whose state is the whole
            grid is fitted as one coupled model: see ``coupled``).
        per_cell: parameters fitted separately in every cell (default: every physics
            parameter not shared or fixed).
        shared: parameters and networks fitted jointly over all cells (default: the networks).
        fixed: parameters kept at their starting values.
        params: starting / fixed values: ``{name: number | DataArray over the grid}`` or a
            previous result Dataset.
        u0: initial states at the first time: numbers per state, ``{state: number | DataArray}``;
            default: each cell's first observations, fitted.
        fit_u0: fit the initial states (``"auto"``: yes unless ``u0`` is given).
        mask: boolean DataArray over the grid (True = fit this cell), e.g. ``ds.land == 0``;
            masked cells and cells with fewer than 2 observed times are skipped
            (``Status.SKIPPED``, NaN values).
        time_units: model time units for calendar time axes (``"days"`` ...); default the model's.
        time_dim: the time dimension (default: detected).
        reference_time: the time of model time 0 (default: the first time).
        coupled: True for a spatially coupled model (default: detected from the model's
            state shapes).
        strategy: ``ps.SingleShooting()`` (default for per-cell fits), ``ps.GrowingHorizon()``
            (default with shared parameters) or :class:`OneStepAhead` (each step from the observed
            state: the estimator for noisy, autoregressive-like series).
        optimizers: ``ps.Adam``, ``ps.LBFGS`` and, per cell, :class:`LevenbergMarquardt`; default
            :data:`DEFAULT_CELL_OPTIMIZERS` (per-cell, MSE), :data:`DEFAULT_CELL_OPTIMIZERS_NLL`
            (per-cell, GaussianNLL) or :data:`DEFAULT_JOINT_OPTIMIZERS` (shared parameters).
        loss, l2, solver, adjoint, rtol, atol, max_steps, seed: as in ``model.fit``; ``solver="auto"``
            is decided once from the first cell.
        differentiation: ``"auto"`` (forward mode for a few parameters per cell), ``"forward"``
            or ``"reverse"``.
        max_memory: memory budget of one batch of cells (bytes or ``"4GiB"``); the batch size is
            chosen from it (divided among ``workers``).
        cells_per_batch: fix the batch size instead.
        workers: batches run at once in threads (default: CPU cores, at most 4; in-memory data).
        engine: ``"jax"`` (default).
        verbose: 0 silences progress output.
        callback: ``callback(info) -> bool`` for joint fits (True stops training).
        checkpoint: a folder where a per-cell fit saves every finished group of cells as it goes
            (one atomic file per group; see :mod:`pysciml.cells.checkpoint`).  A folder that
            already holds a checkpoint is never overwritten: pass ``resume=True`` to continue it.
        resume: continue the fit saved in ``checkpoint`` (same model, data, options and
            ``checkpoint_cells``): finished groups are read back, only the others are fitted, and
            the result equals an uninterrupted run cell for cell.
        checkpoint_cells: cells per saved group (default 1024): smaller loses less work when a
            fit is killed, larger writes fewer files.

    Returns:
        ``xr.Dataset`` (see :mod:`pysciml.cells.results`): per-cell parameters over the grid,
        ``u0_<state>``, ``loss``, ``rmse_<state>``, ``status`` (CF flags), shared/fixed parameters,
        network weights, ``loss_history(iteration)``, attributes with the model, options and history.
    """

    model = check_model(model)
    check_bool(resume, "resume")
    if coupled is None:
        coupled = any(s.shape != () for s in model.layout.specs)
    if coupled and (checkpoint is not None or resume or checkpoint_cells is not None):
        raise InputError(
            "checkpoint= saves per-cell fits group by group; a spatially coupled model is fitted as one system "
            "and cannot be checkpointed here yet. Drop checkpoint=/resume=.",
            argument="checkpoint",
        )
    if coupled:
        return fit_coupled(
            data,
            model,
            fit=per_cell,
            shared=shared,
            fixed=fixed,
            params=params,
            u0=u0,
            fit_u0=fit_u0,
            mask=mask,
            time_units=time_units,
            time_dim=time_dim,
            reference_time=reference_time,
            strategy=strategy,
            optimizers=optimizers,
            loss=loss,
            l2=l2,
            solver=solver,
            adjoint=adjoint,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            seed=seed,
            engine=engine,
            verbose=verbose,
            callback=callback,
        )
    if any(s.shape != () for s in model.layout.specs):
        raise InputError(
            "coupled=False, but the model has states with shapes (a spatially coupled model); "
            "per-cell fits need scalar states.",
            argument="coupled",
        )

    _check_positive_int(cells_per_batch, "cells_per_batch")
    budget = parse_memory(max_memory)
    n_workers = resolve_workers(workers)
    if differentiation not in ("auto", "forward", "reverse"):
        raise InputError(
            f"must be 'auto', 'forward' or 'reverse', got {differentiation!r}.", argument="differentiation"
        )
    if not (isinstance(l2, (int, float)) and np.isfinite(l2) and l2 >= 0):
        raise InputError(f"must be a non-negative number, got {l2!r}.", argument="l2")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise InputError(f"must be a positive number, got {v!r}.", argument=name)
    _check_positive_int(max_steps, "max_steps")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
    stack = stack_cells(
        data,
        states=model,
        time_units=time_units or model.time_units,
        time_dim=time_dim,
        reference_time=reference_time,
        mask=mask,
    )
    if stack.t.size < 2:
        raise InputError(f"the data have {stack.t.size} time(s); a fit needs at least 2.", argument="data")
    roles = resolve_roles(model, per_cell, shared, fixed)
    glob, cell_starts, net_starts = split_start_values(model, params, stack.grid_dims)
    bad = [k for k in cell_starts if k not in roles.per_cell]
    if bad:
        raise InputError(
            f"values over the grid are given for {bad}, which are not fitted per cell; give one "
            "value for shared and fixed parameters, or list them in per_cell=.",
            argument="params",
        )
    start = model.resolve_params(glob)
    joint = bool(roles.shared or roles.shared_networks)
    if callback is not None and not joint:
        raise InputError(
            "callback= is called by joint fits (shared parameters or networks) only; this fit has per-cell "
            "parameters only, so it would never be called. Drop callback= or list parameters in shared=.",
            argument="callback",
        )
    refuse_unused_workers(
        workers,
        "a joint fit runs one optimisation"
        if joint
        else "dask-backed data run chunk by chunk on the dask scheduler"
        if stack.is_lazy
        else None,
    )
    if joint and (checkpoint is not None or resume):
        raise InputError(
            "checkpoint= saves per-cell fits group by group; a fit with shared parameters or networks is one "
            "joint optimisation and cannot be checkpointed here yet. Drop checkpoint=/resume=, or fit per-cell "
            "parameters only.",
            argument="checkpoint",
        )
    if not roles.per_cell and not joint and fit_u0 is False:
        raise InputError("nothing to fit: no per-cell or shared parameter and fit_u0=False.", argument="per_cell")
    nets = model.init_networks(int(seed))
    nets.update(net_starts)
    if fit_u0 not in ("auto", True, False):
        raise InputError(f"must be True, False or 'auto', got {fit_u0!r}.", argument="fit_u0")
    u0_arrays = u0_fields(u0, model, stack)
    name = engine_name(engine)
    eng = get_engine(name, operation="fit_cells")
    solver = resolve_solver(solver, purpose="a gridded fit")
    free = lambda n: FreeParam(n, model.param_specs[n].bounds, to_unconstrained(start[n], model.param_specs[n].bounds))  # noqa: E731
    spec = CellFitRequest(
        model=model,
        t=np.asarray(stack.t, float),
        per_cell=tuple(free(n) for n in roles.per_cell),
        shared=tuple(free(n) for n in roles.shared),
        shared_networks=roles.shared_networks,
        fixed={n: np.asarray(start[n], float) for n in roles.fixed},
        networks_init=nets,
        fit_u0=_fit_u0(fit_u0, u0, strategy),
        loss=resolve_loss(loss),
        l2=float(l2),
        strategy=_strategy(strategy, joint),
        optimizers=_optimizers(optimizers, joint, loss),
        solver=solver,
        adjoint=adjoint,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
        differentiation=differentiation,
        seed=int(seed),
    )
    spec = with_content_token(_static_solver(spec, stack, start, nets))
    options = {
        "per_cell": list(roles.per_cell),
        "shared": list(roles.shared + roles.shared_networks),
        "fixed": list(roles.fixed + roles.fixed_networks),
        "strategy": spec.strategy,
        "optimizers": list(spec.optimizers),
        "loss": spec.loss,
        "l2": spec.l2,
        "solver": spec.solver.name,
        "rtol": spec.rtol,
        "atol": spec.atol,
        "max_steps": spec.max_steps,
        "seed": spec.seed,
        "fit_u0": spec.fit_u0,
        "engine": name,
    }

    if joint:
        return run_joint(
            spec,
            stack,
            roles,
            cell_starts,
            u0_arrays,
            eng,
            name,
            options,
            budget=budget,
            cells_per_batch=cells_per_batch,
            verbose=verbose,
            callback=callback,
        )
    return run_independent(
        spec,
        stack,
        roles,
        cell_starts,
        u0_arrays,
        eng,
        name,
        options,
        budget=budget,
        cells_per_batch=cells_per_batch,
        workers=n_workers,
        verbose=verbose,
        checkpoint=checkpoint,
        resume=resume,
        checkpoint_cells=checkpoint_cells,
    )


def _static_solver(spec, stack, start, nets):
    """Decide ``solver="auto"`` once, on the client, from a representative cell."""
    if not isinstance(spec.solver, Auto):
        return spec
    active = np.flatnonzero(stack.cell_mask)
    if active.size == 0:
        return dataclasses.replace(spec, solver=Tsit5())
    y = np.asarray(stack.values[int(active[0])], dtype=float)  # one cell (computed if lazy)
    obs = ~np.isnan(y)
    u0 = np.where(obs.any(axis=0), y[np.argmax(obs, axis=0), np.arange(y.shape[1])], 0.0)
    values = {k: np.asarray(v, float) for k, v in start.items()}
    choice = choose_solver(
        spec.solver,
        spec.model,
        u0,
        float(spec.t[0]),
        float(spec.t[-1]),
        values,
        nets,
        max_steps=spec.max_steps,
        runtime_fallback=False,
    )
    return dataclasses.replace(spec, solver=choice.primary)
