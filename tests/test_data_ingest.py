"""as_observations: every accepted input form gives the same trajectories; every misuse a clear error."""

from __future__ import annotations

import warnings

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pysciml.data import DataWarning, Observations, as_observations
from pysciml.errors import DataError

STATES = ["prey", "predator"]
T = np.array([0.0, 0.3, 1.1, 1.7, 2.0, 3.4])
Y = np.c_[np.exp(-T), 2 + np.sin(T)]
Y[2, 1] = np.nan  # one missing predator value


def expect_same(obs, t=T, y=Y):
    assert isinstance(obs, Observations) and obs.state_names == tuple(STATES)
    tr = obs[0]
    np.testing.assert_array_equal(tr.t, t)
    np.testing.assert_array_equal(tr.y, y)
    np.testing.assert_array_equal(tr.mask, ~np.isnan(y))


# -- forms ----------------------------------------------------------------------------------------
def test_tuple_list_and_dicts():
    expect_same(as_observations((T, Y), states=STATES))
    expect_same(as_observations([T, Y], states=STATES))
    expect_same(as_observations({"t": T, "y": Y}, states=STATES))
    expect_same(as_observations({"t": list(T), "prey": Y[:, 0], "predator": list(Y[:, 1])}, states=STATES))


def test_one_state_1d_y_and_series():
    obs = as_observations((T, Y[:, 0]), states=["prey"])
    np.testing.assert_array_equal(obs[0].y[:, 0], Y[:, 0])
    s = pd.Series(Y[:, 0], index=pd.Index(T, name="t"))
    np.testing.assert_array_equal(as_observations(s, states=["prey"])[0].y[:, 0], Y[:, 0])
    named = pd.Series(Y[:, 0], index=pd.Index(T, name="t"), name="prey")
    obs = as_observations(named, states=STATES, unobserved="ignore")
    assert np.isnan(obs[0].y[:, 1]).all()


def test_dataset_keeps_units_and_attrs():
    ds = xr.Dataset(
        {"prey": ("time", Y[:, 0], {"units": "1/km2", "long_name": "hares"}),
         "predator": ("time", Y[:, 1], {"units": "1/km2", "_FillValue": -9.0})},
        coords={"time": ("time", T, {"units": "years"})}, attrs={"title": "Hudson Bay"},
    )
    obs = as_observations(ds, states=STATES)
    expect_same(obs)
    assert obs.units == ("1/km2", "1/km2")
    assert obs.attrs["title"] == "Hudson Bay" and obs.state_attrs[0]["long_name"] == "hares"
    assert obs.time.name == "time" and obs.time.attrs["units"] == "years"


def test_dataarray_with_state_dimension_any_order():
    da = xr.DataArray(Y[:, ::-1].T, dims=("variable", "t"), coords={"t": T, "variable": ["predator", "prey"]})
    expect_same(as_observations(da, states=STATES))
    da2 = xr.DataArray(Y, dims=("time", "s"), coords={"time": T, "s": STATES})
    expect_same(as_observations(da2, states=STATES, state_dim="s"))


def test_named_dataarray_is_one_state():
    da = xr.DataArray(Y[:, 0], dims="time", coords={"time": T}, name="prey")
    obs = as_observations(da, states=STATES, unobserved="ignore")
    np.testing.assert_array_equal(obs[0].y[:, 0], Y[:, 0])


