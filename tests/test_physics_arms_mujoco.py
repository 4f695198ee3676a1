"""Serial robot arms against MuJoCo: mass matrix, bias forces, forward dynamics and its derivatives.

The same arm is written for MuJoCo by ``helpers.arm_mjcf`` (bodies, joints, inertias, viscous
damping and armature, which both sides model alike; no contacts, no limits, no Coulomb friction).
The Panda comes from example-robot-data's URDF through ``SerialArm.from_urdf`` and then that MJCF:
MuJoCo's own URDF import cannot open the file's ``package://`` meshes, and with the meshes stripped
it keeps the two finger joints (nv 9, the fingers' 0.03 kg outside link 7) and the joint limits, so
it is not the 7-joint arm with welded fingers that SerialArm and pinocchio see.
"""


import numpy as np
import pytest
from helpers.arm_mjcf import serial_arm_mjcf
from helpers.arm_urdf import robots_folder

mujoco = pytest.importorskip("mujoco", reason="mujoco (the bench extra) not installed: no MuJoCo agreement checks")
jax = pytest.importorskip("jax")
phys = pytest.importorskip("pysciml.physics")
SerialArm = phys.SerialArm


def _general_arm() -> SerialArm:
    """Three joints, revolute-prismatic-revolute, tilted axes and frames, turned box inertias, damping, armature.

    MuJoCo refuses inertias that no body has (principal moments breaking A + B >= C), so each body
    is a solid box turned by a random rotation.
    """
    rng = np.random.default_rng(3)
    axes = rng.normal(size=(3, 3))
    rotations = np.stack([np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(3)])
    rotations *= np.sign(np.linalg.det(rotations))[:, None, None]  # proper rotations
    masses = np.array([2.0, 1.2, 0.6])
    inertias = []
    for m in masses:
        a, b, c = rng.uniform(0.05, 0.4, size=3) ** 2
        turn = np.linalg.qr(rng.normal(size=(3, 3)))[0]
        inertias.append(turn @ np.diag([b + c, a + c, a + b]) * (m / 12) @ turn.T)
    return SerialArm(
        ["revolute", "prismatic", "revolute"],
        axes,
        rng.normal(scale=0.3, size=(3, 3)),
        masses,
        rng.normal(scale=0.1, size=(3, 3)),
        np.array(inertias),
        rotations=rotations,
        gravity=(0.3, -0.5, -9.81),
        damping=[0.1, 0.2, 0.3],
        armature=[0.01, 0.0, 0.02],
    )


def _arm(which: str) -> tuple[SerialArm, float]:
    """The arm and the floor MuJoCo needs under its principal moments (a planar rod's axial moment is 0)."""
    if which == "planar2":
        return SerialArm.planar(lengths=[1.0, 0.6], masses=[1.5, 0.8], damping=[0.05, 0.1]), 1e-9
    if which == "general3":
        return _general_arm(), 0.0
    # the URDF's <dynamics damping="0.003"/> kept: MuJoCo's joint damping is the same viscous law
    return SerialArm.from_urdf(robots_folder() / "panda_description/urdf/panda.urdf", tip="panda_hand"), 0.0


def _mujoco(arm: SerialArm, **kw):
    model = mujoco.MjModel.from_xml_string(serial_arm_mjcf(arm, **kw))
    return model, mujoco.MjData(model)


def _forward(model, data, q, v, tau):
    """MuJoCo's mass matrix, bias forces (``qfrc_bias``) and accelerations at one state, torques as ``qfrc_applied``."""
    data.qpos[:], data.qvel[:], data.qfrc_applied[:], data.ctrl[:] = q, v, tau, 0.0
    mujoco.mj_forward(model, data)
    mass = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, mass)
    return mass, data.qfrc_bias.copy(), data.qacc.copy()


def _rel(a, b):
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


@pytest.mark.parametrize("which", ["planar2", "general3", "panda7"])
def test_mass_matrix_bias_and_dynamics_agree_with_mujoco(which):
    arm, floor = _arm(which)
    model, data = _mujoco(arm, min_inertia=floor)
    assert model.nv == arm.n
    rng = np.random.default_rng(7)
    worst = np.zeros(3)
    for _ in range(5):
        q, v, tau = rng.normal(size=(3, arm.n))
        theirs = _forward(model, data, q, v, tau)
        ours = arm.mass_matrix(q), arm.bias(q, v), arm.forward_dynamics(q, v, tau)
        worst = np.maximum(worst, [_rel(a, b) for a, b in zip(ours, theirs)])
    assert worst.max() < 1e-10, worst  # measured: at most 3.4e-15 (mass matrix, bias, accelerations; 5 states)
    # negative control: MuJoCo's arm with a 1 % heavier last body is seen in every quantity
    heavier, _ = _mujoco(arm, min_inertia=floor, masses=arm.masses * np.r_[np.ones(arm.n - 1), 1.01])
    theirs = _forward(heavier, mujoco.MjData(heavier), q, v, tau)
    assert min(_rel(a, b) for a, b in zip(ours, theirs)) > 1e-5, [_rel(a, b) for a, b in zip(ours, theirs)]


@pytest.mark.parametrize("which", ["general3", "panda7"])
def test_forward_dynamics_derivatives_agree_with_mujoco_transition_fd(which):
    """MuJoCo has no analytical derivatives of qacc: ``mjd_transitionFD`` differences one explicit Euler step.

    With timestep h, ``qvel_next = qvel + h qacc``, so its velocity rows are ``h d qacc / d(q, v)``
    (plus the identity on v) and ``h d qacc / d ctrl``; h = 1 s keeps the subtraction exact.
    """
    arm, _ = _arm(which)
    model, data = _mujoco(arm, timestep=1.0)
    n = arm.n
    q, v, tau = np.random.default_rng(11).normal(size=(3, n))
    data.qpos[:], data.qvel[:], data.ctrl[:], data.qfrc_applied[:] = q, v, tau, 0.0
    a_mat, b_mat = np.zeros((2 * n, 2 * n)), np.zeros((2 * n, n))
    mujoco.mjd_transitionFD(model, data, 1e-6, True, a_mat, b_mat, None, None)
    theirs = a_mat[n:, :n], a_mat[n:, n:] - np.eye(n), b_mat[n:]
    ours = jax.jit(jax.jacfwd(arm.forward_dynamics, argnums=(0, 1, 2)))(q, v, tau)
    errors = [_rel(a, b) for a, b in zip(ours, theirs)]
    assert max(errors) < 1e-6, errors  # measured: at most 5.9e-8 (centred differences, eps 1e-6: rounding)
    # negative control: the difference sees a 1 % heavier last body
    heavier, _ = _mujoco(arm, timestep=1.0, masses=arm.masses * np.r_[np.ones(n - 1), 1.01])
    other = mujoco.MjData(heavier)
    other.qpos[:], other.qvel[:], other.ctrl[:] = q, v, tau
    mujoco.mjd_transitionFD(heavier, other, 1e-6, True, a_mat, b_mat, None, None)
    assert _rel(ours[2], b_mat[n:]) > 1e-4
