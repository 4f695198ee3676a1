"""A SerialArm written as MuJoCo MJCF: the same bodies, joints, inertias, damping and armature, nothing else.

Every number is written with ``repr`` (17 significant digits), so MuJoCo reads the arm's floats back
exactly.  MuJoCo adds terms SerialArm does not have unless told not to: no geoms (so no contacts and
no inertia inferred from shapes), limits and contacts disabled, explicit ``<inertial>`` on every body,
and one motor per joint (gear 1, unlimited) so that ``ctrl`` is the joint forces.
Rotational inertias go in as principal moments and axes (numpy's ``eigh``); MuJoCo would otherwise
diagonalise ``fullinertia`` itself.  Coulomb friction is left out: MuJoCo's ``frictionloss`` is a
constraint, not SerialArm's smoothed ``tanh`` law.
"""

from __future__ import annotations

import numpy as np


def _num(values) -> str:
    return " ".join(repr(float(x)) for x in np.ravel(values))


def _quat(rotation: np.ndarray) -> np.ndarray:
    """The unit quaternion ``(w, x, y, z)`` of a proper rotation matrix (Shepperd's method)."""
    r = np.asarray(rotation, dtype=float)
    trace = np.trace(r)
    cases = [trace, r[0, 0], r[1, 1], r[2, 2]]
    k = int(np.argmax(cases))
    if k == 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [s / 4, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
    elif k == 1:
        s = 2.0 * np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
        q = [(r[2, 1] - r[1, 2]) / s, s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
    elif k == 2:
        s = 2.0 * np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
        q = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
        q = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4]
    return np.asarray(q) / np.linalg.norm(q)


def _principal(inertia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal moments and the quaternion of the principal axes (a proper rotation) of an inertia."""
    moments, axes = np.linalg.eigh(inertia)
    if np.linalg.det(axes) < 0:
        axes[:, 2] *= -1
    return moments, _quat(axes)


def serial_arm_mjcf(
    arm, *, masses=None, min_inertia: float = 0.0, integrator: str = "Euler", timestep: float = 0.002
) -> str:
    """MJCF text of ``arm`` (a ``pysciml.physics.SerialArm``): joint ``i`` moves body ``i``.

    Args:
        arm: the SerialArm.
        masses: ``(n,)`` body masses to write instead of the arm's (rotational inertias scale with
            them, as ``SerialArm.chain(params={"masses": ...})`` does).
        min_inertia: a floor for the principal moments: MuJoCo refuses a moving body with a zero
            moment (a thin rod about its own axis), which changes nothing when no joint turns the
            body about that axis (a planar arm).
        integrator, timestep: MuJoCo's ``<option>`` values (``mj_forward`` does not read them; a
            step does: with ``"Euler"`` and ``eulerdamp`` off, as here, ``qvel`` gains ``timestep * qacc``).
    """
    mass = arm.masses if masses is None else np.asarray(masses, dtype=float)
    parts = []
    for i in range(arm.n):
        moments, iquat = _principal(arm.gyration[i] * mass[i])
        moments = np.maximum(moments, min_inertia)
        kind = "hinge" if arm.kinds[i] == "revolute" else "slide"
        parts.append(
            f'<body name="body{i}" pos="{_num(arm.origins[i])}" quat="{_num(_quat(arm.rotations[i]))}">'
            f'<inertial pos="{_num(arm.coms[i])}" mass="{_num(mass[i])}" diaginertia="{_num(moments)}" '
            f'quat="{_num(iquat)}"/>'
            f'<joint name="{arm.names[i]}" type="{kind}" axis="{_num(arm.axes[i])}" pos="0 0 0" '
            f'damping="{_num(arm.damping[i])}" armature="{_num(arm.armature[i])}" frictionloss="0" limited="false"/>'
        )
    bodies = "".join(parts) + "</body>" * arm.n
    motors = "".join(f'<motor joint="{name}" gear="1" ctrllimited="false"/>' for name in arm.names)
    return (
        '<mujoco model="serial_arm">'
        '<compiler angle="radian" inertiafromgeom="false" balanceinertia="false" boundmass="0" '
        'boundinertia="0" fusestatic="false" autolimits="false"/>'
        f'<option gravity="{_num(arm.gravity)}" integrator="{integrator}" timestep="{timestep!r}">'
        '<flag contact="disable" limit="disable" frictionloss="disable" eulerdamp="disable"/></option>'
        f"<worldbody>{bodies}</worldbody>"
        f"<actuator>{motors}</actuator>"
        "</mujoco>"
    )
