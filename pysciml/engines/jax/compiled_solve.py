"""The compiled solve: one jitted function per model and solver plan."""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ...solvers.adjoints import Direct
from ...solvers.rosenbrock.method import Rosenbrock
from ...solvers.runge_kutta import RungeKutta
from ...status import Status
from ..requests import SolveFunction, SolveRequest
from .arguments import call_args, fixed_args, state_args
from .plan import SolverPlan
from .rhs import split_network_weights, vector_field
from .rosenbrock.solve import rosenbrock_solve

__all__ = ["make_solve", "run_method", "call_args", "bind_solve", "finish_stats", "normalise_stats", "counters_per_row"]

_STAT_KEYS = ("steps", "rejected", "nfev", "njev", "nlu", "nsolve")
#: what :func:`make_solve` returns in one float64 vector ``stats["packed"]`` (one transfer to the host
#: instead of one per counter: a few microseconds of every warm call); sorted, as jax orders dict keys
_PACKED = tuple(sorted((*_STAT_KEYS, "method", "t_end")))


def normalise_stats(stats):
    """Counters as int32 (-1 where a method does not count them), ``t_end`` and event logs kept."""
    out = {k: jnp.asarray(stats.get(k, -1), jnp.int32) for k in _STAT_KEYS}
    if "t_end" in stats:
        out["t_end"] = jnp.asarray(stats["t_end"], jnp.float64)
    out.update({k: v for k, v in stats.items() if k.startswith("event")})  # solves with events
    return out


def _time_reached(ys, status, t0, t1, ts):
    """Time reached by a diffrax solve: t1 on success, else the last save time with finite values."""
    finite = jnp.all(jnp.isfinite(ys), axis=-1)
    last = jnp.max(jnp.where(finite, ts, t0))
    return jnp.where(status == 0, t1, last)


def run_method(
    solver,
    fun,
    t0,
    t1,
    y0,
    args,
    ts,
    rtol,
    atol,
    dt0,
    *,
    max_steps,
    differentiation,
    linsolve=None,
    adaptive=True,
    adjoint=None,
    max_recorded_steps=None,
):
    """Run one method (traceable); returns ``(ys, status, stats)`` with normalised stats.

    ``adjoint`` (a :mod:`pysciml.adjoints` object or None for the default) selects how
    reverse-mode gradients go through the solve.
    """
    if isinstance(solver, RungeKutta) and solver.diffrax_method:
        # imported on first use: a solve served from the compiled-model cache never needs diffrax
        from .diffrax_solvers import diffrax_solve

        ys, status, stats = diffrax_solve(
            fun,
            solver,
            t0,
            t1,
            y0,
            args,
            ts,
            rtol=rtol,
            atol=atol,
            dt0=dt0,
            max_steps=max_steps,
            differentiation=differentiation,
            adaptive=adaptive,
            adjoint=adjoint,
        )
        stats["t_end"] = _time_reached(ys, status, t0, t1, ts)
    elif isinstance(solver, Rosenbrock) and adjoint is not None and not isinstance(adjoint, Direct):
        from .rosenbrock_diffrax import rosenbrock_via_diffrax

        ys, status, stats = rosenbrock_via_diffrax(
            fun,
            solver,
            t0,
            t1,
            y0,
            args,
            ts,
            rtol=rtol,
            atol=atol,
            dt0=dt0,
            max_steps=max_steps,
            adjoint=adjoint,
            linsolve=linsolve,
        )
        stats["t_end"] = _time_reached(ys, status, t0, t1, ts)
    elif isinstance(solver, Rosenbrock):
        res = rosenbrock_solve(
            fun,
            t0,
            t1,
            y0,
            args,
            ts,
            tableau=solver.tableau,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            dt0=dt0,
            linsolve=linsolve,
            differentiation=differentiation,
            **({} if adaptive else {"adaptive": False}),
            **({} if max_recorded_steps is None else {"max_recorded_steps": min(max_recorded_steps, max_steps)}),
        )
        ys, status, stats = res.ys, res.status, res.stats
    else:  # resolved earlier; kept as a guard
        raise NotImplementedError(f"{solver.name} is not implemented by the jax engine")
    return ys, jnp.asarray(status, jnp.int32), normalise_stats(stats)


