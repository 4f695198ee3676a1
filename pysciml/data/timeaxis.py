"""Calendar times <-> float model time.

Model time is a float64 number in the units the user states (``time_units``):
``"seconds"``, ``"minutes"``, ``"hours"``, ``"days"`` or ``"years"``, counted
from a reference time (default: the earliest observed time).  A *year* is a
fixed length, the mean year of the calendar, so model time stays proportional
to elapsed time (an ODE's rates do not jump at leap days):

==========================================  ===============
calendar                                    days in a year
==========================================  ===============
``360_day``                                 360
``noleap`` / ``365_day``                    365
``all_leap`` / ``366_day``                  366
``julian``                                  365.25
``standard`` / ``gregorian``,
``proleptic_gregorian``, numpy datetime64   365.2425
==========================================  ===============

Calendar arithmetic is cftime's (``date2num`` / ``num2date`` in exact integer
microseconds) for cftime dates, and numpy's integer timedelta arithmetic for
datetime64.  Numeric times are used as they are (their units are whatever the
user's are); timedelta64 times count from zero.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import sys
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = [
    "TimeMeta",
    "TIME_UNITS",
    "CALENDAR_YEAR_DAYS",
    "normalise_time_units",
    "normalise_calendar",
    "classify_times",
    "to_model_time",
    "model_time_to_coord",
]

#: seconds per model-time unit (years depend on the calendar: see CALENDAR_YEAR_DAYS)
TIME_UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0, "years": None}
_UNIT_ALIASES = {
    "s": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "second": "seconds",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "d": "days",
    "day": "days",
    "yr": "years",
    "yrs": "years",
    "year": "years",
    "a": "years",
}
#: mean year length in days, per CF calendar (defines the "years" time unit)
CALENDAR_YEAR_DAYS = {
    "standard": 365.2425,
    "proleptic_gregorian": 365.2425,
    "julian": 365.25,
    "noleap": 365.0,
    "all_leap": 366.0,
    "360_day": 360.0,
}
_CALENDAR_ALIASES = {"gregorian": "standard", "365_day": "noleap", "366_day": "all_leap"}
# ticks per second of the integer units calendar times are handled in
_PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@dataclasses.dataclass(frozen=True, eq=False)
class TimeMeta:
    """How model time maps to the user's time axis (enough to convert back).

    Attributes:
        kind: ``"numeric"``, ``"datetime64"``, ``"cftime"`` or ``"timedelta64"``.
        units: model time units (``"days"`` ...) or, for numeric times, the label the
            user gave (``None`` if none).
        calendar: CF calendar name (normalised: ``standard``, ``noleap``, ...); ``None``
            for numeric and timedelta64 times.
        reference: the time that model time 0 stands for (np.datetime64,
            cftime.datetime, np.timedelta64, or a float for numeric times).
        dtype: numpy dtype of the original coordinate (``datetime64[ns]`` ...).
        resolution: ``"ms"``, ``"us"`` or ``"ns"``: converted-back calendar times are
            rounded to this (the finest unit the input needed, at least ms).
        name: the user's time dimension name.
        attrs: attributes of the user's time coordinate.
        timezone: time zone of a tz-aware pandas index (times are held in UTC).
    """

    kind: str
    units: str | None = None
    calendar: str | None = None
    reference: Any = None
    dtype: str | None = None
    resolution: str = "ms"
    name: str = "time"
    attrs: dict = dataclasses.field(default_factory=dict)
    timezone: str | None = None

    @property
    def seconds_per_unit(self) -> float | None:
        """Seconds in one model-time unit (``None`` for numeric times)."""
        if self.kind == "numeric" or self.units is None:
            return None
        return _seconds_per_unit(self.units, self.calendar)

    @property
    def cf_units(self) -> str | None:
        """CF ``units`` string of model time, e.g. ``"days since 2001-01-01 00:00:00"``."""
        if self.kind in ("datetime64", "cftime"):
            return f"{self.units} since {ref_string(self.reference)}"
        return self.units

    def replace(self, **changes) -> TimeMeta:
        return dataclasses.replace(self, **changes)


#: the largest tick difference an int64 holds (2**63), less the rounding of the float64 estimate of it
_INT64_SPAN = 2.0**63 - 2.0**20


def ticks_to_units(ticks: np.ndarray, per_unit: float) -> np.ndarray:
    """int64 ticks as float64 model-time units: whole units and the remainder apart, so ticks that
    float64 cannot hold exactly (beyond 2**53) still give the nearest model time (one rounding)."""
    if float(per_unit).is_integer() and 0 < per_unit < 2.0**62:
        d = np.int64(per_unit)
        whole = np.where(ticks < 0, -(-ticks // d), ticks // d)  # toward zero: whole and rest share a sign
        rest = ticks - whole * d
        return whole.astype(np.float64) + rest.astype(np.float64) / per_unit
    return ticks.astype(np.float64) / per_unit


def normalise_time_units(units: Any, *, argument: str = "time_units") -> str:
    """Canonical model time unit name (``"d"`` -> ``"days"``), or a DataError."""
    if isinstance(units, str):
        key = units.strip().lower()
        key = _UNIT_ALIASES.get(key, key)
        if key in TIME_UNITS:
            return key
    raise DataError(
        f"unknown time unit {units!r}; use one of {list(TIME_UNITS)} "
        "(a year is the calendar's mean year: 365.2425 days for standard, 365 for noleap, 360 for 360_day).",
        argument=argument,
    )


def normalise_calendar(calendar: str) -> str:
    """Canonical CF calendar name (``gregorian`` -> ``standard``, ``365_day`` -> ``noleap``)."""
    cal = str(calendar).lower()
    return _CALENDAR_ALIASES.get(cal, cal)


def _seconds_per_unit(units: str, calendar: str | None) -> float:
    if units == "years":
        return 86400.0 * CALENDAR_YEAR_DAYS.get(calendar or "proleptic_gregorian", 365.2425)
    return TIME_UNITS[units]


def _cftime_type():
    mod = sys.modules.get("cftime")
    return None if mod is None else mod.datetime


def classify_times(values: Any, *, argument: str = "data") -> tuple[str, str | None, np.ndarray, str | None]:
    """Recognise a time axis: returns ``(kind, calendar, values, timezone)``.

    Args:
        values: 1-D times: numbers, datetime64, timedelta64, cftime dates, python
            datetimes or a pandas Index.
        argument: argument name used in error messages.
    """
    timezone = None
    tz = getattr(values, "tz", None)
    if tz is not None:  # tz-aware pandas index: hold times in UTC
        timezone = str(tz)
        values = values.tz_convert("UTC").tz_localize(None)
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if arr.ndim != 1:
        raise DataError(f"times must be 1-D, got shape {arr.shape}.", argument=argument)
    kind = arr.dtype.kind
    if kind == "M":
        out, result = arr, ("datetime64", "proleptic_gregorian")
    elif kind == "m":
        out, result = arr, ("timedelta64", None)
    elif kind in "iuf":
        out, result = arr.astype(np.float64), ("numeric", None)
    elif kind == "O":
        return _classify_objects(arr, argument) + (timezone,)
    elif kind in "US":
        raise DataError(
            f"times are strings (e.g. {arr[0]!r}); parse them first, e.g. pd.to_datetime(...) or xr.decode_cf(ds).",
            argument=argument,
        )
    else:
        raise DataError(f"times have dtype {arr.dtype}; give numbers, datetime64 or cftime dates.", argument=argument)
    bad = np.isnat(out) if kind in "Mm" else ~np.isfinite(out)
    if bad.any():
        raise DataError(
            f"times have {int(bad.sum())} missing or infinite values (NaT/NaN/inf) at positions "
            f"{np.flatnonzero(bad)[:5].tolist()}; drop those rows first (e.g. ds.dropna('time') or ds.sel(...)).",
            argument=argument,
        )
    time_kind, calendar = result
    return time_kind, calendar, out, timezone


def _classify_objects(arr: np.ndarray, argument: str) -> tuple[str, str | None, np.ndarray]:
    if arr.size == 0:
        return "numeric", None, arr.astype(np.float64)
    if all(isinstance(v, str) for v in arr):
        return classify_times(arr.astype(str), argument=argument)[:3]
    cft = _cftime_type()
    if cft is not None and any(isinstance(v, cft) for v in arr):
        if not all(isinstance(v, cft) for v in arr):
            raise DataError("times mix cftime dates with other values; use one kind of time.", argument=argument)
        cals = {normalise_calendar(v.calendar) for v in arr}
        if len(cals) > 1:
            raise DataError(
                f"times mix calendars {sorted(cals)}; convert to one with ds.convert_calendar(...).",
                argument=argument,
            )
        cal = cals.pop()
        if cal not in CALENDAR_YEAR_DAYS:
            raise DataError(
                f"cftime calendar {cal!r} is not supported; use one of {sorted(CALENDAR_YEAR_DAYS)}.",
                argument=argument,
            )
        return "cftime", cal, arr
    if all(isinstance(v, (_dt.datetime, _dt.date, np.datetime64)) for v in arr):
        import pandas as pd

        idx = pd.DatetimeIndex(pd.to_datetime(arr, utc=any(getattr(v, "tzinfo", None) for v in arr)))
        return classify_times(idx, argument=argument)[:3]
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"cannot read times of type {type(arr[0]).__name__}; give numbers, datetime64 or cftime dates.",
            argument=argument,
        ) from None
    return classify_times(out, argument=argument)[:3]


def dtype_name(values: list) -> str:
    """The numpy dtype(s) of a list of arrays, for messages."""
    return " / ".join(sorted({str(v.dtype) for v in values}))


def ref_string(ref) -> str:
    return ref.strftime("%Y-%m-%d %H:%M:%S.%f") if not isinstance(ref, np.datetime64) else str(ref).replace("T", " ")


def _resolution_of(ticks: np.ndarray, work: str) -> str:
    """Coarsest of ms/us/ns that represents every offset (in ``work`` units) exactly."""
    for res in ("ms", "us"):
        step = _PER_SECOND[work] // _PER_SECOND[res]
        if step >= 1 and not np.any(ticks % step):
            return res
    return work


def parse_reference(reference_time, kind, calendar, dtype, argument):
    """The user's reference_time as a value of this time kind."""
    try:
        if kind == "numeric":
            ref = float(reference_time)
            if not np.isfinite(ref):
                raise ValueError("it is not finite")
            return ref
        if kind == "timedelta64":
            import pandas as pd

            # NaT has no to_timedelta64: that AttributeError becomes the DataError below
            return np.timedelta64(pd.Timedelta(reference_time).to_timedelta64())  # pyright: ignore[reportAttributeAccessIssue]
        if kind == "datetime64":
            import pandas as pd

            ts = pd.Timestamp(
                reference_time.isoformat() if isinstance(reference_time, _dt.datetime) else reference_time
            )
            if pd.isna(ts):
                raise ValueError("it is NaT (not a time)")
            if ts.tz is not None:
                ts = ts.tz_convert("UTC").tz_localize(None)
            return np.datetime64(ts.to_datetime64()).astype(dtype)
        import cftime

        if isinstance(reference_time, cftime.datetime):
            if normalise_calendar(reference_time.calendar) != calendar:
                raise DataError(
                    f"reference_time is in calendar {reference_time.calendar!r} but the data use {calendar!r}; "
                    "give it in the data's calendar (or as a string like '2001-01-01').",
                    argument="reference_time",
                )
            return reference_time
        text = reference_time.isoformat(sep=" ") if isinstance(reference_time, _dt.datetime) else str(reference_time)
        return cftime.num2date(0, f"days since {text}", calendar=calendar)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure becomes one clear error
        raise DataError(
            f"could not read reference_time={reference_time!r} as a {kind} time ({exc}); give e.g. "
            "'2001-01-01' or a value of the same kind as the data's times.",
            argument="reference_time",
        ) from None


