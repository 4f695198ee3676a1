"""Rigid-body dynamics of a serial chain in jax: RNEA, CRBA, ABA and forward kinematics.

Featherstone's recursive algorithms (*Rigid Body Dynamics Algorithms*, 2008, tables 5.1, 6.2,
7.1) over a chain whose joint ``i`` joins body ``i - 1`` (body ``-1`` is the fixed base) to
body ``i``.  A :class:`Chain` holds the numbers (jax arrays, so gradients reach them).  The
recursions are ``jax.lax.scan`` loops over the joints and a joint's kind enters as a 0/1 number,
so the compiled program does not grow with the number of joints (a 7-joint forward dynamics
compiles in a fraction of a second; unrolled Python loops took seconds).  Every function here is
pure: ``jax.jit``, ``jax.vmap`` and ``jax.grad`` go through it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .spatial import force_cross, motion_cross, plucker, rotation_about, spatial_inertia

__all__ = ["Chain", "joint_transforms", "rnea", "crba", "aba", "body_poses"]


@jax.tree_util.register_pytree_node_class
class Chain:
    """The numbers of a serial chain (``n`` joints); ``kinds`` is a tuple of ``"revolute"``/``"prismatic"``.

    ``tree_rotation[i]`` and ``tree_offset[i]`` place joint ``i``'s frame in its parent body's frame
    at zero joint position (``x_parent = R x_joint + p``); ``axis[i]`` is the unit joint axis in the
    joint frame; ``mass``, ``com`` and ``gyration`` (the rotational inertia about the centre of mass
    per unit mass, body axes) describe body ``i``; ``armature`` is a rotor inertia added on the joint
    axis; ``gravity`` is the ``(3,)`` gravitational acceleration in base coordinates.  A jax pytree
    whose ``kinds`` are static: jitted functions of it compile once per sequence of joint kinds.
    """

    FIELDS = ("axis", "tree_rotation", "tree_offset", "mass", "com", "gyration", "armature", "gravity")

    def __init__(
        self, kinds: tuple[str, ...], axis, tree_rotation, tree_offset, mass, com, gyration, armature, gravity
    ):
        self.kinds = tuple(kinds)
        self.axis, self.tree_rotation, self.tree_offset = axis, tree_rotation, tree_offset
        self.mass, self.com, self.gyration, self.armature, self.gravity = mass, com, gyration, armature, gravity

    def tree_flatten(self):
        return tuple(getattr(self, f) for f in self.FIELDS), self.kinds

    @classmethod
    def tree_unflatten(cls, kinds, leaves):
        return cls(kinds, *leaves)


def _joint_frames(chain: Chain, q):
    """Per joint ``(n, ...)``: transforms parent body -> body ``X``, motion subspaces ``S``, inertias ``I``."""
    revolute = jnp.asarray([1.0 if k == "revolute" else 0.0 for k in chain.kinds])

    def one(axis, rot, offset, r, qi, mass, com, gyration):
        tree = plucker(rot.T, offset)
        xj = plucker(rotation_about(axis, r * qi).T, (1.0 - r) * qi * axis)
        s = jnp.concatenate([r * axis, (1.0 - r) * axis])
        return xj @ tree, s, spatial_inertia(mass, com, mass * gyration)

    return jax.vmap(one)(
        chain.axis, chain.tree_rotation, chain.tree_offset, revolute, q, chain.mass, chain.com, chain.gyration
    )


def joint_transforms(chain: Chain, q):
    """``(n, 6, 6)`` transforms from each parent body to body ``i`` at ``q`` and ``(n, 6)`` motion subspaces."""
    xs, ss, _ = _joint_frames(chain, q)
    return xs, ss


def _base_acceleration(chain: Chain):
    """Gravity as a fictitious upward acceleration of the base (Featherstone's trick)."""
    return jnp.concatenate([jnp.zeros(3), -jnp.asarray(chain.gravity)])


def _velocities(xs, ss, v):
    """Body velocities and the velocity-product accelerations ``v_i x S_i qd_i``."""

    def step(vel, inputs):
        x, s, vi = inputs
        vj = s * vi
        vel = x @ vel + vj
        return vel, (vel, motion_cross(vel) @ vj)

    _, (vel, coriolis) = jax.lax.scan(step, jnp.zeros(6), (xs, ss, v))
    return vel, coriolis


@jax.jit
def rnea(chain: Chain, q, v, a):
    """Joint forces ``tau = M(q) a + C(q, v) v + g(q)`` (recursive Newton-Euler), armature included."""
    xs, ss, inertia = _joint_frames(chain, q)
    vel, coriolis = _velocities(xs, ss, v)

    def forward(acc, inputs):
        x, s, ai, c = inputs
        acc = x @ acc + s * ai + c
        return acc, acc

    _, acc = jax.lax.scan(forward, _base_acceleration(chain), (xs, ss, a, coriolis))
    forces = jnp.einsum("nij,nj->ni", inertia, acc) + jax.vmap(lambda m, i: force_cross(m) @ (i @ m))(vel, inertia)

    def backward(child, inputs):
        f, x, s = inputs
        f = f + child
        return x.T @ f, s @ f

    _, tau = jax.lax.scan(backward, jnp.zeros(6), (forces, xs, ss), reverse=True)
    return tau + chain.armature * a


def _plucker_inverse(x):
    e, b = x[:3, :3], x[3:, :3]
    z = jnp.zeros((3, 3))
    return jnp.block([[e.T, z], [-e.T @ b @ e.T, e.T]])


@jax.jit
def crba(chain: Chain, q):
    """The joint-space mass matrix ``M(q)`` (composite rigid-body algorithm), armature on the diagonal."""
    xs, ss, inertia = _joint_frames(chain, q)

    def composite(child, inputs):
        i, x = inputs
        ic = i + child
        return x.T @ ic @ x, ic

    _, ic = jax.lax.scan(composite, jnp.zeros((6, 6)), (inertia, xs), reverse=True)

    def to_base(x0, x):
        x0 = x @ x0
        return x0, x0

    _, x0 = jax.lax.scan(to_base, jnp.eye(6), xs)  # base -> body i
    # M_ji = S_j . (force Ic_i S_i seen at body j), the same pairing in base coordinates for j <= i
    s_base = jax.vmap(lambda x, s: _plucker_inverse(x) @ s)(x0, ss)
    f_base = jnp.einsum("nki,nkl,nl->ni", x0, ic, ss)
    pairs = s_base @ f_base.T
    return jnp.triu(pairs) + jnp.triu(pairs, 1).T + jnp.diag(chain.armature)


@jax.jit
def aba(chain: Chain, q, v, tau):
    """Joint accelerations ``M(q)^-1 (tau - C(q, v) v - g(q))`` (articulated-body algorithm), O(n)."""
    xs, ss, inertia = _joint_frames(chain, q)
    vel, coriolis = _velocities(xs, ss, v)
    bias = jax.vmap(lambda m, i: force_cross(m) @ (i @ m))(vel, inertia)

    def backward(child, inputs):
        i, p, c, s, x, t, arm = inputs
        ia_child, pa_child = child
        art, pa = i + ia_child, p + pa_child
        u_vec = art @ s
        d = s @ u_vec + arm
        u = t - s @ pa
        ia = art - jnp.outer(u_vec, u_vec) / d
        pa = pa + ia @ c + u_vec * (u / d)
        return (x.T @ ia @ x, x.T @ pa), (u_vec, d, u)

    start = (jnp.zeros((6, 6)), jnp.zeros(6))
    _, (us, ds, u_rest) = jax.lax.scan(
        backward, start, (inertia, bias, coriolis, ss, xs, tau, chain.armature), reverse=True
    )

    def forward(acc, inputs):
        x, c, u_vec, d, u, s = inputs
        acc = x @ acc + c
        qdd = (u - u_vec @ acc) / d
        return acc + s * qdd, qdd

    _, qdd = jax.lax.scan(forward, _base_acceleration(chain), (xs, coriolis, us, ds, u_rest, ss))
    return qdd


@jax.jit
def body_poses(chain: Chain, q):
    """World rotations ``(n, 3, 3)`` (body-to-world) and origins ``(n, 3)`` of the bodies at ``q``."""
    revolute = jnp.asarray([1.0 if k == "revolute" else 0.0 for k in chain.kinds])

    def step(carry, inputs):
        rot, pos = carry
        axis, tree_rot, offset, r, qi = inputs
        pos = pos + rot @ offset
        rot = rot @ tree_rot
        pos = pos + rot @ ((1.0 - r) * qi * axis)
        rot = rot @ rotation_about(axis, r * qi)
        return (rot, pos), (rot, pos)

    _, (rots, origins) = jax.lax.scan(
        step, (jnp.eye(3), jnp.zeros(3)), (chain.axis, chain.tree_rotation, chain.tree_offset, revolute, q)
    )
    return rots, origins
