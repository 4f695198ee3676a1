"""Robot-arm dynamics per state: pysciml (physics.SerialArm, jax, vmapped) vs pinocchio, MuJoCo and MJX.

The 7-joint Panda arm of example-robot-data (fingers welded, no joint damping), the same random
states for all: forward dynamics and its derivatives with respect to q, v and tau.

* pysciml: ABA, ``jax.jacfwd`` of it and ``SerialArm.forward_dynamics_derivatives``, all states in
  one ``jax.vmap``-ed call.
* pinocchio: ``aba`` and ``computeABADerivatives`` (analytical), one state per call from a Python
  loop (its API has no batch), so its per-state time includes the Python call.
* MuJoCo, the same arm written as MJCF (``tests/helpers/arm_mjcf.py``: no contacts, no limits, one
  motor per joint): ``mj_forward`` per state from a Python loop (qpos, qvel, qfrc_applied set,
  ``qacc`` read), and ``mujoco.batch.Batch.forward`` over all states on its thread pool (one
  thread per CPU, its default).  MuJoCo has no analytical derivatives of ``qacc``: its documented
  derivative is ``mjd_transitionFD``, finite differences of one step; with the explicit Euler
  integrator and a 1 s timestep the velocity rows of its ``A`` and ``B`` are
  ``d qacc / d q``, ``I + d qacc / d v`` and ``d qacc / d ctrl`` (ctrl = tau), timed per state
  from a Python loop with centred and with forward differences (eps 1e-6).
* MJX (``mujoco.mjx``, the ``mujoco-mjx`` package), when it imports: ``mjx.forward`` under
  ``jax.jit(jax.vmap(...))`` and its ``jax.jacrev``: on this CPU, ``jax.jacfwd`` of it under
  ``jax.vmap`` took 17 ms per state at 200 states, and at 2,000 states sat for 10 minutes with the
  CPU idle before it was stopped (a loaded 2-core machine).  MJX runs in calls of ``MJX_CHUNK``
  states: one ``jax.vmap``-ed ``mjx.forward`` + ``jax.jacrev`` call over all 10,000 states hung
  on a quiet machine too (the XLA CPU executable waiting with every thread idle, seen in gdb, 11
  minutes), while 200-state calls run.

Times per state: wall clock (headline) and process CPU time; compile times apart.  Every peer's
results are compared with pysciml's (max relative difference) in the same run.

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
from timing import best_of, cold_compile_cache, first_call, results_folder

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
        import mujoco
        import pinocchio as pin
        from mujoco import batch as mj_batch

        dist = importlib.metadata.distribution("example-robot-data")
    except (ImportError, importlib.metadata.PackageNotFoundError):
        print("needs the bench extra: pip install 'pysciml[bench]' (pin, example-robot-data, mujoco)", file=sys.stderr)
        return 1
    import jax

    from pysciml import physics as phys

    sys.path.insert(0, str(ROOT / "tests"))  # the MJCF writer lives with the tests that check it
    from helpers.arm_mjcf import serial_arm_mjcf

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
    agree_fd = _rel(ours_fd, theirs_fd)
    dq = np.stack([r[0] for r in theirs_grad])
    agree_grad = _rel(ours_grad[0], dq)
    agree_id = _rel(ours_id[0], dq)
    per = 1e6 / n_states

    # MuJoCo: the same arm; Euler with a 1 s step makes qvel_next = qvel + qacc in mjd_transitionFD
    mj_model = mujoco.MjModel.from_xml_string(serial_arm_mjcf(arm, integrator="Euler", timestep=1.0))
    mj_data = mujoco.MjData(mj_model)

    def mj_loop():
        out = np.empty((n_states, arm.n))
        mj_data.ctrl[:] = 0.0
        for k in range(n_states):
            mj_data.qpos[:], mj_data.qvel[:], mj_data.qfrc_applied[:] = q[k], v[k], tau[k]
            mujoco.mj_forward(mj_model, mj_data)
            out[k] = mj_data.qacc
        return out

    sims = mj_batch.Batch(mj_model, nsim=n_states)  # nthread 0: one thread per CPU

    def mj_batched():
        sims.qpos[:], sims.qvel[:], sims.qfrc_applied[:] = q, v, tau
        sims.forward()
        return sims.bind("qacc").copy()

    def mj_transition(centred):
        a_mat, b_mat = np.zeros((2 * arm.n, 2 * arm.n)), np.zeros((2 * arm.n, arm.n))
        n = arm.n
        dq_out = np.empty((n_states, n, n))
        mj_data.qfrc_applied[:] = 0.0
        for k in range(n_states):
            mj_data.qpos[:], mj_data.qvel[:], mj_data.ctrl[:] = q[k], v[k], tau[k]
            mujoco.mjd_transitionFD(mj_model, mj_data, 1e-6, centred, a_mat, b_mat, None, None)
            dq_out[k] = a_mat[n:, :n]  # d qacc / d q (the d v and d tau blocks come with it)
        return dq_out

    mw_fd, mc_fd, mj_fd = best_of(mj_loop)
    bw_fd, bc_fd, mjb_fd = best_of(mj_batched)
    mw_c, mc_c, mj_dq_c = best_of(lambda: mj_transition(True))
    mw_f, mc_f, mj_dq_f = best_of(lambda: mj_transition(False))
    mj = {
        "version": mujoco.__version__,
        "batch_threads": sims.nthread,
        "forward_dynamics_us_per_state": mw_fd * per,
        "forward_dynamics_cpu_us_per_state": mc_fd * per,
        "batch_forward_dynamics_us_per_state": bw_fd * per,
        "batch_forward_dynamics_cpu_us_per_state": bc_fd * per,
        "transition_fd_centred_us_per_state": mw_c * per,
        "transition_fd_centred_cpu_us_per_state": mc_c * per,
        "transition_fd_forward_us_per_state": mw_f * per,
        "transition_fd_forward_cpu_us_per_state": mc_f * per,
        "max_relative_difference_from_pysciml": {
            "forward_dynamics": _rel(mj_fd, ours_fd),
            "batch_forward_dynamics": _rel(mjb_fd, ours_fd),
            "d_qdd_d_q_centred": _rel(mj_dq_c, ours_grad[0]),
            "d_qdd_d_q_forward": _rel(mj_dq_f, ours_grad[0]),
        },
    }
    mjx = _mjx(mj_model, q, v, tau, ours_fd, ours_grad, per)
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
        "mujoco": mj,
        "mjx": mjx,
        "ratio_pinocchio_over_pysciml": {
            "forward_dynamics": pw_fd / w_fd,
            "derivatives": pw_gr / w_gr,
            "derivatives_by_identity": pw_gr / w_id,
        },
        "ratio_mujoco_over_pysciml": {
            "forward_dynamics": mw_fd / w_fd,
            "batch_forward_dynamics": bw_fd / w_fd,
            "transition_fd_centred_over_derivatives": mw_c / w_gr,
            "transition_fd_forward_over_derivatives": mw_f / w_gr,
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

    def row(name, wall, cpu, agree, base):
        """A table row from per-state microseconds; ``base``: pysciml's wall time it is compared with."""
        return f"| {name} | {wall:.2f} ({cpu:.2f}) | {wall / base:.2f} | {agree} |"

    b_fd, b_gr = w_fd * per, w_gr * per
    diff = mj["max_relative_difference_from_pysciml"]
    fd_rows = [
        row("pysciml `forward_dynamics`, vmapped", b_fd, c_fd * per, "—", b_fd),
        row("pinocchio `aba`, Python loop", pw_fd * per, pc_fd * per, f"{agree_fd:.1e}", b_fd),
        row("MuJoCo `mj_forward`, Python loop", mw_fd * per, mc_fd * per, f"{diff['forward_dynamics']:.1e}", b_fd),
        row(
            f"MuJoCo `batch.Batch.forward`, {sims.nthread} threads",
            bw_fd * per,
            bc_fd * per,
            f"{diff['batch_forward_dynamics']:.1e}",
            b_fd,
        ),
    ]
    grad_rows = [
        row("pysciml `jax.jacfwd`, vmapped", b_gr, c_gr * per, "—", b_gr),
        row(
            "pysciml `forward_dynamics_derivatives`, vmapped",
            w_id * per,
            c_id * per,
            f"{_rel(ours_id[0], ours_grad[0]):.1e}",
            b_gr,
        ),
        row("pinocchio `computeABADerivatives`, Python loop", pw_gr * per, pc_gr * per, f"{agree_grad:.1e}", b_gr),
        row(
            "MuJoCo `mjd_transitionFD` centred, Python loop",
            mw_c * per,
            mc_c * per,
            f"{diff['d_qdd_d_q_centred']:.1e}",
            b_gr,
        ),
        row(
            "MuJoCo `mjd_transitionFD` forward, Python loop",
            mw_f * per,
            mc_f * per,
            f"{diff['d_qdd_d_q_forward']:.1e}",
            b_gr,
        ),
    ]
    if "missing" in mjx:
        mjx_note = f"MJX: not measured: {mjx['missing']}."
    else:
        mjx_diff = mjx["max_relative_difference_from_pysciml"]
        fd_rows.append(
            row(
                "MJX `forward`, vmapped",
                mjx["forward_dynamics_us_per_state"],
                mjx["forward_dynamics_cpu_us_per_state"],
                f"{mjx_diff['forward_dynamics']:.1e}",
                b_fd,
            )
        )
        grad_rows.append(
            row(
                "MJX `jax.jacrev` of `forward`, vmapped",
                mjx["derivatives_us_per_state"],
                mjx["derivatives_cpu_us_per_state"],
                f"{mjx_diff['d_qdd_d_q']:.1e}",
                b_gr,
            )
        )
        mjx_note = (
            f"MJX {mjx['version']} compile: {mjx['compile_s']['forward_dynamics']:.2f} s (forward), "
            f"{mjx['compile_s']['derivatives']:.2f} s (jacrev)."
        )
    md = [
        "# Robot-arm dynamics per state: pysciml vs pinocchio, MuJoCo and MJX",
        "",
        f"Panda, 7 joints, {n_states} random states; load at start {load:.2f} on {cores} cores{note}.",
        "pinocchio and MuJoCo's `mj_forward` are called once per state from Python; MuJoCo's batch runs all",
        f"states on its thread pool; pysciml runs all states in one vmapped call, MJX in vmapped calls of {MJX_CHUNK}"
        " states (one call over all of them hung).  Time ratios are",
        "each row's wall time over pysciml's first row (above 1: pysciml is faster); differences are the",
        "max relative difference from pysciml's first row (accelerations; d qdd / d q for derivatives).",
        "",
        "| forward dynamics | wall (cpu) us/state | time / pysciml's | max rel. diff |",
        "| --- | --- | --- | --- |",
        *fd_rows,
        "",
        "MuJoCo has no analytical derivatives of qacc: `mjd_transitionFD` differences one explicit Euler step",
        "(1 s timestep, eps 1e-6), whose velocity rows are d qacc / d (q, v, tau).",
        "",
        "| derivatives (q, v, tau) | wall (cpu) us/state | time / pysciml's | max rel. diff |",
        "| --- | --- | --- | --- |",
        *grad_rows,
        "",
        f"pysciml compile: {compile_fd:.2f} s (forward dynamics), {compile_grad:.2f} s (derivatives). "
        f"pinocchio {pin.__version__}, MuJoCo {mujoco.__version__}. {mjx_note}",
    ]
    (out / "physics_mechanics.md").write_text("\n".join(md) + "\n")
    return 0


