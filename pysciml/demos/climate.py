"""``pysciml demo climate``: an energy-balance climate model's equilibrium and its ice-albedo hysteresis.

``physics.EnergyBalance1D`` (the diffusive Budyko-Sellers / North model on latitude, climlab's
defaults) is brought to equilibrium for today's sun, then the solar constant is swept down and up
again: the ice edge jumps (the snowball bifurcation) at different values on the two branches.
Writes ``climate_equilibrium.nc``, ``climate_hysteresis.nc`` and ``climate.png``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..io.files import write_netcdf
from ..physics.climate.energy_balance import EnergyBalance1D
from ..plotting.backend import PlotExtraMissing, new_figure, save_figure

__all__ = ["run"]


def run(out_dir: str = "pysciml_demo", engine: str | None = None, quick: bool = False) -> dict:
    """Equilibrium and a hysteresis sweep; writes the files and returns a summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print("pysciml demo climate: a 1-D energy-balance model, its equilibrium and ice-albedo hysteresis", flush=True)
    ebm = EnergyBalance1D(n_lat=45 if quick else 90)
    t0 = time.perf_counter()
    eq = ebm.equilibrium()
    print(f"  equilibrium in {time.perf_counter() - t0:.1f} s: global mean {float(eq['global_mean']):.2f} degC, "
          f"ice edges {float(eq['ice_edge_south']):.1f} / {float(eq['ice_edge_north']):.1f} deg", flush=True)  # fmt: skip
    s0 = float(ebm.params()["S0"])
    values = np.linspace(1.0, 0.85, 7 if quick else 16) * s0
    t0 = time.perf_counter()
    loop = ebm.hysteresis(values, years=10.0 if quick else 20.0)
    print(
        f"  hysteresis sweep of S0 ({len(values)} values down and up) in {time.perf_counter() - t0:.1f} s", flush=True
    )
    files = [
        str(write_netcdf(eq, out / "climate_equilibrium.nc")),
        str(write_netcdf(loop, out / "climate_hysteresis.nc")),
    ]
    try:
        fig, (left, right) = new_figure(2, width=5.5, height=3.6)
        left.plot(eq["lat"], eq["temperature"], color="tab:red")
        left.axhline(-10.0, color="0.6", lw=0.8, ls=":")
        left.set(xlabel="latitude (deg)", ylabel="temperature (degC)", title="equilibrium, today's sun")
        for branch in loop["branch"].values:
            sel = loop.sel(branch=branch)
            right.plot(sel["S0"], sel["global_mean"], "o-", ms=3, label=str(branch))
        right.set(xlabel="solar constant S0 (W m-2)", ylabel="global mean (degC)", title="hysteresis")
        right.legend(fontsize=8)
        files.append(str(save_figure(fig, out / "climate.png")))
    except PlotExtraMissing as exc:
        print(f"  (no PNG: {exc})", flush=True)
    print(f"  wrote {', '.join(Path(f).name for f in files)} into {out}", flush=True)
    return {"global_mean": float(eq["global_mean"]), "converged": int(eq.attrs["converged"]), "files": files}
