"""Every solver class, and reading a solver from what the user wrote (object, class or name)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .auto import Auto
from .base import Solver
from .bdf import FBDF, QNDF
from .rosenbrock.rodas4 import Rodas4
from .rosenbrock.rodas5p import Rodas5P
from .rosenbrock.rosenbrock23 import Rosenbrock23
from .runge_kutta import Dopri5, Dopri8, KenCarp4, Kvaerno5, Tsit5, Vern7
from .sde import SDE_SOLVER_CLASSES
from .symplectic import VelocityVerlet, Yoshida4, Yoshida6, Yoshida8

__all__ = ["SOLVER_CLASSES", "resolve_solver"]

#: every solver a user can pick (leaf classes)
SOLVER_CLASSES: tuple[type[Solver], ...] = (
    Tsit5,
    Dopri5,
    Dopri8,
    Vern7,
    Kvaerno5,
    KenCarp4,
    Rosenbrock23,
    Rodas4,
    Rodas5P,
    FBDF,
    QNDF,
    VelocityVerlet,
    Yoshida4,
    Yoshida6,
    Yoshida8,
    Auto,
    *SDE_SOLVER_CLASSES,
)


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def resolve_solver(solver: Any, *, argument: str = "solver", purpose: str | None = None) -> Solver:
    """A solver object from an object, a leaf class or a name (case and punctuation ignored).

    ``purpose`` (e.g. ``"a fit"``): the solver must run inside fits, gridded cells and latent
    models (:attr:`Solver.fits`); methods for ``ps.solve`` only are refused, naming ``purpose``.
    """
    out = _lookup(solver, argument)
    if purpose is not None and not out.fits:
        raise InputError(
            f"{out.name} runs in ps.solve only, not in {purpose}; use an ODE solver such as "
            "ps.Tsit5(), ps.Dopri8(), ps.Rodas5P() or 'auto'.",
            argument=argument,
        )
    return out


def _lookup(solver: Any, argument: str) -> Solver:
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, type) and solver in SOLVER_CLASSES:
        return solver()
    if isinstance(solver, str):
        for cls in SOLVER_CLASSES:
            if _key(cls.__name__) == _key(solver):
                return cls()
    raise InputError(
        f"unknown solver {solver!r}; use one of {', '.join(c.__name__ for c in SOLVER_CLASSES)} "
        "(as objects, e.g. ps.Rodas5P(), or names) or 'auto'.",
        argument=argument,
    )
