"""Synthetic gridded data with exact solutions, shared by the gridded tests (importable by dask workers)."""

from __future__ import annotations

import numpy as np

import pysciml as ps


def relax(u, p, t, m):
    """dT/dt = -lam T + forcing: T(t) = F/lam + (T0 - F/lam) exp(-lam t)."""
    return -p.lam * u + p.forcing


def relax_cubic(u, p, t, m):
    """dT/dt = -lam T - c T^3 (lam per cell, c shared)."""
    return -p.lam * u - p.c * u**3


def relax_nn(u, p, t, m):
    """dT/dt = -lam T + nn(T) (a network shared by all cells)."""
    return -p.lam * u + p.nn(u)[0]


def relax_model(**kw):
    return ps.ODEModel(relax, ["sst"], {"lam": ps.Param(0.05, bounds=(0, None), units="1/day",
                                                        description="damping rate"),
                                        "forcing": ps.Param(0.0, units="K/day")}, time_units="days", **kw)


_SHARED = {}


def shared_model():
    """One relax model object per process, so every test module reuses its compiled fits."""
    if "relax" not in _SHARED:
        _SHARED["relax"] = relax_model()
    return _SHARED["relax"]


def exact(lam, forcing, T0, t):
    """(n_t, ...) exact solution of :func:`relax` for fields lam, forcing, T0 (any shape)."""
    eq = forcing / lam
    return eq + (T0 - eq) * np.exp(-lam * np.asarray(t)[(slice(None),) + (None,) * np.ndim(lam)])


def grid_truth(ny=6, nx=8, seed=1):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.03, 0.1, (ny, nx))
    forcing = rng.normal(size=(ny, nx)) * 0.05
    T0 = rng.normal(size=(ny, nx))
    return lam, forcing, T0


def gridded(ny=6, nx=8, nt=30, step_days=5, calendar="noleap", noise=0.0, seed=1, dims=("time", "lat", "lon"),
            land=True):
    """DataArray of :func:`relax` solutions on a (ny, nx) grid with cftime times, a land mask and truth."""
    import xarray as xr

    lam, forcing, T0 = grid_truth(ny, nx, seed)
    t = np.arange(nt) * float(step_days)
    Y = exact(lam, forcing, T0, t)
    rng = np.random.default_rng(seed + 100)
    Y = Y + noise * rng.standard_normal(Y.shape)
    landmask = np.zeros((ny, nx), bool)
    if land:
        landmask[0, :3] = True
        Y[:, landmask] = np.nan
    if calendar == "numeric":
        times = t
    elif calendar == "datetime64":
        times = np.datetime64("2001-01-01") + (t * 86400).astype("timedelta64[s]")
    else:
        times = xr.date_range("2001-01-01", periods=nt, freq=f"{step_days}D", calendar=calendar, use_cftime=True)
    tdim, ydim, xdim = dims
    da = xr.DataArray(Y, dims=dims, name="sst",
                      coords={tdim: times, ydim: np.linspace(-20, 20, ny), xdim: 150.0 + 5.0 * np.arange(nx)},
                      attrs={"units": "K", "long_name": "sea surface temperature anomaly"})
    ocean = xr.DataArray(~landmask, dims=(ydim, xdim), coords={ydim: da[ydim], xdim: da[xdim]})
    return da, ocean, {"lam": lam, "forcing": forcing, "T0": T0, "t": t, "land": landmask}
