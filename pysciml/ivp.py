"""``ps.solve`` and ``ps.sensitivity``: validate the request, pick the engine, wrap the result."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .engines.registry import engine_name, get_engine
from .engines.requests import SolveRequest
from .errors import InputError, SolverFailure
from .events import (
    DEFAULT_MAX_EVENTS,
    EventLog,
    check_events,
    check_max_events,
    event_names,
    warn_silent_events,
)
from .model_spec import ModelSpec
from .options import check_bool
from .sde.solution import SDESolution
from .sde.solving import solve_sde
from .sde.spec import SDEModel
from .solution import Solution, is_concrete
from .solvers.catalog import resolve_solver
from .solvers.sde import SDESolver
from .solvers.symplectic import Symplectic

__all__ = [
    "solve",
    "sensitivity",
    "build_request",
    "check_model",
    "check_u0",
    "split_params",
    "check_ode_solver",
    "wrap_solution",
]

DEFAULT_N_SAVE = 101


def check_model(model) -> ModelSpec:
    if not isinstance(model, ModelSpec):
        raise InputError(
            f"must be a ps.ODEModel (or ps.UDE), got {type(model).__name__}; build one with "
            "ps.ODEModel(physics, states=[...], params={...}).",
            argument="model",
        )
    return model


def check_u0(model: ModelSpec, u0):
    """The flat initial state ``(n_states,)`` from ``u0`` (list, array, mapping, or a traced array
    whose size is checked); ``None`` gives the model's default."""
    if u0 is None:
        if model.u0 is None:
            raise InputError(
                f"no initial state given and the model has no default; pass u0 with "
                f"{model.n_states} values (states {list(model.state_names)}).",
                argument="u0",
            )
        return model.u0
    if type(u0) is np.ndarray and u0.dtype == np.float64 and u0.shape == (model.n_states,):
        flat = u0  # already what flatten_u0 returns (the handle's common case: no conversion)
    elif is_concrete(u0) or isinstance(u0, Mapping):
        flat = model.layout.flatten_u0(u0, argument="u0")
    else:  # a traced array (inside jax.grad, vmap...): check its size only
        size = int(np.prod(getattr(u0, "shape", ()), dtype=int))
        if size != model.n_states:
            raise InputError(
                f"has {size} values but the model has {model.n_states} state values "
                f"(states {list(model.state_names)}); pass one value per state value, in declaration order "
                "(under jax.vmap: one row per problem, vmapped over the first axis).",
                argument="u0",
            )
        return u0.reshape(-1)
    if not np.isfinite(flat).all():
        bad = [n for n, v in zip(model.layout.flat_names(), flat) if not math.isfinite(v)]
        raise InputError(
            f"contains NaN or infinite values (at {bad[:5]}); pass finite initial values.",
            argument="u0",
        )
    return flat


