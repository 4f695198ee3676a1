"""Airfoil design by gradients: a NACA 4-digit section with a target lift at the least pitching moment.

    python examples/airfoil_design.py [--quick] (--out airfoil_design.png)

Starts from the NACA 2412 and moves its camber, camber position and thickness (m, p, t) so that
Cl = 0.8 at 2 degrees with |Cm about c/4| as small as it can be, by L-BFGS-B with jax gradients
through the panel method.  The yardstick is the NACA x412 whose camber alone is raised to reach
the same lift (Newton's method on m, with the jax derivative).  Prints the three sections and a
JSON line; draws the sections, their pressure distributions and polars.  About 15 s, most of it
compiling (--quick: 100 panels).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from pysciml import physics as phys

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--out", default="airfoil_design.png")
args = ap.parse_args()

n_panels = 100 if args.quick else 200
alpha_design, cl_target = 2.0, 0.8
bounds = [(0.0, 0.09), (0.15, 0.7), (0.10, 0.15)]  # m, p, t


def coefficients(q):
    cl, cm = phys.panel_coefficients(phys.Airfoil.naca4(q[0], q[1], q[2], n_panels), alpha_design)
    return cl[0], cm[0]


def objective(q):
    cl, cm = coefficients(q)
    return 100.0 * (cl - cl_target) ** 2 + cm**2  # the lift as a stiff penalty, then the least moment


value_and_grad = jax.jit(jax.value_and_grad(objective))
q0 = np.array([0.02, 0.4, 0.12])  # NACA 2412
res = scipy.optimize.minimize(
    lambda q: [np.asarray(v, dtype=float) for v in value_and_grad(jnp.asarray(q))],
    q0, jac=True, method="L-BFGS-B", bounds=bounds,
)  # fmt: skip
q = res.x

# the yardstick: camber alone raised until Cl = 0.8 (p and t of the NACA 2412)
lift_of_camber = jax.jit(jax.value_and_grad(lambda m: coefficients(jnp.stack([m, 0.4, 0.12]))[0]))
m = 0.02
for _ in range(6):
    cl, dcl = lift_of_camber(m)
    m = float(m - (cl - cl_target) / dcl)
qc = np.array([m, 0.4, 0.12])

alphas = np.arange(-4.0, 11.0)
before = phys.panel_method(phys.Airfoil.naca4(*q0, n_panels), alphas)
after_foil = phys.Airfoil.naca4(*q, n_panels)
after = phys.panel_method(after_foil, alphas)
rows = {name: [float(v) for v in coefficients(jnp.asarray(x))] for name, x in
        [("NACA 2412", q0), ("camber only", qc), ("optimised", q)]}  # fmt: skip
print(f"{'':12s}{'m':>8s}{'p':>8s}{'t':>8s}{'Cl(2°)':>9s}{'Cm(2°)':>9s}")
for (name, (cl, cm)), x in zip(rows.items(), (q0, qc, q)):
    print(f"{name:12s}{x[0]:8.4f}{x[1]:8.3f}{x[2]:8.3f}{cl:9.4f}{cm:9.4f}")
print(json.dumps({"m": q[0], "p": q[1], "t": q[2], "cl_target": cl_target,
                  "cl_before": rows["NACA 2412"][0], "cm_before": rows["NACA 2412"][1],
                  "m_camber_only": qc[0], "cl_camber_only": rows["camber only"][0], "cm_camber_only": rows["camber only"][1],
                  "cl_after": rows["optimised"][0], "cm_after": rows["optimised"][1],
                  "iterations": int(res.nit), "success": bool(res.success)}))  # fmt: skip

try:
    import matplotlib.pyplot as plt
except ImportError:  # the figure is optional
    raise SystemExit(0) from None

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
camber_only = phys.panel_method(phys.Airfoil.naca4(*qc, n_panels), alphas)
for polar, x, label in [(before, q0, "NACA 2412"), (camber_only, qc, f"camber only, m={qc[0]:.3f}"),
                        (after, q, f"optimised, m={q[0]:.3f} p={q[1]:.2f} t={q[2]:.3f}")]:  # fmt: skip
    foil = phys.Airfoil.naca4(*x, n_panels)
    line = axes[0].plot(np.asarray(foil.x), np.asarray(foil.y), label=label)[0]
    cp = polar.Cp.sel(alpha=alpha_design)
    axes[1].plot(polar.x, cp, ".", ms=3, color=line.get_color(), label=label)
    axes[2].plot(polar.alpha, polar.Cl, color=line.get_color(), label=f"Cl, {label}")
    axes[2].plot(polar.alpha, polar.Cm, "--", color=line.get_color(), label=f"Cm (c/4), {label}")
axes[0].set_aspect("equal")
axes[0].set_title("sections")
axes[1].invert_yaxis()
axes[1].set(title=f"Cp at {alpha_design:g} deg", xlabel="x / c", ylabel="Cp")
axes[2].axhline(cl_target, color="gray", lw=0.5)
axes[2].set(title="inviscid polar", xlabel="angle of attack (deg)")
for ax in axes:
    ax.legend(fontsize=7)
fig.tight_layout()
out = Path(args.out)
fig.savefig(out / "airfoil_design.png" if out.is_dir() else out)  # a folder too (tools/build_gallery.py)
