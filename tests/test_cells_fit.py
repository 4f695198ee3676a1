"""Per-cell gridded fits: exact recovery, calendars, dimension names, masks, failing cells, shared parameters."""

import numpy as np
import pytest
import xarray as xr
from helpers.gridded_data import gridded, relax_cubic, relax_nn, shared_model

import pysciml as ps
from pysciml.cells import fit_cells


@pytest.fixture(scope="module")
def model():
    return shared_model()


@pytest.fixture(scope="module")
def fitted(model, jax_engine):
    da, ocean, truth = gridded()
    res = da.sciml.fit(model, per_cell=["lam", "forcing"], time_units="days", mask=ocean, verbose=0)
    return da, ocean, truth, res


def test_per_cell_fit_recovers_exact_parameters(fitted):
    da, ocean, truth, res = fitted
    ocean_np = ~truth["land"]
    status = res["status"].values
    assert np.all(status[ocean_np] == int(ps.Status.SUCCESS))
    assert np.all(status[truth["land"]] == int(ps.Status.SKIPPED))
    # noise-free data: the fit reaches the truth to the solver's tolerance
    np.testing.assert_allclose(res["lam"].values[ocean_np], truth["lam"][ocean_np], rtol=2e-4)
    np.testing.assert_allclose(res["forcing"].values[ocean_np], truth["forcing"][ocean_np], rtol=2e-3, atol=2e-6)
    np.testing.assert_allclose(res["u0_sst"].values[ocean_np], truth["T0"][ocean_np], atol=1e-5)
    assert np.all(np.isnan(res["lam"].values[truth["land"]]))
    assert np.nanmax(res["rmse_sst"].values) < 1e-5
    assert res["loss_history"].values[-1] < 1e-3 * res["loss_history"].values[0]
    assert res.attrs["cells_success"] == int(ocean_np.sum()) and res.attrs["cells_skipped"] == 3


def test_result_layout_and_attributes(fitted):
    da, _, _, res = fitted
    assert res["lam"].dims == ("lat", "lon") and res["lam"].attrs["units"] == "1/day"
    assert res["lam"].attrs["pysciml_role"] == "per_cell"
    np.testing.assert_array_equal(res["lat"].values, da["lat"].values)
    st = res["status"]
    assert st.dtype == np.int8
    assert list(st.attrs["flag_values"]) == [int(s) for s in ps.Status]
    assert st.attrs["flag_meanings"].split()[6] == "skipped"
    assert res.attrs["pysciml_time_units"] == "days" and res.attrs["pysciml_time_calendar"] == "noleap"
    assert res.attrs["pysciml_time_reference"].startswith("2001-01-01")
    assert "per-cell fit of model 'relax'" in res.attrs["history"]
    assert res.attrs["per_cell_parameters"] == "lam forcing"
    assert res["u0_sst"].attrs["units"] == "K"


@pytest.mark.parametrize("calendar", ["360_day", "datetime64", "numeric"])
def test_calendars_and_dimension_names(model, calendar, jax_engine):
    da, ocean, truth = gridded(calendar=calendar, dims=("t", "y", "x"))
    res = fit_cells(da, model, time_units="days", mask=ocean, verbose=0)
    ok = ~truth["land"]
    assert res["lam"].dims == ("y", "x")
    np.testing.assert_allclose(res["lam"].values[ok], truth["lam"][ok], rtol=2e-4)
    if calendar == "360_day":
        assert res.attrs["pysciml_time_calendar"] == "360_day"


def test_masked_empty_sparse_and_failing_cells(model, jax_engine):
    da, ocean, truth = gridded()
    da = da.copy()
    da[:, 2, 2] = np.nan          # an ocean cell with no data
    da[1:, 3, 3] = np.nan         # a single observation: nothing to fit
    da[::2, 4, 4] = np.nan        # gaps: still fitted
    start = xr.full_like(ocean, 0.05, dtype=float)
    start[5, 5] = 1e4             # this cell starts stiff: Tsit5 cannot finish within max_steps
    res = da.sciml.fit(model, mask=ocean, params={"lam": start}, solver=ps.Tsit5(), max_steps=300, verbose=0)
    st = res["status"].values
    assert st[2, 2] == st[3, 3] == int(ps.Status.SKIPPED) and np.isnan(res["lam"].values[2, 2])
    assert st[5, 5] == int(ps.Status.MAX_STEPS) and np.isnan(res["loss"].values[5, 5])
    assert res["rejected_steps"].values[5, 5] > 0
    others = ~truth["land"]
    others[[2, 3, 5], [2, 3, 5]] = False
    assert np.all(st[others] == int(ps.Status.SUCCESS))
    np.testing.assert_allclose(res["lam"].values[4, 4], truth["lam"][4, 4], rtol=1e-3)
    assert res.attrs["cells_failed"] == 1


