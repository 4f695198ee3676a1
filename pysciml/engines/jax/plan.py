"""A solver plan: which method(s) the compiled solve runs (resolved from the user's solver)."""

from __future__ import annotations

import dataclasses

from ...solvers import Solver

__all__ = ["SolverPlan"]


@dataclasses.dataclass(frozen=True)
class SolverPlan:
    """What to run.

    Attributes:
        primary: the method tried first.
        fallback: for ``solver="auto"`` with a runtime stiffness test: the stiff
            method used when ``primary`` cannot finish within ``budget`` steps.
        budget: step budget of the primary method before falling back.
        reason: why auto chose this plan (reported in ``sol.stats``).
        linsolve: the prepared jax linear-solve strategy for Rosenbrock methods (or None).
    """

    primary: Solver
    fallback: Solver | None = None
    budget: int = 0
    reason: str = ""
    linsolve: object = None

    @property
    def key(self):
        return (self.primary, self.fallback, self.budget, id(self.linsolve) if self.linsolve is not None else None)
