"""``build_fit_request``: a user's ``model.fit(...)`` arguments checked and assembled into a
:class:`pysciml.engines.requests.FitRequest` (an engine's ``fit`` answers with a ``FitResult``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..engines.requests import FitRequest, FreeParam
from ..errors import InputError
from ..events import DEFAULT_MAX_EVENTS, check_events, check_max_events
from ..solvers.adjoints import resolve_adjoint
from ..solvers.catalog import resolve_solver
from ..training.losses import resolve_loss, to_unconstrained
from ..training.optimizers import LevenbergMarquardt, resolve_optimizers
from ..training.strategies import GrowingHorizon, SingleShooting, resolve_strategy

__all__ = ["build_fit_request", "free_params", "fit_optimizers"]


def free_params(model, fit, fixed_names) -> tuple[list[str], list[str], list[str]]:
    """``(free, fixed, free_networks)`` names from a fit's ``fit=`` or ``fixed=`` (never both)."""
    specs = model.param_specs
    if fit is not None and fixed_names is not None:
        raise InputError("pass either fit=[...] (parameters to fit) or fixed=[...], not both.", argument="fit")
    if fit is not None:
        fit = [fit] if isinstance(fit, str) else list(fit)
        unknown = [n for n in fit if n not in specs and n not in model.networks]
        if unknown:
            raise InputError(f"unknown parameters {unknown}; the model has {list(specs)}.", argument="fit")
        declared_fixed = [n for n in fit if n in specs and specs[n].fixed]
        if declared_fixed:
            raise InputError(
                f"{declared_fixed} are declared ps.Param(..., fixed=True) in the model; remove them from fit= "
                "or declare them without fixed=True.",
                argument="fit",
            )
        names = [n for n in specs if n in fit]
        nets = [n for n in model.networks if n in fit]
    else:
        fixed_names = (
            [] if fixed_names is None else ([fixed_names] if isinstance(fixed_names, str) else list(fixed_names))
        )
        unknown = [n for n in fixed_names if n not in specs and n not in model.networks]
        if unknown:
            raise InputError(f"unknown parameters {unknown}; the model has {list(specs)}.", argument="fixed")
        names = [n for n in specs if n not in fixed_names and not specs[n].fixed]
        nets = [n for n in model.networks if n not in fixed_names]
    return names, [n for n in specs if n not in names], nets


def _initial_states(model, obs, padded, u0, fit_u0) -> tuple[np.ndarray, np.ndarray]:
    n_traj, n = padded.t.shape[0], model.n_states
    first = np.asarray(obs.first_values(), dtype=float).reshape(n_traj, n) if hasattr(obs, "first_values") else None
    if u0 is not None:
        arr = (
            np.asarray([model.layout.flatten_u0(u0, argument="u0")] * n_traj)
            if not (isinstance(u0, np.ndarray) and u0.ndim == 2)
            else np.asarray(u0, dtype=float)
        )
        if arr.shape != (n_traj, n):
            raise InputError(
                f"must have shape ({n_traj}, {n}) (one row per trajectory), got {arr.shape}.", argument="u0"
            )
        if not np.all(np.isfinite(arr)):
            raise InputError("contains NaN or infinite values.", argument="u0")
        init = arr
    else:
        assert first is not None, "observations without first_values() need u0"
        init = np.where(np.isfinite(first), first, np.nan)
        missing = ~np.isfinite(init)
        if missing.any():
            # states not observed at the first time: start from the trajectory's first observation
            # of that state (or the state's data mean, or zero) and let the fit adjust it.
            for b in range(n_traj):
                for j in np.nonzero(missing[b])[0]:
                    col = padded.y[b, : padded.lengths[b], j][padded.mask[b, : padded.lengths[b], j]]
                    allcol = padded.y[:, :, j][padded.mask[:, :, j]]
                    init[b, j] = col[0] if col.size else (allcol.mean() if allcol.size else 0.0)
    if fit_u0 == "auto":
        free = np.ones_like(init, dtype=bool) if u0 is None else np.zeros_like(init, dtype=bool)
    elif fit_u0 is True:
        free = np.ones_like(init, dtype=bool)
    elif fit_u0 is False:
        if u0 is None and first is not None and not np.all(np.isfinite(first)):
            raise InputError(
                "fit_u0=False needs every state observed at each trajectory's first time, or u0=...; "
                "some states are missing there.",
                argument="fit_u0",
            )
        free = np.zeros_like(init, dtype=bool)
    else:
        raise InputError(f"must be True, False or 'auto', got {fit_u0!r}.", argument="fit_u0")
    return init, free