def _numeric_units_label(time_units, coord_units):
    """Units label of numeric times; a DataError if the coordinate's own time units contradict time_units."""
    if time_units is None:
        return None if coord_units is None else str(coord_units)
    if coord_units is not None:
        try:
            a, b = normalise_time_units(time_units), normalise_time_units(coord_units, argument="data")
        except DataError:
            return str(time_units)
        if a != b:
            raise DataError(
                f"the time coordinate says its units are {coord_units!r} but time_units={time_units!r}; numeric "
                f"times are used as they are, not converted. Pass time_units={coord_units!r} or convert the "
                "coordinate's values first.",
                argument="time_units",
            )
    return str(time_units)


def to_model_time(
    times: list,
    *,
    time_units: str | None = None,
    reference_time: Any = None,
    name: str = "time",
    attrs: dict | None = None,
    argument: str = "data",
) -> tuple[list[np.ndarray], TimeMeta]:
    """Convert one or more time axes (same kind and calendar) to float64 model time.

    Args:
        times: list of 1-D time arrays (one per trajectory), any form classify_times reads.
        time_units: model time units; required for calendar and timedelta times,
            a label only for numeric times.
        reference_time: time of model time 0 (default: the earliest time over all
            arrays; 0 for numeric and timedelta times).
        name, attrs: the user's time dimension name and coordinate attrs (kept in the meta).
        argument: argument name used in error messages.

    Returns:
        (list of float64 model-time arrays, TimeMeta)
    """
    classified = [
        classify_times(t, argument=f"{argument}[{i}]" if len(times) > 1 else argument) for i, t in enumerate(times)
    ]
    kinds = {(k, c) for k, c, _, _ in classified}
    if len(kinds) > 1:
        desc = sorted(f"{k}" + (f" ({c})" if c and k == "cftime" else "") for k, c in kinds)
        raise DataError(
            f"trajectories use different kinds of time or calendars: {desc}; give all of them in one "
            "calendar (ds.convert_calendar(...) converts; pd.DatetimeIndex / CFTimeIndex.to_datetimeindex()).",
            argument=argument,
        )
    kind, calendar = kinds.pop()
    tzs = {tz for *_, tz in classified} - {None}
    values = [v for _, _, v, _ in classified]
    units = None
    if time_units is not None and kind != "numeric":
        units = normalise_time_units(time_units)
    elif kind in ("datetime64", "cftime", "timedelta64"):
        raise DataError(
            f"the data's times are {f'cftime ({calendar})' if kind == 'cftime' else kind} dates; say which "
            "model time units the model's rates use, e.g. time_units='days' (or 'seconds', 'minutes', "
            "'hours', 'years').",
            argument="time_units",
        )
    meta_kw: dict[str, Any] = dict(name=name, attrs=dict(attrs or {}), timezone=tzs.pop() if tzs else None)

    if kind == "numeric":
        ref = 0.0 if reference_time is None else parse_reference(reference_time, kind, None, None, argument)
        label = _numeric_units_label(time_units, (attrs or {}).get("units"))
        meta = TimeMeta("numeric", units=label, reference=ref, dtype="float64", **meta_kw)
        return [v - ref for v in values], meta
    assert units is not None  # calendar and timedelta times need time_units (checked above)

    if kind in ("datetime64", "timedelta64"):
        dtype = np.result_type(*[v.dtype for v in values])
        given = np.datetime_data(dtype)[0]
        # s, m, h, D ... -> milliseconds; ps, fs, as -> nanoseconds (checked exact below)
        work = given if given in _PER_SECOND else ("ns" if given in ("ps", "fs", "as") else "ms")
        if work == "ns":  # differences over ~292 years overflow int64 nanoseconds: use microseconds
            ints = [v.astype(np.int64) for v in values if v.size]
            if ints and float(max(i.max() for i in ints)) - float(min(i.min() for i in ints)) > _INT64_SPAN:
                work = "us"
        dtype = np.dtype(f"{'M' if kind == 'datetime64' else 'm'}8[{work}]")
        converted = [v.astype(dtype) for v in values]
        if given not in _PER_SECOND and any(
            not np.array_equal(c.astype(v.dtype), v) for c, v in zip(converted, values)
        ):  # numpy wraps around or truncates silently: refuse rather than shift times
            raise DataError(
                f"times of dtype {dtype_name(values)} cannot be held exactly in {work} ticks (they are finer than "
                "a nanosecond, or too far from 1970 for int64 milliseconds); convert them first, e.g. "
                "t.astype('datetime64[ns]'), or use cftime dates for times millions of years away.",
                argument=argument,
            )
        values = converted
        if reference_time is not None:
            ref = parse_reference(reference_time, kind, None, dtype, argument)
        elif kind == "timedelta64":
            ref = np.timedelta64(0, work)
        else:
            ref = min(v.min() for v in values if v.size)
        ref_tick = float(np.asarray(ref).astype(np.int64))
        if any(v.size and np.abs(v.astype(np.int64).astype(np.float64) - ref_tick).max() > _INT64_SPAN for v in values):
            raise DataError(  # int64 differences would wrap around silently
                f"times lie too far from the reference time {ref} to count in int64 {work} ticks; give a "
                "reference_time near the data or times closer together (cftime dates reach further).",
                argument="reference_time" if reference_time is not None else argument,
            )
        ticks = [(v - ref).astype(np.int64) for v in values]
        spu = _seconds_per_unit(units, calendar)
        out = [ticks_to_units(k, spu * _PER_SECOND[work]) for k in ticks]
        meta = TimeMeta(
            kind,
            units=units,
            calendar=calendar,
            reference=ref,
            dtype=str(dtype),
            resolution=_resolution_of(np.concatenate(ticks), work),
            **meta_kw,
        )
        return out, meta

    # cftime: exact integer microseconds from cftime's own calendar arithmetic
    import cftime

    ref = (
        parse_reference(reference_time, kind, calendar, None, argument)
        if reference_time is not None
        else min(v.min() for v in values if v.size)
    )
    cf_units = f"microseconds since {ref_string(ref)}"
    us = [np.asarray(cftime.date2num(v, cf_units, calendar=calendar)) for v in values]
    spu = _seconds_per_unit(units, calendar)
    out = [u.astype(np.float64) / (spu * 1e6) for u in us]
    us_all = np.concatenate([np.rint(u).astype(np.int64) for u in us])
    meta = TimeMeta(
        "cftime",
        units=units,
        calendar=calendar,
        reference=ref,
        dtype="object",
        resolution=_resolution_of(us_all, "us"),
        **meta_kw,
    )
    return out, meta