def _rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / np.abs(b).max())


#: states per MJX call (see the module docstring)
MJX_CHUNK = 250


def _mjx(mj_model, q, v, tau, ours_fd, ours_grad, per) -> dict:
    """MJX's forward dynamics and its reverse-mode derivatives over all states, or why it was not measured."""
    try:
        from mujoco import mjx
    except ImportError:
        return {"missing": "`mujoco.mjx` is not installed (mujoco's wheels do not ship it: pip install mujoco-mjx)"}
    import jax

    version = importlib.metadata.version("mujoco-mjx")
    mx = mjx.put_model(mj_model)
    dx = mjx.make_data(mx)

    def qacc(qi, vi, ti):
        return mjx.forward(mx, dx.replace(qpos=qi, qvel=vi, qfrc_applied=ti)).qacc

    fd_chunk = jax.jit(jax.vmap(qacc))
    grad_chunk = jax.jit(jax.vmap(jax.jacrev(qacc, argnums=(0, 1, 2))))
    n = len(q)
    starts = range(0, n, MJX_CHUNK)

    def fd(q, v, tau):  # chunks of MJX_CHUNK states (one call over all states hung here, see the docstring)
        return np.concatenate([np.asarray(fd_chunk(*(a[i : i + MJX_CHUNK] for a in (q, v, tau)))) for i in starts])

    def grad(q, v, tau):
        parts = [grad_chunk(*(a[i : i + MJX_CHUNK] for a in (q, v, tau))) for i in starts]
        return tuple(np.concatenate([np.asarray(p[j]) for p in parts]) for j in range(3))

    cw_fd, _, _ = first_call(lambda: fd(q, v, tau))
    cw_gr, _, _ = first_call(lambda: grad(q, v, tau))
    w_fd, c_fd, out_fd = best_of(lambda: fd(q, v, tau))
    w_gr, c_gr, out_gr = best_of(lambda: grad(q, v, tau))
    return {
        "version": version,
        "states_per_call": min(MJX_CHUNK, n),
        "forward_dynamics_us_per_state": w_fd * per,
        "forward_dynamics_cpu_us_per_state": c_fd * per,
        "derivatives_us_per_state": w_gr * per,
        "derivatives_cpu_us_per_state": c_gr * per,
        "compile_s": {"forward_dynamics": cw_fd, "derivatives": cw_gr},
        "max_relative_difference_from_pysciml": {
            "forward_dynamics": _rel(out_fd, ours_fd),
            "d_qdd_d_q": _rel(out_gr[0], ours_grad[0]),
        },
        "fd_wall_s": w_fd,
        "fd_cpu_s": c_fd,
        "grad_wall_s": w_gr,
        "grad_cpu_s": c_gr,
        "fd_diff": _rel(out_fd, ours_fd),
        "grad_diff": _rel(out_gr[0], ours_grad[0]),
    }


if __name__ == "__main__":
    raise SystemExit(main())
