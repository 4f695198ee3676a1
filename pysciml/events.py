"""Events of a solve: state-triggered (:class:`Event`) and time-triggered (:class:`At`).

``ps.solve(model, u0, t, events=[...])`` integrates between events and, at each one,
applies its *affect* (new state values and/or parameter values) and carries on, or
stops the solve (``terminal=True``).  A state event fires where its ``condition``
changes sign in the chosen ``direction``; its time is found by root finding on the
solver's dense output and is differentiable (implicit function theorem).  What fired
is in ``sol.events`` (an :class:`EventLog`).

Where several conditions cross, the earliest fires first (also inside one solver step);
conditions crossing at the same instant fire one after the other in list order, each
only if its condition is still past zero after the affects before it.

Condition and affect see the same arguments as the model's physics: ``(u, p, t, m)``.
An affect returns a mapping ``{name: new value}`` naming states and/or parameters
(the others keep their values), or ``None`` to change nothing.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InputError
from .model_spec import ModelSpec, ParamView
from .numerics import numpy_math

__all__ = ["Event", "At", "EventLog", "EventWarning", "check_events", "DEFAULT_MAX_EVENTS"]

#: events a solve may apply (a static bound: the event loop is a compiled scan of this length)
DEFAULT_MAX_EVENTS = 64


class EventWarning(UserWarning):
    """An event looks mis-specified (e.g. its condition never changes sign over the solve)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Event:
    """A state-triggered event: fires where ``condition(u, p, t, m)`` crosses zero.

    Args:
        condition: ``(u, p, t, m) -> float``; the event fires where it changes sign.
        affect: ``(u, p, t, m) -> {name: value}`` (states and/or parameters) or ``None``;
            ``None`` (the default) changes nothing.
        direction: ``-1`` fires only on downward crossings (positive to non-positive),
            ``+1`` only on upward ones, ``0`` on both.
        terminal: stop the solve at this event (after its affect); saved times after it
            are NaN and ``sol.stats["t_end"]`` is the event time.
        name: label in ``sol.events`` (default ``"event<i>"``).
    """

    condition: Callable[..., Any]
    affect: Callable[..., Any] | None = None
    direction: int = 0
    terminal: bool = False
    name: str | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class At:
    """A time-triggered event: applies ``affect`` at each of ``times`` (e.g. doses).

    Args:
        times: a time or increasing times; those outside ``[t0, t1]`` of a solve are ignored.
        affect: ``(u, p, t, m) -> {name: value}`` (states and/or parameters).
        terminal: stop the solve at the first of these times.
        name: label in ``sol.events`` (default ``"at<i>"``).
    """

    times: Any
    affect: Callable[..., Any] | None = None
    terminal: bool = False
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class EventLog:
    """The events that fired in a solve, in the order they were applied.

    Attributes:
        t: event times ``(n,)`` (a jax array inside jax transformations, NaN-padded to
            ``max_events`` there; differentiable).
        index: which event fired, as an index into ``names``.
        names: the name of every event passed to the solve.
        dropped: True when more than ``max_events`` events were due (the solve stopped early).
    """

    t: Any
    index: Any
    names: tuple[str, ...]
    dropped: Any = False

    def __len__(self) -> int:
        return int(np.asarray(self.t).shape[0])

    def __iter__(self) -> Iterator[tuple[float, str]]:
        for t, i in zip(np.asarray(self.t), np.asarray(self.index)):
            yield float(t), self.names[int(i)]

    def times(self, name: str) -> np.ndarray:
        """The times at which the event called ``name`` fired."""
        if name not in self.names:
            raise InputError(f"no event called {name!r}; events are {list(self.names)}.", argument="name")
        k = self.names.index(name)
        return np.asarray(self.t)[np.asarray(self.index) == k]

    def __repr__(self) -> str:
        try:
            items = ", ".join(f"{n}@{t:.6g}" for t, n in self)
        except Exception:
            items = "traced"
        return f"EventLog([{items}])"


def _check_callable(f, argument: str, *, optional: bool):
    if f is None and optional:
        return
    if not callable(f):
        raise InputError(
            f"must be a function (u, p, t, m) -> ..., got {type(f).__name__}.",
            argument=argument,
        )


