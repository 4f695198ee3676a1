"""SDE solvers (jax engine: diffrax) and the Brownian-motion choices they run with.

Each class names its diffrax method (:attr:`SDESolver.diffrax_method`), the calculus
whose solution it converges to (:attr:`SDESolver.calculus`), the noise it is valid
for (:attr:`SDESolver.noise`), whether it needs the space-time Levy area of the
Brownian motion, whether it carries an error estimate (adaptive steps), and the
StochasticDiffEq.jl algorithm the Julia engine would build.

Strong orders below are those of diffrax's documentation for the noise named; the
tests measure them on geometric Brownian motion (``tests/test_sde_solve.py``).

=====================  ===============  ===========  ============  ========  ===========
class                  converges to     noise        strong order  adaptive  levy area
=====================  ===============  ===========  ============  ========  ===========
``EulerMaruyama``      Ito              any          0.5 (1 add.)  no        no
``Milstein``           Ito              commutative  1.0           no        no
``EulerHeun``          Stratonovich     any          0.5           no        no
``ReversibleHeun``     Stratonovich     any          0.5 (1 comm.) yes       no
``ShARK``              Ito = Strat.     additive     1.5           yes       space-time
``SRA1``               Ito = Strat.     additive     1.5           yes       space-time
``SPaRK``              Stratonovich     any          0.5 (1 comm.) yes       space-time
=====================  ===============  ===========  ============  ========  ===========

``ps.solve`` converts the drift when the model's calculus differs from the solver's
(``f_strat = f_ito - 1/2 sum_j (dg_j/du) g_j``), so every solver solves the SDE the
model states.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from ..errors import InputError
from ..options import options
from .base import Solver

__all__ = [
    "SDESolver",
    "EulerMaruyama",
    "Milstein",
    "EulerHeun",
    "ReversibleHeun",
    "ShARK",
    "SRA1",
    "SPaRK",
    "SDE_SOLVER_CLASSES",
    "BrownianTree",
    "BrownianGrid",
    "choose_sde_solver",
]


@dataclasses.dataclass(frozen=True)
class SDESolver(Solver):
    """Base of the SDE solver objects (abstract).

    Class attributes:
        diffrax_method: name of the diffrax solver class.
        calculus: ``"ito"`` or ``"stratonovich"``: the solution it converges to
            (for additive noise both are the same).
        noise: ``"any"``, ``"commutative"`` (diagonal or scalar noise) or ``"additive"``.
        levy_area: ``""`` or ``"space-time"``: what it needs of the Brownian motion.
        adaptive: has an error estimate (usable with ``adaptive=True``).
        strong_order: strong order for the noise named in :attr:`noise`.
    """

    #: the julia engine does not solve SDEs yet (``julia_method`` names the StochasticDiffEq
    #: algorithm each class would map to); it refuses ``solve_sde`` by name
    engines: ClassVar[tuple[str, ...]] = ("jax",)
    fits: ClassVar[bool] = False  # ODE fits, cells and latent ODEs need an ODE solver
    diffrax_method: ClassVar[str] = ""
    calculus: ClassVar[str] = "ito"
    noise: ClassVar[str] = "any"
    levy_area: ClassVar[str] = ""
    adaptive: ClassVar[bool] = False
    strong_order: ClassVar[float] = 0.5


@options
@dataclasses.dataclass(frozen=True)
class EulerMaruyama(SDESolver):
    """Euler-Maruyama: Ito, any noise, strong order 0.5 (1.0 for additive noise), weak order 1."""

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "Euler"
    julia_method: ClassVar[str] = "em"  # StochasticDiffEq.EM


@options
@dataclasses.dataclass(frozen=True)
class Milstein(SDESolver):
    """Ito Milstein: strong order 1.0 for commutative noise (diagonal or scalar; refused for general noise)."""

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "ItoMilstein"
    noise: ClassVar[str] = "commutative"
    strong_order: ClassVar[float] = 1.0
    julia_method: ClassVar[str] = "rkmil"  # StochasticDiffEq.RKMil (Ito)


@options
@dataclasses.dataclass(frozen=True)
class EulerHeun(SDESolver):
    """Euler-Heun: the Stratonovich counterpart of Euler-Maruyama (any noise, strong order 0.5)."""

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "EulerHeun"
    calculus: ClassVar[str] = "stratonovich"
    julia_method: ClassVar[str] = "eulerheun"  # StochasticDiffEq.EulerHeun


@options
@dataclasses.dataclass(frozen=True)
class ReversibleHeun(SDESolver):
    """Reversible Heun (Kidger et al. 2021): Stratonovich, any noise, adaptive, algebraically reversible."""

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "ReversibleHeun"
    calculus: ClassVar[str] = "stratonovich"
    adaptive: ClassVar[bool] = True


@options
@dataclasses.dataclass(frozen=True)
class ShARK(SDESolver):
    """ShARK (Foster et al.): additive noise, strong order 1.5, adaptive; the choice for additive noise."""

    order: ClassVar[int] = 2
    diffrax_method: ClassVar[str] = "ShARK"
    calculus: ClassVar[str] = "stratonovich"
    noise: ClassVar[str] = "additive"
    levy_area: ClassVar[str] = "space-time"
    adaptive: ClassVar[bool] = True
    strong_order: ClassVar[float] = 1.5
    julia_method: ClassVar[str] = "sosra"  # StochasticDiffEq.SOSRA (additive, order 1.5)


@options
@dataclasses.dataclass(frozen=True)
class SRA1(SDESolver):
    """SRA1 (Rossler): additive noise, strong order 1.5, adaptive."""

    order: ClassVar[int] = 2
    diffrax_method: ClassVar[str] = "SRA1"
    calculus: ClassVar[str] = "stratonovich"
    noise: ClassVar[str] = "additive"
    levy_area: ClassVar[str] = "space-time"
    adaptive: ClassVar[bool] = True
    strong_order: ClassVar[float] = 1.5
    julia_method: ClassVar[str] = "sra1"  # StochasticDiffEq.SRA1


@options
@dataclasses.dataclass(frozen=True)
class SPaRK(SDESolver):
    """SPaRK: Stratonovich, any noise, with an error estimate: diffrax's advice for adaptive general SDEs."""

    order: ClassVar[int] = 1
    diffrax_method: ClassVar[str] = "SPaRK"
    calculus: ClassVar[str] = "stratonovich"
    levy_area: ClassVar[str] = "space-time"
    adaptive: ClassVar[bool] = True