def model_time_to_coord(t_model: Any, meta: TimeMeta) -> np.ndarray:
    """Convert model times back to the user's time axis (inverse of to_model_time).

    Args:
        t_model: model times, any shape, in ``meta.units`` from ``meta.reference``.
        meta: the TimeMeta of the observations the model was fitted to.

    Returns:
        float64 (numeric), datetime64 in the original resolution, timedelta64, or an
        object array of cftime dates in the original calendar; rounded to
        ``meta.resolution`` for calendar and timedelta times.
    """
    t = np.asarray(t_model, dtype=np.float64)
    if meta.kind == "numeric":
        return t + float(meta.reference or 0.0)
    if not np.all(np.isfinite(t)):
        raise DataError("model times must be finite to convert to calendar times.", argument="t_model")
    spu = meta.seconds_per_unit
    assert spu is not None  # calendar and timedelta times always have units
    if meta.kind == "cftime":
        work = "us"
    else:
        assert meta.dtype is not None  # datetime64 / timedelta64 metadata keep their dtype
        work = np.datetime_data(np.dtype(meta.dtype))[0]
    step = _PER_SECOND[work] // _PER_SECOND[meta.resolution]
    ticks = np.rint(t * (spu * _PER_SECOND[work] / step)).astype(np.int64) * step
    if meta.kind in ("datetime64", "timedelta64"):
        return meta.reference + ticks.astype(f"timedelta64[{work}]")
    import cftime

    return np.asarray(
        cftime.num2date(ticks, f"microseconds since {ref_string(meta.reference)}", calendar=meta.calendar), dtype=object
    )