def test_dataframe_index_column_and_datetime():
    expect_same(as_observations(pd.DataFrame(Y, columns=STATES, index=pd.Index(T, name="t")), states=STATES))
    df = pd.DataFrame({"time": T, "prey": Y[:, 0], "predator": Y[:, 1], "notes": "x"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs = as_observations(df, states=STATES)
    expect_same(obs)
    assert any("notes" in n for n in obs.notes)
    idx = pd.Timestamp("2020-01-01") + pd.to_timedelta(T, unit="D")
    obs = as_observations(pd.DataFrame(Y, columns=STATES, index=idx), states=STATES, time_units="days")
    expect_same(obs)
    assert obs.time.kind == "datetime64" and obs.time.reference == np.datetime64("2020-01-01")
    obs = as_observations(pd.DataFrame({"when": idx, "prey": Y[:, 0], "predator": Y[:, 1]}),
                          states=STATES, time_units="days", time_dim="when")
    expect_same(obs)


def test_cftime_dataset_to_days():
    times = [cftime.datetime(2001, m, 1, calendar="360_day") for m in range(1, 7)]
    ds = xr.Dataset({"prey": ("time", Y[:, 0]), "predator": ("time", Y[:, 1])}, coords={"time": times})
    obs = as_observations(ds, states=STATES, time_units="days")
    np.testing.assert_array_equal(obs[0].t, 30.0 * np.arange(6))
    assert obs.time.calendar == "360_day"


def test_undecoded_cf_time_is_decoded():
    ds = xr.Dataset({"prey": ("time", Y[:, 0])},
                    coords={"time": ("time", np.arange(6) * 30.0, {"units": "days since 2001-01-01",
                                                                   "calendar": "noleap"})})
    obs = as_observations(ds, states=["prey"], time_units="days")
    assert obs.time.kind == "cftime" and obs.time.calendar == "noleap"
    np.testing.assert_array_equal(obs[0].t, np.arange(6) * 30.0)


def test_time_detected_by_cf_attrs_and_overridden_by_time_dim():
    ds = xr.Dataset({"prey": ("step", Y[:, 0])}, coords={"step": ("step", T, {"axis": "T"})})
    np.testing.assert_array_equal(as_observations(ds, states=["prey"])[0].t, T)
    ds2 = xr.Dataset({"prey": ("hour", Y[:, 0])}, coords={"hour": T})
    np.testing.assert_array_equal(as_observations(ds2, states=["prey"], time_dim="hour")[0].t, T)


def test_several_irregular_trajectories_in_a_list():
    t2 = np.array([0.0, 0.05, 0.9, 4.0])
    y2 = np.c_[t2, -t2]
    obs = as_observations([(T, Y), {"t": t2, "y": y2}], states=STATES)
    assert len(obs) == 2 and [tr.name for tr in obs] == ["0", "1"]
    np.testing.assert_array_equal(obs[1].t, t2)
    np.testing.assert_array_equal(obs[1].y, y2)
    np.testing.assert_array_equal(obs.t_span, [[0.0, 3.4], [0.0, 4.0]])
    assert obs[1].source == "data[1]"


def test_trajectory_dimension_with_ragged_nan_padding():
    vals = np.full((2, 6), np.nan)
    vals[0] = Y[:, 0]
    vals[1, 1:4] = [1.0, 2.0, 3.0]  # second trajectory only observed at 3 times
    ds = xr.Dataset({"prey": (("run", "time"), vals)}, coords={"time": T, "run": ["a", "b"]})
    obs = as_observations(ds, states=["prey"], trajectory_dim="run")
    assert [tr.name for tr in obs] == ["a", "b"]
    np.testing.assert_array_equal(obs[1].t, T[1:4])
    np.testing.assert_array_equal(obs[1].y[:, 0], [1.0, 2.0, 3.0])
    assert any("dropped 3 time(s)" in n for n in obs.notes)


def test_dataframe_groups_by_trajectory_column():
    df = pd.DataFrame({"run": [1, 1, 1, 2, 2], "t": [0, 1, 2, 0.5, 3.0], "prey": [1, 2, 3, 4, 5.0]})
    obs = as_observations(df, states=["prey"], trajectory_dim="run")
    assert [tr.name for tr in obs] == ["1", "2"]
    np.testing.assert_array_equal(obs[1].t, [0.5, 3.0])
    multi = df.set_index(["run", "t"])
    obs2 = as_observations(multi, states=["prey"], trajectory_dim="run")
    np.testing.assert_array_equal(obs2[0].y[:, 0], [1, 2, 3])


def test_states_declared_as_mapping_or_model_units():
    obs = as_observations((T, Y), states={"prey": {"units": "mol"}, "predator": None})
    assert obs.units == ("mol", None)


def test_model_as_states_gives_names_units_and_time_units():
    import pysciml as ps

    def lv(u, p, t, m):
        return [u[0], -u[1]]

    model = ps.ODEModel(lv, states=STATES, time_units="days", state_units={"prey": "1/km2"})
    idx = pd.Timestamp("2020-01-01") + pd.to_timedelta(T, unit="D")
    obs = as_observations(pd.DataFrame(Y, columns=STATES, index=idx), states=model)
    expect_same(obs)
    assert obs.time.units == "days" and obs.units == ("1/km2", None)


def test_tz_aware_times_are_kept_in_utc():
    idx = pd.date_range("2020-06-01 02:00", periods=6, freq="h", tz="Europe/Paris")
    obs = as_observations(pd.DataFrame(Y, columns=STATES, index=idx), states=STATES, time_units="hours")
    assert obs.time.timezone == "Europe/Paris"
    np.testing.assert_array_equal(obs[0].coord, idx.tz_convert("UTC").tz_localize(None).values)


def test_numeric_time_units_label_from_coordinate_and_contradiction():
    ds = _ds(t=xr.DataArray(T, dims="time", attrs={"units": "days"}))
    assert as_observations(ds, states=STATES).time.units == "days"
    assert as_observations(ds, states=STATES, time_units="d").time.units == "d"
    with pytest.raises(DataError, match="time_units: the time coordinate says its units are 'days'"):
        as_observations(ds, states=STATES, time_units="hours")


def test_observations_pass_through():
    obs = as_observations((T, Y), states=STATES)
    assert as_observations(obs, states=STATES) is obs


def test_never_observed_state_warns_and_can_error():
    ds = xr.Dataset({"prey": ("time", Y[:, 0])}, coords={"time": T})
    with pytest.warns(DataWarning, match="predator.*never observed"):
        obs = as_observations(ds, states=STATES)
    assert obs.observed_states.tolist() == [True, False] and obs.scales[1] == 1.0
    with pytest.raises(DataError, match="^states: .*never observed"):
        as_observations(ds, states=STATES, unobserved="error")


# -- errors: each names the argument ----------------------------------------------------------------
def _ds(t=T, y=Y, **coords):
    return xr.Dataset({"prey": ("time", y[:, 0]), "predator": ("time", y[:, 1])}, coords={"time": t, **coords})


def _dt_ds():
    return _ds(t=pd.Timestamp("2001-01-01") + pd.to_timedelta(T, unit="D"))


BAD = [
    ("no time axis", lambda: xr.Dataset({"prey": ("x", Y[:, 0])}, coords={"x": T}), {}, "data: no time axis.*'x'"),
    ("time_dim not a dim", lambda: _ds(), {"time_dim": "hours"}, "time_dim: 'hours' is not a dimension"),
    ("time dim without coordinate", lambda: xr.Dataset({"prey": ("time", Y[:, 0])}), {},
     "data: time dimension 'time' has no coordinate"),
    ("unsorted", lambda: _ds(t=T[[0, 2, 1, 3, 4, 5]]), {}, r"data: .*not sorted.*sortby\('time'\)"),
    ("duplicated", lambda: _ds(t=np.r_[T[:3], T[2], T[4:]]), {}, r"data: .*1 duplicated time.*1\.1"),
    ("duplicated dates", lambda: pd.DataFrame({"prey": [1.0, 2, 3]}, index=pd.DatetimeIndex(
        ["2001-01-01", "2001-01-02", "2001-01-02"])), {"time_units": "days"}, "data: .*duplicated.*2001-01-02"),
    ("all-NaN trajectory", lambda: [(T, Y), (T, np.full_like(Y, np.nan))], {}, r"data\[1\]: .*all NaN"),
    ("one observed time", lambda: (T[:2], np.array([[1.0, 2.0], [np.nan, np.nan]])), {}, "at least 2"),
    ("text values", lambda: pd.DataFrame({"t": [0, 1.0], "prey": ["a", "b"]}), {}, "data: values of 'prey'.*not numbers"),
    ("bool values", lambda: (T, np.ones((6, 2), bool)), {}, "not numbers \\(booleans\\)"),
    ("inf values", lambda: (T, np.where(Y > 2.5, np.inf, Y)), {}, "data: values of 'predator'.*infinite"),
    ("transposed y", lambda: (T, Y.T), {}, r"data: y has shape \(2, 6\).*y\.T"),
    ("1-D y, two states", lambda: (T, Y[:, 0]), {}, "data: y is 1-D"),
    ("t and values lengths differ", lambda: {"t": T, "prey": Y[:4, 0]}, {}, "data: values of 'prey' have shape"),
    ("states not found", lambda: xr.Dataset({"hare": ("time", Y[:, 0])}, coords={"time": T}), {},
     r"states: none of the states.*\['hare'\]"),
    ("columns not found", lambda: pd.DataFrame({"t": T, "hare": Y[:, 0]}), {}, "states: none of the states"),
    ("mixed calendars", lambda: [
        _ds(t=[cftime.datetime(2001, 1, d, calendar="noleap") for d in range(1, 7)]),
        _ds(t=[cftime.datetime(2001, 1, d, calendar="360_day") for d in range(1, 7)])],
     {"time_units": "days"}, "data: .*different kinds of time or calendars"),
    ("no time_units for dates", _dt_ds, {}, "time_units: .*time_units='days'"),
    ("unknown time_units", _dt_ds, {"time_units": "fortnight"}, "time_units: unknown time unit"),
    ("bad reference_time", _dt_ds, {"time_units": "days", "reference_time": "soon"}, "reference_time: could not"),
    ("unnamed DataArray, 2 states", lambda: xr.DataArray(Y[:, 0], dims="time", coords={"time": T}), {},
     "data: cannot tell which state.*rename"),
    ("unnamed Series, 2 states", lambda: pd.Series(Y[:, 0], index=pd.Index(T, name="t")), {},
     "data: the Series has no name"),
    ("range index, no time column", lambda: pd.DataFrame(Y, columns=STATES), {}, "data: no time axis found"),
    ("time column not found", lambda: pd.DataFrame(Y, columns=STATES), {"time_dim": "when"},
     "time_dim: 'when' is neither a column"),
    ("extra dimension", lambda: xr.Dataset({"prey": (("time", "site"), np.ones((6, 3)))}, coords={"time": T}),
     {}, "trajectory_dim: variable 'prey' has dimensions \\{'site': 3\\}"),
    ("trajectory_dim not found", lambda: _ds(), {"trajectory_dim": "run"}, "trajectory_dim: 'run' is not a dim"),
    ("state_dim not found", lambda: xr.DataArray(Y, dims=("time", "s"), coords={"time": T}), {"state_dim": "v"},
     "state_dim: 'v' is not a dimension"),
    ("dict without t", lambda: {"prey": Y[:, 0]}, {}, "data: a dict of observations needs a 't'"),
    ("unsupported type", lambda: 42, {}, "data: cannot read observations from a int"),
    ("empty list", lambda: [], {}, "data: the list of trajectories is empty"),
    ("NaT time", lambda: pd.DataFrame({"prey": [1.0, 2.0]}, index=pd.DatetimeIndex(["2001-01-01", None])),
     {"time_units": "days"}, "data: times have 1 missing"),
    ("text times", lambda: pd.DataFrame({"time": ["2001-01-01", "2001-01-02"], "prey": [1.0, 2.0]}),
     {"time_units": "days"}, "data: times are strings"),
    ("units differ", lambda: [xr.Dataset({"prey": ("time", Y[:, 0], {"units": "K"})}, coords={"time": T}),
                              xr.Dataset({"prey": ("time", Y[:, 0], {"units": "degC"})}, coords={"time": T})],
     {}, "data: state 'prey' has units 'K'"),
    ("bad state names", lambda: (T, Y), {"states": ["prey", "prey"]}, "states: state 'prey' is declared twice"),
    ("shaped states", lambda: (T, Y), {"states": {"u": 3}}, "states: the states \\['u'\\] have shapes"),
    ("argument name is the caller's", lambda: (T, Y.T), {"argument": "validation_data"}, "^validation_data: y"),
]


@pytest.mark.parametrize("case, make, kw, match", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_clear_error(case, make, kw, match):
    kw = {"states": STATES, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises((DataError, ValueError), match=match) as info:
            as_observations(make(), **kw)
    if isinstance(info.value, DataError):
        assert info.value.argument is not None
