"""``pysciml demo``: the flagship demonstration, on the jax engine by default.

1. Universal differential equation: Lotka–Volterra predator–prey data (40
   irregular, noisy samples) with the interaction terms unknown.  A neural
   network stands in for them, is fitted, read back as equations by sparse
   regression, and the discovered model is refitted as pure physics and
   forecast far beyond the data, against a pure neural ODE.
2. Stiff chemistry: Robertson's ROBER kinetics over 11 decades of time with our
   Rodas5P, plus exact sensitivities of the solution to the rate constants.
3. A gridded fit: the damping rate of SST anomalies fitted in every ocean cell
   (:mod:`pysciml.demos.sst`), drawn as a map.

Results go to NetCDF files (CF attributes) and PNG figures.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..io.files import write_netcdf
from ..ivp import sensitivity, solve
from ..model import UDE, NeuralODE, ODEModel
from ..networks import MLP
from ..plotting.backend import PlotExtraMissing, pyplot, save_figure
from ..plotting.cells import plot_maps
from ..solvers.rosenbrock.rodas5p import Rodas5P
from ..training.optimizers import LBFGS, Adam
from ..training.strategies import SingleShooting
from .sst import fit_sst

__all__ = ["run", "rober_model", "lotka_volterra_model", "lotka_volterra_ude", "lv_observations"]

LV_TRUE = {"alpha": 1.3, "beta": 0.9, "gamma": 0.8, "delta": 1.8}
LV_U0 = (0.44249296, 4.6280594)


def rober_model():
    """Robertson's stiff chemical kinetics (Hairer & Wanner II, ROBER)."""

    def rober(u, p, t, m):
        y1, y2, y3 = u
        return [
            -p.k1 * y1 + p.k3 * y2 * y3,
            p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2,
            p.k2 * y2**2,
        ]

    return ODEModel(
        rober, states=["y1", "y2", "y3"], params={"k1": 0.04, "k2": 3e7, "k3": 1e4}, name="rober", time_units="s"
    )


def lotka_volterra_model():
    """Lotka–Volterra predator–prey dynamics (all physics known)."""

    def lotka_volterra(u, p, t, m):
        prey, predator = u
        return [p.alpha * prey - p.beta * prey * predator, p.gamma * prey * predator - p.delta * predator]

    return ODEModel(lotka_volterra, states=["prey", "predator"], params=dict(LV_TRUE), name="lotka_volterra")


def _lv_missing_interactions(u, p, t, m):
    prey, predator = u
    f = p.nn(u)  # the unknown interaction terms, learned
    return [p.alpha * prey + f[0], -p.delta * predator + f[1]]


def lotka_volterra_ude(width: int = 32):
    """Lotka–Volterra with the interaction terms replaced by a network (the SciML tutorial setup)."""

    return UDE(
        _lv_missing_interactions,
        states=["prey", "predator"],
        params={"alpha": 1.3, "delta": 1.8},
        networks={"nn": MLP(2, 2, width=width, depth=2, activation="tanh")},
        name="lotka_volterra_ude",
    )


def lv_observations(n: int = 40, noise: float = 0.01, t_end: float = 5.0, seed: int = 0):
    """``(t, y)``: ``n`` irregular samples of the true system on ``[0, t_end]``, multiplicative noise."""

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, t_end, n))
    t[0] = 0.0
    sol = solve(lotka_volterra_model(), LV_U0, t, solver="tsit5", rtol=1e-11, atol=1e-12)
    return t, sol.u * (1.0 + noise * rng.standard_normal(sol.u.shape))


def _say(msg: str) -> None:
    print(msg, flush=True)


