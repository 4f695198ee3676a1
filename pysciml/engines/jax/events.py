"""Solves with events on the jax engine: a compiled scan over the segments between events.

Each segment is one ``diffrax.diffeqsolve`` from the current time to the next time
event (or ``t1``), with the state events as a ``diffrax.Event`` whose crossing is
located by a Newton root find on the step's dense output.  Where a segment ends at
an event, its affect updates the state and the parameters and the next segment
starts there.  The loop is a ``lax.scan`` of ``max_events + 1`` segments (segments
after the end are empty), so it is reverse- and forward-differentiable; the event
time's derivative comes from the implicit function theorem in the root find.

Every solver runs here: diffrax's Runge-Kutta/ESDIRK methods directly and pysciml's
Rosenbrock tableaus through :class:`.rosenbrock.diffrax_adapter.DiffraxRosenbrock`.

Right after an event, its condition is ~0 at the segment start; to keep it from
firing again at once, the condition's value at the segment start is replaced by the
sign of its time derivative along the flow (the side the trajectory moves to), for every
event fired at that instant.

diffrax locates the first condition *in list order* that changed sign within a step, not
the earliest.  Where another condition changed sign too between the segment start and the
event found, the segment is solved again up to that event with it disabled (a "retry",
one more segment of the scan), until nothing crosses before the event found; a retry
that reaches its bound applies the event found before.  Conditions that crossed at the
same instant as the event applied are *pending*: each fires next, at the same time and in
list order, if it is still past its zero (relative to the segment start) after the
affects applied before it.  The scan has ``2 (max_events + 1)`` segments for the retries;
more than ``max_events`` events stop the solve (``events_dropped``).
"""

from __future__ import annotations

from typing import Any

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ...events import Event, split_affect
from ...model_spec import ModelSpec, ParamView
from ...solvers.rosenbrock.method import Rosenbrock
from ...solvers.runge_kutta import RungeKutta
from ...status import Status
from .compiled_solve import normalise_stats
from .diffrax_solvers import diffrax_adjoint, diffrax_method, solver_terms, status_from_result
from .networks import network_callable
from .numerics import jax_math
from .rosenbrock.diffrax_adapter import DiffraxRosenbrock

__all__ = ["event_solve", "event_solver_supported", "event_runner"]

#: tolerance of the Newton root find that locates state events (in time units, relative and absolute)
ROOT_TOL = 1e-13


def event_solver_supported(solver) -> bool:
    """Whether ``solver`` can run with events (diffrax's methods and pysciml's Rosenbrock tableaus)."""
    return (isinstance(solver, RungeKutta) and bool(solver.diffrax_method)) or isinstance(solver, Rosenbrock)


def _method_and_term(solver, fun, rtol, atol, linsolve):
    if isinstance(solver, Rosenbrock):
        method = (
            DiffraxRosenbrock(solver.tableau)
            if linsolve is None
            else DiffraxRosenbrock(solver.tableau, linsolve=linsolve)
        )
        return method, dfx.ODETerm(fun)
    return diffrax_method(solver, rtol, atol), solver_terms(solver, fun)


def _param_view(model: ModelSpec, values, thetas):
    return ParamView(values, {k: network_callable(k, net, thetas[k]) for k, net in model.networks.items()})


def _offsets(model: ModelSpec) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    out, o = {}, 0
    for s in model.layout.specs:
        out[s.name] = (o, s.size, s.shape)
        o += s.size
    return out


def _affect_branch(model: ModelSpec, ev, i: int, offsets):
    """``(t, y, values, thetas) -> (y, values)`` applying event ``i``'s affect."""

    def branch(t, y, values, thetas):
        if ev.affect is None:
            return y, values
        out = ev.affect(model.layout.view(y), _param_view(model, values, thetas), t, jax_math)
        states, params = split_affect(model, out, f"events[{i}].affect")
        for name, v in states.items():
            o, size, shape = offsets[name]
            v = jnp.broadcast_to(jnp.asarray(v, y.dtype), shape).reshape(-1)
            y = y.at[o : o + size].set(v)
        new_values = dict(values)
        for name, v in params.items():
            old = values[name]
            new_values[name] = jnp.broadcast_to(jnp.asarray(v, old.dtype), old.shape)
        return y, new_values

    return branch


