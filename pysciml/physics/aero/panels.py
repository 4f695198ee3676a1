"""The linear-strength vortex panel method (Katz & Plotkin, *Low-Speed Aerodynamics*, 2nd ed., ch. 11).

The vortex sheet strength ``gamma`` varies linearly along each flat panel and is continuous at the
nodes (``n_panels + 1`` unknowns).  The normal velocity vanishes at each panel's midpoint
(``n_panels`` equations) and the Kutta condition ``gamma_first + gamma_last = 0`` closes the system:
the flow leaves the trailing edge smoothly, with equal speeds on both surfaces.  The free stream has
unit speed; with the inside of the body at rest, the surface speed equals ``gamma`` (Kutta-Joukowski
gives the lift, the surface pressure ``Cp = 1 - gamma^2`` the moment).

The influence of a panel follows from the complex velocity of a vortex sheet,
``u - i v = -(i / 2 pi) integral gamma(s) ds / (z - zeta(s))``, integrated in closed form on each
panel.  Everything is jax: ``jax.grad`` runs through the geometry, the solve and the coefficients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def influence_matrix(x, y, *, kutta: bool = True, open_te: bool = False):
    """The ``(n + 1, n + 1)`` system matrix for nodes ``x, y`` (``n`` panels).

    Rows ``0 .. n - 1``: the normal velocity at panel midpoints per unit nodal ``gamma``;
    row ``n``: the Kutta condition, or (``kutta=False``, a deliberately wrong closure used as a
    negative control) zero total circulation.  With ``open_te`` the gap from the last node to the
    first is a panel too (see :func:`gap_panel`).
    """
    z = x + 1j * y
    z1, z2 = z[:-1], z[1:]
    length = jnp.abs(z2 - z1)
    tangent = (z2 - z1) / length  # unit tangent, complex
    normal = -1j * tangent  # outward for a counter-clockwise polygon
    mid = 0.5 * (z1 + z2)
    local = (mid[:, None] - z1[None, :]) * jnp.conj(tangent)[None, :]  # midpoint i in panel j's frame
    big_l = length[None, :]
    log_ratio = jnp.log(local / (local - big_l))
    factor = -1j * jnp.conj(tangent)[None, :] / (2 * jnp.pi)
    coef_a = factor * (log_ratio * (1 - local / big_l) + 1)  # u - i v per unit gamma at the panel's start
    coef_b = factor * (local * log_ratio / big_l - 1)  # ... and at its end
    na = jnp.real(coef_a * normal[:, None])
    nb = jnp.real(coef_b * normal[:, None])
    n = x.shape[0] - 1
    zeros = jnp.zeros((n, 1))
    rows = jnp.concatenate([na, zeros], axis=1) + jnp.concatenate([zeros, nb], axis=1)
    if open_te:
        per_speed, _ = gap_panel(z, tangent, mid)
        col = jnp.real(per_speed * normal)
        rows = rows.at[:, 0].add(-0.5 * col).at[:, n].add(0.5 * col)
    if kutta:
        last = jnp.zeros(n + 1).at[0].set(1.0).at[n].set(1.0)
    else:
        last = jnp.concatenate([length / 2, jnp.zeros(1)]) + jnp.concatenate([jnp.zeros(1), length / 2])
    return jnp.concatenate([rows, last[None, :]], axis=0), normal, length, mid


def gap_panel(z, tangent, points):
    """The open trailing edge's panel (last node to first), after Drela's XFOIL (1989).

    The trailing-edge speed ``V = (gamma_last - gamma_first) / 2`` leaves along the bisector ``s`` of
    the trailing edge: the gap carries a constant source ``V (s . n)`` and a constant vortex
    ``V (s . t)`` (``t``, ``n`` the gap's tangent and outward normal), so the flow leaves a blunt edge
    as a dead-air wake instead of turning round its corners.  Returns ``u - i v`` at ``points`` per
    unit ``V`` and the gap's circulation per unit ``V``.
    """
    start, end = z[-1], z[0]
    h = jnp.abs(end - start)
    t = (end - start) / h
    nrm = -1j * t
    s = tangent[-1] - tangent[0]
    s = s / jnp.abs(s)
    s_n = jnp.real(jnp.conj(s) * nrm)
    s_t = jnp.real(jnp.conj(s) * t)
    local = (points - start) * jnp.conj(t)
    log_ratio = jnp.log(local / (local - h))
    base = jnp.conj(t) * log_ratio / (2 * jnp.pi)  # u - i v of a unit source sheet on the gap
    return (s_n - 1j * s_t) * base, s_t * h


def solve(x, y, alpha, *, kutta: bool = True, open_te: bool = False):
    """Nodal vortex strengths for the free-stream angles ``alpha`` (radians, shape ``(k,)``).

    Returns ``gamma (k, n + 1)``, the panel outward normals, lengths and midpoints (complex).
    """
    a, normal, length, mid = influence_matrix(x, y, kutta=kutta, open_te=open_te)
    alpha = jnp.atleast_1d(alpha)
    free = jnp.exp(1j * alpha)  # unit free stream u + i v
    rhs = -(jnp.real(free)[None, :] * jnp.real(normal)[:, None] + jnp.imag(free)[None, :] * jnp.imag(normal)[:, None])
    rhs = jnp.concatenate([rhs, jnp.zeros((1, alpha.shape[0]))], axis=0)
    gamma = jnp.linalg.solve(a, rhs).T
    return gamma, normal, length, mid


def coefficients(x, y, alpha, chord=1.0, moment_point=(0.25, 0.0), *, kutta: bool = True, open_te: bool = False):
    """``(Cl, Cm, Cp, Cl_pressure)`` at the angles ``alpha`` (radians, ``(k,)``).

    ``Cl`` by Kutta-Joukowski from the circulation, ``Cm`` about ``moment_point`` (positive nose up)
    and ``Cl_pressure`` by integrating ``Cp`` (a consistency check), ``Cp (k, n)`` at panel midpoints.
    """
    gamma, normal, length, mid = solve(x, y, alpha, kutta=kutta, open_te=open_te)
    alpha = jnp.atleast_1d(alpha)
    circulation = jnp.sum(0.5 * (gamma[:, :-1] + gamma[:, 1:]) * length[None, :], axis=1)  # counter-clockwise
    if open_te:
        z = x + 1j * y
        _, gap_circulation = gap_panel(z, (z[1:] - z[:-1]) / length, mid[:1])
        circulation = circulation + 0.5 * (gamma[:, -1] - gamma[:, 0]) * gap_circulation
    cl = -2.0 * circulation / chord
    speed = 0.5 * (gamma[:, :-1] + gamma[:, 1:])
    cp = 1.0 - speed**2
    force = -cp * (normal * length)[None, :]  # per panel, complex fx + i fy, in units of q * chord
    arm = mid - (moment_point[0] + 1j * moment_point[1])
    cm = -jnp.sum(jnp.real(arm)[None, :] * jnp.imag(force) - jnp.imag(arm)[None, :] * jnp.real(force), axis=1)
    cm = cm / chord**2
    lift_dir = 1j * jnp.exp(1j * alpha)  # perpendicular to the free stream
    cl_p = jnp.sum(jnp.real(force * jnp.conj(lift_dir)[:, None]), axis=1) / chord
    return cl, cm, cp, cl_p


coefficients_jit = jax.jit(coefficients, static_argnames=("kutta", "open_te"))
