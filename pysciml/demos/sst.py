"""``pysciml demo sst``: a gridded fit, the damping rate of SST anomalies in every ocean cell.

Model in every cell: ``dT/dt = -damping * T + forcing`` (time in years).  Data: the winter
Pacific SST anomalies the ``eofs`` package ships (1963-2012, 18 x 30 cells, read from that
package at run time), or, without eofs, a synthetic field of the same model with noise.
Writes ``sst_fit.nc`` (CF), ``sst_maps.png`` (damping map, fit-quality maps) and
``sst_cell.png`` (the data and the fitted model in one picked cell).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..model import ODEModel
from ..params import Param
from ..plotting.backend import PlotExtraMissing, save_figure
from ..training.strategies import OneStepAhead

__all__ = ["run", "damping_model", "sst_field", "fit_sst", "draw_sst"]


def _damped(T, p, t, m):
    return -p.damping * T + p.forcing


def damping_model() -> ODEModel:
    """Relaxation of an anomaly, ``dT/dt = -damping T + forcing`` (time in years)."""
    return ODEModel(
        _damped,
        ["sst"],
        {
            "damping": Param(0.5, bounds=(0.0, 10.0), units="1/year", description="damping rate of the anomaly"),
            "forcing": Param(0.0, units="K/year", description="constant forcing"),
        },
        name="sst_damping",
        time_units="years",
    )


def _synthetic(quick: bool):
    import xarray as xr

    rng = np.random.default_rng(0)
    lat = np.arange(-20.0, 61.0, 10.0 if quick else 5.0)
    lon = np.arange(120.0, 281.0, 20.0 if quick else 8.0)
    years = np.arange(1963, 2013)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    damping = 0.2 + 0.6 * np.exp(-(((la - 20) / 25) ** 2)) * (1 + 0.3 * np.cos(np.radians(lo)))
    t = (years - years[0]).astype(float)
    T0 = rng.normal(0.0, 1.0, la.shape)
    T = T0 * np.exp(-damping * t[:, None, None]) + 0.3 * rng.standard_normal((t.size,) + la.shape)
    land = (la > 40) & (lo < 150)
    T[:, land] = np.nan
    times = xr.date_range("1963-01-01", periods=t.size, freq="YS", use_cftime=True)
    da = xr.DataArray(
        T,
        dims=("time", "lat", "lon"),
        coords={"time": times, "lat": lat, "lon": lon},
        name="sst",
        attrs={"units": "K", "long_name": "synthetic SST anomaly"},
    )
    return da


def sst_field(quick: bool = False):
    """``(data, source)``: the eofs package's winter SST anomalies, else a synthetic field."""
    import xarray as xr

    try:
        from eofs.examples import example_data_path
    except ImportError:
        return _synthetic(quick), "synthetic field (pip install eofs for the real SST data)"
    ds = xr.open_dataset(
        example_data_path("sst_ndjfm_anom.nc"), decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)
    )
    da = ds["sst"].load()
    if quick:
        da = da.isel(latitude=slice(None, None, 3), longitude=slice(None, None, 3))
    return da.rename({"latitude": "lat", "longitude": "lon"}), "winter Pacific SST anomalies (eofs package)"


def fit_sst(quick: bool = False, engine: str | None = None):
    """``(data, model, result, source)``: the damping fit in every ocean cell."""
    da, source = sst_field(quick)
    model = damping_model()
    ocean = da.notnull().any("time")
    res = da.sciml.fit(model, time_units="years", mask=ocean, strategy=OneStepAhead(), verbose=0, engine=engine)
    return da, model, res, source


def draw_sst(da, model, res, out: Path) -> list[Path]:
    """Write ``sst_maps.png`` and ``sst_cell.png`` into ``out``; returns the paths ([] without matplotlib)."""

    try:
        fig, _ = res.sciml.plot(["damping", "status", "rmse_sst"])
    except PlotExtraMissing as exc:
        print(f"  (no PNG: {exc})", flush=True)
        return []
    maps = save_figure(fig, out / "sst_maps.png")
    d = res["damping"]
    gap = np.abs(d.values - np.nanmedian(d.values))  # a typical cell: damping nearest the median
    j, i = np.unravel_index(int(np.nanargmin(np.where(np.isfinite(gap), gap, np.inf))), d.shape)
    fig, _ = res.sciml.plot_cell(data=da, model=model, lat=float(d["lat"][j]), lon=float(d["lon"][i]))
    return [maps, save_figure(fig, out / "sst_cell.png")]


def run(out_dir: str = "pysciml_demo", engine: str | None = None, quick: bool = False) -> dict:
    """Fit, write ``sst_fit.nc`` and the pictures; returns a summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("pysciml demo sst: the damping rate of SST anomalies, fitted in every ocean cell", flush=True)
    t0 = time.perf_counter()
    da, model, res, source = fit_sst(quick, engine)
    d = res["damping"].values
    print(
        f"  data: {source}, {da.sizes['lat']} x {da.sizes['lon']} cells, {da.sizes['time']} years; "
        f"fitted {res.attrs['cells_success']} cells, {res.attrs['cells_skipped']} land, "
        f"{res.attrs['cells_failed']} failed in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    print(
        f"  damping [1/year]: median {np.nanmedian(d):.3g}, 10-90 % {np.nanpercentile(d, 10):.3g}"
        f" - {np.nanpercentile(d, 90):.3g}",
        flush=True,
    )
    nc = res.sciml.to_netcdf(out / "sst_fit.nc")
    pngs = draw_sst(da, model, res, out)
    files = [str(nc)] + [str(p) for p in pngs]
    print(f"  wrote {', '.join(Path(f).name for f in files)} into {out}", flush=True)
    return {"cells": int(res.attrs["cells_success"]), "median_damping": float(np.nanmedian(d)), "files": files}
