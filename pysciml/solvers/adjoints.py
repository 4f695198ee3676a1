"""Adjoint (gradient) methods as objects: how reverse-mode gradients go through a solve.

On the jax engine:

* :class:`Direct` — discretise-then-optimise, every step kept: the exact gradient of the
  computed solution at the lowest cost, memory growing with the number of steps (our
  Rosenbrock machine's recorded discrete adjoint; diffrax's checkpointed adjoint with a
  checkpoint per step for diffrax methods).
* :class:`Checkpointed` — the same gradient with bounded memory: recursive checkpointing
  (diffrax ``RecursiveCheckpointAdjoint``), recomputing steps in the backward pass.
* :class:`Backsolve` — continuous adjoint: solves the adjoint ODE backwards in time
  (diffrax ``BacksolveAdjoint``); O(1) memory, gradient accurate to the tolerance only.

On the Julia engine (SciMLSensitivity): :class:`Gauss`, :class:`Interpolating`,
:class:`Quadrature` (continuous adjoints with a vector-Jacobian product backend) and
:class:`ForwardDiffSensitivity`; the jax engine runs the continuous ones as
:class:`Backsolve` (JAX computes the vector-Jacobian products itself).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from ..errors import InputError
from ..options import check_int, options

__all__ = [
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

_VJPS = ("zygote", "enzyme", "reversediff")


@dataclasses.dataclass(frozen=True)
class Adjoint:
    """Base of the adjoint objects (abstract)."""

    continuous: ClassVar[bool] = False
    #: the sensitivity algorithm ``PySciMLBridge.make_sensealg`` builds for the Julia engine
    julia_sensealg: ClassVar[str] = "auto"

    @property
    def name(self) -> str:
        return type(self).__name__


@options
@dataclasses.dataclass(frozen=True)
class Direct(Adjoint):
    """Reverse mode through every stored step (fastest; memory grows with the steps)."""

    julia_sensealg: ClassVar[str] = "forward"


@options
@dataclasses.dataclass(frozen=True)
class Checkpointed(Adjoint):
    """Reverse mode with recursive checkpointing (bounded memory).

    Args:
        checkpoints: number of checkpoints (``None``: chosen from the step budget).
    """

    julia_sensealg: ClassVar[str] = "checkpointed"

    checkpoints: int | None = None

    def __post_init__(self):
        check_int(self.checkpoints, "Checkpointed.checkpoints", allow_none=True)


@options
@dataclasses.dataclass(frozen=True)
class Backsolve(Adjoint):
    """Continuous adjoint solved backwards in time (O(1) memory)."""

    julia_sensealg: ClassVar[str] = "backsolve"

    continuous: ClassVar[bool] = True


@options
@dataclasses.dataclass(frozen=True)
class _SciMLAdjoint(Adjoint):
    vjp: str = "zygote"
    continuous: ClassVar[bool] = True

    def __post_init__(self):
        if self.vjp not in _VJPS:
            raise InputError(f"must be one of {_VJPS}, got {self.vjp!r}.", argument=f"{self.name}.vjp")


@options
@dataclasses.dataclass(frozen=True)
class Gauss(_SciMLAdjoint):
    """SciMLSensitivity ``GaussAdjoint`` (Julia); ``Backsolve`` on the jax engine."""

    julia_sensealg: ClassVar[str] = "gauss"


@options
@dataclasses.dataclass(frozen=True)
class Interpolating(_SciMLAdjoint):
    """SciMLSensitivity ``InterpolatingAdjoint`` (Julia); ``Backsolve`` on the jax engine."""

    julia_sensealg: ClassVar[str] = "interpolating"


@options
@dataclasses.dataclass(frozen=True)
class Quadrature(_SciMLAdjoint):
    """SciMLSensitivity ``QuadratureAdjoint`` (Julia); ``Backsolve`` on the jax engine."""

    julia_sensealg: ClassVar[str] = "quadrature"


@options
@dataclasses.dataclass(frozen=True)
class ForwardDiffSensitivity(Adjoint):
    """Forward-mode sensitivities (few parameters); jax: forward mode through the solve."""

    julia_sensealg: ClassVar[str] = "forward"


_NAMES = {
    c.__name__.lower(): c
    for c in (Direct, Checkpointed, Backsolve, Gauss, Interpolating, Quadrature, ForwardDiffSensitivity)
}


def resolve_adjoint(value: Any) -> Adjoint | None:
    """An adjoint object from an object, a name, or ``"auto"``/``None`` (engine default)."""
    if value is None or (isinstance(value, str) and value.lower() == "auto"):
        return None
    if isinstance(value, Adjoint):
        return value
    if isinstance(value, str) and value.lower() in _NAMES:
        return _NAMES[value.lower()]()
    raise InputError(
        f"unknown adjoint {value!r}; use ps.Direct(), ps.Checkpointed(), ps.Backsolve() "
        "(or on the Julia engine ps.Gauss(), ps.Interpolating(), ps.Quadrature()).",
        argument="adjoint",
    )