def _as_float(value, argument: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {value!r}.", argument=argument) from None
    if not math.isfinite(out):
        raise InputError(f"must be finite, got {value!r}.", argument=argument)
    return out


def _check_times(t, saveat) -> tuple[float, float, np.ndarray]:
    if t is None:
        raise InputError(
            "no time span given; pass t=(t0, t1) or an increasing array of output times.",
            argument="t",
        )
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"must be (t0, t1) or an array of numbers, got {t!r}. For calendar times, convert to "
            "model time first (the fit and xarray APIs do this with time_units=...).",
            argument="t",
        ) from None
    if arr.ndim != 1 or arr.size < 2:
        raise InputError(f"must be (t0, t1) or an array of at least 2 times, got shape {arr.shape}.", argument="t")
    if not (math.isfinite(arr[0]) and math.isfinite(arr[-1]) and (arr.size == 2 or np.isfinite(arr).all())):
        raise InputError("contains NaN or infinite times.", argument="t")
    if arr.size == 2 and saveat is None:
        t0, t1 = float(arr[0]), float(arr[1])
        if not t1 > t0:
            raise InputError(
                f"ends before it starts (t0 = {t0}, t1 = {t1}); pass t=(t0, t1) with t1 > t0 "
                "(backward integration is not supported yet).",
                argument="t",
            )
        return t0, t1, np.linspace(t0, t1, DEFAULT_N_SAVE)
    if arr.size == 2:
        t0, t1 = float(arr[0]), float(arr[1])
        if not t1 > t0:
            raise InputError(
                f"ends before it starts (t0 = {t0}, t1 = {t1}); pass t=(t0, t1) with t1 > t0.",
                argument="t",
            )
    else:
        if saveat is not None:
            raise InputError(
                "t is an array of output times and saveat is also given; pass t=(t0, t1) with "
                "saveat=..., or only t=array.",
                argument="saveat",
            )
        d = arr[1:] - arr[:-1]
        if (d <= 0).any():
            i = int(np.argmax(d <= 0))
            raise InputError(
                f"output times must be strictly increasing; t[{i}] = {arr[i]} >= t[{i + 1}] = {arr[i + 1]}. "
                "Sort them (np.sort) and drop duplicates (np.unique).",
                argument="t",
            )
        return float(arr[0]), float(arr[-1]), arr
    try:
        sv = np.array(saveat, dtype=float).reshape(-1)  # a copy: the solution's t must not alias it
    except (TypeError, ValueError):
        raise InputError(f"must be an array of numbers, got {saveat!r}.", argument="saveat") from None
    if sv.size == 0:
        raise InputError("is empty; give at least one output time.", argument="saveat")
    if not (math.isfinite(sv[0]) if sv.size == 1 else np.isfinite(sv).all()):
        raise InputError("contains NaN or infinite times.", argument="saveat")
    d = sv[1:] - sv[:-1]
    if sv.size > 1 and (d <= 0).any():
        i = int(np.argmax(d <= 0))
        raise InputError(
            f"must be strictly increasing; saveat[{i}] = {sv[i]} >= saveat[{i + 1}] = {sv[i + 1]}. "
            "Sort it (np.sort) and drop duplicates (np.unique).",
            argument="saveat",
        )
    span = max(abs(t0), abs(t1), 1.0) * 1e-12
    if sv[0] < t0 - span or sv[-1] > t1 + span:
        raise InputError(
            f"has times outside the span t = ({t0}, {t1}): [{sv[0]}, {sv[-1]}]; keep output "
            "times inside the integration interval.",
            argument="saveat",
        )
    if sv[0] < t0 or sv[-1] > t1:  # within round-off of the span: onto it
        np.clip(sv, t0, t1, out=sv)
    return t0, t1, sv


def _check_tolerance(value, name: str, n: int):
    if isinstance(value, float) and math.isfinite(value) and (value >= 1e-14 if name == "rtol" else value > 0):
        return float(value)  # the common case, without numpy (same result as below)
    arr = np.asarray(value, dtype=float) if is_concrete(value) else None
    if arr is None:
        return value
    if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.size != n):
        raise InputError(f"must be a number or one value per state value ({n}), got shape {arr.shape}.", argument=name)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(
            f"must be positive and finite, got {value!r}; typical values are rtol=1e-6, atol=1e-8.",
            argument=name,
        )
    if name == "rtol" and np.any(arr < 1e-14):
        raise InputError(f"= {value!r} is below float64 resolution; use rtol >= 1e-14.", argument=name)
    return float(arr) if arr.ndim == 0 else arr


