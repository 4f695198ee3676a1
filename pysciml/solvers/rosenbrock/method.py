"""The Rosenbrock-Wanner solver objects' common part: a tableau and a linear-solve strategy."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from ..base import Solver
from ..linear import resolve_linsolve
from .tableau import RosenbrockTableau

__all__ = ["Rosenbrock"]


@dataclasses.dataclass(frozen=True)
class Rosenbrock(Solver):
    """Rosenbrock-Wanner methods: one Jacobian and one factorisation per step, no Newton (abstract).

    The jax engine runs :attr:`tableau` on pysciml's own Rosenbrock machine.

    Args:
        linsolve: how ``W = I - h*gamma*J`` is built and solved: ``"auto"``,
            :class:`pysciml.DenseLU`, :class:`pysciml.SparseLU`,
            :class:`pysciml.GMRES`. ``"auto"`` chooses dense for small systems
            and a sparse strategy for large ones.
    """

    linsolve: Any = "auto"
    stiff: ClassVar[bool] = True
    tableau: ClassVar[RosenbrockTableau]

    def __post_init__(self):
        object.__setattr__(self, "linsolve", resolve_linsolve(self.linsolve))
