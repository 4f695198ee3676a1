"""Calendar times <-> model time: values against independent expectations, round trips, errors."""

from __future__ import annotations

import datetime as dt

import cftime
import numpy as np
import pandas as pd
import pytest

from pysciml.data import CALENDAR_YEAR_DAYS, model_time_to_coord, to_model_time
from pysciml.errors import DataError

CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "noleap", "365_day", "all_leap", "366_day",
             "360_day", "julian"]


def cf(cal, *args):
    return cftime.datetime(*args, calendar=cal)


def convert(dates, units="days", **kw):
    (t,), meta = to_model_time([np.asarray(dates)], time_units=units, **kw)
    return t, meta


# -- values checked against facts about each calendar --------------------------------------------
@pytest.mark.parametrize("cal, days", [
    ("standard", 28), ("proleptic_gregorian", 28), ("julian", 28), ("noleap", 28), ("365_day", 28),
    ("all_leap", 29), ("366_day", 29), ("360_day", 30),
])
def test_february_2001_length(cal, days):
    t, _ = convert([cf(cal, 2001, 2, 1), cf(cal, 2001, 3, 1)])
    assert t[1] - t[0] == days


@pytest.mark.parametrize("cal, days", [("standard", 29), ("noleap", 28), ("all_leap", 29), ("360_day", 30)])
def test_february_2004_leap_year(cal, days):
    t, _ = convert([cf(cal, 2004, 2, 1), cf(cal, 2004, 3, 1)])
    assert t[1] - t[0] == days


def test_360_day_month_is_30_days_and_year_is_one_year():
    dates = [cf("360_day", 2001, m, 1) for m in range(1, 13)] + [cf("360_day", 2002, 1, 1)]
    t, _ = convert(dates)
    np.testing.assert_array_equal(np.diff(t), 30.0)
    ty, _ = convert(dates, units="years")
    assert ty[-1] == 1.0


def test_julian_1900_is_a_leap_year_but_standard_is_not():
    tj, _ = convert([cf("julian", 1900, 2, 28), cf("julian", 1900, 3, 1)])
    ts, _ = convert([cf("standard", 1900, 2, 28), cf("standard", 1900, 3, 1)])
    assert (tj[1], ts[1]) == (2.0, 1.0)


def test_gregorian_reform_gap_in_standard_calendar_only():
    # 1582-10-04 (Julian) was followed by 1582-10-15 (Gregorian) in the standard calendar.
    ts, _ = convert([cf("standard", 1582, 10, 4), cf("standard", 1582, 10, 15)])
    tp, _ = convert([cf("proleptic_gregorian", 1582, 10, 4), cf("proleptic_gregorian", 1582, 10, 15)])
    assert (ts[1], tp[1]) == (1.0, 11.0)


@pytest.mark.parametrize("cal, start, end, years", [
    ("noleap", (2001, 1, 1), (2011, 1, 1), 10.0),
    ("all_leap", (2001, 1, 1), (2003, 1, 1), 2.0),
    ("julian", (2000, 1, 1), (2004, 1, 1), 4.0),
    ("proleptic_gregorian", (2000, 1, 1), (2400, 1, 1), 400.0),
])
def test_years_unit_is_the_calendar_mean_year(cal, start, end, years):
    t, _ = convert([cf(cal, *start), cf(cal, *end)], units="years")
    assert t[1] == pytest.approx(years, rel=1e-15)


def test_datetime64_400_gregorian_years_and_hours():
    d = np.array(["2000-01-01", "2400-01-01"], dtype="datetime64[s]")
    t, meta = convert(d, units="years")
    assert t[1] == 400.0 and meta.calendar == "proleptic_gregorian"
    (th,), _ = to_model_time([np.array(["2001-01-01T00", "2001-01-02T06"], dtype="datetime64[s]")], time_units="h")
    assert th[1] == 30.0
    assert CALENDAR_YEAR_DAYS["proleptic_gregorian"] * 400 == 146097  # days in 400 Gregorian years


