"""Solving and forecasting over a grid with parameters from a fit result."""

import numpy as np
import pytest
import xarray as xr
from helpers.gridded_data import exact, gridded, shared_model

import pysciml as ps
from pysciml.cells import forecast_cells, solve_cells


@pytest.fixture(scope="module")
def setup(jax_engine):
    model = shared_model()
    da, ocean, truth = gridded()
    res = da.sciml.fit(model, mask=ocean, verbose=0)
    return model, da, ocean, truth, res


def test_solve_with_fit_result_reproduces_the_truth(setup):
    model, da, ocean, truth, res = setup
    sim = da.sciml.solve(model, params=res)
    assert isinstance(sim, xr.DataArray) and sim.dims == ("time", "lat", "lon") and sim.name == "sst"
    np.testing.assert_array_equal(sim["time"].values, da["time"].values)  # cftime noleap kept
    ok = ~truth["land"]
    want = exact(truth["lam"], truth["forcing"], truth["T0"], truth["t"])
    np.testing.assert_allclose(sim.values[:, ok], want[:, ok], atol=2e-5)
    assert np.all(np.isnan(sim.values[:, truth["land"]]))
    assert sim.attrs["units"] == "K" and "solve of model 'relax'" in sim.attrs["history"]
    assert sim["status"].values[1, 1] == int(ps.Status.SUCCESS)
    assert sim["status"].values[0, 0] == int(ps.Status.SKIPPED)


def test_solve_at_calendar_and_model_times(setup):
    model, da, ocean, truth, res = setup
    times = da["time"].values[[3, 10, 20]]
    a = solve_cells(da, model, params=res, t=times)
    b = solve_cells(da, model, params=res, t=truth["t"][[3, 10, 20]])
    np.testing.assert_array_equal(a["time"].values, times)
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12, equal_nan=True)
    with pytest.raises(ps.InputError, match="^t:"):
        solve_cells(da, model, params=res, t=[-5.0, 3.0])


def test_forecast_continues_the_fitted_trajectory(setup):
    model, da, ocean, truth, res = setup
    fc = forecast_cells(da, model, 50.0, params=res, n=11)
    assert fc.sizes["time"] == 11
    t_model = truth["t"][-1] + np.linspace(0, 50, 11)
    want = exact(truth["lam"], truth["forcing"], truth["T0"], t_model)
    ok = ~truth["land"]
    np.testing.assert_allclose(fc.values[:, ok], want[:, ok], atol=5e-5)
    assert fc["time"].values[0] == da["time"].values[-1]
    assert "forecast" in fc.attrs["history"]


def test_solve_dataset_with_given_parameters_and_first_observations(setup):
    model, da, ocean, truth, _ = setup
    ds = da.to_dataset()
    lam = xr.DataArray(truth["lam"], dims=("lat", "lon"), coords={"lat": da.lat, "lon": da.lon})
    out = ds.sciml.solve(model, params={"lam": lam, "forcing": 0.0}, mask=ocean)
    assert isinstance(out, xr.Dataset) and "sst" in out and "status" in out
    ok = ~truth["land"]
    want = exact(truth["lam"], 0.0 * truth["lam"], truth["T0"], truth["t"])
    np.testing.assert_allclose(out["sst"].values[:, ok], want[:, ok], atol=2e-5)
    with pytest.raises(ps.InputError, match="params"):
        bad = lam.assign_coords(lat=lam.lat + 1.0)
        ds.sciml.solve(model, params={"lam": bad})


def test_start_values_taken_from_a_time_slice_keep_the_output_time_axis(setup):
    """``u0=da.isel(time=0)`` carries a scalar ``time`` coordinate; the solution still has the full time axis
    (it once leaked the scalar in, leaving no time index), and the start values are used."""
    model, da, ocean, truth, _ = setup
    lam = xr.DataArray(truth["lam"], dims=("lat", "lon"), coords={"lat": da.lat, "lon": da.lon})
    u0 = da.isel(time=0)
    assert u0["time"].ndim == 0
    out = da.sciml.solve(model, params={"lam": lam, "forcing": 0.0}, u0={"sst": u0 + 1.0}, mask=ocean)
    assert out.dims[0] == "time" and "time" in out.indexes
    np.testing.assert_array_equal(out["time"].values, da["time"].values)
    ok = ~truth["land"]
    want = exact(truth["lam"], 0.0 * truth["lam"], da.values[0] + 1.0, truth["t"])
    np.testing.assert_allclose(out.values[:, ok], want[:, ok], atol=2e-5)


def test_batches_in_threads_give_the_same_values_and_dask_data_refuse_workers(setup):
    """workers= runs solve batches at once in threads (the same compiled batch: bitwise equal values);
    dask-backed data run chunk by chunk, so workers= is refused there, naming the argument."""
    model, da, ocean, truth, res = setup
    one = da.sciml.solve(model, params=res, cells_per_batch=8, workers=1)
    two = da.sciml.solve(model, params=res, cells_per_batch=8, workers=2)
    np.testing.assert_array_equal(one.values, two.values)
    np.testing.assert_array_equal(one["status"].values, two["status"].values)
    with pytest.raises(ps.InputError, match="workers") as e:
        da.chunk({"lat": 2}).sciml.solve(model, params=res, workers=2)
    assert e.value.argument == "workers"
    with pytest.raises(ps.InputError, match="workers"):
        da.sciml.forecast(model, 30.0, params=res, workers=0)