def test_fixed_parameters_given_start_and_initial_states(model, jax_engine):
    da, ocean, truth = gridded(land=False)
    u0 = xr.DataArray(truth["T0"], dims=("lat", "lon"), coords={"lat": da.lat, "lon": da.lon})
    res = da.sciml.fit(model, per_cell=["lam"], params={"forcing": 0.01}, u0={"sst": u0},
                       optimizers=[ps.LBFGS(steps=5)], verbose=0)
    assert res["forcing"].attrs["pysciml_role"] == "fixed" and float(res["forcing"]) == 0.01
    np.testing.assert_array_equal(res["u0_sst"].values, truth["T0"])  # given, not fitted
    assert res.attrs["fixed_parameters"] == "forcing"
    assert "lam" in res and res["lam"].dims == ("lat", "lon")


def _cubic_data(ny=4, nx=5, nt=20, c=0.4, seed=3):
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.05, 0.2, (ny, nx))
    T0 = rng.uniform(0.5, 1.5, (ny, nx)) * rng.choice([-1, 1], (ny, nx))
    t = np.arange(nt) * 1.0
    Y = np.empty((nt, ny, nx))
    for j in range(ny):
        for i in range(nx):
            sol = solve_ivp(lambda tt, u: -lam[j, i] * u - c * u**3, (0, t[-1]), [T0[j, i]], t_eval=t,
                            rtol=1e-11, atol=1e-13)
            Y[:, j, i] = sol.y[0]
    da = xr.DataArray(Y, dims=("time", "lat", "lon"), coords={"time": t, "lat": np.arange(ny), "lon": np.arange(nx)},
                      name="T")
    return da, lam, T0


def test_shared_parameter_with_per_cell_parameters_and_a_failing_cell(jax_engine):
    da, lam, T0 = _cubic_data()
    model = ps.ODEModel(relax_cubic, ["T"], {"lam": ps.Param(0.1, bounds=(0, None)), "c": ps.Param(0.1, bounds=(0, None))})
    start = xr.full_like(da.isel(time=0, drop=True), 0.1)
    start[0, 0] = 1e3  # stiff start: this cell's solve fails; it must not stop the others
    res = da.sciml.fit(model, per_cell=["lam"], shared=["c"], params={"lam": start}, solver=ps.Tsit5(),
                       max_steps=300, strategy=ps.SingleShooting(),
                       optimizers=[ps.Adam(3e-2, steps=300), ps.LBFGS(steps=100)], verbose=0)
    assert res["c"].attrs["pysciml_role"] == "shared" and res["c"].dims == ()
    assert float(res["c"]) == pytest.approx(0.4, rel=1e-3)
    st = res["status"].values
    assert st[0, 0] == int(ps.Status.MAX_STEPS)
    good = np.ones_like(st, bool)
    good[0, 0] = False
    assert np.all(st[good] == int(ps.Status.SUCCESS))
    np.testing.assert_allclose(res["lam"].values[good], lam[good], rtol=1e-3)
    np.testing.assert_allclose(res["u0_T"].values[good], T0[good], rtol=1e-4)
    assert res.attrs["pysciml_fit"] == "joint" and res.attrs["fit_status"] == "success"
    assert np.all(np.isfinite(res["loss_history"].values[:10]))  # the failing cell never rejected a step


def test_shared_network_weights_along_a_dimension(jax_engine):
    da, lam, T0 = _cubic_data(ny=3, nx=4, nt=15)
    model = ps.UDE(relax_nn, ["T"], {"lam": ps.Param(0.1, bounds=(0, None))},
                   networks={"nn": ps.MLP(1, 1, width=8, depth=1)})
    res = da.sciml.fit(model, strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=150)], verbose=0)
    w = res["nn"]
    assert w.dims == ("nn_weight",) and w.size == model.networks["nn"].n_params
    assert w.attrs["pysciml_role"] == "shared" and w.attrs["mlp_width"] == 8
    assert res.attrs["shared_parameters"] == "nn" and res.attrs["per_cell_parameters"] == "lam"
    h = res["loss_history"].values
    assert h.size == 150 and h[-1] < 0.5 * h[0]
    assert np.all(res["status"].values == int(ps.Status.SUCCESS))