def split_params(model: ModelSpec, params, *, base=None):
    """``(physics values, network weights)``, complete: the model's defaults (or ``base``, such a
    pair already resolved) updated with ``params`` (``{name: value}``, network weights by name)."""
    physics = {}
    nets = model.init_networks() if base is None else dict(base[1])
    if params is not None and isinstance(params, Mapping):
        for k, v in params.items():
            if k in model.networks:
                size = int(np.prod(getattr(v, "shape", np.shape(v)), dtype=int))
                if size != model.networks[k].n_params:
                    raise InputError(
                        f"network {k!r} has {model.networks[k].n_params} weights, got {size}.",
                        argument=f"params.{k}",
                    )
                nets[k] = v.reshape(-1) if hasattr(v, "reshape") else np.asarray(v, dtype=float).reshape(-1)
            else:
                physics[k] = v
    elif params is not None:
        physics = params  # resolve_params raises the clear error
    return model.resolve_params(physics, base=None if base is None else base[0]), nets


def build_request(
    model,
    u0=None,
    t=None,
    saveat=None,
    *,
    params=None,
    solver="auto",
    rtol=1e-6,
    atol=1e-8,
    dt0=None,
    max_steps=100_000,
    engine=None,
    differentiation="reverse",
    adaptive=True,
    events=None,
    max_events=DEFAULT_MAX_EVENTS,
) -> tuple[SolveRequest, str]:
    """Validate the arguments of :func:`solve` and build the engine request."""
    model = check_model(model)
    name = engine_name(engine)
    solver = resolve_solver(solver)
    if name not in solver.engines:
        raise InputError(
            f"{solver.name} is available on the {' and '.join(solver.engines)} engine(s), not on "
            f"{name!r}; use ps.Rodas5P() (stiff) or ps.Tsit5() (non-stiff), or engine='julia'.",
            argument="solver",
        )
    y0 = check_u0(model, u0)
    t0, t1, ts = _check_times(t, saveat)
    values, nets = split_params(model, params)
    rtol = _check_tolerance(rtol, "rtol", model.n_states)
    atol = _check_tolerance(atol, "atol", model.n_states)
    if dt0 is not None:
        dt0 = _as_float(dt0, "dt0")
        if dt0 <= 0:
            raise InputError(f"must be positive, got {dt0}.", argument="dt0")
    check_bool(adaptive, "adaptive")
    if isinstance(solver, Symplectic):  # fixed step: dt from the solver or dt0; outputs on its grid
        solver = solver.with_step(dt0)
        solver.check_state_size(model.n_states)
        solver.step_counts(t0, ts)
    elif not adaptive and dt0 is None:
        raise InputError("adaptive=False needs a fixed step size; pass dt0=...", argument="dt0")
    if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool) or max_steps <= 0:
        raise InputError(f"must be a positive integer, got {max_steps!r}.", argument="max_steps")
    if differentiation not in ("reverse", "forward"):
        raise InputError(f"must be 'reverse' or 'forward', got {differentiation!r}.", argument="differentiation")
    if events is None:
        events = model.events or None  # the model's own events (e.g. from SBML) unless the caller gives some
    events, at_times = check_events(model, events, t0, t1)
    max_events = check_max_events(max_events)
    if (events or at_times) and isinstance(solver, Symplectic):
        raise InputError(
            f"{solver.name} takes fixed steps on its own grid and does not handle events; use an "
            "adaptive solver (ps.Tsit5(), ps.Dopri8(), ps.Rodas5P()) with events.",
            argument="events",
        )
    request = SolveRequest(
        model=model,
        u0=y0,
        params=values,
        network_params=nets,
        t0=t0,
        t1=t1,
        saveat=ts,
        solver=solver,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=int(max_steps),
        adaptive=bool(adaptive),
        differentiation=differentiation,
        events=events,
        at_times=at_times,
        max_events=max_events,
    )
    return request, name


def check_ode_solver(request: SolveRequest) -> None:
    """Refuse an SDE method for an ODE model."""
    if isinstance(request.solver, SDESolver):
        raise InputError(
            f"{request.solver.name} solves SDEs and the model is an ODE; use an ODE solver (ps.Tsit5(), "
            "ps.Rodas5P(), 'auto') or build a ps.SDEModel(drift, diffusion, ...).",
            argument="solver",
        )


