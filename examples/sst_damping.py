"""Damping of winter Pacific SST anomalies, fitted in every grid cell.

Data: the NDJFM-mean sea-surface temperature anomalies (1963-2012, 18 x 30 cells,
5 degrees, 90 land cells) that the ``eofs`` package ships as example data
(``pip install eofs``); nothing is copied into this repository.

Model, in every ocean cell: ``dT/dt = -damping * T + forcing`` (time in years):
the anomaly relaxes towards ``forcing / damping`` at the rate ``damping``.  The
fit gives a damping map, the fitted initial anomalies, a loss and a status per
cell; land cells are skipped.  For comparison the script prints the damping an
AR(1) process would have, ``-log(r1)`` per year from the lag-1 autocorrelation
``r1``: a deterministic relaxation fitted to a noisy series measures the slow
decay of the initial anomaly and the mean, not the year-to-year persistence, so
the two maps need not agree.

Run: ``python examples/sst_damping.py [--out fit.nc]``; with ``--out`` and matplotlib it
also writes the damping and fit-quality maps beside the file (``fit.png``).  Full size: about
20 s (2 shared cores); ``--quick`` is accepted and changes nothing (the fit is already small).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import pysciml as ps


def load_sst():
    """The eofs package's winter SST anomalies as an xarray DataArray (cftime times)."""
    try:
        from eofs.examples import example_data_path
    except ImportError:
        raise SystemExit("this example reads the SST file shipped by the eofs package: pip install eofs") from None
    import xarray as xr

    ds = xr.open_dataset(example_data_path("sst_ndjfm_anom.nc"),
                         decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    return ds["sst"].load()


def damped(T, p, t, m):
    """Relaxation of an anomaly: dT/dt = -damping T + forcing."""
    return -p.damping * T + p.forcing


def make_model():
    return ps.ODEModel(damped, ["sst"], {
        "damping": ps.Param(0.5, bounds=(0.0, 10.0), units="1/year", description="damping rate of the anomaly"),
        "forcing": ps.Param(0.0, units="K/year", description="constant forcing"),
    }, time_units="years")


def ar1_damping(sst):
    """-log(lag-1 autocorrelation) per year, per cell (NaN where r1 <= 0)."""
    a = sst - sst.mean("time")
    r1 = (a.isel(time=slice(1, None)).values * a.isel(time=slice(None, -1)).values).sum(0) / (a.values**2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(r1 > 0, -np.log(r1), np.nan)


def run(out: str | None = None, verbose: int = 1):
    """Fit the damping map; returns ``(result, simulation, forecast)``."""
    from pysciml import OneStepAhead  # (`import pysciml` alone registers .sciml too)

    sst = load_sst()
    model = make_model()
    ocean = sst.notnull().any("time")
    res = sst.sciml.fit(model, time_units="years", mask=ocean, strategy=OneStepAhead(), verbose=verbose)
    sim = sst.sciml.solve(model, params=res)
    fc = sst.sciml.forecast(model, 5.0, params=res, n=6)
    if out:
        res.sciml.to_netcdf(out)
    return res, sim, fc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the fit result to this NetCDF file (and its maps as PNG)")
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry; the fit is already small")
    args = parser.parse_args(argv)
    res, sim, fc = run(args.out)
    if args.out:
        try:
            from pysciml.plotting.backend import save_figure

            fig, _ = res.sciml.plot(["damping", "status", "rmse_sst"])
            save_figure(fig, str(args.out).rsplit(".", 1)[0] + ".png")
        except ImportError:
            pass  # no matplotlib: no picture
    sst = load_sst()
    d = res["damping"].values
    print(f"cells fitted: {res.attrs['cells_success']}, skipped (land): {res.attrs['cells_skipped']}, "
          f"failed: {res.attrs['cells_failed']}")
    q = np.nanpercentile(d, [10, 25, 50, 75, 90])
    print("damping [1/year], percentiles 10 25 50 75 90:", " ".join(f"{v:.3g}" for v in q))
    print("e-folding time [years], median:", f"{1 / np.nanmedian(d):.3g}")
    ar = ar1_damping(sst)
    both = np.isfinite(ar) & np.isfinite(d)
    print(f"AR(1) damping -log(r1), median: {np.nanmedian(ar):.3g} /year; rank correlation with the fitted map: "
          f"{_spearman(d[both], ar[both]):.2f}")
    rel = (res["rmse_sst"] / sst.std("time")).values
    print(f"RMSE / standard deviation of the anomalies, median over cells: {np.nanmedian(rel):.3f}")
    print("damping map (rows: latitude south to north, '.' = land, digits = damping in 1/year, capped at 9):")
    for row in d:
        print("  " + "".join("." if np.isnan(v) else str(int(min(9, v))) for v in row))
    if args.out:
        print(f"written: {args.out}")
    return 0


def _spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


if __name__ == "__main__":
    sys.exit(main())
