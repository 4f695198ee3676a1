"""Gridded per-cell work, side by side in one run: pysciml against a scipy loop over cells and
``xarray.curvefit``; a scaling curve (time and peak memory per size); dask.distributed overhead.

    python benchmarks/gridded.py [--sizes 100,1000,10000,100000] [--repeats 3] [--seasonal-cells 6000] [--quick]

* solve and fit on an 18 x 30 grid (540 cells) of ``dT/dt = -lam T + forcing`` (noisy
  data, 40 times): pysciml's vmapped, compiled batches vs ``scipy.integrate.solve_ivp``
  (RK45, same tolerances) in a loop over cells, and vs one vectorised ``solve_ivp`` over all
  cells at once (one shared step sequence, its error norm over every cell); the scipy fit
  (``least_squares`` around ``solve_ivp``) runs on 54 cells and is scaled to 540 (said so);
* a seasonal fit as a user runs it: a four-parameter model (relaxation at rate ``lam`` to
  ``mean`` plus annual forcing ``a cos + b sin``; the initial state fitted too) on 6,000
  cells (60 x 100) of monthly data (10 years), ``da.sciml.fit(model)`` with its progress
  bar, each in a fresh process: from process start to result, with a cold compile cache
  and again with the cache the first run left;
* a closed-form-equivalent model, ``dT/dt = -k T`` against ``xarray.curvefit`` of
  ``a exp(-k t)``: times and agreement of ``k``;
* scaling: each size fitted in a fresh process (after a warm-up fit that compiles);
  wall time of the fit, compile time, and the process's peak RSS;
* dask.distributed: ``LocalCluster(n_workers=2)`` vs in memory on the same data.

Timings are medians of ``--repeats`` runs after a compiling run (wall and CPU time: the
vmapped batches run on one core per worker thread, scipy on one core); compile time is
reported apart. The machine's load average is recorded: on shared machines timings
are noisy. Results: ``benchmarks/results/gridded.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
from timing import package_versions, results_folder

NT = 40
RTOL, ATOL = 1e-6, 1e-8


def relax(u, p, t, m):
    return -p.lam * u + p.forcing


def decay(u, p, t, m):
    return -p.k * u


def relax_model():
    import pysciml as ps

    return ps.ODEModel(relax, ["sst"], {"lam": ps.Param(0.05, bounds=(0, None), units="1/day"), "forcing": 0.0},
                       time_units="days")


def data(n_cells: int, seed: int = 0, noise: float = 0.02, nt: int = NT):
    """DataArray (time, y, x) of relax solutions plus noise on a near-square grid of ``n_cells``."""
    import xarray as xr

    ny = int(np.floor(np.sqrt(n_cells)))
    while n_cells % ny:
        ny -= 1
    nx = n_cells // ny
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.03, 0.1, (ny, nx))
    forcing = 0.05 * rng.standard_normal((ny, nx))
    T0 = rng.standard_normal((ny, nx))
    t = np.arange(nt) * 3.0
    eq = forcing / lam
    Y = eq + (T0 - eq) * np.exp(-lam * t[:, None, None]) + noise * rng.standard_normal((nt, ny, nx))
    da = xr.DataArray(Y, dims=("time", "y", "x"), coords={"time": t, "y": np.arange(ny), "x": np.arange(nx)},
                      name="sst")
    return da, {"lam": lam, "forcing": forcing, "T0": T0, "t": t}


def _medians(fn, repeats):
    """Median wall and CPU seconds over ``repeats`` calls after a warm-up (compiling) call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _median_time(fn, repeats):
    return _medians(fn, repeats)[0]


