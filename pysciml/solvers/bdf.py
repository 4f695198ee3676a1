"""BDF-type multistep solvers (Julia engine only: OrdinaryDiffEqBDF)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..options import options
from .base import Solver

__all__ = ["FBDF", "QNDF"]


@options
@dataclasses.dataclass(frozen=True)
class FBDF(Solver):
    """Fixed-leading-coefficient BDF (Julia engine only: OrdinaryDiffEqBDF)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True
    engines: ClassVar[tuple[str, ...]] = ("julia",)
    julia_method: ClassVar[str] = "fbdf"


@options
@dataclasses.dataclass(frozen=True)
class QNDF(Solver):
    """Quasi-constant-step NDF (Julia engine only: OrdinaryDiffEqBDF)."""

    order: ClassVar[int] = 5
    stiff: ClassVar[bool] = True
    engines: ClassVar[tuple[str, ...]] = ("julia",)
    julia_method: ClassVar[str] = "qndf"
