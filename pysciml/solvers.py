"""Solver objects: which method integrates the ODE (engine-free configuration).

Solvers are small frozen objects composed by the user, as in diffrax and
SciML: ``ps.solve(model, ..., solver=ps.Rodas5P())``.  Each engine maps them
to its native counterpart (the jax engine: diffrax solvers and our own
Rosenbrock machine; the Julia engine: OrdinaryDiffEq algorithms).

A solver may also be named by a string (``"rodas5p"``, ``"Tsit5"``); case
and punctuation are ignored.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from .errors import InputError
from ._options import options
from .linsolve import LinearSolver, resolve_linsolve

__all__ = [
    "Solver",
    "Tsit5",
    "Dopri5",
    "Dopri8",
    "Vern7",
    "Kvaerno5",
    "KenCarp4",
    "Rosenbrock23",
    "Rodas4",
    "Rodas5P",
    "FBDF",
    "QNDF",
    "Auto",
    "resolve_solver",
    "SOLVERS",
]


@dataclasses.dataclass(frozen=True)
class Solver:
    """Base of all solver objects (abstract)."""

    #: nominal order of the method
    order: ClassVar[int] = 0
    #: suited to stiff problems
    stiff: ClassVar[bool] = False
    #: engines implementing it
    engines: ClassVar[tuple[str, ...]] = ("jax", "julia")

    @property
    def name(self) -> str:
        return type(self).__name__


# -- explicit Runge-Kutta (diffrax in the jax engine) ------------------------------------
@options
@dataclasses.dataclass(frozen=True)
class Tsit5(Solver):
    """Tsitouras 5(4) explicit Runge-Kutta; the default for non-stiff problems."""

    order: ClassVar[int] = 5


@options
@dataclasses.dataclass(frozen=True)
class Dopri5(Solver):
    """Dormand-Prince 5(4) explicit Runge-Kutta."""

    order: ClassVar[int] = 5


@options
@dataclasses.dataclass(frozen=True)
class Dopri8(Solver):
    """Dormand-Prince 8(7) explicit Runge-Kutta, for tight tolerances."""

    order: ClassVar[int] = 8


@options
@dataclasses.dataclass(frozen=True)
class Vern7(Solver):
    """Verner 7(6) explicit Runge-Kutta (Julia engine only)."""

    order: ClassVar[int] = 7
    engines: ClassVar[tuple[str, ...]] = ("julia",)


# -- implicit Runge-Kutta (diffrax in the jax engine) -------------------------------------
@options
@dataclasses.dataclass(frozen=True)
class Kvaerno5(Solver):
    """Kvaerno 5(4) ESDIRK, L-stable (diffrax in the jax engine; Julia: OrdinaryDiffEqSDIRK)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True


@options
@dataclasses.dataclass(frozen=True)
class KenCarp4(Solver):
    """Kennedy-Carpenter 4(3) ESDIRK.

    Note: diffrax 0.7's KenCarp solvers stall on some stiff problems written as
    one function (ROBER); ``solver="auto"`` never picks them.
    """

    order: ClassVar[int] = 4
    stiff: ClassVar[bool] = True


# -- Rosenbrock-Wanner (our own machine in the jax engine) -------------------------------
@options
@dataclasses.dataclass(frozen=True)
class _Rosenbrock(Solver):
    """Rosenbrock-Wanner methods: one Jacobian and one factorisation per step, no Newton.

    Args:
        linsolve: how ``W = I - h*gamma*J`` is built and solved: ``"auto"``,
            :class:`pysciml.DenseLU`, :class:`pysciml.SparseLU`,
            :class:`pysciml.GMRES`. ``"auto"`` chooses dense for small systems
            and a sparse strategy for large ones.
    """

    linsolve: Any = "auto"
    stiff: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "linsolve", resolve_linsolve(self.linsolve))


@options
@dataclasses.dataclass(frozen=True)
class Rosenbrock23(_Rosenbrock):
    """Rosenbrock 2(3) of Shampine & Reichelt (ode23s); robust at loose tolerances."""

    order: ClassVar[int] = 2


@options
@dataclasses.dataclass(frozen=True)
class Rodas4(_Rosenbrock):
    """Rodas4 of Hairer & Wanner, 4(3), stiffly accurate."""

    order: ClassVar[int] = 4


@options
@dataclasses.dataclass(frozen=True)
class Rodas5P(_Rosenbrock):
    """Rodas5P of Steinebach (2023), 5(4), stiffly accurate; the default stiff solver."""

    order: ClassVar[int] = 5


# -- BDF (Julia engine only) -------------------------------------------------------------
@options
@dataclasses.dataclass(frozen=True)
class FBDF(Solver):
    """Fixed-leading-coefficient BDF (Julia engine only: OrdinaryDiffEqBDF)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True
    engines: ClassVar[tuple[str, ...]] = ("julia",)


@options
@dataclasses.dataclass(frozen=True)
class QNDF(Solver):
    """Quasi-constant-step NDF (Julia engine only: OrdinaryDiffEqBDF)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True
    engines: ClassVar[tuple[str, ...]] = ("julia",)


@options
@dataclasses.dataclass(frozen=True)
class Auto(Solver):
    """Let pysciml choose: stiff problems go to Rodas5P, others to Tsit5.

    The choice (and why) is reported in ``sol.stats["solver"]`` and
    ``sol.stats["auto_reason"]``.

    Args:
        stiff_hint: force the decision (``True``/``False``) instead of detecting it.
        linsolve: passed to the stiff solver when one is picked.
    """

    stiff_hint: bool | None = None
    linsolve: Any = "auto"


SOLVERS: dict[str, type[Solver]] = {
    cls.__name__.lower(): cls
    for cls in (Tsit5, Dopri5, Dopri8, Vern7, Kvaerno5, KenCarp4, Rosenbrock23, Rodas4, Rodas5P, FBDF, QNDF, Auto)
}


def resolve_solver(solver: Any, *, argument: str = "solver") -> Solver:
    """A solver object from an object, a class or a name; :class:`InputError` otherwise."""
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, type) and issubclass(solver, Solver) and solver not in (Solver, _Rosenbrock):
        return solver()
    if isinstance(solver, str):
        key = "".join(ch for ch in solver.lower() if ch.isalnum())
        if key in SOLVERS:
            return SOLVERS[key]()
    raise InputError(
        f"unknown solver {solver!r}; use one of {', '.join(c.__name__ for c in SOLVERS.values())} "
        "(as objects, e.g. ps.Rodas5P(), or names) or 'auto'.",
        argument=argument,
    )
