"""Robot-arm dynamics per state: pysciml (physics.SerialArm, jax, vmapped) vs pinocchio (one state per call).

The 7-joint Panda arm of example-robot-data (fingers welded), the same random states for both:
forward dynamics (ABA) and its derivatives with respect to q, v and tau (pysciml: ``jax.jacfwd``
under ``jax.vmap``, and ``SerialArm.forward_dynamics_derivatives``; pinocchio: ``computeABADerivatives``).  pinocchio is called from a Python
loop, one state per call (its API has no batch), so its per-state time includes the Python call.
Times per state: wall clock (headline) and process CPU time; pysciml's compile time apart.  The
results of the two are compared (max relative difference) in the same run.  MuJoCo / MJX are not
measured here (not installed).

Usage: python benchmarks/physics_mechanics.py [--quick] [--states N] [--out DIR]
Refuses to publish (exit 1, no files) when the 1-minute load average exceeds the core count,
unless --out names another folder (then the files say the machine was loaded).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from timing import best_of, cold_compile_cache, results_folder

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--states", type=int, default=10_000)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    n_states = 200 if args.quick else args.states
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    out = results_folder(args.out, args.quick)  # a loaded machine does not publish
    try:
        import pinocchio as pin

        dist = importlib.metadata.distribution("example-robot-data")
    except (ImportError, importlib.metadata.PackageNotFoundError):
        print("needs the bench extra: pip install 'pysciml[bench]' (pin, example-robot-data)", file=sys.stderr)
        return 1
    import jax

    from pysciml import physics as phys

    path = str(dist.locate_file("cmeel.prefix/share/example-robot-data/robots/panda_description/urdf/panda.urdf"))
    arm = phys.SerialArm.from_urdf(path, tip="panda_hand", damping=0.0)
    full = pin.buildModelFromUrdf(path)
    locked = [full.getJointId(n) for n in ("panda_finger_joint1", "panda_finger_joint2")]
    model = pin.buildReducedModel(full, locked, pin.neutral(full))
    data = model.createData()
    rng = np.random.default_rng(0)
    q, v, tau = (rng.normal(size=(n_states, arm.n)) for _ in range(3))

    fd = jax.jit(jax.vmap(arm.forward_dynamics))
    grad = jax.jit(jax.vmap(jax.jacfwd(arm.forward_dynamics, argnums=(0, 1, 2))))
    identity = jax.jit(jax.vmap(arm.forward_dynamics_derivatives))
    w = time.perf_counter()
    jax.block_until_ready(fd(q, v, tau))
    compile_fd = time.perf_counter() - w
    w = time.perf_counter()
    jax.block_until_ready(grad(q, v, tau))
    compile_grad = time.perf_counter() - w
    w_fd, c_fd, ours_fd = best_of(lambda: jax.block_until_ready(fd(q, v, tau)))
    w_gr, c_gr, ours_grad = best_of(lambda: jax.block_until_ready(grad(q, v, tau)))
    jax.block_until_ready(identity(q, v, tau))
    w_id, c_id, ours_id = best_of(lambda: jax.block_until_ready(identity(q, v, tau)))

    def pin_fd():
        return np.stack([pin.aba(model, data, q[k], v[k], tau[k]).copy() for k in range(n_states)])

    def pin_grad():
        rows = []
        for k in range(n_states):
            pin.computeABADerivatives(model, data, q[k], v[k], tau[k])
            rows.append((data.ddq_dq.copy(), data.ddq_dv.copy()))
        return rows

    pw_fd, pc_fd, theirs_fd = best_of(pin_fd)
    pw_gr, pc_gr, theirs_grad = best_of(pin_grad)
    agree_fd = float(np.abs(np.asarray(ours_fd) - theirs_fd).max() / np.abs(theirs_fd).max())
    dq = np.stack([r[0] for r in theirs_grad])
    agree_grad = float(np.abs(np.asarray(ours_grad[0]) - dq).max() / np.abs(dq).max())
    agree_id = float(np.abs(np.asarray(ours_id[0]) - dq).max() / np.abs(dq).max())
    per = 1e6 / n_states
    result = {
        "robot": "panda (7 joints)",
        "states": n_states,
        "load_average_at_start": load,
        "cores": cores,
        "loaded": bool(load > cores),
        "quick": args.quick,
        "pysciml": {
            "forward_dynamics_us_per_state": w_fd * per,
            "forward_dynamics_cpu_us_per_state": c_fd * per,
            "derivatives_us_per_state": w_gr * per,
            "derivatives_cpu_us_per_state": c_gr * per,
            "compile_s": {"forward_dynamics": compile_fd, "derivatives": compile_grad},
        },
        "pinocchio": {
            "version": pin.__version__,
            "forward_dynamics_us_per_state": pw_fd * per,
            "forward_dynamics_cpu_us_per_state": pc_fd * per,
            "derivatives_us_per_state": pw_gr * per,
            "derivatives_cpu_us_per_state": pc_gr * per,
        },
        "ratio_pinocchio_over_pysciml": {
            "forward_dynamics": pw_fd / w_fd,
            "derivatives": pw_gr / w_gr,
            "derivatives_by_identity": pw_gr / w_id,
        },
        "max_relative_difference": {
            "forward_dynamics": agree_fd,
            "d_qdd_d_q": agree_grad,
            "d_qdd_d_q_by_identity": agree_id,
        },
    }
    print(json.dumps(result, indent=2))
    out.mkdir(parents=True, exist_ok=True)
    (out / "physics_mechanics.json").write_text(json.dumps(result, indent=2))
    note = " (machine loaded: timings not representative, unpublished)" if result["loaded"] else ""
    md = [
        "# Robot-arm dynamics per state: pysciml vs pinocchio",
        "",
        f"Panda, 7 joints, {n_states} random states; load at start {load:.2f} on {cores} cores{note}.",
        "pinocchio is called once per state from Python; pysciml runs all states in one vmapped call.",
        "",
        "| | pysciml wall (cpu) us/state | pinocchio wall (cpu) us/state | pinocchio / pysciml | max rel. diff |",
        "| --- | --- | --- | --- | --- |",
        f"| forward dynamics (ABA) | {w_fd * per:.2f} ({c_fd * per:.2f}) | {pw_fd * per:.2f} ({pc_fd * per:.2f}) | "
        f"{pw_fd / w_fd:.2f} | {agree_fd:.1e} |",
        f"| ABA derivatives (q, v, tau) | {w_gr * per:.2f} ({c_gr * per:.2f}) | {pw_gr * per:.2f} ({pc_gr * per:.2f}) | "
        f"{pw_gr / w_gr:.2f} | {agree_grad:.1e} |",
        f"| ABA derivatives, `forward_dynamics_derivatives` | {w_id * per:.2f} ({c_id * per:.2f}) | {pw_gr * per:.2f} "
        f"({pc_gr * per:.2f}) | {pw_gr / w_id:.2f} | {agree_id:.1e} |",
        "",
        f"pysciml compile: {compile_fd:.2f} s (forward dynamics), {compile_grad:.2f} s (derivatives).",
    ]
    (out / "physics_mechanics.md").write_text("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
