"""``as_observations``: any accepted form of observations -> :class:`Observations`."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from ..states import StateLayout, normalise_states
from .readers import ReadOptions, read_any
from .timeaxis import classify_times, to_model_time
from .trajectory import Observations, Trajectory
from .validate import check_enough_observations, check_time_order

__all__ = ["as_observations", "DataWarning", "state_names_of"]

log = logging.getLogger("pysciml.data")


class DataWarning(UserWarning):
    """Observations are usable but something deserves a look (a state never observed ...)."""


def state_names_of(states: Any) -> tuple[tuple[str, ...], dict]:
    """State names (and declared units) from ``states=``: names, specs, a mapping, a layout or a model.

    Returns:
        (names, {name: declared units})
    """

    if hasattr(states, "layout") and isinstance(states.layout, StateLayout):
        states = states.layout
    specs = states.specs if isinstance(states, StateLayout) else normalise_states(states)
    shaped = [s.name for s in specs if s.shape != ()]
    if shaped:
        raise DataError(
            f"the states {shaped} have shapes; as_observations reads scalar states. For gridded states use "
            "pysciml.data.stack_cells (cells x time) and reshape to the model's flat layout.",
            argument="states",
        )
    return tuple(s.name for s in specs), {s.name: s.units for s in specs if s.units}


def _merge_units(raws, names, declared, argument):
    units = {}
    for r in raws:
        for s, u in r.units.items():
            if s in units and units[s] != u:
                raise DataError(
                    f"state {s!r} has units {units[s]!r} in one trajectory and {u!r} in {r.source}; convert "
                    "them to one unit first.",
                    argument=argument,
                )
            units[s] = u
    for s, u in declared.items():
        if s in units and units[s] != u:
            log.info("state %r: data units %r differ from the declared %r; using the data's", s, units[s], u)
        units.setdefault(s, u)
    return tuple(units.get(s) for s in names)


def _unique_names(raws) -> list[str]:
    out, seen = [], {}
    for i, r in enumerate(raws):
        base = r.name if r.name is not None else str(i)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}#{n}")
    return out


def as_observations(
    data: Any,
    *,
    states: Any,
    time_units: str | None = None,
    time_dim: str | None = None,
    state_dim: str | None = None,
    trajectory_dim: str | None = None,
    reference_time: Any = None,
    unobserved: str = "warn",
    argument: str = "data",
) -> Observations:
    """Read observations in any accepted form into :class:`Observations` (model time, NaN = missing).

    Args:
        data: an ``xr.Dataset`` (one variable per observed state), an ``xr.DataArray``
            (named after one state, or with a state dimension labelled by state names),
            a ``pandas.DataFrame`` / ``Series`` (times in the index or a time column), a
            ``(t, y)`` pair with y of shape (n_t, n_states) (or (n_t,) for one state), a
            dict ``{"t": ..., "y": ...}`` or ``{"t": ..., "<state>": ...}``, an
            :class:`Observations`, or a list of any of these (one or more trajectories each).
        states: the model's states: names, a ``states=`` declaration, a StateLayout or a
            model (whose ``time_units`` and state units are then used as defaults).
        time_units: model time units for calendar times ("seconds", "minutes", "hours",
            "days", "years"); required for datetime64/cftime/timedelta times, a label for
            numeric times.
        time_dim: the time dimension / column (default: detected).
        state_dim: the DataArray dimension whose labels are state names (default: detected).
        trajectory_dim: the dimension / column / index level separating trajectories.
        reference_time: the time of model time 0 (default: the earliest time in the data).
        unobserved: what to do about a state never observed anywhere: "warn" (a
            DataWarning; it is fitted as a latent state), "error" or "ignore".
        argument: the caller's argument name, used in error messages.

    Returns:
        Observations with one Trajectory per trajectory found, in input order.

    Raises:
        DataError: naming the argument at fault and how to fix it.
    """
    names, declared_units = state_names_of(states)
    if time_units is None:  # a model passed as states= may carry its time units
        time_units = getattr(states, "time_units", None)
    if unobserved not in ("warn", "error", "ignore"):
        raise InputError(f"unobserved must be 'warn', 'error' or 'ignore', got {unobserved!r}.", argument="unobserved")
    if isinstance(data, Observations):
        if data.state_names != names:
            raise DataError(
                f"these Observations have states {list(data.state_names)}, the model "
                f"{list(names)}; read the data again with states=...",
                argument=argument,
            )
        return data
    notes: list[str] = []
    raws = read_any(data, ReadOptions(names, time_dim, state_dim, trajectory_dim), argument, notes)
    units = _merge_units(raws, names, declared_units, argument)
    ts, meta = to_model_time(
        [r.coord for r in raws],
        time_units=time_units,
        reference_time=reference_time,
        name=raws[0].time_name,
        attrs=raws[0].time_attrs,
        argument=argument,
    )
    traj_names = _unique_names(raws)
    trajs = []
    for raw, t, tname in zip(raws, ts, traj_names):
        coord = classify_times(raw.coord, argument=raw.source)[2]  # user's times, tz-aware ones in UTC
        if coord.dtype.kind in "Mm":
            coord = coord.astype(meta.dtype)
        what = f" (trajectory {tname!r})" if len(raws) > 1 else ""
        if t.size != next(iter(raw.columns.values())).size:
            raise DataError(
                f"t has {t.size} times but the values have {next(iter(raw.columns.values())).size}{what}.",
                argument=raw.source,
            )
        check_time_order(t, coord, argument=raw.source, time_name=raw.time_name, what=what)
        y = np.full((t.size, len(names)), np.nan)
        for j, s in enumerate(names):
            if s in raw.columns:
                y[:, j] = raw.columns[s]
        check_enough_observations(t, y, argument=raw.source, what=what)
        keep = ~np.isnan(y).all(axis=1)
        if not keep.all():
            notes.append(f"{raw.source}: dropped {int((~keep).sum())} time(s) with no observed state")
        trajs.append(
            Trajectory(
                t[keep], y[keep], names, units, tname, meta, coord=coord[keep], attrs=raw.attrs, source=raw.source
            )
        )
    state_attrs = []
    for s in names:
        found = next((r.state_attrs[s] for r in raws if s in r.state_attrs), {})
        state_attrs.append(dict(found))
    obs = Observations.from_trajectories(trajs, attrs=raws[0].attrs, state_attrs=state_attrs, notes=notes)
    never = [s for s, seen in zip(names, obs.observed_states) if not seen]
    if never and unobserved != "ignore":
        msg = (
            f"state(s) {never} are never observed in the data; they will be fitted as latent states. "
            "If a name is misspelt, rename the variable/column after the state."
        )
        if unobserved == "error":
            raise DataError(msg + " (unobserved='warn' accepts latent states.)", argument="states")
        warnings.warn(f"{argument}: {msg}", DataWarning, stacklevel=2)
    for n in notes:
        log.info(n)
    return obs