def wrap_solution(
    request: SolveRequest, engine: str, raw, *, raise_on_failure: bool = False, u0=None, params=None
) -> Solution:
    """The :class:`Solution` of an engine's :class:`~pysciml.engines.requests.RawSolution` for ``request``
    (event log, engine name; ``u0``/``params``: the values solved with, if not the request's)."""
    u0 = request.u0 if u0 is None else u0
    params = request.params if params is None else params
    stats = dict(raw.stats)
    stats["engine"] = engine
    log = None
    if request.events:
        ev_t, ev_i = stats.pop("event_t"), stats.pop("event_index")
        count, dropped = stats.pop("event_count"), stats.pop("events_dropped")
        if is_concrete(ev_t) and is_concrete(count):
            k = int(np.asarray(count))
            ev_t, ev_i, dropped = np.asarray(ev_t)[:k], np.asarray(ev_i)[:k], bool(np.asarray(dropped))
        log = EventLog(ev_t, ev_i, event_names(request.events), dropped)
        if is_concrete(raw.u) and is_concrete(count):
            # the warning points at the user's call of ps.solve or of a compiled handle
            warn_silent_events(request.model, request.events, log, raw.t, raw.u, params, stacklevel=4)
    sol = Solution(request.model, raw.t, raw.u, raw.status, stats, params=params, u0=u0)
    sol.events = log
    if raise_on_failure and sol._concrete and not sol.ok:
        raise SolverFailure(sol.message, solution=sol)
    return sol


def solve(
    model: ModelSpec,
    u0: Any = None,
    t: Any = None,
    saveat: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    solver: Any = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dt0: float | None = None,
    max_steps: int = 100_000,
    engine: str | None = None,
    raise_on_failure: bool = False,
    adaptive: bool | None = None,
    differentiation: str = "reverse",
    events: Any = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    seed: int | None = None,
    n_paths: int | None = None,
    brownian: Any = None,
) -> Solution | SDESolution:
    """Solve ``du/dt = f(u, p, t)`` (or an SDE ``du = f dt + g dW``) from ``u0`` over ``t``.

    Args:
        model: a :class:`pysciml.ODEModel` (or UDE).
        u0: initial state: one value per state value (list/array in declaration
            order) or ``{state: value}``; defaults to ``model.u0``.
        t: ``(t0, t1)``, or an increasing array of output times (then ``saveat`` is ``t``).
        saveat: increasing output times inside ``[t0, t1]``; default 101 evenly spaced.
        params: parameter overrides ``{name: value}`` (defaults from the model);
            network weights by network name (flat, see :mod:`pysciml.networks`).
        solver: a solver object (``ps.Rodas5P()``), class, name, or ``"auto"``.
        rtol, atol: relative and absolute tolerances (atol may be per state value).
        dt0: first step size (default: chosen by the solver).
        max_steps: step budget; exceeding it returns ``Status.MAX_STEPS``.
        engine: ``"jax"`` or ``"julia"`` (default ``PYSCIML_ENGINE``, else jax).
        raise_on_failure: raise :class:`pysciml.SolverFailure` instead of returning a
            failed status.
        adaptive: ``False`` takes fixed steps of size ``dt0`` (no error control), for
            convergence studies. Default: True for ODEs, False for SDEs.
        differentiation: ``"reverse"`` for ``jax.grad`` (default) or ``"forward"`` for
            ``jax.jvp``/``jax.jacfwd`` through the solve (jax engine).
        events: :class:`pysciml.Event` (state-triggered) and :class:`pysciml.At`
            (time-triggered) objects; what fired is in ``sol.events`` (jax engine;
            diffrax methods and Rosenbrock methods).  Default: the model's own
            ``model.events`` (e.g. those of an SBML file); ``events=[]`` solves without them.
        max_events: how many events the solve may apply (a compiled bound).
        seed, n_paths, brownian: SDE models only: the seed (path ``i`` depends on ``seed`` and
            ``i`` only), the number of sample paths, and ``ps.BrownianTree(tol)`` /
            ``ps.BrownianGrid()`` (default: a grid for fixed steps, else a tree); see
            :mod:`pysciml.sde.solving`.

    Returns:
        A :class:`pysciml.Solution` (``t``, ``u``, ``status``, ``stats``, ``to_xarray()``), or for
        an :class:`pysciml.SDEModel` a :class:`pysciml.SDESolution` (``u``: (n_paths, n_save, n)).

    Differentiable with respect to ``u0`` and ``params`` under ``jax.grad`` on the jax engine.
    """
    sde = isinstance(model, SDEModel)
    if adaptive is None:
        adaptive = not sde
    if not sde and (seed is not None or n_paths is not None or brownian is not None):
        raise InputError(
            "seed, n_paths and brownian are for SDE models (ps.SDEModel); leave them out.", argument="seed"
        )
    if sde and events is not None:
        raise InputError(
            "events are not supported for SDE models yet; solve the ODE with events, or stop the SDE "
            "at a fixed time and restart it.",
            argument="events",
        )
    request, name = build_request(
        model,
        u0,
        t,
        saveat,
        params=params,
        solver=solver,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=max_steps,
        engine=engine,
        differentiation=differentiation,
        adaptive=adaptive or sde,  # an SDE's missing dt0 is reported by solve_sde
        events=events,
        max_events=max_events,
    )
    if sde:
        return solve_sde(request, name, seed=seed, n_paths=n_paths, brownian=brownian, adaptive=adaptive)
    check_ode_solver(request)
    raw = get_engine(name).solve(request)
    return wrap_solution(request, name, raw, raise_on_failure=raise_on_failure)


