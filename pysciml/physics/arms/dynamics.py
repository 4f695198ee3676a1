"""Rigid-body dynamics of a serial chain in jax: RNEA, CRBA, ABA and forward kinematics.

Featherstone's recursive algorithms (*Rigid Body Dynamics Algorithms*, 2008, tables 5.1, 6.2,
7.1) over a chain whose joint ``i`` joins body ``i - 1`` (body ``-1`` is the fixed base) to
body ``i``.  A :class:`Chain` holds the numbers (jax arrays, so gradients reach them); the joint
kinds are static Python data, so the loops unroll under ``jax.jit``.  Every function here is
pure: ``jax.jit``, ``jax.vmap`` and ``jax.grad`` go through it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp

from .spatial import force_cross, motion_cross, plucker, rotation_about, spatial_inertia

__all__ = ["Chain", "joint_transforms", "rnea", "crba", "aba", "body_poses"]


class Chain(NamedTuple):
    """The numbers of a serial chain (``n`` joints); ``kinds`` is a tuple of ``"revolute"``/``"prismatic"``.

    ``tree_rotation[i]`` and ``tree_offset[i]`` place joint ``i``'s frame in its parent body's frame
    at zero joint position (``x_parent = R x_joint + p``); ``axis[i]`` is the unit joint axis in the
    joint frame; ``mass``, ``com`` and ``gyration`` (the rotational inertia about the centre of mass
    per unit mass, body axes) describe body ``i``; ``armature`` is a rotor inertia added on the joint
    axis; ``gravity`` is the ``(3,)`` gravitational acceleration in base coordinates.
    """

    kinds: tuple[str, ...]
    axis: Any
    tree_rotation: Any
    tree_offset: Any
    mass: Any
    com: Any
    gyration: Any
    armature: Any
    gravity: Any


def _subspace(kind: str, axis):
    zero = jnp.zeros(3)
    return jnp.concatenate([axis, zero]) if kind == "revolute" else jnp.concatenate([zero, axis])


def joint_transforms(chain: Chain, q):
    """Per joint: the transform from the parent body to body ``i`` at ``q`` and the motion subspace ``S_i``."""
    xs, ss = [], []
    for i, kind in enumerate(chain.kinds):
        a = chain.axis[i]
        tree = plucker(chain.tree_rotation[i].T, chain.tree_offset[i])
        if kind == "revolute":
            xj = plucker(rotation_about(a, q[i]).T, jnp.zeros(3))
        else:
            xj = plucker(jnp.eye(3), a * q[i])
        xs.append(xj @ tree)
        ss.append(_subspace(kind, a))
    return xs, ss


def _inertias(chain: Chain):
    return [
        spatial_inertia(chain.mass[i], chain.com[i], chain.mass[i] * chain.gyration[i]) for i in range(len(chain.kinds))
    ]


def _base_acceleration(chain: Chain):
    """Gravity as a fictitious upward acceleration of the base (Featherstone's trick)."""
    return jnp.concatenate([jnp.zeros(3), -jnp.asarray(chain.gravity)])


def rnea(chain: Chain, q, v, a):
    """Joint forces ``tau = M(q) a + C(q, v) v + g(q)`` (recursive Newton-Euler), armature included."""
    xs, ss = joint_transforms(chain, q)
    inertia = _inertias(chain)
    n = len(chain.kinds)
    vel, acc = jnp.zeros(6), _base_acceleration(chain)
    forces = []
    for i in range(n):
        vj = ss[i] * v[i]
        vel = xs[i] @ vel + vj
        acc = xs[i] @ acc + ss[i] * a[i] + motion_cross(vel) @ vj
        forces.append(inertia[i] @ acc + force_cross(vel) @ (inertia[i] @ vel))
    tau = [None] * n
    f = jnp.zeros(6)
    for i in reversed(range(n)):
        f = forces[i] + f
        tau[i] = ss[i] @ f
        f = xs[i].T @ f
    return jnp.stack(tau) + chain.armature * a


def crba(chain: Chain, q):
    """The joint-space mass matrix ``M(q)`` (composite rigid-body algorithm), armature on the diagonal."""
    xs, ss = joint_transforms(chain, q)
    composite = _inertias(chain)
    n = len(chain.kinds)
    for i in reversed(range(1, n)):
        composite[i - 1] = composite[i - 1] + xs[i].T @ composite[i] @ xs[i]
    rows = [[None] * n for _ in range(n)]
    for i in range(n):
        f = composite[i] @ ss[i]
        rows[i][i] = ss[i] @ f
        for j in reversed(range(i)):
            f = xs[j + 1].T @ f
            rows[i][j] = rows[j][i] = ss[j] @ f
    return jnp.array([[rows[i][j] for j in range(n)] for i in range(n)]) + jnp.diag(chain.armature)


def aba(chain: Chain, q, v, tau):
    """Joint accelerations ``M(q)^-1 (tau - C(q, v) v - g(q))`` (articulated-body algorithm), O(n)."""
    xs, ss = joint_transforms(chain, q)
    art = _inertias(chain)
    n = len(chain.kinds)
    vel = jnp.zeros(6)
    bias, coriolis = [], []
    for i in range(n):
        vj = ss[i] * v[i]
        vel = xs[i] @ vel + vj
        coriolis.append(motion_cross(vel) @ vj)
        bias.append(force_cross(vel) @ (art[i] @ vel))
    us, ds, u_rest = [None] * n, [None] * n, [None] * n
    for i in reversed(range(n)):
        u_vec = art[i] @ ss[i]
        d = ss[i] @ u_vec + chain.armature[i]
        u = tau[i] - ss[i] @ bias[i]
        us[i], ds[i], u_rest[i] = u_vec, d, u
        if i > 0:
            ia = art[i] - jnp.outer(u_vec, u_vec) / d
            pa = bias[i] + ia @ coriolis[i] + u_vec * (u / d)
            art[i - 1] = art[i - 1] + xs[i].T @ ia @ xs[i]
            bias[i - 1] = bias[i - 1] + xs[i].T @ pa
    acc = _base_acceleration(chain)
    qdd = []
    for i in range(n):
        acc = xs[i] @ acc + coriolis[i]
        qdd_i = (u_rest[i] - us[i] @ acc) / ds[i]
        acc = acc + ss[i] * qdd_i
        qdd.append(qdd_i)
    return jnp.stack(qdd)


def body_poses(chain: Chain, q):
    """World rotations ``(n, 3, 3)`` (body-to-world) and origins ``(n, 3)`` of the bodies at ``q``."""
    rot, pos = jnp.eye(3), jnp.zeros(3)
    rots, origins = [], []
    for i, kind in enumerate(chain.kinds):
        pos = pos + rot @ chain.tree_offset[i]
        rot = rot @ chain.tree_rotation[i]
        if kind == "revolute":
            rot = rot @ rotation_about(chain.axis[i], q[i])
        else:
            pos = pos + rot @ (chain.axis[i] * q[i])
        rots.append(rot)
        origins.append(pos)
    return jnp.stack(rots), jnp.stack(origins)
