"""Regression tests for what the data fuzzing (tests/test_fuzz_data.py) found that gave a wrong answer
or an unwanted warning, rather than a foreign exception; the refusals are rows of the bad-input table
(tests/helpers/bad_input_data.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import DataError

xr = pytest.importorskip("xarray")


def test_picosecond_datetimes_are_counted_exactly_not_truncated_to_milliseconds():
    # was: datetime64[ps] converted to milliseconds, so 1.000000005 s became 1.0 s
    t = np.array([0, 1_000_000_005_000], dtype="M8[ps]")
    obs = ps.as_observations((t, [1.0, 2.0]), states=["a"], time_units="seconds")
    np.testing.assert_array_equal(obs.trajectories[0].t, [0.0, 1.000000005])


def test_far_datetimes_in_seconds_are_exact_or_refused_never_wrapped():
    far = np.array([0, 2**40], dtype="M8[s]")  # 35 000 years: fits int64 milliseconds
    obs = ps.as_observations((far, [1.0, 2.0]), states=["a"], time_units="days")
    np.testing.assert_array_equal(obs.trajectories[0].t, [0.0, 2**40 / 86400])
    with pytest.raises(DataError) as info:  # was: wrapped around silently in the conversion to milliseconds
        ps.as_observations((np.array([0, 2**62], dtype="M8[s]"), [1.0, 2.0]), states=["a"], time_units="days")
    assert info.value.argument == "data"


def test_a_dict_time_entry_is_never_taken_from_a_state_named_t():
    # was: {"time": ..., "t": ...} read the state t's values as the times
    obs = ps.as_observations({"time": [0.0, 1.0, 2.0], "t": [5.0, 6.0, 7.0]}, states=["t"])
    np.testing.assert_array_equal(obs.trajectories[0].t, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(obs.trajectories[0].y[:, 0], [5.0, 6.0, 7.0])


def test_a_dict_entry_named_after_a_state_y_is_that_state():
    # was: "y" was always the (n_t, n_states) matrix, so states ["y", "z"] were refused
    obs = ps.as_observations({"t": [0.0, 1.0], "y": [1.0, 2.0], "z": [3.0, 4.0]}, states=["y", "z"])
    np.testing.assert_array_equal(obs.trajectories[0].y, [[1.0, 3.0], [2.0, 4.0]])


def test_a_state_label_given_twice_is_refused_not_overwritten():
    # was: the second "a" column silently replaced the first
    da = xr.DataArray([[1.0, 9.0], [2.0, 8.0]], dims=("time", "state"), coords={"time": [0.0, 1.0], "state": ["a", "a"]})
    with pytest.raises(DataError, match="more than once"):
        ps.as_observations(da, states=["a"])
    once = ps.as_observations(da.isel(state=[0]), states=["a"])  # control: one column reads
    np.testing.assert_array_equal(once.trajectories[0].y[:, 0], [1.0, 2.0])


@pytest.mark.parametrize("values", [np.array(["1.5", "2.5"], dtype=object), np.array([True, False], dtype=object)])
def test_text_and_booleans_held_as_objects_are_refused_like_their_own_dtypes(values):
    # was: object arrays of "1.5" or True read as 1.5 / 1.0 while str and bool arrays were refused
    with pytest.raises(DataError, match="not numbers"):
        ps.as_observations(([0.0, 1.0], values), states=["a"])
    with pytest.raises(DataError, match="not numbers"):
        ps.as_observations(([0.0, 1.0], values.astype(str if isinstance(values[0], str) else bool)), states=["a"])
    obs = ps.as_observations(([0.0, 1.0, 2.0], np.array([1.5, None, 2], dtype=object)), states=["a"])
    np.testing.assert_array_equal(obs.trajectories[0].y[:, 0], [1.5, 2.0])  # numbers and None as objects still read


def test_dask_infinite_values_raise_when_computed_like_numpy_ones_at_once():
    from pysciml.cells.stack import stack_cells

    v = np.ones((4, 3, 2))
    v[3, 1, 1] = np.inf  # in the last chunk along x
    da = xr.DataArray(v, dims=("x", "time", "y"), coords={"time": [0.0, 1.0, 2.0]}, name="u")
    with pytest.raises(DataError):
        stack_cells(da)
    lazy = stack_cells(da.chunk({"x": 2}))  # nothing computed yet
    assert lazy.is_lazy
    with pytest.raises(DataError) as info:  # was: the inf went on to the fit
        lazy.values.compute()
    assert info.value.argument == "data"
    with pytest.raises(DataError):
        lazy.source["u"].compute()  # what a chunked fit reads
    fine = stack_cells(da.where(np.isfinite(da)).chunk({"x": 2}))  # control: NaN is missing, not refused
    np.testing.assert_array_equal(np.isnan(fine.values.compute()).sum(), 1)


def test_cf_dates_beyond_the_nanosecond_range_are_read_without_xarrays_warning():
    # was: xarray's SerializationWarning ("continuing using cftime") reached the user
    coord = xr.Variable("time", np.array([0.0, 263.0]), {"units": "common_years since 2000-01-01", "calendar": "noleap"})
    ds = xr.Dataset({"a": ("time", [1.0, 2.0])}, coords={"time": coord})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs = ps.as_observations(ds, states=["a"], time_units="days")
    np.testing.assert_array_equal(obs.trajectories[0].t, [0.0, 263 * 365.0])
    assert obs.time.kind == "cftime" and obs.time.calendar == "noleap"
