"""Unmodelled joint friction on a robot arm: learn it with a UDE, then read it back as an equation.

A one-rod arm (1 kg, 1 m, pivot at one end) is released 2.2 rad from hanging and swings under
gravity with a joint friction ``tau_f(v) = -0.4 v - 0.05 v^3`` that the known physics
(``physics.SerialArm`` without friction) lacks.  From noisy joint angles and speeds (5 mrad,
5 mrad/s) a UDE learns the missing torque with a small network of the joint speed::

    q' = v,    v' = forward_dynamics(q, v, tau = nn(v))

then ``model.discover("nn")`` runs sparse regression on polynomials of ``v`` up to degree 3 and
keeps the linear and cubic terms.  Writes DIR/arm_friction_ude.png (data and fits, the learned
torque against the true one and the equation, the arm's swing) and prints a JSON line with the
figures.

    python examples/arm_friction_ude.py [--quick] [--out DIR]

Full size (10 s of data, longer training): about 40 s on 2 shared cores; ``--quick`` (6 s of
data): about 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import jax.numpy as jnp
import numpy as np

import pysciml as ps
from pysciml import physics as phys

TRUE_LINEAR, TRUE_CUBIC = 0.4, 0.05
ARM = phys.SerialArm.planar(lengths=[1.0], masses=[1.0])


def friction(v):
    """The hidden joint friction (N m) at joint speed ``v`` (rad/s)."""
    return -TRUE_LINEAR * v - TRUE_CUBIC * v**3


def with_network(u, p, t, m):
    """Known rigid-body physics; the joint torque is a network of the joint speed."""
    q, v = jnp.reshape(u[0], (1,)), jnp.reshape(u[1], (1,))
    return [u[1], ARM.forward_dynamics(q, v, jnp.reshape(p.nn(v), (1,)))[0]]


def frictionless(u, p, t, m):
    """What we would simulate without the UDE: no friction at all."""
    q, v = jnp.reshape(u[0], (1,)), jnp.reshape(u[1], (1,))
    return [u[1], ARM.forward_dynamics(q, v, jnp.zeros(1))[0]]


def main(quick: bool, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    # 1. the truth and noisy measurements
    t_end = 6.0 if quick else 10.0
    t = np.linspace(0.0, t_end, int(20 * t_end) + 1)
    u0 = ARM.state([-np.pi / 2 + 2.2])
    truth = ps.solve(ARM.model(torque=lambda tt, q, v: friction(v)), u0, (0.0, t_end), saveat=t, rtol=1e-10, atol=1e-10)
    exact = np.asarray(truth.u)
    y = exact + 0.005 * np.random.default_rng(0).standard_normal(exact.shape)

    # 2. the UDE: a collocation warm start (no ODE solves), then L-BFGS through the solves
    model = ps.UDE(with_network, states=["q", "v"], params={},
                   networks={"nn": ps.MLP(1, 1, width=16, depth=2, activation="tanh", inputs=("v",))})  # fmt: skip
    model.fit((t, y), strategy=ps.Collocation(steps=1000), optimizers=[ps.LBFGS(steps=400 if quick else 800)],
              seed=0, verbose=0)  # fmt: skip

    # 3. what the network learned, and as an equation
    X, Y = model.network_samples("nn")
    v = X[:, 0]
    torque_error = float(np.sqrt(np.mean((Y[:, 0] - friction(v)) ** 2)) / np.sqrt(np.mean(friction(v) ** 2)))
    eqs = model.discover("nn", library=ps.Polynomial(degree=3), threshold=0.05)
    terms = {f.name: float(c) for f, c in eqs.terms(0)}

    # 4. trajectories: the UDE and the frictionless model against the truth
    ude = np.stack([model.predict(t)[s].values for s in ("q", "v")], axis=1)
    bare = np.asarray(ps.solve(ps.ODEModel(frictionless, states=["q", "v"], params={}), u0, (0.0, t_end), saveat=t).u)
    rms_ude = float(np.sqrt(np.mean((ude - exact) ** 2)))
    rms_bare = float(np.sqrt(np.mean((bare - exact) ** 2)))

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        ax = axes[0]
        ax.plot(t, y[:, 0], ".", ms=3, color="C0", label="measured angle")
        ax.plot(t, ude[:, 0], "-", color="C0", lw=1.2, label="UDE")
        ax.plot(t, bare[:, 0], ":", color="C3", lw=1.2, label="no friction")
        ax.set(xlabel="time (s)", ylabel="joint angle (rad)", title="data and fits")
        ax.legend(fontsize=8)
        ax = axes[1]
        vv = np.linspace(v.min(), v.max(), 200)
        ax.plot(vv, friction(vv), "k-", lw=2, alpha=0.4, label="true friction")
        ax.plot(v, Y[:, 0], ".", ms=3, color="C0", label="network along the fit")
        ax.plot(vv, sum(c * vv ** (3 if n == "v^3" else 1) for n, c in terms.items() if n in ("v", "v^3")),
                "--", color="C1", label=str(eqs).split("=", 1)[1].strip())  # fmt: skip
        ax.set(xlabel="joint speed v (rad/s)", ylabel="torque (N m)", title="learned torque")
        ax.legend(fontsize=8)
        ARM.plot(truth, frames=6, ax=axes[2], title="")
        axes[2].set_title("the swing (true motion)")
        fig.tight_layout()
        fig.savefig(out / "arm_friction_ude.png", dpi=90)
        plt.close(fig)
    except ImportError:
        pass

    return {
        "status": model.status_.name,
        "torque_rel_rms_error": torque_error,
        "discovered": terms,
        "equation": str(eqs),
        "rms_ude": rms_ude,
        "rms_frictionless": rms_bare,
        "true": {"v": -TRUE_LINEAR, "v^3": -TRUE_CUBIC},
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 s of data and shorter training")
    ap.add_argument("--out", default="arm_friction_output", help="output folder")
    args = ap.parse_args()
    result = main(args.quick or os.environ.get("PYSCIML_EXAMPLE_QUICK") == "1", Path(args.out))
    print(json.dumps(result))
