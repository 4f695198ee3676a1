"""Molecular dynamics: a Lennard-Jones liquid under a Langevin thermostat, then force matching —
recover sigma and epsilon from noisy forces of sampled configurations by gradients through jax.

    python examples/md_force_matching.py [--quick] [--out DIR]

Writes DIR/md_force_matching.png (energies and temperature over time; fitted against reference
forces) and prints a JSON line with the recovered parameters.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pysciml import physics as phys

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--out", default=".")
args = ap.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# 1. the "true" liquid: LJ (sigma 1.05, epsilon 0.9), NVT at T = 1.2 from an fcc crystal
true = phys.LennardJones(sigma=1.05, epsilon=0.9, r_cut=2.5, shift=True)
atoms = phys.fcc_lattice(108 if args.quick else 256, density=0.75, temperature=1.2, seed=0)
steps = 1000 if args.quick else 4000
traj = phys.run_md(true, atoms, steps=steps, dt=0.004, thermostat=phys.Langevin(1.2, friction=1.0), save_every=50)

# 2. reference forces of the last three saved configurations, with 2 % noise
rng = np.random.default_rng(1)
positions = traj["position"].values[-3:]
forces = [np.asarray(true.forces(q, atoms.box)) for q in positions]
noisy = [f + rng.normal(0.0, 0.02 * f.std(), f.shape) for f in forces]

# 3. force matching from sigma = epsilon = 1
fitted, res = phys.fit_forces(phys.LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5), positions, noisy, atoms.box)
model = np.asarray(fitted.forces(positions[-1], atoms.box))

try:
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    t = traj["time"].values
    a1.plot(t, traj["potential_energy"] / atoms.n, label="potential / atom")
    a1.plot(t, traj["total_energy"] / atoms.n, label="total / atom")
    a1.plot(t, traj["temperature"], label="temperature")
    a1.set_xlabel(f"time [{traj['time'].attrs['units']}]")
    a1.legend()
    a2.scatter(noisy[-1].ravel(), model.ravel(), s=3)
    lim = np.abs(noisy[-1]).max()
    a2.plot([-lim, lim], [-lim, lim], "k--", lw=0.8)
    a2.set_xlabel("noisy reference force")
    a2.set_ylabel("fitted model force")
    a2.set_title(f"sigma {fitted.sigma:.4f} (1.05), epsilon {fitted.epsilon:.4f} (0.9)")
    fig.tight_layout()
    fig.savefig(out / "md_force_matching.png", dpi=90)
except ImportError:
    pass

print(
    json.dumps(
        {
            "sigma": fitted.sigma,
            "epsilon": fitted.epsilon,
            "sigma_true": 1.05,
            "epsilon_true": 0.9,
            "iterations": int(res.nit),
            "mean_temperature": float(traj["temperature"].values[5:].mean()),
            "n_atoms": atoms.n,
        }
    )
)