@pytest.mark.parametrize("units, factor", [("seconds", 86400.0), ("minutes", 1440.0), ("hours", 24.0), ("days", 1.0)])
def test_units_scale_one_day(units, factor):
    d = pd.date_range("2020-03-01", periods=3, freq="D").values
    t, _ = convert(d, units=units)
    np.testing.assert_array_equal(t, [0.0, factor, 2 * factor])


def test_reference_time_default_is_earliest_over_all_trajectories():
    a = pd.date_range("2001-01-05", periods=3, freq="D").values
    b = pd.date_range("2001-01-02", periods=2, freq="D").values
    (ta, tb), meta = to_model_time([a, b], time_units="days")
    np.testing.assert_array_equal(ta, [3, 4, 5])
    np.testing.assert_array_equal(tb, [0, 1])
    assert meta.reference == np.datetime64("2001-01-02")


@pytest.mark.parametrize("ref", ["2000-12-31", np.datetime64("2000-12-31"), pd.Timestamp("2000-12-31"),
                                 dt.datetime(2000, 12, 31)])
def test_reference_time_forms_datetime64(ref):
    t, _ = convert(pd.date_range("2001-01-01", periods=2, freq="D").values, reference_time=ref)
    np.testing.assert_array_equal(t, [1.0, 2.0])


@pytest.mark.parametrize("ref", ["2000-12-01", cftime.datetime(2000, 12, 1, calendar="360_day"),
                                 dt.datetime(2000, 12, 1)])
def test_reference_time_forms_cftime(ref):
    t, meta = convert([cf("360_day", 2001, 1, 1), cf("360_day", 2001, 2, 1)], reference_time=ref)
    np.testing.assert_array_equal(t, [30.0, 60.0])
    assert meta.reference == cf("360_day", 2000, 12, 1)


def test_numeric_times_used_as_they_are():
    t, meta = convert(np.array([0.5, 1.0, 7.25]), units="weeks-of-my-choosing")
    np.testing.assert_array_equal(t, [0.5, 1.0, 7.25])
    assert meta.kind == "numeric" and meta.units == "weeks-of-my-choosing"
    np.testing.assert_array_equal(model_time_to_coord(t, meta), [0.5, 1.0, 7.25])
    t2, meta2 = convert(np.array([10, 12]), units=None, reference_time=10)
    np.testing.assert_array_equal(t2, [0.0, 2.0])
    np.testing.assert_array_equal(model_time_to_coord(t2, meta2), [10.0, 12.0])


def test_timedelta_counts_from_zero():
    t, meta = convert(pd.to_timedelta([1, 2.5], unit="h"), units="minutes")
    np.testing.assert_array_equal(t, [60.0, 150.0])
    back = model_time_to_coord(t, meta)
    np.testing.assert_array_equal(back, pd.to_timedelta([1, 2.5], unit="h").values)


def test_tz_aware_index_is_held_in_utc():
    idx = pd.date_range("2001-01-01 01:00", periods=2, freq="h", tz="Europe/Paris")
    (t,), meta = to_model_time([idx], time_units="hours")
    np.testing.assert_array_equal(t, [0.0, 1.0])
    assert meta.timezone == "Europe/Paris"
    assert model_time_to_coord([0.0], meta)[0] == np.datetime64("2001-01-01T00:00")


def test_python_datetimes_become_datetime64():
    t, meta = convert(np.array([dt.datetime(2001, 1, 1), dt.datetime(2001, 1, 3)], dtype=object))
    assert meta.kind == "datetime64" and t[1] == 2.0


