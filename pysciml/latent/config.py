"""The checks on a latent ODE's configuration (the configuration itself crosses the engine line:
:class:`pysciml.engines.requests.LatentConfig`)."""

from __future__ import annotations

import numbers
from typing import Any

from ..engines.requests import LatentConfig
from ..errors import InputError
from ..solvers.catalog import SOLVER_CLASSES, resolve_solver
from ..solvers.runge_kutta import Euler, RungeKutta

__all__ = [
    "LatentConfig",
    "ENCODERS",
    "LATENT_SOLVERS",
    "check_positive_int",
    "check_positive_float",
    "latent_solver",
    "latent_step",
]

ENCODERS = ("ode-rnn", "gru")
#: methods usable for the latent flow: the explicit ones with a diffrax method (latent ODEs are non-stiff by
#: construction), and forward Euler (fixed steps only)
LATENT_SOLVERS: tuple[type[RungeKutta], ...] = (
    *(c for c in SOLVER_CLASSES if issubclass(c, RungeKutta) and c.diffrax_method and not c.implicit),
    Euler,
)


def check_positive_int(value: Any, argument: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= minimum, else an InputError naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"must be an integer >= {minimum}, got {value!r}.", argument=argument)
    return int(value)


def check_positive_float(value: Any, argument: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with allow_zero), else an InputError naming ``argument``."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
        # typeshed's numbers.Real declares only < and <=; every concrete real number has >= and >
        and (value >= 0 if allow_zero else value > 0)  # pyright: ignore[reportOperatorIssue]
    )
    if not ok:
        what = "a finite number >= 0" if allow_zero else "a finite positive number"
        raise InputError(f"must be {what}, got {value!r}.", argument=argument)
    return float(value)


def latent_solver(solver: Any) -> RungeKutta:
    """The latent-flow method from a name or a solver object (``"auto"``: Tsit5)."""
    if isinstance(solver, str) and solver.strip().lower() == "auto":
        solver = "tsit5"
    if (isinstance(solver, str) and solver.strip().lower() == "euler") or solver is Euler:
        solver = Euler()
    try:
        obj = solver if isinstance(solver, Euler) else resolve_solver(solver, purpose="a latent model")
    except InputError:
        obj = None
    if not isinstance(obj, LATENT_SOLVERS):
        raise InputError(
            f"unknown or unsuitable solver {solver!r} for a latent ODE; use one of "
            f"{[c.__name__.lower() for c in LATENT_SOLVERS]} (names or objects such as ps.Tsit5()). Latent flows "
            "are learned and non-stiff: explicit methods fit.",
            argument="solver",
        )
    return obj


def latent_step(dt: Any, solver: RungeKutta) -> float | None:
    """The latent flow's fixed step in model time units (None: adaptive), checked against ``solver``.

    A method without an error estimate (``solver.fixed_step``: Euler) needs one; any other explicit
    method takes fixed steps when ``dt`` is given (``rtol``/``atol`` then unused).
    """
    if dt is None:
        if solver.fixed_step:
            raise InputError(
                f"solver={solver.name.lower()!r} takes fixed steps and has no error estimate; pass dt=<step in "
                "model time units> (e.g. a tenth of the fastest period), or use an adaptive solver such as 'tsit5'.",
                argument="dt",
            )
        return None
    return check_positive_float(dt, "dt")