def _first_time(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# -- 18 x 30 grid: solve and fit against a scipy loop ------------------------------------------
def bench_540(repeats: int) -> dict:
    import xarray as xr
    from scipy.integrate import solve_ivp
    from scipy.optimize import least_squares

    import pysciml.cells  # noqa: F401

    model = relax_model()
    da, truth = data(540)
    t = truth["t"]
    lam = xr.DataArray(truth["lam"], dims=("y", "x"), coords={"y": da.y, "x": da.x})
    forcing = xr.DataArray(truth["forcing"], dims=("y", "x"), coords={"y": da.y, "x": da.x})
    u0 = xr.DataArray(truth["T0"], dims=("y", "x"), coords={"y": da.y, "x": da.x})
    solve = lambda: da.sciml.solve(model, params={"lam": lam, "forcing": forcing}, u0={"sst": u0},  # noqa: E731
                                   solver="tsit5", rtol=RTOL, atol=ATOL).values
    first, sim = _first_time(solve)
    t_solve, cpu_solve = _medians(solve, repeats)

    def scipy_solve():
        out = np.empty((t.size,) + truth["lam"].shape)
        for j, i in np.ndindex(truth["lam"].shape):
            lj, fj = truth["lam"][j, i], truth["forcing"][j, i]
            out[:, j, i] = solve_ivp(lambda tt, u: -lj * u + fj, (t[0], t[-1]), [truth["T0"][j, i]], t_eval=t,
                                     rtol=RTOL, atol=ATOL).y[0]
        return out

    t_scipy = _median_time(scipy_solve, max(1, repeats // 2))
    diff = float(np.max(np.abs(scipy_solve() - sim)))
    lam_v, f_v, y0_v = truth["lam"].ravel(), truth["forcing"].ravel(), truth["T0"].ravel()

    def scipy_vectorised():
        out = solve_ivp(lambda tt, u: -lam_v * u + f_v, (t[0], t[-1]), y0_v, t_eval=t, rtol=RTOL, atol=ATOL)
        return out.y.T.reshape((t.size,) + truth["lam"].shape)

    t_vec = _median_time(scipy_vectorised, repeats * 10)
    diff_vec = float(np.max(np.abs(scipy_vectorised() - sim)))

    fit = lambda: da.sciml.fit(model, verbose=0)  # noqa: E731
    first_fit, res = _first_time(fit)
    t_fit = _median_time(fit, repeats)

    def scipy_fit_cell(y):
        def resid(q):
            lj, fj, T0 = q
            return solve_ivp(lambda tt, u: -lj * u + fj, (t[0], t[-1]), [T0], t_eval=t, rtol=RTOL, atol=ATOL).y[0] - y
        return least_squares(resid, [0.05, 0.0, y[0]], bounds=([0, -np.inf, -np.inf], [np.inf, np.inf, np.inf]))

    cells = list(np.ndindex(truth["lam"].shape))[::10]  # 54 cells, scaled to 540
    t0 = time.perf_counter()
    ref = [scipy_fit_cell(da.values[:, j, i]) for j, i in cells]
    t_scipy_fit = (time.perf_counter() - t0) * 10
    ours = np.array([res["loss"].values[j, i] for j, i in cells])
    theirs = np.array([2 * r.cost / t.size / np.var(da.values[:, j, i]) for r, (j, i) in zip(ref, cells)])
    return {
        "cells": 540, "times": int(t.size),
        "solve": {"pysciml_s": t_solve, "pysciml_cpu_s": cpu_solve, "pysciml_first_s": first,
                  "scipy_loop_s": t_scipy, "speedup": t_scipy / t_solve, "max_abs_difference": diff,
                  "scipy_vectorised_s": t_vec, "speedup_vs_vectorised": t_vec / t_solve,
                  "max_abs_difference_vectorised": diff_vec},
        "fit": {"pysciml_s": t_fit, "pysciml_first_s": first_fit, "scipy_loop_s_scaled_from_54_cells": t_scipy_fit,
                "speedup": t_scipy_fit / t_fit, "optimizers": res.attrs["pysciml_options"],
                "loss_vs_scipy_median_relative": float(np.median((ours - theirs) / theirs)),
                "loss_vs_scipy_worst_relative": float(np.max((ours - theirs) / theirs))},
    }


# -- closed form: exponential decay vs xarray.curvefit ---------------------------------------------
def bench_curvefit(repeats: int) -> dict:
    import pysciml as ps
    import pysciml.cells  # noqa: F401

    da, truth = data(540)
    rng = np.random.default_rng(1)
    k = rng.uniform(0.03, 0.1, truth["lam"].shape)
    Y = truth["T0"] * np.exp(-k * truth["t"][:, None, None]) + 0.02 * rng.standard_normal(da.shape)
    da = da.copy(data=Y)
    model = ps.ODEModel(decay, ["sst"], {"k": ps.Param(0.05, bounds=(0, None))}, time_units="days")
    fit = lambda: da.sciml.fit(model, verbose=0)  # noqa: E731
    first, res = _first_time(fit)
    t_ours = _median_time(fit, repeats)
    cf = lambda: da.curvefit("time", lambda t, a, kk: a * np.exp(-kk * t), p0={"a": 1.0, "kk": 0.05})  # noqa: E731
    t_cf = _median_time(cf, max(1, repeats // 2))
    ref = cf()["curvefit_coefficients"].sel(param="kk").values
    return {"cells": 540, "pysciml_s": t_ours, "pysciml_first_s": first, "curvefit_s": t_cf, "ratio_curvefit_over_pysciml": t_cf / t_ours,
            "k_max_relative_difference": float(np.nanmax(np.abs(res["k"].values - ref) / ref)),
            "k_median_relative_difference": float(np.nanmedian(np.abs(res["k"].values - ref) / ref))}


# -- scaling: one fresh process per size -------------------------------------------------------
def child(n: int) -> dict:
    import pysciml.cells  # noqa: F401

    model = relax_model()
    small, _ = data(128, seed=5)
    t0 = time.perf_counter()
    small.sciml.fit(model, verbose=0)  # compiles the batch every size uses
    compile_s = time.perf_counter() - t0
    from pysciml.memory import peak_bytes, reset_peak

    rss_warm = peak_bytes()
    reset = reset_peak()  # the fit's own peak, not the warm-up's (nor a parent's: ru_maxrss is inherited)
    da, truth = data(n)
    t0 = time.perf_counter()
    res = da.sciml.fit(model, verbose=0)
    wall = time.perf_counter() - t0
    ok = res["status"].values == 0
    err = np.abs(res["lam"].values - truth["lam"])[ok]
    return {"cells": n, "fit_s": wall, "per_cell_ms": 1e3 * wall / n, "warmup_with_compile_s": compile_s,
            "peak_rss_mib": peak_bytes() / 2**20, "peak_measured_from": "warm-up end" if reset else "process start",
            "rss_after_warmup_mib": rss_warm / 2**20, "success": int(ok.sum()),
            "lam_median_abs_error": float(np.median(err)), "batch": res.attrs.get("cells_per_batch")}


def bench_scaling(sizes) -> list:
    out = []
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True)
        if proc.returncode != 0:
            out.append({"cells": n, "error": proc.stderr[-1500:]})
        else:
            out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print("  scaling", out[-1], flush=True)
    return out


# -- seasonal fit on 6,000 cells of monthly data, as a user runs it --------------------------------
NOISE = 0.2  # observation noise of the seasonal data


def seasonal(u, p, t, m):
    import jax.numpy as jnp

    w = 2 * np.pi / 365.25
    return -p.lam * (u - p.mean) + p.a * jnp.cos(w * t) + p.b * jnp.sin(w * t)


def seasonal_data(n_cells: int, seed: int = 0):
    """Monthly (10 years) noisy solutions of :func:`seasonal` on a grid of ``n_cells`` (lat x lon),
    and the true parameters: relaxation times 20 to 200 days, means 0 to 28, forcing +-0.1 per day."""
    import pandas as pd
    import xarray as xr

    import pysciml.cells  # noqa: F401

    ny = 60 if n_cells % 60 == 0 else int(np.floor(np.sqrt(n_cells)))
    while n_cells % ny:
        ny -= 1
    nx = n_cells // ny
    rng = np.random.default_rng(seed)
    grid = ("lat", "lon")
    truth = {"lam": rng.uniform(0.005, 0.05, (ny, nx)), "mean": rng.uniform(0.0, 28.0, (ny, nx)),
             "a": rng.uniform(-0.1, 0.1, (ny, nx)), "b": rng.uniform(-0.1, 0.1, (ny, nx))}
    time_ax = pd.date_range("2000-01-01", periods=120, freq="MS") + pd.Timedelta(days=14)
    coords = {"lat": np.linspace(-59.5, 59.5, ny), "lon": np.linspace(0.0, 360.0, nx, endpoint=False)}
    da = xr.DataArray(np.zeros((120, ny, nx)), dims=("time",) + grid, coords={"time": time_ax, **coords}, name="sst")
    model = seasonal_model()
    u0 = truth["mean"] + rng.standard_normal((ny, nx))
    sim = da.sciml.solve(model, params={k: xr.DataArray(v, dims=grid, coords=coords) for k, v in truth.items()},
                         u0={"sst": xr.DataArray(u0, dims=grid, coords=coords)}, solver="tsit5", rtol=1e-9, atol=1e-9)
    obs = (sim + NOISE * rng.standard_normal(sim.shape)).rename("sst").drop_vars("status")
    return obs, truth


def seasonal_model():
    import pysciml as ps

    return ps.ODEModel(seasonal, ["sst"], {"lam": ps.Param(0.02, bounds=(0, None), units="1/day"), "mean": 15.0,
                                           "a": 0.0, "b": 0.0}, time_units="days")


def seasonal_child(n: int) -> dict:
    """One fresh process: data, then ``da.sciml.fit(model)`` with its progress bar (on stderr)."""
    started = time.perf_counter()
    obs, truth = seasonal_data(n)
    data_s = time.perf_counter() - started
    from pysciml.memory import peak_bytes, reset_peak

    reset_peak()
    w0, c0 = time.perf_counter(), time.process_time()
    res = obs.sciml.fit(seasonal_model(), verbose=1)
    fit_s, fit_cpu = time.perf_counter() - w0, time.process_time() - c0
    ok = res["status"].values == 0
    errors = {k: float(np.median(np.abs(res[k].values - v)[ok])) for k, v in truth.items()}
    # the periodic steady state fixes only the annual cycle's amplitude and phase (lam, a and b trade off):
    # the fit is judged by its residuals against the noise (std NOISE) and by the annual response
    # |a + i b| / |lam + i w|, which the data do fix
    w = 2 * np.pi / 365.25
    amp = lambda p: np.hypot(p["a"], p["b"]) / np.hypot(p["lam"], w)  # noqa: E731
    fitted = {k: res[k].values for k in truth}
    rel_amp = np.abs(amp(fitted) - amp(truth))[ok] / amp(truth)[ok]
    rmse = res["rmse_sst"].values[ok] / NOISE
    return {"cells": n, "fit_s": fit_s, "fit_cpu_s": fit_cpu, "process_s": time.perf_counter() - started,
            "data_s": data_s, "peak_rss_mib": peak_bytes() / 2**20, "success": int(ok.sum()),
            "batch": res.attrs.get("cells_per_batch"), "median_abs_error": errors,
            "rmse_over_noise_median": float(np.median(rmse)), "rmse_within_10_percent_of_noise": float(
                np.mean(np.abs(rmse - 1) < 0.1)), "annual_amplitude_median_relative_error": float(np.median(rel_amp))}


def bench_seasonal(n: int) -> dict:
    """The seasonal fit in a fresh process with a cold compile cache, then in another with that cache."""
    import tempfile

    cache = tempfile.mkdtemp(prefix="pysciml-bench-seasonal-")
    out = {}
    for label in ("cold_cache", "warm_cache"):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--seasonal-child", str(n)], capture_output=True, text=True,
                              env={**os.environ, "PYSCIML_CACHE_DIR": cache})
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            out[label] = {"error": proc.stderr[-1500:]}
        else:
            out[label] = {**json.loads(proc.stdout.strip().splitlines()[-1]), "whole_process_s": wall,
                          "progress_bar_shown": "fit cells" in proc.stderr}
        print("  seasonal", label, out[label], flush=True)
    return out


# -- dask.distributed ----------------------------------------------------------------------------
def bench_distributed(n: int) -> dict:
    try:
        import distributed
    except ImportError:
        return {"skipped": "distributed is not installed"}
    import pysciml.cells  # noqa: F401

    model = relax_model()
    da, _ = data(n)
    da.sciml.fit(model, verbose=0)
    t0 = time.perf_counter()
    ref = da.sciml.fit(model, verbose=0)
    t_mem = time.perf_counter() - t0
    chunks = {"y": max(1, da.sizes["y"] // 8)}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        t0 = time.perf_counter()
        out = client.compute(da.chunk(chunks).sciml.fit(model, verbose=0)).result()
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = client.compute(da.chunk(chunks).sciml.fit(model, verbose=0)).result()
        t_second = time.perf_counter() - t0
    same = bool(np.array_equal(out["lam"].values, ref["lam"].values, equal_nan=True))
    return {"cells": n, "chunks": int(np.ceil(da.sizes["y"] / chunks["y"])), "in_memory_s": t_mem,
            "cluster_first_s_with_worker_compile": t_first, "cluster_second_s": t_second,
            "overhead_ratio_second": t_second / t_mem, "bitwise_identical": same}


def markdown(r: dict) -> str:
    lines = [
        "# Gridded benchmark (`benchmarks/gridded.py`)", "",
        f"Machine: {r['machine']}; load average at start {r['load_average']}; "
        f"{', '.join(f'{k} {v}' for k, v in r['versions'].items()) if r.get('versions') else 'versions not recorded'}. "
        f"Medians of {r['repeats']} runs after a compiling run; compile times apart.", "",
    ]
    if "grid_540" in r:
        lines += _grid_lines(r["grid_540"])
    if "curvefit" in r:
        lines += _curvefit_lines(r["curvefit"])
    if "scaling" in r:
        lines += _scaling_lines(r["scaling"])
    if "seasonal" in r:
        lines += _seasonal_lines(r["seasonal"])
    if "distributed" in r:
        lines += _distributed_lines(r["distributed"])
    return "\n".join(lines) + "\n"


def _grid_lines(g: dict) -> list:
    s, f = g["solve"], g["fit"]
    return [
        "## 18 x 30 grid (540 cells), `dT/dt = -lam T + forcing`, 40 times", "",
        "| task | pysciml | scipy loop | speed-up |", "|---|---|---|---|",
        f"| solve (rtol 1e-6) | {s['pysciml_s'] * 1e3:.1f} ms, CPU {s['pysciml_cpu_s'] * 1e3:.1f} ms (first call "
        f"{s['pysciml_first_s']:.1f} s) | {s['scipy_loop_s'] * 1e3:.0f} ms | {s['speedup']:.0f}x |",
        f"| fit | {f['pysciml_s']:.2f} s (first call {f['pysciml_first_s']:.1f} s) | "
        f"{f['scipy_loop_s_scaled_from_54_cells']:.1f} s (54 cells x 10) | {f['speedup']:.0f}x |", "",
        f"Solve: largest difference from scipy {s['max_abs_difference']:.1e}. Fit: loss relative to scipy's "
        f"`least_squares` in the same cells, median {f['loss_vs_scipy_median_relative']:.1e}, worst "
        f"{f['loss_vs_scipy_worst_relative']:.1e} (negative: pysciml lower).", "",
        f"One vectorised `solve_ivp` (RK45) over all 540 cells at once: {s['scipy_vectorised_s'] * 1e3:.1f} ms "
        f"(vectorised / pysciml = {s['speedup_vs_vectorised']:.2f}; largest difference from pysciml "
        f"{s['max_abs_difference_vectorised']:.1e}). It takes one step sequence for every cell, its error norm over "
        "all of them; pysciml gives each cell its own steps and its own error control. Times are wall times; scipy "
        "runs on one core, and pysciml's CPU time is given beside its wall time.", "",
    ]


def _curvefit_lines(c: dict) -> list:
    return [
        "## Closed form: `dT/dt = -k T` vs `xarray.curvefit` of `a exp(-k t)` (540 cells)", "",
        f"pysciml {c['pysciml_s']:.2f} s, curvefit {c['curvefit_s']:.2f} s (curvefit / pysciml = "
        f"{c['ratio_curvefit_over_pysciml']:.2f}); k agrees to {c['k_median_relative_difference']:.1e} (median), "
        f"{c['k_max_relative_difference']:.1e} (worst).", "",
    ]


def _scaling_lines(scaling: list) -> list:
    lines = [
        "## Scaling (fit, one fresh process per size)", "",
        "| cells | fit | per cell | peak RSS | cells fitted |", "|---|---|---|---|---|",
    ]
    for row in scaling:
        if "error" in row:
            lines.append(f"| {row['cells']} | error | | | |")
            continue
        lines.append(f"| {row['cells']:,} | {row['fit_s']:.1f} s | {row['per_cell_ms']:.2f} ms | "
                     f"{row['peak_rss_mib']:.0f} MiB | {row['success']:,} |")
    return lines


def _seasonal_lines(se: dict) -> list:
    lines = []
    if se:
        lines += ["", f"## Seasonal fit, {se['cold_cache'].get('cells', 0):,} cells of monthly data (10 years), "
                  "`da.sciml.fit(model)` as a user runs it", "",
                  "Model `dT/dt = -lam (T - mean) + a cos(w t) + b sin(w t)`, four parameters and the initial state "
                  "per cell; each run is a fresh process with the progress bar on; whole process = start to result.",
                  "", "| run | whole process | fit call (wall) | fit call (CPU) | peak RSS (fit) | cells fitted | "
                  "RMSE / noise (median) | annual response error (median) |", "|---|---|---|---|---|---|---|---|"]
        for label, row in se.items():
            if "error" in row:
                lines.append(f"| {label.replace('_', ' ')} | error | | | | | | |")
                continue
            lines.append(f"| {label.replace('_', ' ')} | {row['whole_process_s']:.1f} s | {row['fit_s']:.1f} s | "
                         f"{row['fit_cpu_s']:.1f} s | {row['peak_rss_mib']:.0f} MiB | {row['success']:,} | "
                         f"{row['rmse_over_noise_median']:.3f} | {100 * row['annual_amplitude_median_relative_error']:.1f} % |")
        err = next((row["median_abs_error"] for row in se.values() if "median_abs_error" in row), None)
        if err:
            lines += ["", "Median absolute errors against the true parameters: "
                      + ", ".join(f"{k} {v:.2g}" for k, v in err.items()) + ". The periodic steady state fixes only "
                      "the annual cycle's amplitude and phase, so lam, a and b trade off (lam is seen only in the "
                      "first months' relaxation): the fit is judged by its residuals against the noise and by the "
                      "annual response |a + ib| / |lam + iw|."]
    return lines


def _distributed_lines(d: dict) -> list:
    lines = []
    lines += ["", "## dask.distributed (LocalCluster, 2 worker processes)", ""]
    if "skipped" in d:
        lines.append(d["skipped"])
    else:
        lines.append(f"{d['cells']:,} cells in {d['chunks']} chunks: in memory {d['in_memory_s']:.1f} s; cluster "
                     f"{d['cluster_first_s_with_worker_compile']:.1f} s first (workers compile), "
                     f"{d['cluster_second_s']:.1f} s second (x{d['overhead_ratio_second']:.2f}); results bitwise "
                     f"identical in this run: {d['bitwise_identical']} (XLA does not promise bitwise equality across "
                     "processes: the test asserts 1e-9 relative).")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--distributed-cells", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--seasonal-cells", type=int, default=6000)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seasonal-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--only", default="", help="comma list of parts (grid,curvefit,scaling,seasonal,distributed)")
    ap.add_argument("--out", default=None, help="write the tables here instead of benchmarks/results")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    if args.seasonal_child:
        print(json.dumps(seasonal_child(args.seasonal_child)))
        return 0
    from pysciml.engines import get_engine

    get_engine("jax")
    if args.quick:
        args.sizes, args.repeats, args.distributed_cells, args.seasonal_cells = "100,1000", 1, 2000, 600
    sizes = [int(s) for s in args.sizes.split(",")]
    out = results_folder(args.out, args.quick)  # checked before the work: a loaded machine does not publish
    r = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
         "load_average": [round(v, 2) for v in os.getloadavg()], "repeats": args.repeats,
         "versions": package_versions("pysciml", "jax", "jaxlib", "diffrax", "numpy", "scipy", "xarray", "dask")}
    parts = set(args.only.split(",")) if args.only else {"grid", "curvefit", "scaling", "seasonal", "distributed"}
    previous = out / "gridded.json"
    if args.only and previous.exists():  # a partial run keeps the other parts of the last one
        r = {**json.loads(previous.read_text()), **r}
    if "grid" in parts:
        print("18 x 30 grid ...", flush=True)
        r["grid_540"] = bench_540(args.repeats)
        print(" ", r["grid_540"], flush=True)
    if "curvefit" in parts:
        print("curvefit ...", flush=True)
        r["curvefit"] = bench_curvefit(args.repeats)
        print(" ", r["curvefit"], flush=True)
    if "scaling" in parts:
        print("scaling ...", flush=True)
        r["scaling"] = bench_scaling(sizes)
    if "seasonal" in parts:
        print("seasonal ...", flush=True)
        r["seasonal"] = bench_seasonal(args.seasonal_cells)
    if "distributed" in parts:
        print("distributed ...", flush=True)
        r["distributed"] = bench_distributed(args.distributed_cells)
        print(" ", r["distributed"], flush=True)
    r["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    (out / "gridded.json").write_text(json.dumps(r, indent=2))
    (out / "gridded.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
