"""The solver interface: a solver object *is* its method (engine-free configuration).

Solvers are small frozen objects composed by the user, as in diffrax and SciML:
``ps.solve(model, ..., solver=ps.Rodas5P())``.  Each class carries everything an
engine needs to run it: Runge-Kutta classes name their diffrax method, Rosenbrock
classes hold their tableau, and every class names the algorithm the Julia bridge
builds (:attr:`Solver.julia_method`).  No table elsewhere maps classes to methods.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

__all__ = ["Solver"]


@dataclasses.dataclass(frozen=True)
class Solver:
    """Base of all solver objects (abstract: use a leaf such as ``ps.Tsit5()``).

    Class attributes:
        order: nominal order of the method.
        stiff: suited to stiff problems.
        engines: the engines that implement it.
        julia_method: the algorithm name ``PySciMLBridge.make_alg`` understands
            (an OrdinaryDiffEq algorithm), or ``""`` when the Julia engine lacks it.
        fits: usable inside fits, gridded cells and latent models (the shared compiled
            ODE solve); ``False`` for methods that run in ``ps.solve`` only.
    """

    order: ClassVar[int] = 0
    stiff: ClassVar[bool] = False
    engines: ClassVar[tuple[str, ...]] = ("jax", "julia")
    julia_method: ClassVar[str] = ""
    fits: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return type(self).__name__
