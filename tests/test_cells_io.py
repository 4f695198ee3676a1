"""NetCDF / Zarr v3 outputs of gridded results: round trips, CF flags, atomic writes."""

import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from helpers.gridded_data import gridded, shared_model

import pysciml as ps


@pytest.fixture(scope="module")
def results(jax_engine):
    model = shared_model()
    da, ocean, _ = gridded(calendar="360_day")
    res = da.sciml.fit(model, mask=ocean, verbose=0)
    sim = da.sciml.solve(model, params=res)
    return res, sim


def _open(path, **kw):
    return xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True), **kw)


def test_netcdf_round_trip_of_fit_and_solution(results, tmp_path):
    res, sim = results
    p = res.sciml.to_netcdf(tmp_path / "fit.nc")
    with _open(p) as back:
        back = back.load()
    xr.testing.assert_identical(back.drop_attrs(deep=True), res.drop_attrs(deep=True))
    assert list(back["status"].attrs["flag_values"]) == [int(s) for s in ps.Status]
    assert back["status"].attrs["flag_meanings"] == res["status"].attrs["flag_meanings"]
    assert back.attrs["history"] == res.attrs["history"]
    p2 = sim.sciml.to_netcdf(tmp_path / "sim.nc")
    with _open(p2) as back:
        back = back.load()
    assert back["time"].values[0].calendar == "360_day"
    np.testing.assert_array_equal(back["time"].values, sim["time"].values)
    np.testing.assert_array_equal(back["sst"].values, sim.values)


def test_zarr_v3_round_trip(results, tmp_path):
    pytest.importorskip("zarr")
    res, sim = results
    p = res.sciml.to_zarr(tmp_path / "fit.zarr")
    import zarr

    assert zarr.open_group(str(p), mode="r").metadata.zarr_format == 3
    back = xr.open_zarr(p, consolidated=False).load()
    xr.testing.assert_identical(back.drop_attrs(deep=True), res.drop_attrs(deep=True))
    assert back["status"].dtype == np.int8
    p2 = sim.sciml.to_zarr(tmp_path / "sim.zarr")
    back = xr.open_zarr(p2, consolidated=False, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)).load()
    np.testing.assert_array_equal(back["time"].values, sim["time"].values)


@pytest.mark.parametrize("kind", ["netcdf", "zarr"])
def test_interrupted_write_keeps_the_previous_file(results, tmp_path, monkeypatch, kind):
    if kind == "zarr":
        pytest.importorskip("zarr")
    res, _ = results
    target = tmp_path / ("fit.nc" if kind == "netcdf" else "fit.zarr")
    write = res.sciml.to_netcdf if kind == "netcdf" else res.sciml.to_zarr
    write(target)
    before = _open(target).load() if kind == "netcdf" else xr.open_zarr(target, consolidated=False).load()
    method = "to_netcdf" if kind == "netcdf" else "to_zarr"
    real = getattr(xr.Dataset, method)

    def crash(self, path, *args, **kwargs):
        real(self.isel(lat=slice(0, 2)), path, *args, **kwargs)  # a partial file under the temporary name
        raise KeyboardInterrupt("simulated crash in the middle of the write")

    monkeypatch.setattr(xr.Dataset, method, crash)
    changed = res.assign(loss=res["loss"] * 2)
    with pytest.raises(KeyboardInterrupt):
        changed.sciml.to_netcdf(target) if kind == "netcdf" else changed.sciml.to_zarr(target)
    monkeypatch.undo()
    after = _open(target).load() if kind == "netcdf" else xr.open_zarr(target, consolidated=False).load()
    xr.testing.assert_identical(after, before)
    assert sorted(os.listdir(tmp_path)) == [target.name]  # no temporary left behind


_WRITER = """
import sys, numpy as np, xarray as xr
import pysciml.cells
value = float(sys.argv[2])
ds = xr.Dataset({"loss": ("cell", np.full(20000, value))}, attrs={"writer": sys.argv[2]})
for _ in range(5):
    ds.sciml.to_netcdf(sys.argv[1])
"""


def test_two_processes_writing_the_same_file_never_corrupt_it(tmp_path):
    target = tmp_path / "shared.nc"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(target), str(v)], env=env) for v in (1.0, 2.0)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    with xr.open_dataset(target) as ds:
        values = np.unique(ds["loss"].values)
        assert values.size == 1 and str(values[0]) == ds.attrs["writer"]
    assert sorted(os.listdir(tmp_path)) == ["shared.nc"]
