"""Runge-Kutta solvers run by diffrax on the jax engine: explicit (Tsit5, Dopri5/8, Vern7, Euler) and ESDIRK.

Each class names its diffrax method (:attr:`RungeKutta.diffrax_method`, an attribute
of the ``diffrax`` module) and its OrdinaryDiffEq counterpart for the Julia engine.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..options import options
from .base import Solver

__all__ = ["RungeKutta", "Euler", "Tsit5", "Dopri5", "Dopri8", "Vern7", "Kvaerno5", "KenCarp4"]


@dataclasses.dataclass(frozen=True)
class RungeKutta(Solver):
    """Base of the Runge-Kutta solver objects (abstract).

    Class attributes:
        diffrax_method: name of the diffrax solver class (``""``: not in diffrax).
        evals_per_step: vector-field evaluations per step (explicit FSAL methods), else None.
        implicit: an implicit (ESDIRK) method, solved with a full Newton iteration.
        imex: an IMEX method whose whole right-hand side is treated implicitly.
        fixed_step: no embedded error estimate: the method runs with a given fixed step only.
    """

    diffrax_method: ClassVar[str] = ""
    evals_per_step: ClassVar[int | None] = None
    implicit: ClassVar[bool] = False
    imex: ClassVar[bool] = False
    fixed_step: ClassVar[bool] = False


@options
@dataclasses.dataclass(frozen=True)
class Euler(RungeKutta):
    """Explicit (forward) Euler, first order, fixed steps only: the latent flow of
    ``LatentODE(solver="euler", dt=...)``, to see a cheap solver's error against an adaptive one.

    Not in ``ps.solve``'s catalog (:data:`pysciml.solvers.catalog.SOLVER_CLASSES`): there, fixed
    steps are ``adaptive=False, dt0=...`` with any explicit method.
    """

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "Euler"
    evals_per_step: ClassVar[int | None] = 1
    fixed_step: ClassVar[bool] = True
    engines: ClassVar[tuple[str, ...]] = ("jax",)


@options
@dataclasses.dataclass(frozen=True)
class Tsit5(RungeKutta):
    """Tsitouras 5(4) explicit Runge-Kutta; the default for non-stiff problems."""

    order: ClassVar[int] = 5
    diffrax_method: ClassVar[str] = "Tsit5"
    evals_per_step: ClassVar[int | None] = 6
    julia_method: ClassVar[str] = "tsit5"  # OrdinaryDiffEqTsit5.Tsit5


@options
@dataclasses.dataclass(frozen=True)
class Dopri5(RungeKutta):
    """Dormand-Prince 5(4) explicit Runge-Kutta."""

    order: ClassVar[int] = 5
    diffrax_method: ClassVar[str] = "Dopri5"
    evals_per_step: ClassVar[int | None] = 6
    julia_method: ClassVar[str] = "dopri5"  # OrdinaryDiffEqLowOrderRK.DP5


@options
@dataclasses.dataclass(frozen=True)
class Dopri8(RungeKutta):
    """Dormand-Prince 8(7) explicit Runge-Kutta, for tight tolerances."""

    order: ClassVar[int] = 8
    diffrax_method: ClassVar[str] = "Dopri8"
    evals_per_step: ClassVar[int | None] = 12
    julia_method: ClassVar[str] = "dopri8"  # OrdinaryDiffEqHighOrderRK.DP8


@options
@dataclasses.dataclass(frozen=True)
class Vern7(RungeKutta):
    """Verner 7(6) explicit Runge-Kutta (Julia engine only)."""

    order: ClassVar[int] = 7
    engines: ClassVar[tuple[str, ...]] = ("julia",)
    julia_method: ClassVar[str] = "vern7"  # OrdinaryDiffEqVerner.Vern7


@options
@dataclasses.dataclass(frozen=True)
class Kvaerno5(RungeKutta):
    """Kvaerno 5(4) ESDIRK, L-stable (diffrax in the jax engine; Julia: OrdinaryDiffEqSDIRK)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True
    diffrax_method: ClassVar[str] = "Kvaerno5"
    implicit: ClassVar[bool] = True
    julia_method: ClassVar[str] = "kvaerno5"


@options
@dataclasses.dataclass(frozen=True)
class KenCarp4(RungeKutta):
    """Kennedy-Carpenter 4(3) ESDIRK.

    Note: diffrax 0.7's KenCarp solvers stall on some stiff problems written as
    one function (ROBER); ``solver="auto"`` never picks them.
    """

    order: ClassVar[int] = 4
    stiff: ClassVar[bool] = True
    diffrax_method: ClassVar[str] = "KenCarp4"
    implicit: ClassVar[bool] = True
    imex: ClassVar[bool] = True
    julia_method: ClassVar[str] = "kencarp4"