def _ude_part(out: Path, engine, quick: bool) -> dict:
    import xarray as xr

    t, y = lv_observations()
    _say("pysciml demo - 1/3: a universal differential equation (Lotka-Volterra, interactions unknown)")
    _say(
        f"  data: {len(t)} irregular samples on [0, 5] with 1% noise; prey' = 1.3 prey + nn[0], "
        "predator' = -1.8 predator + nn[1]"
    )
    fit_kw: dict[str, Any] = dict(verbose=0, engine=engine)
    if quick:
        fit_kw.update(optimizers=[Adam(1e-2, steps=600, schedule="cosine", final_fraction=0.1), LBFGS(steps=300)])
    ude = lotka_volterra_ude()
    t0 = time.perf_counter()
    ude.fit((t, y), fixed=["alpha", "delta"], seed=0, **fit_kw)
    _say(
        f"  fitted the network in {time.perf_counter() - t0:.1f} s ({ude.compile_seconds_:.1f} s compiling): "
        f"{ude.message_}"
    )
    eqs = ude.discover("nn", threshold=0.05)
    _say("  equations discovered in the network:")
    for line in str(eqs).splitlines():
        _say(f"    {line}")
    refit = cast(ODEModel, eqs.to_model())  # a UDE's equations give an ODEModel (UDE.with_physics)
    refit.fit((t, y), **{**fit_kw, "strategy": SingleShooting(), "optimizers": [LBFGS(steps=200)]})
    coefs = {k: v for k, v in refit.params_.items()}
    _say("  refitted as pure physics (value +/- Laplace standard error):")
    for k, v in coefs.items():
        _say(f"    {k} = {v:.4f} +/- {refit.param_std_.get(k, float('nan')):.4f}")
    node = NeuralODE(["prey", "predator"])
    node.fit((t, y), seed=0, **fit_kw)
    fc_refit = refit.forecast(5.0, n=201)
    fc_node = node.forecast(5.0, n=201)
    ts = fc_refit["time"].values
    truth = solve(lotka_volterra_model(), LV_U0, np.concatenate([[0.0], ts]), solver="tsit5", rtol=1e-11, atol=1e-12).u[
        1:
    ]
    mse = {
        name: float(np.mean((np.stack([fc["prey"].values, fc["predator"].values], 1) - truth) ** 2))
        for name, fc in (("discovered", fc_refit), ("neural ODE", fc_node))
    }
    _say(
        f"  forecast MSE on [5, 10]: discovered model {mse['discovered']:.3g}, pure neural ODE "
        f"{mse['neural ODE']:.3g} ({mse['neural ODE'] / mse['discovered']:.0f}x worse)"
    )
    fit_ds = ude.predict(np.linspace(0, 5, 101))
    ds = xr.Dataset(
        {
            "prey_obs": ("t_obs", y[:, 0]),
            "predator_obs": ("t_obs", y[:, 1]),
            "prey_fit": ("t_fit", fit_ds["prey"].values),
            "predator_fit": ("t_fit", fit_ds["predator"].values),
            "prey_forecast": ("t_forecast", fc_refit["prey"].values),
            "predator_forecast": ("t_forecast", fc_refit["predator"].values),
            "prey_forecast_node": ("t_forecast", fc_node["prey"].values),
            "predator_forecast_node": ("t_forecast", fc_node["predator"].values),
        },
        coords={"t_obs": t, "t_fit": fit_ds["time"].values, "t_forecast": ts},
        attrs={
            "title": "pysciml demo: Lotka-Volterra UDE, discovery and forecast",
            "discovered_equations": str(eqs),
            **{f"refit_{k}": v for k, v in coefs.items()},
        },
    )
    write_netcdf(ds, out / "lotka_volterra_ude.nc")
    refit.save(out / "lotka_volterra_discovered")
    return {
        "equations": str(eqs),
        "refit": coefs,
        "forecast_mse": mse,
        "plot": (t, y, fit_ds, fc_refit, fc_node, truth),
    }


def _stiff_part(out: Path, engine) -> dict:

    _say("pysciml demo - 2/3: stiff chemistry (ROBER) with Rodas5P, our Rosenbrock solver in JAX")
    rober = rober_model()
    saveat = np.concatenate([[0.0], np.logspace(-5, 5, 60)])
    kw: dict[str, Any] = dict(saveat=saveat, solver=Rodas5P(), rtol=1e-8, atol=1e-10, engine=engine)
    t0 = time.perf_counter()
    sol = solve(rober, [1.0, 0.0, 0.0], (0.0, 1e5), **kw)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol = solve(rober, [1.0, 0.0, 0.0], (0.0, 1e5), **kw)
    again = time.perf_counter() - t0
    _say(f"  {sol.message} First call {first:.2f} s (compiling), then {again * 1e3:.2f} ms.")
    _say(f"  y(1e5) = {np.array2string(sol.u[-1], precision=6)}; {sol.stats['nlu']} LU factorisations")
    sens = sensitivity(
        rober, [1.0, 0.0, 0.0], (0.0, 1e5), saveat=saveat, wrt=("k1", "k2", "k3"), solver=Rodas5P(), engine=engine
    )
    d = {k: sens["params"][k][-1, 2] for k in ("k1", "k2", "k3")}
    _say("  d y3(1e5) / d k = " + ", ".join(f"{k}: {v:.4g}" for k, v in d.items()))
    ds = sol.to_xarray()
    for k in ("k1", "k2", "k3"):
        ds[f"dy_d{k}"] = (("time", "state"), sens["params"][k])
    ds = ds.assign_coords(state=list(rober.state_names))
    write_netcdf(ds, out / "rober.nc")
    return {
        "status": sol.status.name,
        "y_final": sol.u[-1].tolist(),
        "seconds": again,
        "sensitivity_y3": d,
        "plot": sol,
    }