def check_events(
    model: ModelSpec, events, t0: float, t1: float
) -> tuple[tuple[Any, ...], tuple[tuple[float, ...], ...]]:
    """Validate ``events`` of a solve; returns ``(events, at_times)`` with the At times checked.

    ``at_times``: for each :class:`At` in ``events``, its times (sorted, finite) as a tuple of floats.
    """
    if events is None:
        return (), ()
    if isinstance(events, (Event, At)):
        events = [events]
    if not isinstance(events, Sequence):
        raise InputError(
            f"must be a list of ps.Event / ps.At, got {type(events).__name__}.",
            argument="events",
        )
    out, names = [], set()
    for i, ev in enumerate(events):
        arg = f"events[{i}]"
        if isinstance(ev, Event):
            _check_callable(ev.condition, f"{arg}.condition", optional=False)
            _check_callable(ev.affect, f"{arg}.affect", optional=True)
            if ev.direction not in (-1, 0, 1):
                raise InputError(f"must be -1, 0 or +1, got {ev.direction!r}.", argument=f"{arg}.direction")
        elif isinstance(ev, At):
            _check_callable(ev.affect, f"{arg}.affect", optional=True)
            try:
                times = np.atleast_1d(np.asarray(ev.times, dtype=float))
            except (TypeError, ValueError):
                raise InputError(f"must be numbers, got {ev.times!r}.", argument=f"{arg}.times") from None
            if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
                raise InputError(f"must be finite times (at least one), got {ev.times!r}.", argument=f"{arg}.times")
            if np.any(np.diff(times) <= 0):
                raise InputError("must be strictly increasing; sort them (np.unique).", argument=f"{arg}.times")
        else:
            raise InputError(
                f"must be a ps.Event or ps.At, got {type(ev).__name__}.",
                argument=arg,
            )
        name = ev.name or (f"event{i}" if isinstance(ev, Event) else f"at{i}")
        if name in names:
            raise InputError(f"name {name!r} is used by two events; give each a unique name.", argument=arg)
        names.add(name)
        out.append(ev)
    at_times = tuple(
        tuple(float(x) for x in np.atleast_1d(np.asarray(ev.times, dtype=float)) if t0 <= x <= t1)
        for ev in out
        if isinstance(ev, At)
    )
    return tuple(out), at_times


def event_names(events) -> tuple[str, ...]:
    """The label of each event (its ``name`` or ``event<i>`` / ``at<i>``)."""
    return tuple(ev.name or (f"event{i}" if isinstance(ev, Event) else f"at{i}") for i, ev in enumerate(events))


def check_max_events(value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise InputError(f"must be a positive integer, got {value!r}.", argument="max_events")
    return int(value)


def split_affect(model: ModelSpec, out, argument: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an affect's return value into ``(states, params)`` by name (checked)."""
    if out is None:
        return {}, {}
    if not isinstance(out, Mapping):
        raise InputError(
            f"must return a mapping {{name: new value}} of states and/or parameters (or None), "
            f"got {type(out).__name__}.",
            argument=argument,
        )
    states, params = {}, {}
    for k, v in out.items():
        if k in model.layout.names:
            states[k] = v
        elif k in model.param_names:
            params[k] = v
        else:
            raise InputError(
                f"returned unknown name {k!r}; states are {list(model.layout.names)}, parameters "
                f"{list(model.param_names)}.",
                argument=argument,
            )
    return states, params


def no_events_fired(names: tuple[str, ...]) -> EventLog:
    return EventLog(np.zeros(0), np.zeros(0, dtype=int), names, False)


def warn_silent_events(
    model: ModelSpec, events, log: EventLog, t, u, params: Mapping[str, Any], *, stacklevel: int = 3
) -> None:
    """Warn about each state event that never fired and whose condition kept one sign
    (``stacklevel``: of the warning, counted from this function, so that it points at the user's call).

    The condition is evaluated with numpy at the saved times (with the solve's starting
    parameter values); one strict sign throughout usually means a condition written as a
    test (``u[0] < 1``) instead of a function that crosses zero (``u[0] - 1``), or a
    threshold the solution never reaches.  Conditions that cannot be evaluated this way
    (networks, engine-only functions) are skipped silently, and so are the model's own events
    (``model.events``, e.g. an SBML file's: a file may well hold events that never fire).
    """
    fired = {int(i) for i in np.asarray(log.index)}
    t = np.asarray(t, dtype=float)
    u = np.asarray(u, dtype=float)
    keep = np.isfinite(t) & np.all(np.isfinite(u.reshape(u.shape[0], -1)), axis=1)
    if keep.sum() < 2:
        return
    p = ParamView(params)
    own = {id(e) for e in getattr(model, "events", ())}  # a model's own events (an SBML file's) are not the caller's
    for i, ev in enumerate(events):
        if not isinstance(ev, Event) or i in fired or id(ev) in own:
            continue
        try:
            values = np.array(
                [
                    float(ev.condition(model.layout.view(uk.reshape(-1)), p, float(tk), numpy_math))
                    for tk, uk in zip(t[keep], u[keep])
                ]
            )
        except Exception:
            continue
        signs = np.sign(values)
        if np.all(signs > 0) or np.all(signs < 0):
            name = event_names(events)[i]
            side = "positive" if signs[0] > 0 else "negative"
            warnings.warn(
                f"events[{i}] ({name!r}) never fired: its condition stayed {side} at all {values.size} "
                f"saved times (from {values.min():.3g} to {values.max():.3g}). An event fires where the "
                "condition crosses zero: write it as a difference (u[0] - 1.0), not a test (u[0] < 1.0), "
                "and check that the threshold is reached.",
                EventWarning,
                stacklevel=stacklevel,
            )
