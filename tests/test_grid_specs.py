"""Grid specs: construction, metrics, orientation, xarray input, and bad input."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import pysciml.grid as G
from pysciml.errors import InputError

R = G.EARTH_RADIUS


def sphere(n_lat, **kw):
    lat = -90 + (np.arange(n_lat) + 0.5) * 180 / n_lat
    lon = (np.arange(2 * n_lat) + 0.5) * 180 / n_lat
    return G.LatLonGrid(lat=lat, lon=lon, **kw)


def test_regular_grid_spacing_and_extent_agree():
    a = G.RegularGrid((4, 8), spacing=(0.5, 0.25))
    b = G.RegularGrid((4, 8), extent=(2.0, 2.0))
    assert a.spacing == b.spacing == (0.5, 0.25) and a.extent == b.extent == (2.0, 2.0)
    assert np.allclose(a.area, 0.125) and a.area.sum() == pytest.approx(4.0)
    assert np.allclose(a.y, 0.25 + 0.5 * np.arange(4)) and np.allclose(a.x, 0.125 + 0.25 * np.arange(8))
    assert a.shape == (4, 8) and a.size == 32


def test_grids_are_frozen_and_hash_by_identity():
    g = G.RegularGrid((3, 3), spacing=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.spacing = (2.0, 2.0)
    with pytest.raises(ValueError):
        g.area[0, 0] = 5.0  # read-only metric arrays
    h = G.RegularGrid((3, 3), spacing=1.0)
    assert g != h and len({g, h, g}) == 2


def test_sphere_metrics():
    g = sphere(30)
    assert abs(g.area.sum() / (4 * np.pi * R**2) - 1) < 1e-13
    assert g.periodic_lon is True
    m = g.metrics
    assert m["face_length_y"][0].max() == 0 and m["face_length_y"][-1].max() == 0  # pole faces
    assert not m["face_active_y"][[0, -1]].any() and m["face_active_x"].all()
    assert m["pole_y"] == (True, True) and m["pole_shift"] == 30
    # regional grid: no poles, walls on all four sides
    r = G.LatLonGrid(lat=np.arange(-30, 31, 2.0), lon=np.arange(120, 200, 2.0))
    assert r.periodic_lon is False and r.metrics["pole_y"] == (False, False)
    cell = R**2 * np.deg2rad(2) * (np.sin(np.deg2rad(31)) - np.sin(np.deg2rad(-31)))
    assert r.area.sum(axis=0)[0] == pytest.approx(cell, rel=1e-12)


def test_periodic_lon_auto_and_dateline():
    assert G.LatLonGrid(lat=[-10.0, 10.0], lon=np.arange(0, 360, 30.0)).periodic_lon is True
    assert G.LatLonGrid(lat=[-10.0, 10.0], lon=np.arange(0, 330, 30.0)).periodic_lon is False
    assert G.LatLonGrid(lat=[-10.0, 10.0], lon=np.arange(0, 360, 30.0), periodic_lon=False).periodic_lon is False
    a = G.LatLonGrid(lat=[0.0, 5.0, 10.0], lon=[350.0, 355.0, 0.0, 5.0])
    b = G.LatLonGrid(lat=[0.0, 5.0, 10.0], lon=[-10.0, -5.0, 0.0, 5.0])
    f = np.random.default_rng(0).standard_normal(a.shape)
    la, lb = G.laplacian_numpy(f, a), G.laplacian_numpy(f, b)
    assert np.abs(la - lb).max() <= 1e-13 * np.abs(lb).max()


def test_area_weighted_mean_and_integral_ignore_masked_cells():
    mask = np.ones((6, 12), bool)
    mask[2, 3] = False
    g = sphere(6, mask=mask)
    f = np.ones(g.shape)
    f[2, 3] = np.nan
    assert g.mean(f) == pytest.approx(1.0, rel=1e-14)
    assert g.integral(f) == pytest.approx(g.area.sum() - g.area[2, 3], rel=1e-14)
    batch = np.stack([f, 2 * f])
    assert np.allclose(g.mean(batch), [1.0, 2.0], rtol=1e-14)


def test_user_edges_and_cf_bounds():
    lat = np.array([-60.0, -20.0, 20.0, 60.0])
    edges = np.array([-90.0, -40.0, 0.0, 40.0, 90.0])
    g = G.LatLonGrid(lat=lat, lon=np.arange(0, 360, 90.0), lat_edges=edges)
    assert g.area.sum() == pytest.approx(4 * np.pi * R**2, rel=1e-13)
    bnds = np.stack([edges[:-1], edges[1:]], axis=1)
    g2 = G.LatLonGrid(lat=lat, lon=np.arange(0, 360, 90.0), lat_edges=bnds)
    assert np.array_equal(g.area, g2.area)


def _dataset(descending=False):
    lat = np.arange(-87.5, 90, 5.0)
    lat = lat[::-1] if descending else lat
    lon = np.arange(0, 360, 5.0)
    sst = 20 * np.cos(np.deg2rad(lat))[None, :, None] * np.ones((3, 1, lon.size))
    land = np.zeros((lat.size, lon.size), bool)
    land[10:14, 20:30] = True
    sst[:, land] = np.nan
    return xr.Dataset(
        {"sst": (("time", "latitude", "longitude"), sst), "land": (("latitude", "longitude"), land)},
        coords={"latitude": ("latitude", lat, {"units": "degrees_north"}),
                "longitude": ("longitude", lon, {"units": "degrees_east"}), "time": [0, 1, 2]},
    )


def test_from_xarray_reads_coordinates_and_masks():
    ds = _dataset(descending=True)
    g = G.from_xarray(ds["sst"], mask="notnull")
    assert g.shape == (36, 72) and g.dims == ("latitude", "longitude") and g.periodic_lon
    assert np.array_equal(g.active, ~ds["land"].values)
    g2 = G.from_xarray(ds, mask=ds["land"].T == 0)  # transposed DataArray mask is aligned
    assert np.array_equal(g2.active, g.active)
    g3 = G.from_xarray(ds, mask="land")  # a variable's name: used as the mask as it is
    assert np.array_equal(g3.active, ds["land"].values)
    da = g.to_xarray(G.laplacian_numpy(ds["sst"].values, g)[0], name="lap")
    assert da.dims == ("latitude", "longitude") and np.array_equal(da.latitude, ds.latitude)
    ds2 = ds.rename(latitude="y", longitude="x")
    with pytest.raises(InputError, match="lat"):
        G.from_xarray(xr.DataArray(np.zeros((3, 4)), dims=("a", "b")))
    g4 = G.from_xarray(ds2, lat="y", lon="x")
    assert g4.shape == (36, 72)


def test_mask_with_mismatched_coordinates_is_an_error():
    ds = _dataset()
    flipped = (ds["land"] == 0).isel(latitude=slice(None, None, -1))
    with pytest.raises(InputError, match="mask") as e:
        G.from_xarray(ds["sst"], mask=flipped)
    assert e.value.argument == "mask"


def _bad_inputs():
    ok_lat, ok_lon = np.arange(-80, 81, 20.0), np.arange(0, 360, 30.0)
    return [
        ("lat", lambda: G.LatLonGrid(lat=[0.0, 10.0, 5.0], lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=[0.0, 10.0, 10.0], lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=[-95.0, 0.0, 10.0], lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=[80.0, 85.0, 91.0], lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=[-90.0, 0.0, 90.0], lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=np.zeros((3, 3)), lon=ok_lon)),
        ("lat", lambda: G.LatLonGrid(lat=[0.0, np.nan], lon=ok_lon)),
        ("lon", lambda: G.LatLonGrid(lat=ok_lat, lon=[0.0, 20.0, 10.0])),
        ("lon", lambda: G.LatLonGrid(lat=ok_lat, lon=np.arange(0, 361, 30.0))),
        ("mask", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, mask=np.ones((12, 9), bool))),
        ("mask", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, mask=np.full((9, 12), np.nan))),
        ("mask", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, mask=np.zeros((9, 12), bool))),
        ("radius", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, radius=-1)),
        ("periodic_lon", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, periodic_lon="yes")),
        ("boundary", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, boundary="periodic")),
        ("lat_edges", lambda: G.LatLonGrid(lat=ok_lat, lon=ok_lon, lat_edges=np.arange(10.0))),
        ("shape", lambda: G.RegularGrid((0, 3), spacing=1.0)),
        ("spacing", lambda: G.RegularGrid((3, 3), spacing=1.0, extent=2.0)),
        ("extent", lambda: G.RegularGrid((3, 3))),
        ("spacing", lambda: G.RegularGrid((3, 3), spacing=(1.0, -1.0))),
        ("spacing", lambda: G.RegularGrid((3, 3), spacing=(1.0, 1.0, 1.0))),
        ("boundary", lambda: G.RegularGrid((3, 3), spacing=1.0, boundary="wall")),
        ("mask", lambda: G.RegularGrid((3, 3), spacing=1.0, mask=np.ones((3, 4), bool))),
        ("f", lambda: G.laplacian_numpy(np.zeros((4, 3)), G.RegularGrid((3, 4), spacing=1.0))),
        ("f", lambda: G.laplacian_numpy(np.zeros(12), G.RegularGrid((3, 4), spacing=1.0))),
        ("f", lambda: G.gradient_numpy(np.zeros((3, 5)), G.RegularGrid((3, 4), spacing=1.0))),
        ("grid", lambda: G.laplacian_numpy(np.zeros((3, 4)), (3, 4))),
        ("velocity", lambda: G.advect_numpy(np.zeros((3, 4)), 1.0, G.RegularGrid((3, 4), spacing=1.0))),
        ("velocity", lambda: G.advect_numpy(np.zeros((3, 4)), (np.zeros((4, 3)), 0.0),
                                            G.RegularGrid((3, 4), spacing=1.0))),
        ("velocity", lambda: G.advect_numpy(np.zeros((3, 4)), (np.zeros(5), 0.0),
                                            G.RegularGrid((3, 4), spacing=1.0))),
        ("scheme", lambda: G.advect_numpy(np.zeros((3, 4)), (1.0, 0.0), G.RegularGrid((3, 4), spacing=1.0),
                                          scheme="weno")),
        ("vector", lambda: G.divergence_numpy(np.zeros((3, 4)), G.RegularGrid((3, 4), spacing=1.0))),
        ("vector", lambda: G.divergence_numpy((np.zeros((3, 4)), np.zeros((4, 3))),
                                              G.RegularGrid((3, 4), spacing=1.0))),
        ("da", lambda: G.from_xarray(np.zeros((3, 4)))),
    ]


@pytest.mark.parametrize("argument,make", _bad_inputs(), ids=[a for a, _ in _bad_inputs()])
def test_bad_input_names_the_argument(argument, make):
    with pytest.raises(InputError) as e:
        make()
    assert e.value.argument == argument
    assert str(e.value).startswith(argument)


def test_import_grid_loads_no_engine():
    code = ("import sys, numpy as np, pysciml.grid as G; g = G.RegularGrid((4, 4), spacing=1.0); "
            "G.laplacian_numpy(np.ones((4, 4)), g); "
            "assert 'jax' not in sys.modules and 'juliacall' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
