"""Finite-volume grid operators written once against an array namespace ``xp``.

``xp`` is ``numpy`` (the reference, :mod:`pysciml.grid`) or ``jax.numpy`` (the
jax engine, :mod:`pysciml.engines.jax.gridops`); nothing here imports jax.
Fields have shape ``(..., ny, nx)``; every loop is over the two axes only.

Along one axis with ``n`` cells, faces ``k = 0..n`` sit between cells ``k-1``
and ``k``.  For each face the kernels form the *left* (cell ``k-1``) and *right*
(cell ``k``) values, using at the domain ends: the wrapped cell (periodic), the
boundary value ``g`` (Dirichlet, for the transported / differentiated scalar),
or the boundary cell itself (Neumann, and vector components at Dirichlet ends).
A face flux ``F_k`` is then formed and a cell receives ``F_k - F_{k+1}``, so
every flux leaves one cell and enters its neighbour (exact conservation).
Inactive faces (masked neighbour, Neumann wall, pole) have zero coefficients.
"""

from __future__ import annotations

from .base import AxisOps, GridOps

__all__ = ["laplacian", "advect", "gradient", "divergence", "SCHEMES"]

#: advection schemes
SCHEMES = ("upwind", "centered")


def _sl(f, start, stop, axis):
    return f[..., start:stop, :] if axis == -2 else f[..., start:stop]


def _faces(f, axis, a: AxisOps, xp, *, scalar: bool, pole: bool = False):
    """(left, right) values at the n+1 faces along ``axis``.

    ``scalar`` selects Dirichlet ghosts (the boundary value); ``pole`` puts the cell on
    the antipodal meridian beyond a pole face (used by the gradient only).
    """
    first, last = _sl(f, 0, 1, axis), _sl(f, -1, None, axis)
    if a.kind == "periodic":
        lo, hi = (last, first), (last, first)
    elif a.kind == "dirichlet" and scalar:
        g = xp.full_like(first, a.value)
        lo, hi = (g, first), (last, g)
    else:
        lo, hi = (first, first), (last, last)
    if pole and a.pole_shift:
        if a.pole[0]:
            lo = (xp.roll(first, a.pole_shift, axis=-1), first)
        if a.pole[1]:
            hi = (last, xp.roll(last, a.pole_shift, axis=-1))
    left = xp.concatenate([lo[0], _sl(f, None, -1, axis), hi[0]], axis=axis)
    right = xp.concatenate([lo[1], _sl(f, 1, None, axis), hi[1]], axis=axis)
    return left, right


def _net(F, axis):
    """Net outflow of each cell from face fluxes: ``F_{k+1} - F_k``."""
    return _sl(F, 1, None, axis) - _sl(F, None, -1, axis)


def _masked(f, ops: GridOps, xp):
    return f if ops.mask is None else xp.where(ops.mask, f, xp.zeros_like(f))


def _axes(ops: GridOps):
    return ((-2, ops.y), (-1, ops.x))


def laplacian(f, ops: GridOps, xp):
    """Conservative 5-point Laplacian: ``(1/A) sum_faces L (f_right - f_left) / d``."""
    f = _masked(f, ops, xp)
    net = 0.0
    for axis, a in _axes(ops):
        left, right = _faces(f, axis, a, xp, scalar=True)
        net = net + _net(a.conductance * (right - left), axis)
    return net * ops.inv_area


def _interp(left, right, a: AxisOps):
    return a.face_weight * left + (1.0 - a.face_weight) * right


def advect(f, u, v, ops: GridOps, scheme: str, xp):
    """Advective tendency ``-div(velocity f)`` in flux form; ``u`` along x, ``v`` along y."""
    f = _masked(f, ops, xp)
    net = 0.0
    for axis, a, vel in ((-2, ops.y, v), (-1, ops.x, u)):
        vel = _masked(a.sign * vel, ops, xp)
        vface = _interp(*_faces(vel, axis, a, xp, scalar=False), a)
        left, right = _faces(f, axis, a, xp, scalar=True)
        if scheme == "upwind":
            fface = xp.where(vface >= 0, left, right)
        else:
            fface = _interp(left, right, a)
        net = net + _net(a.length * vface * fface, axis)
    return -net * ops.inv_area


def gradient(f, ops: GridOps, xp):
    """``(df/dy, df/dx)`` at centres: face differences interpolated to the centre."""
    f = _masked(f, ops, xp)
    out = []
    for axis, a in _axes(ops):
        left, right = _faces(f, axis, a, xp, scalar=True, pole=True)
        G = a.inv_distance * (right - left)
        w = a.centre_weight
        out.append(a.sign * (w * _sl(G, None, -1, axis) + (1.0 - w) * _sl(G, 1, None, axis)))
    return tuple(out)


def divergence(fy, fx, ops: GridOps, xp):
    """Flux-form divergence of the vector ``(fy, fx)`` given at centres."""
    net = 0.0
    for axis, a, comp in ((-2, ops.y, fy), (-1, ops.x, fx)):
        comp = _masked(a.sign * comp, ops, xp)
        cface = _interp(*_faces(comp, axis, a, xp, scalar=False), a)
        net = net + _net(a.length * cface, axis)
    return net * ops.inv_area
