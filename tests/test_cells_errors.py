"""Bad input to gridded fits and solves: each case names the argument at fault."""

import numpy as np
import pytest
import xarray as xr
from helpers.gridded_data import gridded, shared_model

import pysciml as ps
from pysciml.cells import fit_cells, forecast_cells, solve_cells
from pysciml.errors import DataError, InputError
from pysciml.training.optimizers import LevenbergMarquardt


def _data():
    da, ocean, _ = gridded(ny=3, nx=4, nt=6, land=False)
    return da, ocean


def _swap_times(da):
    t = da["time"].values.copy()
    t[[1, 2]] = t[[2, 1]]
    return da.assign_coords(time=t)


def _dup_times(da):
    t = da["time"].values.copy()
    t[2] = t[1]
    return da.assign_coords(time=t)


def _mixed_calendars(da):
    import cftime

    t = np.array([cftime.DatetimeNoLeap(2001, 1, 1 + i) for i in range(da.sizes["time"])], dtype=object)
    t[3] = cftime.Datetime360Day(2001, 1, 4)
    return da.assign_coords(time=t)


def _fake_result():
    da, _ = _data()
    res = xr.Dataset({"lam": da.isel(time=0, drop=True) * 0 + 0.1}, attrs={"pysciml_time_units": "days"})
    return res.assign_coords(lat=res.lat + 100.0)


def _grid_model(shape):
    return ps.ODEModel(lambda u, p, t, m: -p.k * u, states={"sst": shape}, params={"k": 1.0}, time_units="days")


