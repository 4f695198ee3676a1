"""Motion synthesis (issue 17 item 6), reduced: a conditional latent ODE trained on simulated reaches of a 2-joint
arm generates motions that reach held-out targets; the same model asked for the wrong target does not (negative
control).  The metrics of ``examples/arm_motion_synthesis.py`` are checked on exact cases: the jerk of polynomial
paths, and inverse dynamics against the torque that drove a forward simulation.

Measured (64 training reaches, 300 steps, widths 16; 4 held-out targets x 8 samples): mean reach error 0.043 m,
the wrong-target control 0.38 m; the bound is 0.1 m.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import pysciml as ps

REACH_BOUND = 0.1  # m, mean distance of the generated tool point at the final time to the requested target
START_SPEED_BOUND = 0.01  # rad/s, joint speed at t = 0 of every generated reach (the training reaches: 0)

_spec = importlib.util.spec_from_file_location(
    "arm_motion_synthesis", Path(__file__).resolve().parent.parent / "examples" / "arm_motion_synthesis.py"
)
ex = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ex)


@pytest.fixture(scope="module")
def arm():
    return ex.make_arm()


@pytest.fixture(scope="module")
def trained(arm):
    starts, targets = ex.draw_reaches(64, seed=0)
    q_train = ex.simulate_reaches(arm, starts, targets)
    model = ex.fit_model(q_train, targets, steps=300, width=16)
    _, held_out = ex.draw_reaches(4, seed=1)
    return model, q_train, held_out


def test_generated_motions_reach_held_out_targets(arm, trained):
    model, q_train, held_out = trained
    assert model.status_ == ps.Status.SUCCESS and model.n_condition_ == 2
    q_gen = ex.generate(model, held_out, 8)
    assert q_gen.shape == (4, 8, ex.FINE.size, 2)
    reach = ex.reach_errors(arm, q_gen, held_out[:, None])
    wrong = ex.reach_errors(arm, ex.generate(model, np.roll(held_out, 1, axis=0), 8), held_out[:, None])
    print("reach error mean / max", reach.mean(), reach.max(), "; wrong target", wrong.mean())
    assert reach.mean() < REACH_BOUND, reach.mean(axis=1)
    # negative control: the same model, each target's samples generated with another held-out target
    assert wrong.mean() > REACH_BOUND, wrong.mean(axis=1)

    # smooth and feasible: jerk near the training motions', torques (true inverse dynamics) inside the limits
    jerk_gen, jerk_train = ex.rms_jerk(q_gen, ex.FINE), ex.rms_jerk(q_train, ex.FINE)
    tau = ex.required_torques(arm, q_gen, ex.FINE)
    print(
        "RMS jerk generated / training", jerk_gen.mean(), jerk_train.mean(), "peak torque", np.abs(tau).max((0, 1, 2))
    )
    assert jerk_gen.mean() < 2 * jerk_train.mean()
    assert np.all(np.abs(tau) < ex.TORQUE_LIMIT)  # from rest: 0.1 s at the start pose before t = 0 included


def test_generated_motions_start_at_rest(arm, trained):
    """Every generated reach starts at zero joint speed, and the torques that get it moving (the arm at rest
    before t = 0) are inside the limits.  Negative control: the same decoded motions on the model's clock taken
    as real time (the old construction, ``model.sample(FINE)``) start moving at once and need an impulse."""
    model, q_train, held_out = trained
    q_gen = ex.generate(model, held_out, 8)
    speed = ex.start_speeds(q_gen)
    old = np.stack([model.sample(ex.FINE, 8, seed=1, condition=c) for c in held_out])
    old_speed = ex.start_speeds(old)
    tau_old = ex.required_torques(arm, old, ex.FINE)
    print("start speed max", speed.max(), "; old construction median / max", np.median(old_speed), old_speed.max())
    print("training start speed max", ex.start_speeds(q_train).max(), "old peak torque", np.abs(tau_old).max((0, 1, 2)))
    assert ex.start_speeds(q_train).max() < START_SPEED_BOUND
    assert speed.max() < START_SPEED_BOUND
    assert np.median(old_speed) > START_SPEED_BOUND  # negative control
    assert np.any(np.abs(tau_old) > ex.TORQUE_LIMIT)  # ... whose start the torque check charges


def test_model_time_starts_at_rest():
    """``model_time`` g: g(0) = 0, g' and g'' vanish at 0, g' = 1 and g = t - RAMP / 2 from RAMP on, strictly
    increasing; a path at constant speed in model time starts at rest in real time (and not without g)."""
    t = np.linspace(0.0, 1.0, 100_001)
    g = ex.model_time(t)
    dt = t[1] - t[0]
    d1, d2 = np.gradient(g, dt), np.gradient(np.gradient(g, dt), dt)
    assert g[0] == 0.0 and np.all(np.diff(g) > 0)
    assert abs(d1[1]) < 1e-8 and abs(d2[1]) < 1e-3 < abs(d2[len(t) // 20])
    late = t >= ex.RAMP
    np.testing.assert_allclose(g[late], t[late] - ex.RAMP / 2, atol=1e-15)
    np.testing.assert_allclose(d1[late][2:], 1.0, atol=1e-9)
    path = np.array([[0.4, -1.0]])
    assert ex.start_speeds(ex.model_time(ex.FINE)[:, None] * path).max() < 1e-9
    assert ex.start_speeds(ex.FINE[:, None] * path).max() == pytest.approx(1.0)


def test_training_reaches_land_on_their_targets(arm, trained):
    _, q_train, _ = trained
    starts, targets = ex.draw_reaches(64, seed=0)
    np.testing.assert_allclose(ex.tool_points(arm, ex.joint_goal(targets)), targets, atol=1e-12)  # IK then FK
    np.testing.assert_allclose(q_train[:, 0], starts, atol=1e-12)
    assert ex.reach_errors(arm, q_train, targets).max() < 1e-6


def test_jerk_of_polynomial_paths_is_exact():
    t = np.linspace(0.0, 2.0, 201)
    cubic = np.stack([0.3 * t**3 - t**2 + 0.5, -0.2 * t**3 + t], axis=1)
    v, a, jerk = ex.joint_derivatives(cubic, t)
    np.testing.assert_allclose(v, np.stack([0.9 * t**2 - 2 * t, -0.6 * t**2 + 1], axis=1), atol=1e-9)
    np.testing.assert_allclose(a, np.stack([1.8 * t - 2, -1.2 * t], axis=1), atol=1e-8)
    np.testing.assert_allclose(jerk, np.tile([1.8, -1.2], (t.size, 1)), rtol=1e-6)

    # the controller's minimum-jerk path, a quintic: jerk d (60 - 360 s + 360 s^2) / D^3 at every time, ends too
    t = np.linspace(0.0, ex.DURATION, 121)
    start, goal = np.array([-0.5, 2.0]), np.array([0.4, 1.0])
    q = np.asarray(ex.min_jerk(jnp.asarray(t)[:, None], start, goal)[0])
    s = t[:, None] / ex.DURATION
    exact = (goal - start) * (60 - 360 * s + 360 * s**2) / ex.DURATION**3
    np.testing.assert_allclose(ex.joint_derivatives(q, t)[2], exact, atol=1e-6 * np.abs(exact).max())
    np.testing.assert_allclose(ex.rms_jerk(q, t), np.sqrt(np.mean(exact**2)), rtol=1e-6)


def test_inverse_dynamics_recovers_the_torque_of_a_forward_simulation(arm):
    """Forward dynamics under a known torque, then ``required_torques`` (finite differences + inverse dynamics)."""

    def torque(t):
        return jnp.stack([8.0 + 3.0 * jnp.sin(2.0 * t), 1.5 * jnp.cos(3.0 * t)])

    t = ex.FINE
    sol = ps.solve(
        arm.model(lambda tt, q, v: torque(tt)),
        arm.state([-0.6, 1.9]),
        (0.0, t[-1]),
        saveat=t,
        solver=ps.Tsit5(),
        rtol=1e-10,
        atol=1e-10,
    )
    q = arm.unpack(np.asarray(sol.u))[0]
    applied = np.asarray(torque(jnp.asarray(t))).T  # (time, joint)
    found = ex.required_torques(arm, q, t, rest=0)
    scale = np.sqrt(np.mean(applied**2))
    error = np.sqrt(np.mean((found - applied) ** 2)) / scale
    print("relative RMS torque error", error)
    assert error < 1e-3
    # the same motion read with a 10 % heavier forearm needs visibly other torques (the check can fail)
    heavier = ex.phys.SerialArm.planar(lengths=ex.LENGTHS, masses=(1.5, 1.1), damping=ex.DAMPING)
    assert np.sqrt(np.mean((ex.required_torques(heavier, q, t, rest=0) - applied) ** 2)) / scale > 1e-2


def test_torque_check_charges_a_moving_start(arm):
    """``required_torques`` puts the arm at rest before t = 0: a reach that starts from rest (the controller's)
    needs no more torque than without that, one that starts at 1 rad/s needs an impulse over the limits."""
    q = ex.simulate_reaches(arm, [[-0.6, 2.0]], [[0.7, 0.3]])[0]
    with_rest, without = ex.required_torques(arm, q, ex.FINE), ex.required_torques(arm, q, ex.FINE, rest=0)
    assert with_rest.shape == (ex.REST + ex.FINE.size, 2)
    np.testing.assert_allclose(np.abs(with_rest).max(0), np.abs(without).max(0), rtol=0.02)
    moving = q + np.array([0.2, -0.2]) * (1 - np.exp(-ex.FINE / 0.2))[:, None]  # 1 rad/s at t = 0, dying out
    assert np.all(np.abs(ex.required_torques(arm, moving, ex.FINE, rest=0)) < ex.TORQUE_LIMIT)
    assert np.any(np.abs(ex.required_torques(arm, moving, ex.FINE)) > ex.TORQUE_LIMIT)
