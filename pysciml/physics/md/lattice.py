"""Starting configurations: :class:`Atoms` and :func:`fcc_lattice` (reduced Lennard-Jones units, k_B = 1)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ...errors import InputError
from .space import check_box, check_positions

__all__ = ["Atoms", "fcc_lattice", "kinetic_temperature"]


@dataclasses.dataclass(frozen=True)
class Atoms:
    """Positions and velocities ``(n, 3)`` in a periodic ``box (3,)``, with ``masses (n,)``."""

    positions: np.ndarray
    velocities: np.ndarray
    box: np.ndarray
    masses: np.ndarray

    def __post_init__(self):
        q = check_positions(self.positions, "positions")
        v = check_positions(self.velocities, "velocities")
        if v.shape != q.shape:
            raise InputError(f"must have the shape of positions {q.shape}, got {v.shape}.", argument="velocities")
        m = np.broadcast_to(np.asarray(self.masses, dtype=float), (q.shape[0],)).copy()
        if not np.all(np.isfinite(m) & (m > 0)):
            raise InputError("must be positive and finite.", argument="masses")
        object.__setattr__(self, "positions", q)
        object.__setattr__(self, "velocities", v)
        object.__setattr__(self, "box", check_box(self.box))
        object.__setattr__(self, "masses", m)

    @property
    def n(self) -> int:
        return int(self.positions.shape[0])


def kinetic_temperature(velocities, masses, dof: int):
    """``2 KE / dof`` (k_B = 1) of velocities ``(..., n, 3)``."""
    v = np.asarray(velocities)
    return np.sum(np.asarray(masses)[:, None] * v * v, axis=(-2, -1)) / dof


def fcc_lattice(n_atoms: int, density: float, temperature: float = 0.0, *, seed: int = 0, mass: float = 1.0) -> Atoms:
    """A face-centred cubic crystal of ``n_atoms = 4 m^3`` atoms filling a cubic box at ``density``.

    Velocities are Gaussian, with the centre-of-mass momentum removed and rescaled so the kinetic
    temperature ``sum m v^2 / (3 n - 3)`` equals ``temperature`` exactly.
    """
    m = round((n_atoms / 4) ** (1 / 3)) if isinstance(n_atoms, (int, np.integer)) and n_atoms > 0 else 0
    if m < 1 or 4 * m**3 != n_atoms:
        near = sorted({4 * k**3 for k in (max(m - 1, 1), max(m, 1), m + 1)})
        raise InputError(f"must be 4 m^3 for a cubic fcc crystal (e.g. {near}), got {n_atoms!r}.", argument="n_atoms")
    for name, val, lo in (("density", density, 0.0), ("mass", mass, 0.0)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > lo):
            raise InputError(f"must be a positive finite number, got {val!r}.", argument=name)
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
        raise InputError(f"must be a finite number >= 0, got {temperature!r}.", argument="temperature")
    length = (n_atoms / density) ** (1 / 3)
    a = length / m
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array(np.meshgrid(*[np.arange(m)] * 3, indexing="ij")).reshape(3, -1).T
    q = ((cells[:, None, :] + basis[None, :, :]).reshape(-1, 3) + 0.25) * a
    rng = np.random.default_rng(seed)
    v = rng.normal(size=q.shape)
    v -= v.mean(axis=0)
    if temperature > 0 and n_atoms > 1:
        v *= math.sqrt(temperature / kinetic_temperature(v, np.full(n_atoms, mass), 3 * n_atoms - 3))
    else:
        v[:] = 0.0
    return Atoms(positions=q, velocities=v, box=np.full(3, length), masses=np.full(n_atoms, float(mass)))