def _gridded_part(out: Path, engine, quick: bool) -> dict:
    _say("pysciml demo - 3/3: a gridded fit, the damping of SST anomalies in every ocean cell")
    t0 = time.perf_counter()
    da, model, res, source = fit_sst(quick, engine)
    d = res["damping"].values
    _say(
        f"  {source}: {res.attrs['cells_success']} cells fitted in {time.perf_counter() - t0:.1f} s; "
        f"damping median {np.nanmedian(d):.3g} /year"
    )
    res.sciml.to_netcdf(out / "sst_fit.nc")
    return {"cells": int(res.attrs["cells_success"]), "median_damping": float(np.nanmedian(d)), "plot": res}


def run(out_dir: str = "pysciml_demo", engine: str | None = None, quick: bool = False) -> dict:
    """Run the demo; returns a summary dict and writes NetCDF + PNG files into ``out_dir``.

    Args:
        out_dir: output directory (created).
        engine: ``"jax"`` (default) or ``"julia"``.
        quick: shorter training (for tests); the full run takes about a minute or two.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ude = _ude_part(out, engine, quick)
    stiff = _stiff_part(out, engine)
    gridded = _gridded_part(out, engine, quick)
    png = _plot(ude["plot"], stiff["plot"], gridded["plot"], out / "pysciml_demo.png")
    files = sorted(str(p) for p in out.iterdir())
    _say(f"done in {time.perf_counter() - t0:.0f} s; wrote {', '.join(Path(f).name for f in files)} into {out}")
    for part in (ude, stiff, gridded):
        part.pop("plot")
    return {"ude": ude, "rober": stiff, "gridded": gridded, "files": files, "png": str(png) if png else None}


def _plot(ude_plot, rober_sol, gridded_res, path: Path):
    try:
        plt = pyplot()
    except PlotExtraMissing as exc:
        _say(f"  (no PNG: {exc})")
        return None

    t, y, fit_ds, fc, fc_node, truth = ude_plot
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
    ax = axes[0]
    colors = {"prey": "tab:blue", "predator": "tab:orange"}
    for j, s in enumerate(("prey", "predator")):
        ax.plot(t, y[:, j], "o", ms=3.5, color=colors[s], label=f"{s} data")
        ax.plot(fit_ds["time"].values, fit_ds[s].values, "-", color=colors[s], lw=1.2)
        ax.plot(fc["time"].values, fc[s].values, "-", color=colors[s], lw=2, label=f"{s} discovered model")
        ax.plot(
            fc_node["time"].values,
            fc_node[s].values,
            ":",
            color=colors[s],
            lw=1.5,
            label=f"{s} neural ODE" if j == 0 else None,
        )
        ax.plot(fc["time"].values, truth[:, j], "--", color="k", lw=0.8, label="truth" if j == 0 else None)
    ax.axvline(t[-1], color="grey", lw=0.8)
    ax.set_xlabel("time")
    ax.set_title("UDE fit on [0, 5], forecast on [5, 10]")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    ts = rober_sol.t[1:]
    for name, scale in (("y1", 1.0), ("y2", 1e4), ("y3", 1.0)):
        ax.semilogx(ts, rober_sol[name][1:] * scale, label=name + (" x 1e4" if scale != 1 else ""))
    ax.set_xlabel("time (s)")
    ax.set_title("ROBER stiff kinetics, Rodas5P")
    ax.legend()
    plot_maps([gridded_res["damping"]], ax=axes[2])
    axes[2].set_title("damping of SST anomalies, fitted per cell")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path