def sensitivity(
    model: ModelSpec,
    u0: Any = None,
    t: Any = None,
    saveat: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    wrt: Any = ("params", "u0"),
    solver: Any = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    dt0: float | None = None,
    max_steps: int = 100_000,
    engine: str | None = None,
) -> dict[str, Any]:
    """Sensitivities of the solution to the initial state and parameters, as numpy arrays.

    For users who never touch jax: the exact derivatives of the computed
    solution (forward-mode through the solver), no finite differences.

    Args:
        wrt: ``"params"``, ``"u0"``, a parameter name, or a tuple of these.
        (other arguments as in :func:`solve`; tolerances default tighter.)

    Returns:
        ``{"t": (n_save,), "u": (n_save, n), "u0": (n_save, n, n),
        "params": {name: (n_save, n, *param_shape)}, "status": Status}``; ``u0[i, j, k]``
        is d u_j(t_i) / d u0_k.
    """
    if isinstance(model, SDEModel):
        raise InputError(
            "ps.sensitivity is for ODE models; for an SDE take jax.grad through ps.solve(..., seed=...) "
            "(pathwise derivatives with common noise).",
            argument="model",
        )
    if isinstance(wrt, str):
        wrt = (wrt,)
    wrt = tuple(wrt)
    request, name = build_request(
        model,
        u0,
        t,
        saveat,
        params=params,
        solver=solver,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=max_steps,
        engine=engine,
        differentiation="forward",
    )
    if isinstance(request.solver, Symplectic):
        raise InputError(
            f"{request.solver.name} is not supported by ps.sensitivity yet; use jax.jacfwd or jax.grad "
            "on ps.solve (differentiable with symplectic solvers), or an adaptive solver such as ps.Dopri8().",
            argument="solver",
        )
    known = {"params", "u0", *request.model.param_names}
    bad = [w for w in wrt if w not in known]
    if bad or not wrt:
        raise InputError(
            f"unknown entries {bad}; use 'u0', 'params' or parameter names {list(request.model.param_names)}.",
            argument="wrt",
        )
    return get_engine(name, operation="sensitivity").sensitivity(request, wrt).as_dict()
