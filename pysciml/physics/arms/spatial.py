"""6-D spatial algebra (Featherstone's notation) in jax: motion ``[w; v]`` and force ``[n; f]`` vectors.

A Plücker transform ``X`` from frame A to frame B is stored as a 6x6 matrix built from the
rotation ``E`` (B coordinates of A's axes: ``r_B = E (r_A - p)``) and ``p``, B's origin in A
coordinates.  Motion vectors map with ``X``, force vectors from B back to A with ``X.T``.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = [
    "skew",
    "rotation_about",
    "plucker",
    "motion_cross",
    "force_cross",
    "spatial_inertia",
]


def skew(w):
    """The 3x3 matrix of the cross product ``w x .``."""
    return jnp.array([[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]])


def rotation_about(axis, angle):
    """The rotation matrix of ``angle`` (rad) about the unit ``axis`` (Rodrigues' formula)."""
    k = skew(axis)
    return jnp.eye(3) + jnp.sin(angle) * k + (1.0 - jnp.cos(angle)) * (k @ k)


def plucker(E, p):
    """The 6x6 motion transform to a frame rotated by ``E`` (new-from-old) with its origin at ``p`` (old coords)."""
    z = jnp.zeros((3, 3))
    return jnp.block([[E, z], [-E @ skew(p), E]])


def motion_cross(m):
    """The 6x6 matrix of ``m x .`` acting on motion vectors (``crm`` in Featherstone's book)."""
    w, v = skew(m[:3]), skew(m[3:])
    return jnp.block([[w, jnp.zeros((3, 3))], [v, w]])


def force_cross(m):
    """The 6x6 matrix of ``m x* .`` acting on force vectors (``crf = -crm.T``)."""
    return -motion_cross(m).T


def spatial_inertia(mass, com, inertia_com):
    """The 6x6 spatial inertia of a body about its frame origin.

    Args:
        mass: the body's mass.
        com: ``(3,)`` its centre of mass in the body frame.
        inertia_com: ``(3, 3)`` its rotational inertia about the centre of mass, body axes.
    """
    c = skew(com)
    return jnp.block([[inertia_com + mass * (c @ c.T), mass * c], [mass * c.T, mass * jnp.eye(3)]])
