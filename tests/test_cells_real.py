"""Real gridded data: the winter Pacific SST anomalies shipped by the eofs package (skipped without eofs)."""

import importlib.util
import os

import numpy as np
import pytest

pytest.importorskip("eofs", reason="the real-data test reads the SST file shipped by the eofs package")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _example():
    spec = importlib.util.spec_from_file_location("sst_damping", os.path.join(ROOT, "examples", "sst_damping.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _one_step_least_squares(y, dt):
    """Independent reference: conditional least squares of T_{k+1} = F/l + (T_k - F/l) exp(-l dt_k), l in [0, 10]."""
    from scipy.optimize import least_squares

    def resid(q):
        lam, F = q
        eq = F / lam
        return eq + (y[:-1] - eq) * np.exp(-lam * dt) - y[1:]

    best = None
    for lam0 in (0.2, 1.0, 3.0, 9.0):
        r = least_squares(resid, [lam0, 0.0], bounds=([1e-9, -np.inf], [10.0, np.inf]), xtol=1e-14, ftol=1e-14,
                          gtol=1e-14)
        if best is None or r.cost < best.cost:
            best = r
    return best.x, 2 * best.cost / (y.size - 1) / np.var(y)


def test_sst_damping_map_matches_an_independent_fit(jax_engine, tmp_path):
    import cftime
    import xarray as xr

    ex = _example()
    res, sim, fc = ex.run(out=str(tmp_path / "fit.nc"), verbose=0)
    sst = ex.load_sst()
    assert res.attrs["cells_success"] == 450 and res.attrs["cells_skipped"] == 90 and res.attrs["cells_failed"] == 0
    assert res["damping"].dims == ("latitude", "longitude") and res["damping"].attrs["units"] == "1/year"
    years = cftime.date2num(sst["time"].values, "days since 1963-01-15 12:00:00", calendar="standard") / 365.2425
    dt = np.diff(years)
    ocean = np.argwhere(np.isfinite(res["damping"].values))
    rng = np.random.default_rng(0)
    rel_loss, rel_lam = [], []
    for j, i in ocean[rng.choice(len(ocean), 40, replace=False)]:
        (lam, _F), loss = _one_step_least_squares(sst.values[:, j, i], dt)
        rel_loss.append((float(res["loss"].values[j, i]) - loss) / loss)
        if 0.05 < lam < 9.0:
            rel_lam.append(abs(float(res["damping"].values[j, i]) - lam) / lam)
    rel_loss = np.array(rel_loss)
    # same minimum as the closed-form reference (to the solver's tolerance), never a worse one
    assert np.median(np.abs(rel_loss)) < 1e-6 and rel_loss.max() < 1e-4, rel_loss
    assert len(rel_lam) > 20 and np.median(rel_lam) < 1e-4, rel_lam
    # the AR(1) damping from the lag-1 autocorrelation ranks the cells the same way
    ar = ex.ar1_damping(sst)
    both = np.isfinite(ar) & np.isfinite(res["damping"].values) & (res["damping"].values < 9.9)
    assert ex._spearman(res["damping"].values[both], ar[both]) > 0.95
    back = xr.open_dataset(tmp_path / "fit.nc")
    np.testing.assert_array_equal(back["damping"].values, res["damping"].values)
    assert sim.dims == ("time", "latitude", "longitude") and fc.sizes["time"] == 6
