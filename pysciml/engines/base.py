"""The engine boundary: requests in, raw results out.

Only numpy arrays (or, under ``jax.grad``, the jax engine's own arrays that
the user passed in) and frozen dataclasses cross this line.  The public API
(:mod:`pysciml.solving`, estimators, xarray) builds a request, an engine runs
it, and the public API wraps the raw result.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Any

from ..model_spec import ModelSpec
from ..solvers.base import Solver

__all__ = ["SolveRequest", "RawSolution", "Engine"]


@dataclasses.dataclass(frozen=True, eq=False)
class SolveRequest:
    """Everything an engine needs to solve one initial-value problem.

    Attributes:
        model: the model (physics, layout, declarations).
        u0: flat initial state, shape ``(n_states,)``.
        params: physics parameter values by name (validated, complete).
        network_params: flat weights by network name (complete).
        t0, t1: integration interval (``t1 > t0``).
        saveat: increasing times in ``[t0, t1]`` where the solution is returned.
        solver: a resolved solver object (may be :class:`pysciml.solvers.Auto`).
        rtol, atol: tolerances (positive).
        dt0: first step size, or ``None`` to let the solver choose.
        max_steps: step budget.
        adaptive: False for fixed steps of size ``dt0`` (convergence studies).
        differentiation: ``"reverse"`` (``jax.grad``-friendly) or ``"forward"``
            (``jax.jvp``/``jacfwd``-friendly) for engines where it matters.
    """

    model: ModelSpec
    u0: Any
    params: Mapping[str, Any]
    network_params: Mapping[str, Any]
    t0: float
    t1: float
    saveat: Any
    solver: Solver
    rtol: float = 1e-6
    atol: float = 1e-8
    dt0: float | None = None
    max_steps: int = 100_000
    adaptive: bool = True
    differentiation: str = "reverse"


@dataclasses.dataclass(frozen=True, eq=False)
class RawSolution:
    """An engine's answer to a :class:`SolveRequest`.

    Attributes:
        t: save times, shape ``(n_save,)``.
        u: states at the save times, shape ``(n_save, n_states)``; rows after a
            failure are NaN.
        status: integer status code (see :class:`pysciml.Status`), possibly an array.
        stats: counters (``steps``, ``rejected``, ``nfev``, ``njev``, ``nlu``...) and
            ``solver`` (the method that ran) and ``t_end`` (time reached).
    """

    t: Any
    u: Any
    status: Any
    stats: Mapping[str, Any]


class Engine(abc.ABC):
    """Protocol every engine implements."""

    #: engine name as used in ``engine=`` and ``PYSCIML_ENGINE``
    name: str = ""

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> tuple[bool, str]:
        """``(True, "")`` if the engine can run here, else ``(False, reason and fix)``."""

    @abc.abstractmethod
    def solve(self, request: SolveRequest) -> RawSolution:
        """Solve one initial-value problem."""

    def sensitivity(self, request: SolveRequest, wrt: tuple[str, ...]) -> dict[str, Any]:
        """Jacobians of the saved states with respect to ``u0`` and/or the parameters.

        Returns ``{"u": (n_save, n), "u0": (n_save, n, n), "params": {name: (n_save, n, *shape)}}``
        (only the requested keys) as numpy arrays, plus ``"status"``.
        """
        raise NotImplementedError(f"the {self.name} engine does not compute sensitivities yet")

    @abc.abstractmethod
    def info(self) -> dict[str, Any]:
        """Versions, devices, paths and settings, for ``ps.info()``."""
