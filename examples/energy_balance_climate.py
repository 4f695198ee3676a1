"""Energy-balance climate: the 1-D diffusive model on latitude with the ice-albedo feedback, its
snowball hysteresis loop in the solar constant, and the two-box global-mean model.

    python examples/energy_balance_climate.py [--quick] (--out energy_balance.png)

1. The equilibrium of the default model (climlab's ``EBM()`` parameters): temperature against
   latitude with the ice caps, the global mean and the ice edge.
2. The sensitivity of the global mean to the solar constant by ``jax.grad`` through the stiff
   solve (smooth ice albedo, so the ice edge moves with S0).
3. The hysteresis loop: sweep S0 down and back up, each equilibrium continued from the last.
4. The two-box model's response to an abrupt quadrupling of CO2 against its exact solution.

Prints a JSON line with the figures; draws the three panels to ``--out``.
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pysciml import physics as phys  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--out", default="energy_balance.png")
args = ap.parse_args()

# 1. the equilibrium: xarray with temperature(lat) in degC, the ice edges and the global mean
ebm = phys.EnergyBalance1D(n_lat=90, diffusivity=0.555)
eq = ebm.equilibrium()

# 2. d(global mean)/d(S0) after 30 years (at equilibrium), by reverse mode through ps.solve
smooth = ebm.replace(n_lat=30, albedo_width=2.0)
w = jnp.asarray(smooth.weights)
dT_dS0 = float(jax.grad(lambda S0: smooth.trajectory(np.array([0.0, 30.0]), params={"S0": S0}).u[-1] @ w)(ebm.S0))

# 3. the hysteresis loop in S0 (dimensions branch x S0)
S0 = np.arange(1200.0, 1951.0, 50.0 if args.quick else 10.0)
loop = ebm.hysteresis(S0)
snow_up = loop.ice_edge_north.sel(branch="increasing").values == 0.0
snow_down = loop.ice_edge_north.sel(branch="decreasing").values == 0.0
bistable = S0[(~snow_down) & snow_up]

# 4. the two-box model (Geoffroy et al. 2013b multi-model mean), abrupt 4xCO2
box = phys.TwoBox(forcing=7.4)
years = np.linspace(0.0, 300.0, 301)
response = box.simulate(years)
box_error = float(np.abs(response["T"].values - box.exact(years)[:, 0]).max())

print(
    json.dumps(
        {
            "global_mean": float(eq.global_mean),
            "ice_edge": float(eq.ice_edge_north),
            "dTmean_dS0": dT_dS0,
            "bistable_S0": [float(bistable.min()), float(bistable.max())] if bistable.size else None,
            "two_box_max_error": box_error,
            "two_box_timescales": list(box.timescales()),
        }
    )
)

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
ax = axes[0]
eq.temperature.plot(ax=ax, color="k")
for edge in (float(eq.ice_edge_south), float(eq.ice_edge_north)):
    ax.axvline(edge, color="tab:blue", ls="--")
ax.axvspan(-90, float(eq.ice_edge_south), color="tab:blue", alpha=0.15, label="ice")
ax.axvspan(float(eq.ice_edge_north), 90, color="tab:blue", alpha=0.15)
ax.axhline(ebm.Tf, color="gray", lw=0.8)
ax.set_title(f"equilibrium: mean {float(eq.global_mean):.2f} degC, ice edge {float(eq.ice_edge_north):.0f} deg")
ax.set_xlabel("latitude (degrees north)")
ax.set_ylabel("temperature (degC)")
ax.legend()
ax = axes[1]
for branch, style in (("decreasing", "o-"), ("increasing", "s--")):
    ax.plot(S0, loop.global_mean.sel(branch=branch), style, ms=3, label=f"S0 {branch}")
ax.set_xlabel("solar constant S0 (W m-2)")
ax.set_ylabel("global mean temperature (degC)")
ax.set_title("snowball hysteresis")
ax.legend()
ax = axes[2]
ax.plot(years, response["T"], label="surface T")
ax.plot(years, response["T0"], label="deep ocean T0")
ax.plot(years, box.exact(years)[:, 0], "k:", label="exact")
ax.axhline(box.equilibrium_warming(), color="gray", lw=0.8)
ax.set_xlabel("years after abrupt 4xCO2")
ax.set_ylabel("warming (K)")
ax.set_title("two-box model")
ax.legend()
fig.tight_layout()
fig.savefig(args.out)