def build_fit_request(
    model,
    obs,
    *,
    params: Mapping[str, Any] | None = None,
    fit: Sequence[str] | None = None,
    fixed: Sequence[str] | None = None,
    u0=None,
    fit_u0: Any = "auto",
    loss=None,
    l2: float = 0.0,
    strategy=None,
    optimizers=None,
    solver="auto",
    adjoint=None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 10_000,
    seed: int = 0,
    network_params: Mapping[str, Any] | None = None,
    events=None,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> FitRequest:
    """Check the fit arguments and assemble the :class:`~pysciml.engines.requests.FitRequest`."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
    if not (isinstance(l2, (int, float)) and np.isfinite(l2) and l2 >= 0):
        raise InputError(f"must be a non-negative number, got {l2!r}.", argument="l2")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise InputError(f"must be a positive number, got {v!r}.", argument=name)
    if not isinstance(max_steps, (int, np.integer)) or max_steps <= 0:
        raise InputError(f"must be a positive integer, got {max_steps!r}.", argument="max_steps")
    padded = obs.to_padded()
    start = model.resolve_params(params)
    free_names, fixed_names, free_nets = free_params(model, fit, fixed)
    if not free_names and not free_nets and fit_u0 is False:
        raise InputError("nothing to fit: every parameter is fixed and fit_u0=False.", argument="fit")
    free = tuple(
        FreeParam(n, model.param_specs[n].bounds, to_unconstrained(start[n], model.param_specs[n].bounds))
        for n in free_names
    )
    nets = model.init_networks(int(seed))
    for k, v in (network_params or {}).items():
        if k not in nets:
            raise InputError(f"unknown network {k!r}; the model has {list(nets)}.", argument="network_params")
        v = np.asarray(v, dtype=float).reshape(-1)
        if v.size != nets[k].size:
            raise InputError(f"network {k!r} has {nets[k].size} weights, got {v.size}.", argument="network_params")
        nets[k] = v
    init, u0_free = _initial_states(model, obs, padded, u0, fit_u0)
    t0 = padded.t[:, 0].copy()
    strategy = resolve_strategy(strategy)
    adjoint = resolve_adjoint(adjoint)
    events, at_times = _fit_events(model, events, strategy, adjoint, padded)
    return FitRequest(
        model=model,
        t=padded.t,
        y=padded.y,
        mask=padded.mask,
        valid=padded.valid,
        lengths=padded.lengths,
        scales=np.asarray(obs.scales, dtype=float),
        t0=t0,
        u0_init=init,
        u0_free=u0_free,
        free=free,
        fixed={n: np.asarray(start[n], dtype=float) for n in fixed_names},
        networks_init=nets,
        free_networks=tuple(free_nets),
        loss=resolve_loss(loss),
        l2=float(l2),
        strategy=strategy,
        optimizers=fit_optimizers(optimizers),
        solver=resolve_solver(solver, purpose="a fit"),
        adjoint=adjoint,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
        seed=int(seed),
        events=events,
        at_times=at_times,
        max_events=check_max_events(max_events),
    )


def _fit_events(model, events, strategy, adjoint, padded) -> tuple[tuple, tuple]:
    """Check the events of a fit: every solve of the loss starts at a trajectory's first time and
    applies them (single shooting and the growing horizon; not segments, not collocation)."""
    if events is None:
        return (), ()
    lengths = np.asarray(padded.lengths)
    starts = padded.t[:, 0]
    ends = padded.t[np.arange(padded.t.shape[0]), lengths - 1]
    events, at_times = check_events(model, events, float(starts.min()), float(ends.max()))
    if not events:
        return (), ()
    stages = [strategy]
    while isinstance(stages[-1], GrowingHorizon) and stages[-1].then is not None:
        stages.append(stages[-1].then)
    for s in stages:
        if not isinstance(s, (SingleShooting, GrowingHorizon)):
            raise InputError(
                f"events are applied in solves that start at each trajectory's first time; {type(s).__name__} "
                "solves from other starts (or not at all). Use ps.SingleShooting() or ps.GrowingHorizon() "
                "(the default) with events.",
                argument="strategy",
            )
    if adjoint is not None:
        raise InputError(
            "solves with events are differentiated through diffrax's event handling with its default adjoint; "
            "drop adjoint=.",
            argument="adjoint",
        )
    late = [t for times in at_times for t in times]
    if late and np.ptp(starts) > 0 and min(late) < starts.max():
        raise InputError(
            f"a ps.At time ({min(late):g}) comes before the start of a trajectory ({starts.max():g}); with "
            "trajectories that start at different times, give At times after every start.",
            argument="events",
        )
    return events, at_times


def fit_optimizers(value) -> tuple:
    """The optimiser chain of a model fit: Adam and L-BFGS stages (Levenberg-Marquardt is per cell)."""
    opts = resolve_optimizers(value)
    for o in opts:
        if isinstance(o, LevenbergMarquardt):
            raise InputError(
                "LevenbergMarquardt runs in gridded per-cell fits only (ps.fit_cells); for a model fit use "
                "[ps.Adam(...), ps.LBFGS(...)].",
                argument="optimizers",
            )
    return opts
