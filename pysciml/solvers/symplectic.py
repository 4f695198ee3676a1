"""Symplectic fixed-step solvers for separable second-order systems: Verlet and compositions.

A separable system is written as an ordinary first-order model whose state is
``u = (q, v)``: the first half of the flat state are positions, the second half
velocities (or momenta), with ``dq/dt = g(v, t)`` independent of ``q`` and
``dv/dt = a(q, t)`` independent of ``v``.  ``pysciml.physics`` models
(``NBody``, ``SpringNetwork`` without damping, ``LennardJones`` MD) lay out their
state this way.

Each method is a sequence of *kicks* ``v += d_i h a(q)`` and *drifts*
``q += c_i h g(v)``, ``K(d_0) D(c_0) K(d_1) ... D(c_{s-1}) K(d_s)``, built from
the weights ``w`` of a symmetric composition of the velocity Verlet (leapfrog)
step: ``c = w`` and ``d = (w_1/2, (w_1+w_2)/2, ..., w_s/2)``.  The last kick's
acceleration is the next step's first (one force evaluation per stage).
Yoshida's 4th-order triple jump is exact; the 6th and 8th order methods compose
it again (Suzuki-Yoshida recursion, 9 and 27 stages): the coefficients are exact
closed forms, so the measured orders do not hang on printed digits.

References: H. Yoshida, "Construction of higher order symplectic integrators",
Phys. Lett. A 150 (1990) 262; E. Hairer, C. Lubich, G. Wanner, *Geometric
Numerical Integration*, 2nd ed., Springer 2006, sections II.4 and V.3.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from ..errors import InputError
from ..options import options
from .base import Solver

__all__ = [
    "Symplectic",
    "VelocityVerlet",
    "Yoshida4",
    "Yoshida6",
    "Yoshida8",
    "triple_jump",
    "kick_drift_coefficients",
]


def triple_jump(weights: tuple[float, ...], order: int) -> tuple[float, ...]:
    """Compose a symmetric method of even ``order`` (stage weights ``weights``) into order + 2.

    ``S(g1 h) S(g2 h) S(g1 h)`` with ``g1 = 1 / (2 - 2^(1/(order+1)))`` and
    ``g2 = 1 - 2 g1`` (Yoshida 1990, Suzuki 1990).
    """
    g1 = 1.0 / (2.0 - 2.0 ** (1.0 / (order + 1)))
    g2 = 1.0 - 2.0 * g1
    return tuple(g * w for g in (g1, g2, g1) for w in weights)


def kick_drift_coefficients(weights: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Kick and drift coefficients ``(d, c)`` of a composition of leapfrog steps with ``weights``."""
    c = tuple(weights)
    d = [weights[0] / 2.0]
    for a, b in zip(weights[:-1], weights[1:]):
        d.append((a + b) / 2.0)
    d.append(weights[-1] / 2.0)
    return tuple(d), c


_W2: tuple[float, ...] = (1.0,)
_W4 = triple_jump(_W2, 2)
_W6 = triple_jump(_W4, 4)
_W8 = triple_jump(_W6, 6)


