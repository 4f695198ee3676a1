"""2-D Navier–Stokes: a Kolmogorov-forced flow, then 4D-Var — recover the viscosity and the initial
vorticity from sparse, noisy observations of the later flow by gradients through the solver.

    python examples/navier_stokes_inverse.py [--quick] [--out navier_stokes.png]

The initial field is sought in the span of the Fourier modes |k| <= 3 (a smoothness prior: 48 point
observations cannot determine a full 32 x 32 field).  Prints a JSON line with the recovered values.
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from pysciml import physics as phys

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--out", default="navier_stokes.png")
args = ap.parse_args()

# 1. a forced flow, returned as xarray (time, y, x)
n_fwd = 32 if args.quick else 128
x = np.arange(n_fwd) * 2 * np.pi / n_fwd
X, Y = np.meshgrid(x, x, indexing="xy")
w_start = np.sin(2 * X) * np.cos(Y) + 0.5 * np.cos(3 * X + Y)
forced = phys.NavierStokes2D(n=n_fwd, viscosity=1e-3, drag=0.1, forcing=phys.Kolmogorov(k=4))
snapshots = forced.simulate(w_start, np.linspace(0, 2 if args.quick else 10, 5))

# 2. the inverse problem
n = 32
rng = np.random.default_rng(1)
x = np.arange(n) * 2 * np.pi / n
X, Y = np.meshgrid(x, x, indexing="xy")
modes = [(a, b) for a in range(-3, 4) for b in range(-3, 4) if (a, b) > (0, 0) and a * a + b * b <= 9]
basis = np.array([f(a * X + b * Y) for a, b in modes for f in (np.cos, np.sin)])
w0_true = np.tensordot(rng.standard_normal(len(basis)), basis, 1)
nu_true = 0.03
t = np.linspace(0.0, 1.0, 5)
flow = phys.NavierStokes2D(n=n, viscosity=nu_true, dt=0.04)
w_true = np.asarray(flow.trajectory(w0_true, t))
iy, ix = np.unravel_index(rng.choice(n * n, 48, replace=False), (n, n))
sigma = 0.02 * w_true[2:, iy, ix].std()
obs = w_true[2:, iy, ix] + sigma * rng.standard_normal((3, 48))
B = jnp.asarray(basis)


def misfit(theta):
    w = flow.replace(viscosity=jnp.exp(theta[0])).trajectory(jnp.tensordot(theta[1:], B, 1), t)
    return 0.5 * jnp.mean((w[2:, iy, ix] - obs) ** 2) / sigma**2


vg = jax.jit(jax.value_and_grad(misfit))
res = scipy.optimize.minimize(
    lambda th: [np.asarray(a, float) for a in vg(jnp.asarray(th))],
    np.concatenate([[np.log(0.01)], np.zeros(len(basis))]), jac=True, method="L-BFGS-B",
)  # fmt: skip
nu = float(np.exp(res.x[0]))
w0 = np.tensordot(res.x[1:], basis, 1)
err = float(np.linalg.norm(w0 - w0_true) / np.linalg.norm(w0_true))
print(json.dumps({"nu_true": nu_true, "nu": nu, "w0_relative_error": err, "iterations": int(res.nit)}))

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(2, 5, figsize=(15, 6))
for ax, (k, frame) in zip(axes[0], enumerate(snapshots)):
    ax.imshow(frame, origin="lower", cmap="RdBu_r")
    ax.set_title(f"forced flow, t = {float(snapshots.time[k]):.1f} s")
for ax, (field, title) in zip(axes[1], [(w0_true, "true w0"), (w0, f"recovered w0 (nu = {nu:.4f})"),
                                        (w0 - w0_true, "error"), (w_true[-1], "true w(t=1)")]):  # fmt: skip
    ax.imshow(field, origin="lower", cmap="RdBu_r")
    ax.set_title(title)
axes[1, 3].plot(ix, iy, "k.", ms=3)
axes[1, 4].axis("off")
fig.tight_layout()
fig.savefig(args.out)
