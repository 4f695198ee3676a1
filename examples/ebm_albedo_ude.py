"""Learn the ice-albedo feedback of an energy-balance model with a network, then find its form.

    python examples/ebm_albedo_ude.py [--quick] (--out ebm_albedo_ude.png)

Synthetic "observations": zonal-mean temperatures (18 latitude cells, 3 years from the model's
default start T0 + T2 P2(sin lat), noise 0.05 K) of an energy-balance model whose albedo jumps
smoothly from 0.3 to 0.62 below -10 degC (``0.16 (1 - tanh((T + 10) / 3))``, uniform in latitude,
a2 = 0).  A universal differential equation keeps the known physics (diffusion, outgoing
longwave, insolation) and replaces the albedo's temperature dependence by a network of
``(T - Tf) / 10 K`` (``EnergyBalance1D.ude()``), fitted through the stiff solver.  Its form is then found by fitting ``c (1 - tanh((T - T1) / w))``
to the learned curve over the observed temperatures.  Prints a JSON line; draws the learned and
true albedo and the fit to ``--out``.
"""

from __future__ import annotations

import argparse
import json

import matplotlib
import numpy as np
import scipy.optimize

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import pysciml as ps  # noqa: E402
from pysciml import physics as phys  # noqa: E402
from pysciml.physics.climate.energy_balance import ALBEDO_INPUT_SCALE  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--out", default="ebm_albedo_ude.png")
args = ap.parse_args()

truth = phys.EnergyBalance1D(n_lat=18, a2=0.0, albedo_width=3.0)
t = np.linspace(0.0, 3.0, 31)
clean = truth.simulate(t).values
rng = np.random.default_rng(0)
observed = clean + 0.05 * rng.standard_normal(clean.shape)

model = truth.ude(ps.MLP(1, 1, width=16, depth=2, last_layer_scale=0.1))
steps = (60, 20) if args.quick else (600, 200)
model.fit(
    (t, observed),
    u0=clean[0],
    fit_u0=False,
    optimizers=[ps.Adam(1e-2, steps=steps[0]), ps.LBFGS(steps=steps[1])],
    solver=ps.Rodas5P(),
    verbose=0,
)

net, theta = model.networks["albedo_nn"], model.network_params_["albedo_nn"]
T_grid = np.linspace(observed.min(), observed.max(), 200)
learned = net.apply_numpy(theta, ((T_grid - truth.Tf) / ALBEDO_INPUT_SCALE)[:, None])[:, 0]
true_curve = (truth.ai - truth.a0) * 0.5 * (1.0 - np.tanh((T_grid - truth.Tf) / truth.albedo_width))


def tanh_step(T, c, T1, w):
    return c * (1.0 - np.tanh((T - T1) / w))


(c, T1, w), _ = scipy.optimize.curve_fit(tanh_step, T_grid, learned, p0=(0.1, -5.0, 5.0), maxfev=20000)
refit = ps.solve(model, clean[0], t, params={**model.params_, **model.network_params_}, solver=ps.Rodas5P())
rmse_T = float(np.sqrt(np.mean((refit.u - clean) ** 2)))
print(
    json.dumps(
        {
            "status": getattr(model.status_, "name", str(model.status_)),
            "loss": float(model.loss_history_[-1]),
            "albedo_rmse": float(np.sqrt(np.mean((learned - true_curve) ** 2))),
            "temperature_rmse": rmse_T,
            "discovered": {"jump": 2 * c, "T_freeze": T1, "width": w},
            "true": {"jump": truth.ai - truth.a0, "T_freeze": truth.Tf, "width": truth.albedo_width},
        }
    )
)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(T_grid, true_curve, "k", label="true albedo change")
ax.plot(T_grid, learned, "tab:orange", label="network")
ax.plot(T_grid, tanh_step(T_grid, c, T1, w), "tab:blue", ls=":", label=f"tanh fit: jump {2 * c:.2f}, {T1:.1f} degC")
ax.set_xlabel("temperature (degC)")
ax.set_ylabel("albedo - (a0 + a2 P2)")
ax.legend()
fig.tight_layout()
fig.savefig(args.out)