@dataclasses.dataclass(frozen=True)
class Symplectic(Solver):
    """Symplectic fixed-step composition methods (abstract; jax engine only).

    Args:
        dt: the step size. Without it, ``ps.solve``'s ``dt0`` is used. Save times
            must lie on the step grid ``t0 + k dt`` (each output interval a whole
            number of steps), so that every step has the same size and the method
            stays symplectic; ``max_steps`` does not apply (the step count is
            ``(t1 - t0) / dt``), nor do ``rtol``/``atol`` (no error control).

    Class attributes:
        weights: the leapfrog weights of the symmetric composition.
    """

    dt: float | None = None
    weights: ClassVar[tuple[float, ...]] = _W2
    engines: ClassVar[tuple[str, ...]] = ("jax",)
    fits: ClassVar[bool] = False  # its own fixed-step scan, outside the compiled solve of fits

    def __post_init__(self):
        if self.dt is not None:
            try:
                dt = float(self.dt)
            except (TypeError, ValueError):
                raise InputError(f"must be a number, got {self.dt!r}.", argument="dt") from None
            if not (math.isfinite(dt) and dt > 0):
                raise InputError(f"must be positive and finite, got {self.dt!r}.", argument="dt")
            object.__setattr__(self, "dt", dt)

    @property
    def coefficients(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(kick, drift)`` coefficients: ``len(kick) == len(drift) + 1``."""
        return kick_drift_coefficients(self.weights)

    @property
    def stages(self) -> int:
        """Force evaluations per step."""
        return len(self.weights)

    def with_step(self, dt0: float | None) -> Symplectic:
        """This solver with its step size: ``dt``, else ``dt0`` (``ps.solve``'s argument)."""
        if self.dt is not None:
            return self
        if dt0 is None:
            raise InputError(
                f"{self.name} is a fixed-step method and has no step size; pass ps.{self.name}(dt=...) "
                "(or dt0=... to ps.solve).",
                argument="solver",
            )
        return dataclasses.replace(self, dt=float(dt0))

    def check_state_size(self, n_states: int) -> None:
        """Refuse a state that cannot be split into positions and velocities of equal size."""
        if n_states % 2:
            raise InputError(
                f"has {n_states} state values; {self.name} needs positions then velocities (the first "
                "half of the flat state dq/dt = g(v), the second dv/dt = a(q)), an even number.",
                argument="model",
            )

    def step_counts(self, t0: float, saveat) -> tuple[np.ndarray, np.ndarray]:
        """Steps per output interval and the exact step size of each (``t0`` to the first save time first).

        Raises :class:`pysciml.InputError` (argument ``saveat``) when an interval is not a
        whole number of steps (to 1e-6 of a step).
        """
        if self.dt is None:
            raise InputError(f"{self.name} has no step size; pass dt=...", argument="solver")
        edges = np.concatenate([[float(t0)], np.asarray(saveat, dtype=float).reshape(-1)])
        spans = np.diff(edges)
        ratio = spans / self.dt
        counts = np.rint(ratio).astype(np.int64)
        off = np.abs(ratio - counts) > 1e-6 * np.maximum(1.0, counts)
        if np.any(off):
            i = int(np.argmax(off))
            raise InputError(
                f"output time {float(edges[i + 1])!r} is {ratio[i]:.6g} steps of dt = {self.dt} after the previous "
                f"one; {self.name} keeps a constant step, so output times must lie on the grid t0 + k*dt "
                "(e.g. saveat = t0 + dt * np.arange(0, n + 1, every)).",
                argument="saveat",
            )
        sizes = np.where(counts > 0, spans / np.maximum(counts, 1), self.dt)
        return counts, sizes


@options
@dataclasses.dataclass(frozen=True)
class VelocityVerlet(Symplectic):
    """Velocity Verlet (kick-drift-kick leapfrog, Störmer-Verlet): order 2, one force evaluation per step."""

    order: ClassVar[int] = 2
    weights: ClassVar[tuple[float, ...]] = _W2


@options
@dataclasses.dataclass(frozen=True)
class Yoshida4(Symplectic):
    """Yoshida's 4th-order triple jump of velocity Verlet (3 stages)."""

    order: ClassVar[int] = 4
    weights: ClassVar[tuple[float, ...]] = _W4


@options
@dataclasses.dataclass(frozen=True)
class Yoshida6(Symplectic):
    """6th order: the triple jump of :class:`Yoshida4` (Suzuki-Yoshida recursion, 9 stages)."""

    order: ClassVar[int] = 6
    weights: ClassVar[tuple[float, ...]] = _W6


@options
@dataclasses.dataclass(frozen=True)
class Yoshida8(Symplectic):
    """8th order: the triple jump of :class:`Yoshida6` (27 stages)."""

    order: ClassVar[int] = 8
    weights: ClassVar[tuple[float, ...]] = _W8