CASES = [
    # (id, call, exception, argument)
    ("no-time-dimension", lambda m, d, o: fit_cells(d.isel(time=0), m, verbose=0), DataError, "data"),
    ("unsorted-times", lambda m, d, o: fit_cells(_swap_times(d), m, verbose=0), DataError, "data"),
    ("duplicated-times", lambda m, d, o: fit_cells(_dup_times(d), m, verbose=0), DataError, "data"),
    ("mixed-calendars", lambda m, d, o: fit_cells(_mixed_calendars(d), m, time_units="days", verbose=0),
     DataError, "data"),
    ("single-time", lambda m, d, o: fit_cells(d.isel(time=[0]), m, verbose=0), InputError, "data"),
    ("numpy-data", lambda m, d, o: fit_cells(d.values, m, verbose=0), DataError, "data"),
    ("calendar-without-units", lambda m, d, o: fit_cells(d, ps.ODEModel(m.physics, ["sst"], {"lam": 0.1, "forcing": 0.0}),
                                                         verbose=0), DataError, "time_units"),
    ("state-not-in-data", lambda m, d, o: fit_cells(d.rename("other").to_dataset(), m, verbose=0), DataError, "states"),
    ("mask-other-coords", lambda m, d, o: fit_cells(d, m, mask=o.assign_coords(lat=o.lat + 1), verbose=0),
     DataError, "mask"),
    ("mask-wrong-shape", lambda m, d, o: fit_cells(d, m, mask=np.ones((2, 2), bool), verbose=0), DataError, "mask"),
    ("mask-extra-dims", lambda m, d, o: fit_cells(d, m, mask=d > 0, verbose=0), DataError, "mask"),
    ("mask-not-boolean", lambda m, d, o: fit_cells(d, m, mask=o.astype(float) * 0.5, verbose=0), DataError, "mask"),
    ("unknown-per-cell", lambda m, d, o: fit_cells(d, m, per_cell=["damping"], verbose=0), InputError, "per_cell"),
    ("per-cell-not-a-list", lambda m, d, o: fit_cells(d, m, per_cell=3, verbose=0), InputError, "per_cell"),
    ("role-twice", lambda m, d, o: fit_cells(d, m, per_cell=["lam"], fixed=["lam"], verbose=0), InputError, "fixed"),
    ("unknown-fixed", lambda m, d, o: fit_cells(d, m, fixed=["nope"], verbose=0), InputError, "fixed"),
    ("grid-start-for-fixed", lambda m, d, o: fit_cells(d, m, per_cell=["lam"], params={"forcing": o * 1.0}, verbose=0),
     InputError, "params"),
    ("grid-start-other-coords", lambda m, d, o: fit_cells(d, m, params={"lam": (o * 0.1).assign_coords(lon=o.lon + 1)},
                                                          verbose=0), InputError, "params.lam"),
    ("unknown-param-value", lambda m, d, o: fit_cells(d, m, params={"nope": 1.0}, verbose=0), InputError, "params"),
    ("param-out-of-bounds", lambda m, d, o: fit_cells(d, m, params={"lam": -1.0}, verbose=0), InputError, "params.lam"),
    ("u0-unknown-state", lambda m, d, o: fit_cells(d, m, u0={"T": 1.0}, verbose=0), InputError, "u0"),
    ("u0-wrong-count", lambda m, d, o: fit_cells(d, m, u0=[1.0, 2.0], verbose=0), InputError, "u0"),
    ("fit-u0-bad", lambda m, d, o: fit_cells(d, m, fit_u0="yes", verbose=0), InputError, "fit_u0"),
    ("multiple-shooting", lambda m, d, o: fit_cells(d, m, strategy=ps.MultipleShooting(), verbose=0),
     InputError, "strategy"),
    ("lm-with-nll", lambda m, d, o: fit_cells(d, m, loss=ps.GaussianNLL(), optimizers=[LevenbergMarquardt()], verbose=0),
     InputError, "optimizers"),
    ("bad-optimizers", lambda m, d, o: fit_cells(d, m, optimizers="adam", verbose=0), InputError, "optimizers"),
    ("bad-memory", lambda m, d, o: fit_cells(d, m, max_memory="lots", verbose=0), InputError, "max_memory"),
    ("negative-memory", lambda m, d, o: fit_cells(d, m, max_memory=-5, verbose=0), InputError, "max_memory"),
    ("zero-batch", lambda m, d, o: fit_cells(d, m, cells_per_batch=0, verbose=0), InputError, "cells_per_batch"),
    ("zero-workers", lambda m, d, o: fit_cells(d, m, workers=0, verbose=0), InputError, "workers"),
    ("bad-differentiation", lambda m, d, o: fit_cells(d, m, differentiation="sideways", verbose=0),
     InputError, "differentiation"),
    ("negative-l2", lambda m, d, o: fit_cells(d, m, l2=-1.0, verbose=0), InputError, "l2"),
    ("bad-rtol", lambda m, d, o: fit_cells(d, m, rtol=0.0, verbose=0), InputError, "rtol"),
    ("bad-max-steps", lambda m, d, o: fit_cells(d, m, max_steps=0, verbose=0), InputError, "max_steps"),
    ("bad-seed", lambda m, d, o: fit_cells(d, m, seed=1.5, verbose=0), InputError, "seed"),
    ("bad-solver", lambda m, d, o: fit_cells(d, m, solver="euler-ish", verbose=0), InputError, "solver"),
    ("not-a-model", lambda m, d, o: fit_cells(d, lambda u: u, verbose=0), InputError, "model"),
    ("bad-time-dim", lambda m, d, o: fit_cells(d, m, time_dim="when", verbose=0), DataError, "time_dim"),
    ("coupled-false-grid-model", lambda m, d, o: fit_cells(d, _grid_model((3, 4)), coupled=False, verbose=0),
     InputError, "coupled"),
    ("coupled-wrong-shape", lambda m, d, o: fit_cells(d, _grid_model((4, 3)), verbose=0), InputError, "data"),
    ("solve-result-other-grid", lambda m, d, o: solve_cells(d, m, params=_fake_result()), InputError,
     "params.lam"),
    ("solve-times-decreasing", lambda m, d, o: solve_cells(d, m, params={"lam": 0.1}, t=[3.0, 1.0]), InputError, "t"),
    ("solve-bad-params", lambda m, d, o: solve_cells(d, m, params=[1, 2]), InputError, "params"),
    ("forecast-negative-horizon", lambda m, d, o: forecast_cells(d, m, -1.0), InputError, "horizon"),
    ("forecast-bad-n", lambda m, d, o: forecast_cells(d, m, 10.0, n=1), InputError, "n"),
    ("forecast-without-state", lambda m, d, o: forecast_cells(d, m, 10.0, params={"lam": 0.1}), InputError, "params"),
    ("lm-bad-steps", lambda m, d, o: LevenbergMarquardt(steps=0), InputError, "LevenbergMarquardt.steps"),
]


@pytest.mark.parametrize("call, exc, argument", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(call, exc, argument):
    da, ocean = _data()
    with pytest.raises(exc) as info:
        call(shared_model(), da, ocean)
    assert info.value.argument == argument, str(info.value)
    assert str(info.value).startswith(argument)


def test_network_cannot_be_per_cell():
    model = ps.UDE(lambda u, p, t, m: -p.k * u + p.nn(u)[0], ["sst"], {"k": 0.1}, networks={"nn": ps.MLP(1, 1)},
                   time_units="days")
    da, _ = _data()
    with pytest.raises(InputError, match="^per_cell: networks"):
        fit_cells(da, model, per_cell=["nn"], verbose=0)
    with pytest.raises(InputError) as info:
        fit_cells(da, model, optimizers=[LevenbergMarquardt()], verbose=0)
    assert info.value.argument == "optimizers"
