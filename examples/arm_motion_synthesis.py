"""Motion synthesis: a conditional latent ODE generates reaches of a 2-joint arm to requested targets.

``ps.LatentODE``, trained on simulated reaches with the target as its condition, generates new motions to
held-out targets, and the script scores them with the true arm (issue 17 item 6).

The data: a planar two-link arm (``pysciml.physics.SerialArm.planar``, rods 0.6 m and 0.5 m of 1.5 kg and
1 kg, joint damping 0.1 N m s, gravity along -y) starts at rest in a pose drawn from a "home" region and
reaches a target (x, y) drawn from a sector of the workspace.  A controller drives it: the torque that the
true dynamics need along a minimum-jerk path in joint space from the start to the target's joint angles
(``arm.inverse_dynamics``), plus PD feedback, clipped at the actuator limits (20 and 6 N m).  Every reach
is simulated with ``ps.solve_ensemble`` through the arm's true dynamics, and its joint angles, at 21 times
over 1.6 s with 2 mrad of noise, are what the model sees.

The model: ``ps.LatentODE`` fitted with ``condition=`` the target (x, y), on a clock of its own that comes up
to speed over the first ``RAMP`` seconds of a reach (``model_time``: g(t) with g'(0) = g''(0) = 0, strictly
increasing), so that every motion it decodes starts at rest: a reach from rest moves as t^3 at first, which in
model time is a motion at finite speed that an autonomous latent flow can start with.  For held-out targets it
draws motions from its prior (``model.sample(model_time(t), n, condition=target)``), and the script reports, on
a 10 ms grid:

* **reach error**: the distance from the tool point (``arm.tip_position``, forward kinematics) at the final
  time to the target;
* **smoothness**: the RMS jerk (third time derivative, of quintics fitted to 7 neighbouring samples) of the
  joint angles, beside that of the training motions and of the controller's own reach from the generated start pose;
* **start at rest**: the joint speed at t = 0 (the training reaches': 0);
* **physical consistency**: the joint torques the true dynamics need to move the arm along the generated
  motion (inverse dynamics, ``tau = M(q) qdd + b(q, qd) - tau_passive(qd)``) with the arm at rest at the start
  pose for 0.1 s before t = 0 (so a motion that starts moving is charged the impulse that starts it), their peak
  against the actuator limits, and their RMS difference from the torques of the controller's reach from the
  same start;
* a **negative control**: the same model asked for the wrong target (each held-out target's samples
  generated with another held-out target) lands far from the requested one.

Run it with

```bash
python examples/arm_motion_synthesis.py [--quick] [--out DIR]
```

Writes ``results.json`` and ``arm_motion_synthesis.png`` (generated motions as arm stick figures with their
targets, and the tool-point paths) into ``--out`` (default: the current directory).  ``--quick`` (or
``PYSCIML_EXAMPLE_QUICK=1``) trains briefly (64 reaches, 300 steps, widths 16).  On a shared 2-core machine
the full run's fit took 66 s, ``--quick`` about 45 s in all; docs/latent.md lists the measured figures.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.signal import savgol_filter

import pysciml as ps
from pysciml import physics as phys

LENGTHS, MASSES, DAMPING = (0.6, 0.5), (1.5, 1.0), 0.1  # m, kg, N m s
DURATION, HORIZON = 1.2, 1.6  # s: the minimum-jerk path's duration, the simulated span
TORQUE_LIMIT = np.array([20.0, 6.0])  # N m, the actuators' limits (the controller clips at them)
KP, KD = np.array([80.0, 40.0]), np.array([14.0, 7.0])  # PD gains, N m / rad and N m s / rad
HOME = ((-0.9, -0.3), (1.7, 2.3))  # start poses: shoulder and elbow angle ranges, rad
REACH = ((0.55, 1.0), (-0.4, 1.2))  # targets: distance from the shoulder (m) and direction (rad)
FINE = np.linspace(0.0, HORIZON, 161)  # the 10 ms grid of the metrics
OBSERVED = FINE[::8]  # 21 observation times, what the model is trained on
NOISE = 2e-3  # rad, observation noise
RAMP = 0.5  # s: the model's clock runs up to speed over this time from the start of a reach (``model_time``)
REST = 10  # samples (0.1 s) at rest before t = 0 that the torque check puts in front of every motion


def make_arm() -> phys.SerialArm:
    """The true arm."""
    return phys.SerialArm.planar(lengths=LENGTHS, masses=MASSES, damping=DAMPING)


def joint_goal(targets) -> np.ndarray:
    """Joint angles ``(..., 2)`` putting the two-link arm's tool point at ``targets`` ``(..., 2)`` (elbow angle > 0)."""
    l1, l2 = LENGTHS
    x, y = np.asarray(targets, dtype=float)[..., 0], np.asarray(targets, dtype=float)[..., 1]
    elbow = np.arccos(np.clip((x**2 + y**2 - l1**2 - l2**2) / (2 * l1 * l2), -1.0, 1.0))
    shoulder = np.arctan2(y, x) - np.arctan2(l2 * np.sin(elbow), l1 + l2 * np.cos(elbow))
    return np.stack([shoulder, elbow], axis=-1)


