"""to_dataset: model-time results come back on the user's time axis with CF attrs and history."""

from __future__ import annotations

import re

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pysciml
from pysciml.data import as_observations, to_dataset
from pysciml.errors import InputError

HISTORY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 pysciml " + re.escape(pysciml.__version__) + ": ")


def _cf_dataset(cal):
    times = xr.date_range("2001-01-01", periods=5, freq="MS", calendar=cal, use_cftime=True)
    return xr.Dataset(
        {"sst": ("time", np.arange(5.0), {"units": "K", "long_name": "sea surface temperature",
                                           "_FillValue": -999.0, "valid_max": 4.0})},
        coords={"time": ("time", times, {"standard_name": "time", "bounds": "time_bnds"})},
        attrs={"title": "test", "history": "created by hand"},
    )


@pytest.mark.parametrize("cal", ["noleap", "360_day", "julian", "all_leap", "standard"])
def test_cftime_predictions_round_trip_through_netcdf(cal, tmp_path):
    ds = _cf_dataset(cal)
    obs = as_observations(ds, states=["sst"], time_units="days")
    out = to_dataset(obs[0].t, obs[0].y * 2, obs, what="predict")
    np.testing.assert_array_equal(out.time.values, ds.time.values)
    assert out.sst.attrs == {"units": "K", "long_name": "sea surface temperature"}  # fill/range dropped
    assert out.attrs["title"] == "test"
    first, last = out.attrs["history"].split("\n")
    assert first == "created by hand" and HISTORY.match(last) and last.endswith("predict")
    np.testing.assert_array_equal(out.model_time.values, obs[0].t)
    path = tmp_path / "out.nc"
    out.to_netcdf(path)
    with xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)) as back:
        np.testing.assert_array_equal(back.time.values, ds.time.values)
        assert back.time.encoding["calendar"] == ("standard" if cal == "standard" else cal)
        assert back.time.encoding["units"].startswith("days since 2001-01-01")
        np.testing.assert_array_equal(back.sst.values, 2 * np.arange(5.0))


def test_new_times_extend_the_calendar():
    obs = as_observations(_cf_dataset("360_day"), states=["sst"], time_units="days")
    out = to_dataset([0.0, 45.0, 360.0], np.zeros(3), obs)
    assert list(out.time.values) == [cftime.datetime(2001, 1, 1, calendar="360_day"),
                                     cftime.datetime(2001, 2, 16, calendar="360_day"),
                                     cftime.datetime(2002, 1, 1, calendar="360_day")]


def test_datetime64_output_keeps_resolution_and_name():
    idx = pd.date_range("2020-01-01", periods=4, freq="6h", name="date")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}, index=idx)
    obs = as_observations(df, states=["x"], time_units="hours")
    out = to_dataset(obs[0].t, obs[0].y, obs.time, state_names=["x"], units=["m"], name="run1")
    assert out.x.dims == ("date",) and out.x.attrs["units"] == "m"
    np.testing.assert_array_equal(out.date.values, idx.values)
    assert out.attrs["trajectory"] == "run1" and HISTORY.match(out.attrs["history"])
    assert out.date.encoding["units"].startswith("hours since 2020-01-01")


def test_numeric_output_keeps_time_units_label():
    obs = as_observations((np.array([0.0, 1.0, 2.5]), np.ones((3, 2))), states=["a", "b"], time_units="s")
    out = to_dataset(np.linspace(0, 2.5, 6), np.zeros((6, 2)), obs)
    assert out.time.attrs["units"] == "s" and "model_time" not in out.coords
    np.testing.assert_array_equal(out.time.values, np.linspace(0, 2.5, 6))
    assert list(out.data_vars) == ["a", "b"]


def test_shape_errors_name_the_argument():
    obs = as_observations((np.array([0.0, 1.0]), np.ones((2, 2))), states=["a", "b"])
    with pytest.raises(InputError, match=r"^u has shape \(2, 3\)") as info:
        to_dataset([0.0, 1.0], np.ones((2, 3)), obs)
    assert info.value.argument == "u"
    with pytest.raises(InputError, match="^state_names"):
        to_dataset([0.0, 1.0], np.ones((2, 2)), obs.time)
