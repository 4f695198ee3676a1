"""Solver objects: ODE methods, linear-solve strategies and adjoints (engine-free configuration).

Layout (as diffrax's solver folder): :mod:`.base` (the interface), one module per
family (:mod:`.runge_kutta`, :mod:`.bdf`, :mod:`.rosenbrock` with one file per
tableau and its thin class), :mod:`.auto` (the automatic choice), :mod:`.linear`
(linear-solve strategies), :mod:`.adjoints` (gradient methods), :mod:`.catalog`
(reading a solver from a name).
"""

from .adjoints import (
    Adjoint,
    Backsolve,
    Checkpointed,
    Direct,
    ForwardDiffSensitivity,
    Gauss,
    Interpolating,
    Quadrature,
    resolve_adjoint,
)
from .auto import Auto, SolverChoice, choose_solver
from .base import Solver
from .bdf import FBDF, QNDF
from .catalog import SOLVER_CLASSES, resolve_solver
from .linear import (
    DENSE_MAX,
    GMRES,
    AutoLinsolve,
    BandedLU,
    DenseLU,
    LinearSolver,
    SparseLU,
    resolve_linsolve,
)
from .rosenbrock.method import Rosenbrock
from .rosenbrock.rodas4 import Rodas4
from .rosenbrock.rodas5p import Rodas5P
from .rosenbrock.rosenbrock23 import Rosenbrock23
from .runge_kutta import Dopri5, Dopri8, KenCarp4, Kvaerno5, RungeKutta, Tsit5, Vern7
from .symplectic import Symplectic, VelocityVerlet, Yoshida4, Yoshida6, Yoshida8

__all__ = [
    "Solver",
    "RungeKutta",
    "Rosenbrock",
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
    "Symplectic",
    "VelocityVerlet",
    "Yoshida4",
    "Yoshida6",
    "Yoshida8",
    "Auto",
    "SolverChoice",
    "choose_solver",
    "SOLVER_CLASSES",
    "resolve_solver",
    "LinearSolver",
    "AutoLinsolve",
    "DenseLU",
    "SparseLU",
    "BandedLU",
    "GMRES",
    "resolve_linsolve",
    "DENSE_MAX",
    "Adjoint",
    "Direct",
    "Checkpointed",
    "Backsolve",
    "Gauss",
    "Interpolating",
    "Quadrature",
    "ForwardDiffSensitivity",
    "resolve_adjoint",
]