def min_jerk(t, start, goal):
    """Position, velocity and acceleration at ``t`` of the minimum-jerk path from ``start`` (at t = 0) to
    ``goal`` (at ``DURATION``, then held): ``start + (goal - start) (10 s^3 - 15 s^4 + 6 s^5)``, s = t / DURATION."""
    s = jnp.clip(t / DURATION, 0.0, 1.0)
    d = goal - start
    return (
        start + d * (10 * s**3 - 15 * s**4 + 6 * s**5),
        d * (30 * s**2 - 60 * s**3 + 30 * s**4) / DURATION,
        d * (60 * s - 180 * s**2 + 120 * s**3) / DURATION**2,
    )


def reach_model(arm: phys.SerialArm) -> ps.ODEModel:
    """The arm under its reaching controller; parameters ``start`` and ``goal`` (joint angles, rad)."""

    def torque(t, q, v, p):
        q_ref, v_ref, a_ref = min_jerk(t, p.start, p.goal)
        tau = arm.inverse_dynamics(q_ref, v_ref, a_ref) + KP * (q_ref - q) + KD * (v_ref - v)
        return jnp.clip(tau, -TORQUE_LIMIT, TORQUE_LIMIT)

    return arm.model(torque=torque, torque_params={"start": np.zeros(2), "goal": np.zeros(2)})


