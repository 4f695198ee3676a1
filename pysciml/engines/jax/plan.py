"""A solver plan: which method(s) the compiled solve runs, resolved from the user's solver.

The choice itself (``solver="auto"``) is :func:`pysciml.solvers.auto.choose_solver`;
here it is paired with the prepared linear solver of a Rosenbrock method.
"""

from __future__ import annotations

import dataclasses

from ...solvers.auto import choose_solver
from ...solvers.base import Solver
from ...solvers.rosenbrock.method import Rosenbrock

__all__ = ["SolverPlan", "plan_solver", "prepared_linsolve"]


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


def prepared_linsolve(request, solver):
    """The prepared jax linear solver of a Rosenbrock ``solver`` for ``request`` (None for other methods)."""
    if not isinstance(solver, Rosenbrock):
        return None
    from .linsolve.select import make_linsolve  # equinox: only when a Rosenbrock method runs

    return make_linsolve(solver.linsolve, request)


def plan_solver(request, *, runtime_fallback: bool = True) -> SolverPlan:
    """Turn ``request.solver`` into a plan (``runtime_fallback=False``: one static method, for fits)."""
    choice = choose_solver(
        request.solver,
        request.model,
        request.u0,
        request.t0,
        request.t1,
        request.params,
        request.network_params,
        max_steps=request.max_steps,
        runtime_fallback=runtime_fallback,
    )
    stiff = choice.fallback if choice.fallback is not None else choice.primary
    return SolverPlan(
        choice.primary, choice.fallback, choice.budget, choice.reason, linsolve=prepared_linsolve(request, stiff)
    )