SDE_SOLVER_CLASSES: tuple[type[SDESolver], ...] = (
    EulerMaruyama,
    Milstein,
    EulerHeun,
    ReversibleHeun,
    ShARK,
    SRA1,
    SPaRK,
)


# -- Brownian motion ----------------------------------------------------------------------------
@options
@dataclasses.dataclass(frozen=True)
class BrownianTree:
    """A virtual Brownian tree (diffrax ``VirtualBrownianTree``): any step sizes, adaptive steps.

    The path is a function of the seed and ``tol`` only, so solves with different step
    sizes (convergence studies) or parameters (finite differences) see the same path.
    Each increment costs about ``log2((t1 - t0) / tol)`` bisections.

    Args:
        tol: resolution of the tree; default: ``dt0 / 8`` for fixed steps, ``(t1 - t0) * 1e-4`` adaptive.
    """

    tol: float | None = None

    def __post_init__(self):
        if self.tol is not None and not (math.isfinite(self.tol) and self.tol > 0):
            raise InputError(f"must be positive, got {self.tol!r}.", argument="brownian.tol")


@options
@dataclasses.dataclass(frozen=True)
class BrownianGrid:
    """Brownian increments sampled once on the fixed step grid (fast; fixed steps only).

    About 50x faster than a tree at the same step (no bisection); the path depends on
    ``dt0``.  For solvers that need it (ShARK, SRA1, SPaRK) each step also gets its
    space-time Levy area ``H ~ N(0, h/12)``, independent of the increment.
    """


def choose_sde_solver(noise: str, *, adaptive: bool) -> SDESolver:
    """``solver="auto"`` for an SDE: ShARK for additive noise (strong order 1.5, adaptive or not);
    else Milstein (fixed steps, commutative noise), Euler-Maruyama (fixed steps, general noise)
    or SPaRK (adaptive steps)."""
    if noise == "additive":
        return ShARK()
    if adaptive:
        return SPaRK()
    return Milstein() if noise in ("diagonal", "scalar") else EulerMaruyama()