def draw_reaches(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` start poses ``(n, 2)`` (rad, from ``HOME``) and targets ``(n, 2)`` (m, from ``REACH``)."""
    rng = np.random.default_rng(seed)
    starts = np.stack([rng.uniform(*HOME[0], n), rng.uniform(*HOME[1], n)], axis=1)
    radius, angle = rng.uniform(*REACH[0], n), rng.uniform(*REACH[1], n)
    return starts, np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def simulate_reaches(arm: phys.SerialArm, starts, targets, t=FINE) -> np.ndarray:
    """Joint angles ``(n, len(t), 2)`` of the controlled arm reaching from rest at ``starts`` to ``targets``."""
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    ens = ps.solve_ensemble(
        reach_model(arm),
        np.concatenate([starts, np.zeros_like(starts)], axis=1),
        (0.0, float(t[-1])),
        t,
        vary={"start": starts, "goal": joint_goal(targets)},
        solver=ps.Tsit5(),
        rtol=1e-8,
        atol=1e-8,
    )
    if ens.status != ps.Status.SUCCESS:
        raise RuntimeError(f"the reach simulations did not all succeed: {ens.status}")
    return arm.unpack(ens.u)[0]


def joint_derivatives(q, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Velocity, acceleration and jerk of joint angles ``q`` ``(..., len(t), n)`` on a uniform grid ``t``: the
    derivatives of quintics fitted to 7 neighbouring points (Savitzky-Golay; at the ends, of the end window's
    fit), so exact for polynomial paths up to degree 5."""
    dt = float(t[1] - t[0])
    return tuple(savgol_filter(q, 7, 5, deriv=k, delta=dt, axis=-2, mode="interp") for k in (1, 2, 3))


def rms_jerk(q, t) -> np.ndarray:
    """RMS over time and joints of the jerk of each motion in ``q`` ``(..., len(t), n)`` (rad/s^3)."""
    return np.sqrt(np.mean(joint_derivatives(q, t)[2] ** 2, axis=(-2, -1)))


def required_torques(arm: phys.SerialArm, q, t, *, rest: int = REST) -> np.ndarray:
    """The joint torques ``(..., rest + len(t), n)`` that move the true arm along ``q`` (inverse dynamics, N m),
    the arm held at rest at ``q``'s first pose for ``rest`` samples before ``t[0]``: a reach starts from rest, so
    a motion that starts moving is charged the impulse that gets it moving."""
    if rest:
        q = np.concatenate([np.repeat(np.asarray(q)[..., :1, :], rest, axis=-2), q], axis=-2)
        t = np.concatenate([t[0] - (t[1] - t[0]) * np.arange(rest, 0, -1), t])
    v, a, _ = joint_derivatives(q, t)
    shape = np.shape(q)
    flat = [jnp.asarray(x.reshape(-1, shape[-1])) for x in (q, v, a)]
    return np.asarray(jax.jit(jax.vmap(arm.inverse_dynamics))(*flat)).reshape(shape)


def tool_points(arm: phys.SerialArm, q) -> np.ndarray:
    """Tool point (x, y) ``(..., 2)`` at joint angles ``q`` ``(..., n)`` (forward kinematics)."""
    shape = np.shape(q)
    tips = jax.jit(jax.vmap(arm.tip_position))(jnp.asarray(np.reshape(q, (-1, shape[-1]))))
    return np.asarray(tips)[:, :2].reshape(*shape[:-1], 2)


def reach_errors(arm: phys.SerialArm, q, targets) -> np.ndarray:
    """Distance (m) from the tool point at the last time of each motion ``q`` (..., m, n) to ``targets`` (..., 2)."""
    return np.linalg.norm(tool_points(arm, np.asarray(q)[..., -1, :]) - targets, axis=-1)


def model_time(t, ramp: float = RAMP) -> np.ndarray:
    """The model's clock at times ``t`` (s from the start of the reach): ``g(t) = integral of s from 0 to t``, with
    ``s`` the smooth step ``3 x^2 - 2 x^3`` of ``x = t / ramp`` (1 from ``ramp`` on), so ``g = ramp (x^3 - x^4 / 2)``
    up to ``ramp`` and ``t - ramp / 2`` after.  ``g`` is strictly increasing (no information is lost) and
    ``g'(0) = g''(0) = 0``: a motion ``Q`` that is smooth in model time is, in real time, ``q(t) = Q(g(t))`` with
    ``q' = Q' g'`` and ``q'' = Q'' g'^2 + Q' g''``, both zero at t = 0, so every decoded motion starts at rest
    whatever ``Q`` does there.  A reach from rest moves as t^3 at first (zero speed and acceleration, finite jerk);
    in model time that is a motion at finite speed, which an autonomous latent flow can follow from its start."""
    x = np.clip(np.asarray(t, dtype=float) / ramp, 0.0, 1.0)
    return np.where(x < 1.0, ramp * (x**3 - x**4 / 2), np.asarray(t, dtype=float) - ramp / 2)


def fit_model(q_train, targets, *, steps: int, width: int = 32, seed: int = 0, verbose: int = 0) -> ps.LatentODE:
    """A conditional ``ps.LatentODE`` fitted to noisy joint angles at ``OBSERVED`` of motions ``q_train``
    (on ``FINE``), conditioned on their ``targets``, in model time (``model_time(OBSERVED)``)."""
    rng = np.random.default_rng(seed + 1)
    every = len(FINE) // (len(OBSERVED) - 1)
    series = [(model_time(OBSERVED), q[::every] + NOISE * rng.standard_normal((len(OBSERVED), 2))) for q in q_train]
    model = ps.LatentODE(4, encoder_hidden=width, ode_hidden=width, decoder_hidden=width, seed=seed, verbose=verbose)
    return model.fit(series, condition=targets, steps=steps, batch_size=32)


def generate(model: ps.LatentODE, targets, n: int, seed: int = 1) -> np.ndarray:
    """``n`` prior samples of motions on ``FINE`` per target: ``(len(targets), n, len(FINE), 2)`` (the model
    sampled at ``model_time(FINE)``)."""
    return np.stack([model.sample(model_time(FINE), n, seed=seed, condition=c) for c in np.asarray(targets)])


def start_speeds(q, t=FINE) -> np.ndarray:
    """The largest joint speed (rad/s) at ``t[0]`` of each motion ``q`` ``(..., len(t), n)``."""
    return np.abs(joint_derivatives(q, t)[0][..., 0, :]).max(axis=-1)


def main(quick: bool = False, out: str | os.PathLike = ".", plot: bool = True, verbose: int = 1) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    arm = make_arm()
    n_train, steps, width = (64, 300, 16) if quick else (128, 800, 32)
    starts, targets = draw_reaches(n_train, seed=0)
    q_train = simulate_reaches(arm, starts, targets)
    model = fit_model(q_train, targets, steps=steps, width=width, verbose=verbose)

    _, held_out = draw_reaches(8, seed=1)
    n_samples = 8
    q_gen = generate(model, held_out, n_samples)  # (targets, samples, time, joint)
    reach = reach_errors(arm, q_gen, held_out[:, None])
    wrong = reach_errors(arm, generate(model, np.roll(held_out, 1, axis=0), n_samples), held_out[:, None])

    # the controller's own reach from each generated motion's start pose: the reference for jerk and torque
    gen_starts = q_gen[:, :, 0].reshape(-1, 2)
    q_ref = simulate_reaches(arm, gen_starts, np.repeat(held_out, n_samples, axis=0)).reshape(q_gen.shape)
    jerk_gen, jerk_train, jerk_ref = rms_jerk(q_gen, FINE), rms_jerk(q_train, FINE), rms_jerk(q_ref, FINE)
    # the torques along each motion, the arm at rest at its first pose for REST samples before t = 0
    tau_gen, tau_train = required_torques(arm, q_gen, FINE), required_torques(arm, q_train, FINE)
    tau_ref = required_torques(arm, q_ref, FINE)
    peak_gen = np.abs(tau_gen).max(axis=(0, 1, 2))
    tau_rms_diff = np.sqrt(np.mean((tau_gen - tau_ref) ** 2)) / np.sqrt(np.mean(tau_ref**2))
    start_speed = start_speeds(q_gen)  # rad/s, per sample
    in_home = np.mean(
        (gen_starts[:, 0] >= HOME[0][0] - 0.1)
        & (gen_starts[:, 0] <= HOME[0][1] + 0.1)
        & (gen_starts[:, 1] >= HOME[1][0] - 0.1)
        & (gen_starts[:, 1] <= HOME[1][1] + 0.1)
    )
    results = {
        "quick": quick,
        "status": model.status_.name,
        "train_motions": n_train,
        "steps": steps,
        "fit_seconds": model.fit_seconds_,
        "ramp_seconds": RAMP,
        "held_out_targets": held_out.tolist(),
        "samples_per_target": n_samples,
        "reach_error_m": {"mean": float(reach.mean()), "median": float(np.median(reach)), "max": float(reach.max())},
        "wrong_target_reach_error_m": {"mean": float(wrong.mean()), "min": float(wrong.min())},
        "training_reach_error_m": float(reach_errors(arm, q_train, targets).max()),
        "rms_jerk_rad_s3": {
            "generated_mean": float(jerk_gen.mean()),
            "generated_max": float(jerk_gen.max()),
            "training_mean": float(jerk_train.mean()),
            "training_max": float(jerk_train.max()),
            "controller_from_same_starts_mean": float(jerk_ref.mean()),
        },
        "torque_nm": {
            "limit": TORQUE_LIMIT.tolist(),
            "rest_before_start_s": REST * float(FINE[1] - FINE[0]),
            "generated_peak": peak_gen.tolist(),
            "training_peak": np.abs(tau_train).max(axis=(0, 1)).tolist(),
            "generated_fraction_over_limit": float(np.mean(np.abs(tau_gen) > TORQUE_LIMIT)),
            "generated_motions_over_limit": float(np.mean((np.abs(tau_gen) > TORQUE_LIMIT).any(axis=(-2, -1)))),
            "rms_difference_to_controller_relative": float(tau_rms_diff),
        },
        "start_pose_in_home_region": float(in_home),
        "start_speed_rad_s": {
            "median": float(np.median(start_speed)),
            "p90": float(np.quantile(start_speed, 0.9)),
            "max": float(start_speed.max()),
            "training_max": float(start_speeds(q_train).max()),
            "training_peak_speed_median": float(
                np.median(np.abs(joint_derivatives(q_train, FINE)[0]).max(axis=(-2, -1)))
            ),
        },
        "joint_path_rms_difference_to_controller_rad": float(np.sqrt(np.mean((q_gen - q_ref) ** 2))),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    if plot:
        _plot(arm, q_gen, held_out, out / "arm_motion_synthesis.png")
    return results


def _plot(arm: phys.SerialArm, q_gen, targets, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 6.5))
    grid = fig.add_gridspec(2, 4, height_ratios=(1, 1.6))
    frames = np.linspace(0, len(FINE) - 1, 6).astype(int)
    sector = np.linspace(*REACH[1], 50)
    for k in range(4):  # one generated reach per target as stick figures
        ax = fig.add_subplot(grid[0, k])
        q = q_gen[k, 0]
        elbow = LENGTHS[0] * np.stack([np.cos(q[:, 0]), np.sin(q[:, 0])], axis=1)
        hand = tool_points(arm, q)
        for i, j in enumerate(frames):
            pts = np.array([[0.0, 0.0], elbow[j], hand[j]])
            ax.plot(pts[:, 0], pts[:, 1], "-o", color=f"C{k}", ms=3, lw=1.5, alpha=0.2 + 0.8 * i / (len(frames) - 1))
        ax.plot(hand[:, 0], hand[:, 1], ":", color=f"C{k}", lw=1)
        ax.plot(*targets[k], "x", color="k", ms=9, mew=2)
        ax.plot(0, 0, "ks", ms=5)
        ax.set_xlim(-0.1, 1.05)
        ax.set_ylim(-0.55, 0.75)
        ax.set_aspect("equal")
        ax.set_title(f"target {k}: t = 0 to {HORIZON:g} s", fontsize=9)
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[1, 1:3])
    for r in REACH[0]:
        ax.plot(r * np.cos(sector), r * np.sin(sector), "-", color="0.8", lw=1)
    for a in REACH[1]:
        ax.plot(np.array(REACH[0]) * np.cos(a), np.array(REACH[0]) * np.sin(a), "-", color="0.8", lw=1)
    for k, target in enumerate(targets):
        for h in tool_points(arm, q_gen[k]):
            ax.plot(h[:, 0], h[:, 1], "-", color=f"C{k}", lw=0.8, alpha=0.6)
            ax.plot(*h[0], ".", color=f"C{k}", ms=4)
        ax.plot(*target, "x", color=f"C{k}", ms=10, mew=2)
    ax.plot(0, 0, "ks", ms=6)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title(
        f"tool-point paths of {q_gen.shape[1]} generated motions per held-out target (x); "
        "grey: the training targets' region",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short training (smoke test)")
    ap.add_argument("--out", default=".", help="folder for results.json and arm_motion_synthesis.png")
    args = ap.parse_args()
    main(quick=args.quick or os.environ.get("PYSCIML_EXAMPLE_QUICK") == "1", out=args.out)
