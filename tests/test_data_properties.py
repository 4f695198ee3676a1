"""Property tests: random masks never change observed values; random time grids round-trip."""

from __future__ import annotations

import cftime
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pysciml.data import as_observations, model_time_to_coord, robust_scales, to_model_time

CALENDARS = ["standard", "proleptic_gregorian", "noleap", "all_leap", "360_day", "julian"]
UNITS = ["seconds", "minutes", "hours", "days", "years"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def masked_series(draw):
    n_t = draw(st.integers(2, 30))
    n_s = draw(st.integers(1, 4))
    steps = draw(arrays(np.float64, n_t - 1, elements=st.floats(1e-3, 10.0)))
    t = draw(st.floats(-100, 100)) + np.concatenate([[0.0], np.cumsum(steps)])
    if np.any(np.diff(t) <= 0):  # steps lost to rounding against a large start
        t = np.arange(n_t, dtype=np.float64)
    y = draw(arrays(np.float64, (n_t, n_s), elements=st.floats(-1e6, 1e6)))
    gaps = draw(arrays(bool, (n_t, n_s)))
    gaps[:2, 0] = False  # at least two observed times
    return t, y, gaps


@SETTINGS
@given(masked_series(), st.floats(-1e3, 1e3))
def test_random_gaps_never_change_observed_values_or_their_loss(data, offset):
    t, y, gaps = data
    names = [f"s{j}" for j in range(y.shape[1])]
    y_gappy = np.where(gaps, np.nan, y)
    obs = as_observations((t, y_gappy), states=names, unobserved="ignore")
    tr = obs[0]
    keep = ~gaps.all(axis=1)  # times with nothing observed are dropped
    np.testing.assert_array_equal(tr.t, t[keep])
    np.testing.assert_array_equal(tr.mask, ~gaps[keep])
    np.testing.assert_array_equal(tr.y[tr.mask], y[keep][~gaps[keep]])
    # the masked loss of padded arrays counts exactly the observed points
    pred = y + offset
    p = obs.to_padded(length=tr.n_times + 3)
    padded_pred = np.zeros_like(p.y)
    padded_pred[0, : tr.n_times] = pred[keep]
    loss = np.sum(np.where(p.mask, (padded_pred - p.y) ** 2, 0.0))
    assert loss == pytest.approx(np.sum(((pred - y) ** 2)[~gaps]), rel=1e-12, abs=1e-12)
    assert not p.mask[0, tr.n_times:].any()
    # scales ignore the gaps
    expected = robust_scales([np.where(gaps, np.nan, y)])
    np.testing.assert_array_equal(obs.scales, expected)
    for j in range(y.shape[1]):
        v = y[:, j][~gaps[:, j]]
        if v.size and np.std(v) > 1e-12 * np.sqrt(np.mean(v * v)):
            assert obs.scales[j] == pytest.approx(np.std(v), rel=1e-12)


def _cftime_fields(max_year_span):
    return st.tuples(st.integers(0, max_year_span), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
                     st.integers(0, 59), st.integers(0, 59))


@SETTINGS
@given(st.sampled_from(CALENDARS), st.sampled_from(UNITS), st.integers(1000, 2500),
       st.lists(_cftime_fields(1500), min_size=2, max_size=25, unique=True),
       st.lists(st.integers(0, 999), min_size=25, max_size=25))
def test_random_cftime_grids_round_trip_to_the_millisecond(cal, units, y0, fields, ms):
    dates = sorted({cftime.datetime(y0 + f[0], *f[1:], ms[i] * 1000, calendar=cal) for i, f in enumerate(fields)})
    (t,), meta = to_model_time([np.array(dates, dtype=object)], time_units=units)
    assert np.all(np.diff(t) > 0)
    assert list(model_time_to_coord(t, meta)) == dates


@SETTINGS
@given(st.sampled_from(CALENDARS), st.sampled_from(UNITS), st.integers(1800, 2200),
       st.lists(_cftime_fields(40), min_size=2, max_size=25, unique=True),
       st.lists(st.integers(0, 999_999), min_size=25, max_size=25))
def test_random_cftime_grids_round_trip_to_the_microsecond_over_decades(cal, units, y0, fields, us):
    dates = sorted({cftime.datetime(y0 + f[0], *f[1:], us[i], calendar=cal) for i, f in enumerate(fields)})
    (t,), meta = to_model_time([np.array(dates, dtype=object)], time_units=units)
    assert list(model_time_to_coord(t, meta)) == dates


# float64 model time holds milliseconds exactly over millennia, microseconds over decades
_SPAN = {"s": 2**40, "ms": 2**40, "us": 40 * 365 * 86400 * 10**6}


@SETTINGS
@given(st.sampled_from(UNITS), st.sampled_from(["s", "ms", "us"]), st.data())
def test_random_datetime64_grids_round_trip(units, res, data):
    ticks = data.draw(st.lists(st.integers(-_SPAN[res] // 2, _SPAN[res] // 2), min_size=2, max_size=30, unique=True))
    d = np.datetime64("2000-01-01", res) + np.sort(np.array(ticks, dtype=np.int64)).astype(f"m8[{res}]")
    (t,), meta = to_model_time([d], time_units=units)
    assert np.all(np.diff(t) > 0)
    np.testing.assert_array_equal(model_time_to_coord(t, meta), d)


@SETTINGS
@given(st.sampled_from(CALENDARS), st.integers(-5000, 5000), st.lists(st.integers(0, 10**6), min_size=2,
                                                                      max_size=20, unique=True))
def test_shifting_all_dates_leaves_model_time_unchanged(cal, shift_days, offsets_min):
    offsets = np.sort(np.array(offsets_min)) * 60 * 10**6  # microseconds
    a = cftime.num2date(offsets, "microseconds since 2000-03-01", calendar=cal)
    b = cftime.num2date(offsets, f"microseconds since {cftime.num2date(shift_days, 'days since 2000-03-01', calendar=cal).strftime('%Y-%m-%d %H:%M:%S')}",
                        calendar=cal)
    (ta,), _ = to_model_time([np.asarray(a)], time_units="minutes")
    (tb,), _ = to_model_time([np.asarray(b)], time_units="minutes")
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(ta, (offsets - offsets[0]) / 60e6)


@SETTINGS
@given(masked_series(), st.floats(0, 50))
def test_truncate_keeps_exactly_the_points_within_the_horizon(data, horizon):
    t, y, gaps = data
    obs = as_observations((t, np.where(gaps, np.nan, y)), states=[f"s{j}" for j in range(y.shape[1])],
                          unobserved="ignore")
    tr = obs[0]
    cut = obs.truncate(horizon)[0]
    np.testing.assert_array_equal(cut.t, tr.t[tr.t <= tr.t[0] + horizon])
    np.testing.assert_array_equal(cut.y, tr.y[tr.t <= tr.t[0] + horizon])