# -- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cal", CALENDARS)
@pytest.mark.parametrize("units", ["seconds", "hours", "days", "years"])
def test_cftime_round_trip(cal, units):
    dates = [cf(cal, 1850, 1, 1), cf(cal, 1850, 1, 1, 0, 0, 1), cf(cal, 1901, 2, 28, 13, 7, 11, 250000),
             cf(cal, 2000, 12, 30, 23, 59, 59), cf(cal, 2100, 6, 15, 6)]
    t, meta = convert(dates, units=units)
    back = model_time_to_coord(t, meta)
    assert list(back) == dates
    assert all(b.calendar == dates[0].calendar for b in back)


@pytest.mark.parametrize("dtype", ["datetime64[ns]", "datetime64[us]", "datetime64[s]", "datetime64[D]"])
def test_datetime64_round_trip(dtype):
    d = np.array(["1700-03-01", "1999-12-31T23:59:59", "2000-02-29", "2300-01-01"]).astype(dtype)
    if dtype == "datetime64[ns]":  # the ns range is 1677-2262
        d = d[1:3]
    t, meta = convert(d, units="days")
    back = model_time_to_coord(t, meta)
    np.testing.assert_array_equal(back, d)


def test_sub_millisecond_inputs_keep_their_resolution():
    d = np.array(["2001-01-01T00:00:00.000000001", "2001-01-01T00:00:00.000000003"], dtype="datetime64[ns]")
    t, meta = convert(d, units="seconds")
    assert meta.resolution == "ns"
    np.testing.assert_array_equal(model_time_to_coord(t, meta), d)


def test_new_times_between_observations_convert_to_calendar():
    _, meta = convert([cf("noleap", 2001, 1, 1), cf("noleap", 2001, 12, 31)])
    back = model_time_to_coord([58.5, 365.0], meta)
    assert back[0] == cf("noleap", 2001, 2, 28, 12) and back[1] == cf("noleap", 2002, 1, 1)


# -- errors ---------------------------------------------------------------------------------------
def test_calendar_times_need_time_units():
    with pytest.raises(DataError, match="time_units.*time_units='days'"):
        to_model_time([pd.date_range("2001", periods=2).values])


@pytest.mark.parametrize("bad", ["fortnights", "months", 3])
def test_unknown_time_units(bad):
    with pytest.raises(DataError, match="time_units: unknown time unit"):
        to_model_time([np.array([0, 1]) + np.datetime64("2001-01-01")], time_units=bad)


def test_mixed_calendars_across_trajectories():
    a = [cf("noleap", 2001, 1, 1), cf("noleap", 2001, 1, 2)]
    b = [cf("360_day", 2001, 1, 1), cf("360_day", 2001, 1, 2)]
    with pytest.raises(DataError, match=r"data: .*different kinds of time or calendars.*convert_calendar"):
        to_model_time([np.array(a), np.array(b)], time_units="days")
    with pytest.raises(DataError, match="different kinds"):
        to_model_time([np.array(a), pd.date_range("2001", periods=2).values], time_units="days")


def test_mixed_calendars_within_one_axis():
    mixed = np.array([cf("noleap", 2001, 1, 1), cf("360_day", 2001, 1, 2)], dtype=object)
    with pytest.raises(DataError, match="mix calendars"):
        to_model_time([mixed], time_units="days")


def test_missing_and_text_times():
    with pytest.raises(DataError, match="NaT/NaN"):
        to_model_time([np.array(["2001-01-01", "NaT"], dtype="datetime64[s]")], time_units="days")
    with pytest.raises(DataError, match="NaT/NaN"):
        to_model_time([np.array([0.0, np.nan])])
    with pytest.raises(DataError, match="strings.*pd.to_datetime"):
        to_model_time([np.array(["2001-01-01", "2001-01-02"])], time_units="days")


def test_bad_reference_time():
    with pytest.raises(DataError, match="reference_time"):
        to_model_time([pd.date_range("2001", periods=2).values], time_units="days", reference_time="yesterday-ish")
    with pytest.raises(DataError, match="reference_time.*calendar"):
        to_model_time([np.array([cf("noleap", 2001, 1, 1)])], time_units="days",
                      reference_time=cf("360_day", 2001, 1, 1))