def event_solve(
    model: ModelSpec,
    fun,
    solver,
    events,
    at_times,
    t0,
    t1,
    y0,
    args,
    ts,
    rtol,
    atol,
    dt0,
    *,
    max_steps: int,
    max_events: int,
    differentiation: str = "reverse",
    adaptive: bool = True,
    linsolve=None,
):
    """Solve with events (traceable); returns ``(ys, status, stats)``.

    ``stats`` has the usual counters plus ``t_end``, ``event_t`` (max_events + 1,) NaN-padded
    event times, ``event_index`` (their index into ``events``), ``event_count`` and
    ``events_dropped`` (more events were due than ``max_events``).
    """
    values0, thetas = args
    values0 = {k: jnp.asarray(v, jnp.float64) for k, v in values0.items()}
    method, term = _method_and_term(solver, lambda t, y, a: fun(t, y, a[0]), rtol, atol, linsolve)
    layout = model.layout
    offsets = _offsets(model)

    state_events = [(i, ev) for i, ev in enumerate(events) if isinstance(ev, Event)]
    state_global = jnp.asarray([i for i, _ in state_events] or [0], jnp.int32)
    terminal = jnp.asarray([bool(ev.terminal) for ev in events], bool)
    at_events = [i for i, ev in enumerate(events) if not isinstance(ev, Event)]
    pairs = sorted((t, i) for i, times in zip(at_events, at_times) for t in times)
    at_t = jnp.asarray([t for t, _ in pairs] + [np.inf], jnp.float64)
    at_i = jnp.asarray([i for _, i in pairs] + [0], jnp.int32)
    branches = [_affect_branch(model, ev, i, offsets) for i, ev in enumerate(events)]

    n_state = len(state_events)
    directions = jnp.asarray([ev.direction for _, ev in state_events] or [0], jnp.int32)
    none = jnp.zeros((max(n_state, 1),), bool)

    def g(ev, t, y, values):
        return jnp.asarray(ev.condition(layout.view(y), _param_view(model, values, thetas), t, jax_math), jnp.float64)

    def condition_value(ev, j, t, y, values, t_start, fired_here):
        value = g(ev, t, y, values)
        # just fired: at the segment start, the side the flow moves to (see the module docstring)
        slope = jax.jvp(lambda tt, yy: g(ev, tt, yy, values), (t, y), (jnp.ones_like(t), fun(t, y, (values, thetas))))[
            1
        ]
        side = jax.lax.stop_gradient(jnp.sign(slope)) * jnp.finfo(jnp.float64).tiny
        return jnp.where(fired_here[j] & (t == t_start), side, value)

    def condition(ev, j):
        def cond_fn(t, y, args, **kwargs):
            (values, _), (t_start, fired_here, disabled) = args
            # a disabled condition (while the segment is solved again, see below) never crosses
            return jnp.where(disabled[j], 1.0, condition_value(ev, j, t, y, values, t_start, fired_here))

        return cond_fn

    def all_conditions(t, y, values, t_start, fired_here):
        if not state_events:
            return jnp.zeros((1,), jnp.float64)
        return jnp.stack(
            [condition_value(ev, j, t, y, values, t_start, fired_here) for j, (_, ev) in enumerate(state_events)]
        )

    def crossed(before, after):
        """Which conditions changed sign from ``before`` to ``after`` in their direction (diffrax's rule)."""
        up = (jnp.sign(before) <= 0) & (jnp.sign(after) > 0)
        down = (jnp.sign(before) > 0) & (jnp.sign(after) <= 0)
        return jnp.where(directions > 0, up, jnp.where(directions < 0, down, jnp.sign(before) != jnp.sign(after)))

    event = None
    if state_events:
        direction = [None if ev.direction == 0 else ev.direction > 0 for _, ev in state_events]
        event = dfx.Event(
            [condition(ev, j) for j, (_, ev) in enumerate(state_events)],
            root_finder=optx.Newton(rtol=ROOT_TOL, atol=ROOT_TOL),
            direction=direction,
        )
    adjoint = diffrax_adjoint(None, differentiation, max_steps)
    controller = dfx.PIDController(rtol=rtol, atol=atol) if adaptive else dfx.ConstantStepSize()
    n_log = max_events + 1
    ys0 = jnp.full((ts.shape[0], y0.shape[0]), jnp.nan, y0.dtype)

    def segment(carry, _):
        (t, y, values, k_at, fired_here, done, status, ys, log_t, log_i, n, steps, rejected) = carry[:13]
        bound, disabled, fallback, pending, ref, dropped = carry[13:]
        # 1. a condition crossed by the flow at the same instant as the event applied last, and
        #    still past its zero after that event's affect, fires now (no integration)
        now = all_conditions(t, y, values, t, fired_here)
        still = pending & crossed(ref, now) & ~done
        use_pending = jnp.any(still)
        j_pending = jnp.argmax(still)
        # 2. otherwise integrate to the next time event, t1, or the bound of a segment solved again
        t_at = at_t[k_at]
        seg_end = jnp.where(done | use_pending, t, jnp.minimum(jnp.minimum(t_at, t1), bound))
        sol = dfx.diffeqsolve(
            term,
            method,
            t,
            seg_end,
            dt0,
            y,
            args=((values, thetas), (t, fired_here, disabled)),
            saveat=dfx.SaveAt(subs=[dfx.SubSaveAt(ts=jnp.clip(ts, t, seg_end)), dfx.SubSaveAt(t1=True)]),
            stepsize_controller=controller,
            max_steps=max_steps,
            adjoint=adjoint,
            event=event,
            throw=False,
        )
        sol_ts: Any = sol.ts  # saved with SaveAt, so never None
        sol_ys: Any = sol.ys
        t_ev, y_ev = sol_ts[1][0], sol_ys[1][0]
        running = ~done & ~use_pending
        occurred = (sol.result == dfx.RESULTS.event_occurred) & running
        seg_status = jnp.where(occurred, jnp.int32(0), status_from_result(sol.result))
        failed = (seg_status != 0) & running
        if state_events and sol.event_mask is not None:
            mask = jnp.stack([jnp.asarray(m, bool) for m in sol.event_mask])
            j = jnp.argmax(mask)
        else:
            j = jnp.int32(0)
        # diffrax locates the first condition (in list order) that crossed in a step, not the
        # earliest: where another one crossed too, solve the segment again up to this event
        # with this one disabled, and apply it only if nothing crossed before it
        end = all_conditions(t_ev, y_ev, values, t, fired_here)
        flow_crossed = crossed(now, end)  # ``now``: the conditions at this segment's start
        onehot_j = jnp.arange(none.shape[0]) == j
        retry = occurred & jnp.any(flow_crossed & ~disabled & ~onehot_j)
        fired = occurred & ~retry
        # a segment solved again that reached its bound: the event found before fires there
        at_bound = running & ~occurred & ~failed & (fallback >= 0) & (seg_end == bound)
        j_state = jnp.where(use_pending, j_pending, jnp.where(at_bound, fallback, j))
        state_fire = use_pending | fired | at_bound
        at_hit = running & ~occurred & ~failed & ~at_bound & (seg_end == t_at)
        apply = state_fire | at_hit
        which = jnp.where(state_fire, state_global[j_state], at_i[k_at])
        t_ev = jnp.where(use_pending, t, t_ev)
        y_ev = jnp.where(use_pending, y, y_ev)
        # saved values of this segment (NaN after a failure); none from a segment solved again
        inseg = (ts >= t) & (ts <= t_ev) & running & ~retry
        seg_ys = jnp.where(failed, jnp.where(jnp.isfinite(sol_ys[0]), sol_ys[0], jnp.nan), sol_ys[0])
        ys = jnp.where(inseg[:, None], seg_ys, ys)
        y_new, values_new = jax.lax.switch(which, branches, t_ev, y_ev, values, thetas)
        y_new = jnp.where(apply, y_new, y_ev)
        values_new = {k: jnp.where(apply, values_new[k], values[k]) for k in values}
        # a save time at the event itself gets the value after the affect (right-continuous)
        ys = jnp.where(((ts == t_ev) & apply)[:, None], y_new, ys)
        log_t = log_t.at[n].set(jnp.where(apply, t_ev, log_t[n]))
        log_i = log_i.at[n].set(jnp.where(apply, which, log_i[n]))
        reached_end = running & ~apply & ~failed & ~retry
        overflow = apply & (n + 1 >= n_log) & ~terminal[which]  # more than max_events events
        done_new = done | failed | reached_end | (apply & terminal[which]) | overflow
        onehot_state = (jnp.arange(none.shape[0]) == j_state) & state_fire
        advanced = t_ev > t
        fired_here_new = jnp.where(apply & advanced, none, fired_here) | onehot_state
        # conditions crossed by the flow with the event applied now: they fire next if still crossed
        pending_new = jnp.where(
            use_pending,
            still & ~onehot_state,
            jnp.where(fired | at_bound, flow_crossed & ~onehot_state, jnp.where(at_hit, none, pending & ~running)),
        )
        ref_new = jnp.where(fired | at_bound, now, ref)
        keep = retry | ~apply  # nothing applied: the retry state carries on (a retry) or is unused
        carry = (
            jnp.where(done | retry, t, t_ev),
            jnp.where(done | retry, y, y_new),
            values_new,
            k_at + at_hit.astype(jnp.int32),
            fired_here_new,
            done_new,
            jnp.where(failed, seg_status, status),
            ys,
            log_t,
            log_i,
            jnp.minimum(n + apply.astype(jnp.int32), n_log - 1),
            steps + jnp.where(running, sol.stats["num_accepted_steps"], 0).astype(jnp.int32),
            rejected + jnp.where(running, sol.stats["num_rejected_steps"], 0).astype(jnp.int32),
            jnp.where(retry, t_ev, jnp.where(keep, bound, jnp.inf)),
            jnp.where(retry, disabled | onehot_j, jnp.where(keep, disabled, none)),
            jnp.where(retry, j, jnp.where(keep, fallback, -1)).astype(jnp.int32),
            pending_new,
            ref_new,
            dropped | overflow,
        )
        return carry, None

    init = (
        jnp.asarray(t0, jnp.float64),
        y0,
        values0,
        jnp.int32(0),
        none,
        jnp.asarray(False),
        jnp.int32(0),
        ys0,
        jnp.full((n_log,), jnp.nan, jnp.float64),
        jnp.full((n_log,), -1, jnp.int32),
        jnp.int32(0),
        jnp.int32(0),
        jnp.int32(0),
        jnp.asarray(jnp.inf, jnp.float64),
        none,
        jnp.int32(-1),
        none,
        jnp.zeros((max(n_state, 1),), jnp.float64),
        jnp.asarray(False),
    )
    # segments: one per event, plus the ones solved again (rare: two crossings in one step)
    final, _ = jax.lax.scan(segment, init, None, length=2 * n_log)
    t_end, _, _, _, _, done, status, ys, log_t, log_i, n, steps, rejected = final[:13]
    dropped = ~done | final[-1]
    status = jnp.where(dropped & (status == 0), jnp.int32(int(Status.FAILED)), status)
    stats = {
        "steps": steps,
        "rejected": rejected,
        "t_end": t_end,
        "event_t": log_t,
        "event_index": log_i,
        "event_count": n,
        "events_dropped": dropped,
    }
    return ys, status, stats


def event_runner(model: ModelSpec, events, at_times, max_events: int):
    """A ``runner`` for :func:`.compiled_solve.make_solve` (signature of ``run_method``) that solves with events."""

    def run(
        solver, fun, t0, t1, y0, args, ts, rtol, atol, dt0, *, max_steps, differentiation, linsolve=None, adaptive=True
    ):
        ys, status, stats = event_solve(
            model,
            fun,
            solver,
            events,
            at_times,
            t0,
            t1,
            y0,
            args,
            ts,
            rtol,
            atol,
            dt0,
            max_steps=max_steps,
            max_events=max_events,
            differentiation=differentiation,
            adaptive=adaptive,
            linsolve=linsolve,
        )
        return ys, jnp.asarray(status, jnp.int32), normalise_stats(stats)

    return run
