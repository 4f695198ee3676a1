"""stack_cells / unstack_cells / cells_to_dataset: exact round trips, dask stays lazy, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from pysciml.cells.stack import cells_to_dataset, stack_cells, unstack_cells
from pysciml.data import DataWarning
from pysciml.errors import DataError

da = pytest.importorskip("dask.array")
import dask  # noqa: E402


def grid(calendar="noleap", n_t=8, seed=0):
    rng = np.random.default_rng(seed)
    times = xr.date_range("2000-01-01", periods=n_t, freq="MS", calendar=calendar, use_cftime=True)
    sst = rng.normal(size=(n_t, 3, 4))
    sst[:, 0, 0] = np.nan  # a land cell
    sst[2, 1, 1] = np.nan  # one missing value
    coords = {"time": times, "lat": ("lat", [-10.0, 0.0, 10.0], {"units": "degrees_north"}),
              "lon": [0.0, 90.0, 180.0, 270.0], "height": 2.0}
    return xr.Dataset(
        {"sst": (("time", "lat", "lon"), sst, {"units": "K"}),
         "ice": (("time", "lat", "lon"), rng.uniform(size=(n_t, 3, 4)), {"units": "1"})},
        coords=coords, attrs={"title": "grid", "history": "made"},
    )


def test_stack_layout_is_c_order_over_grid_dims():
    ds = grid()
    st = stack_cells(ds, states=["sst", "ice"], time_units="days")
    assert st.values.shape == (12, 8, 2) and st.grid_dims == ("lat", "lon") and st.n_cells == 12
    # cell k = (i, j) with k = 4 i + j
    np.testing.assert_array_equal(st.values[4 * 2 + 3, :, 0], ds.sst.values[:, 2, 3])
    np.testing.assert_array_equal(st.values[5, :, 1], ds.ice.values[:, 1, 1])
    np.testing.assert_array_equal(st.mask, ~np.isnan(st.values))
    np.testing.assert_array_equal(st.t, [0, 31, 59, 90, 120, 151, 181, 212])  # noleap month starts
    assert st.units == ("K", "1") and not st.is_lazy


def test_grid_round_trip_and_attrs():
    ds = grid("360_day")
    st = stack_cells(ds, states=["sst", "ice"], time_units="days")
    out = cells_to_dataset(st.values, st, what="solve")
    for v in ("sst", "ice"):
        assert out[v].dims == ("time", "lat", "lon")
        np.testing.assert_array_equal(out[v].values, ds[v].values)
        assert out[v].attrs["units"] == ds[v].attrs["units"]
    np.testing.assert_array_equal(out.time.values, ds.time.values)
    assert out.lat.attrs == {"units": "degrees_north"} and float(out.height) == 2.0
    assert out.attrs["history"].startswith("made\n") and out.attrs["history"].endswith("solve")


def test_transposed_input_and_per_cell_parameters():
    ds = grid().transpose("lon", "time", "lat")
    st = stack_cells(ds.sst, time_units="days")
    assert st.grid_dims == ("lon", "lat") and st.state_names == ("sst",)
    damping = unstack_cells(np.arange(12.0), st, name="damping", attrs={"units": "1/day"})
    assert damping.dims == ("lon", "lat") and damping.sel(lon=90.0, lat=10.0).item() == 1 * 3 + 2
    assert damping.attrs["units"] == "1/day"
    hist = unstack_cells(np.ones((12, 5)), st, dims=("step",), coords={"step": np.arange(5)})
    assert hist.dims == ("lon", "lat", "step")


def test_dask_input_stays_lazy_and_matches_numpy():
    ds = grid()
    lazy = ds.chunk({"lat": 1, "time": -1})
    calls = []

    def counting_scheduler(dsk, keys, **kwargs):
        calls.append(keys)
        return dask.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_scheduler):
        st = stack_cells(lazy, states=["sst", "ice"], time_units="days")
        out = cells_to_dataset(st.values * 2.0, st)
        per_cell = unstack_cells(st.values[:, 0, 0], st)
    assert calls == []  # nothing computed
    assert st.is_lazy and isinstance(st.mask, da.Array) and isinstance(out.sst.data, da.Array)
    assert isinstance(per_cell.data, da.Array)
    eager = stack_cells(ds, states=["sst", "ice"], time_units="days")
    np.testing.assert_array_equal(st.values.compute(), eager.values)
    np.testing.assert_array_equal(out.sst.values, 2 * ds.sst.values)


def test_time_split_across_chunks_is_rechunked_with_warning():
    lazy = grid().chunk({"time": 3})
    with pytest.warns(DataWarning, match="time axis is split into 3 dask chunks"):
        st = stack_cells(lazy, states=["sst"], time_units="days")
    assert st.source.chunks["time"] == (8,)


def test_cell_mask_from_dataarray_or_array():
    ds = grid()
    land = xr.DataArray(np.zeros((3, 4), bool), dims=("lat", "lon"), coords={"lat": ds.lat, "lon": ds.lon})
    land[0, 0] = True
    st = stack_cells(ds, states=["sst"], time_units="days", mask=~land)
    assert st.cell_mask.tolist() == [False] + [True] * 11
    by_lat = stack_cells(ds, states=["sst"], time_units="days", mask=ds.lat > 0)
    assert by_lat.cell_mask.tolist() == [False] * 8 + [True] * 4
    st2 = stack_cells(ds, states=["sst"], time_units="days", mask=~land.values)
    np.testing.assert_array_equal(st2.cell_mask, st.cell_mask)


def test_latent_state_warns():
    with pytest.warns(DataWarning, match="'salt'.*latent"):
        st = stack_cells(grid(), states=["sst", "salt"], time_units="days")
    assert np.isnan(st.values[:, :, 1]).all()


BAD = [
    ("not xarray", lambda ds: {"data": ds.sst.values}, "data: gridded data must be an xarray"),
    ("no time dim", lambda ds: {"data": ds.sst.isel(time=0)}, "data: no time axis found"),
    ("unsorted", lambda ds: {"data": ds.isel(time=[1, 0, 2])}, r"data: .*sortby\('time'\)"),
    ("duplicated", lambda ds: {"data": ds.isel(time=[0, 1, 1, 2])}, "data: .*duplicated"),
    ("no states", lambda ds: {"data": ds, "states": ["salt"]}, "states: none of the states"),
    ("text values", lambda ds: {"data": ds.assign(sst=ds.sst.astype(str))}, "data: values of 'sst' are not numbers"),
    ("inf values", lambda ds: {"data": ds.where(ds.lat < 5, np.inf)}, "data: values of 'sst' contain infinite"),
    ("mask extra dims", lambda ds: {"data": ds, "mask": ds.sst > 0}, r"mask: has dimensions \['time'\]"),
    ("mask coords differ", lambda ds: {"data": ds, "mask": xr.DataArray(
        np.ones((3, 4), bool), dims=("lat", "lon"), coords={"lat": [-10.0, 0.0, 11.0], "lon": ds.lon})},
     r"mask: its coordinates differ from the data's along \['lat'\]"),
    ("mask shape", lambda ds: {"data": ds, "mask": np.ones((4, 3), bool)}, r"mask: has shape \(4, 3\)"),
    ("mask dtype", lambda ds: {"data": ds, "mask": ds.lat * 1.5}, "mask: has dtype float64"),
    ("no time_units", lambda ds: {"data": ds, "time_units": None}, "time_units: "),
    ("mixed calendars", lambda ds: {"data": ds.assign_coords(time=[
        ds.time.values[0].replace(), *xr.date_range("2000-02-01", periods=7, freq="MS", calendar="360_day",
                                                    use_cftime=True)])}, "data: times mix calendars"),
]


@pytest.mark.parametrize("case, make, match", BAD, ids=[b[0] for b in BAD])
def test_bad_gridded_input(case, make, match):
    kw = {"states": ["sst"], "time_units": "days", **make(grid())}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match=match) as info:
            stack_cells(**kw)
    assert info.value.argument is not None