def make_solve(
    model,
    plan: SolverPlan,
    *,
    max_steps: int,
    differentiation: str,
    auto_dt0: bool,
    adaptive: bool = True,
    runner=run_method,
):
    """Build the jitted ``f(t0, t1, y0, args, ts, rtol, atol, dt0) -> (ys, status, stats)``.

    ``runner``: runs one method, with the signature of :func:`run_method` (solves with
    events pass :func:`.events.event_runner`).
    """
    fun = vector_field(model)

    def run(solver, steps, t0, t1, y0, args, ts, rtol, atol, dt0):
        return runner(
            solver,
            fun,
            t0,
            t1,
            y0,
            args,
            ts,
            rtol,
            atol,
            None if auto_dt0 else dt0,
            max_steps=steps,
            differentiation=differentiation,
            linsolve=plan.linsolve,
            adaptive=adaptive,
        )

    def solve(t0, t1, y0, args, ts, rtol, atol, dt0):
        ys, status, stats = run_plan(t0, t1, y0, args, ts, rtol, atol, dt0)
        return ys, status, _pack(stats)

    def run_plan(t0, t1, y0, args, ts, rtol, atol, dt0):
        args = split_network_weights(model, args)
        if plan.fallback is None:
            ys, status, stats = run(plan.primary, max_steps, t0, t1, y0, args, ts, rtol, atol, dt0)
            stats["method"] = jnp.int32(0)
            return ys, status, stats
        ys, status, stats = run(plan.primary, plan.budget, t0, t1, y0, args, ts, rtol, atol, dt0)
        stats["method"] = jnp.int32(0)

        def stiff(_):
            ys2, st2, stats2 = run(plan.fallback, max_steps, t0, t1, y0, args, ts, rtol, atol, dt0)
            stats2 = dict(stats2)
            stats2["method"] = jnp.int32(1)
            return ys2, st2, stats2

        def keep(_):
            return ys, status, stats

        # an explicit method that cannot finish within its budget (or fails) means stiffness
        return jax.lax.cond(status != int(Status.SUCCESS), stiff, keep, None)

    return jax.jit(solve)


def _pack(stats):
    """``{"packed": float64 vector of _PACKED (NaN: not given)}`` and the event logs, from normalised stats."""
    vec = jnp.stack([jnp.asarray(stats.get(k, jnp.nan), jnp.float64) for k in _PACKED])
    return {"packed": vec, **{k: v for k, v in stats.items() if k.startswith("event")}}


def _unpack(stats) -> dict:
    """The stats of :func:`_pack` by name, as Python numbers (concrete) or traced values; uncounted
    counters (-1) and a missing ``t_end`` left out when concrete."""
    packed = stats["packed"]
    try:
        values = np.asarray(packed).tolist()
    except Exception:  # traced (inside jax.grad...)
        out = {k: packed[i] if k == "t_end" else packed[i].astype(jnp.int32) for i, k in enumerate(_PACKED)}
    else:
        out = {}
        for k, v in zip(_PACKED, values):
            if k == "t_end":
                if not math.isnan(v):
                    out[k] = v
            elif v >= 0:
                out[k] = int(v)
    for k, v in stats.items():
        if k != "packed":
            try:
                out[k] = np.asarray(v)
            except Exception:
                out[k] = v
    return out


def counters_per_row(stats) -> dict[str, np.ndarray]:
    """``steps`` and ``rejected`` per row of a vmapped solve's stats (where the solver counts them)."""
    if not isinstance(stats, Mapping) or "packed" not in stats:
        return {}
    packed = np.asarray(stats["packed"])
    out = {}
    for name in ("steps", "rejected"):
        if name in _PACKED:
            col = packed[:, _PACKED.index(name)]
            if (col >= 0).all():
                out[name] = col.astype(np.int64)
    return out


def bind_solve(fn, plan: SolverPlan, request: SolveRequest) -> SolveFunction:
    """The jitted solve ``fn`` of :func:`make_solve` with ``request``'s times, tolerances and first
    step fixed: a function of ``(u0, params, network_params)`` (see :class:`SolveFunction`)."""
    t0, t1, ts, rtol, atol, dt0 = fixed_args(request)

    def run(u0, params, network_params):
        y0, args = state_args(u0, params, network_params)
        return fn(t0, t1, y0, args, ts, rtol, atol, dt0)

    def finish(ys, status, stats):
        return finish_stats(plan, request, ys, status, stats)

    return SolveFunction(run, finish, method_key=plan.key)


def finish_stats(plan: SolverPlan, request: SolveRequest, ys, status, stats) -> dict:
    """Host-side stats: method names, time reached; traced values are left as they are."""
    out = _unpack(stats)
    method = out.pop("method", 0)
    try:
        which = int(np.asarray(method))
        concrete = True
    except Exception:
        which, concrete = 0, False
    chosen = plan.fallback if (which == 1 and plan.fallback is not None) else plan.primary
    out["solver"] = (
        chosen.name if concrete or plan.fallback is None else f"auto({plan.primary.name}|{plan.fallback.name})"
    )
    if plan.reason:
        reason = plan.reason
        if plan.fallback is not None and concrete:
            reason += (
                f"; {plan.primary.name} finished within {plan.budget} steps"
                if which == 0
                else f"; {plan.primary.name} could not finish within {plan.budget} steps, so the problem "
                f"was treated as stiff and solved with {plan.fallback.name}"
            )
        out["auto_reason"] = reason
    if "t_end" not in out:
        try:
            yv = np.asarray(ys)
            ok = np.all(np.isfinite(yv), axis=-1)
            ts = np.asarray(request.saveat)
            out["t_end"] = float(ts[ok][-1]) if ok.any() else float(request.t0)
            if int(np.asarray(status)) == 0:
                out["t_end"] = float(request.t1)
        except Exception:
            pass
    return out
