"""Linear-solve strategies for implicit and Rosenbrock solvers (engine-free configuration).

A stiff step solves systems with ``W = I - h*gamma*J`` where ``J`` is the
Jacobian of the right-hand side.  How ``J`` is obtained and ``W`` solved is a
strategy object passed to the solver, e.g. ``ps.Rodas5P(linsolve=ps.GMRES())``:

* :class:`DenseLU`: dense Jacobian by forward-mode AD, LU (small systems).
* :class:`SparseLU`: sparsity detected (or given), the Jacobian built from a
  few coloured forward-mode products, solved by a sparse direct method
  (method-of-lines systems with thousands of states).
* :class:`BandedLU`: sparsity detected (or given), the states ordered so the Jacobian
  is narrow-banded (reverse Cuthill-McKee), solved by block cyclic reduction
  (method-of-lines systems in one space dimension).
* :class:`GMRES`: matrix-free Jacobian-vector products and restarted GMRES,
  with a preconditioner.

``"auto"`` picks :class:`DenseLU` for small systems and, for large ones, the
banded strategy when the Jacobian's band is narrow after ordering (jax engine;
half-bandwidth at most 8), else a sparse strategy; each engine maps these to its
native solvers.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..options import check_int, check_number, options

__all__ = ["LinearSolver", "AutoLinsolve", "DenseLU", "SparseLU", "BandedLU", "GMRES", "resolve_linsolve", "DENSE_MAX"]

#: Largest state count solved with dense LU by ``linsolve="auto"`` (beyond it, the Jacobian's
#: sparsity decides).  The one dense/sparse crossover of every engine, set from the measurement
#: that ``benchmarks/linsolve_crossover.py`` reproduces (``benchmarks/results/linsolve_crossover.md``):
#: Rodas5P on the 2-D Brusselator, one core, dense LU wins up to 98 states and the lagged sparse
#: LU from 128 on (1.3x at 128, 2.2x at 200, 10x at 512); 112 sits between the two.
DENSE_MAX = 112

#: preconditioners of :class:`GMRES` named by a string
_PRECONDITIONERS = ("auto", "jacobi", "sparse", "none")


@dataclasses.dataclass(frozen=True)
class LinearSolver:
    """Base of the linear-solve strategies (abstract)."""

    #: the linear-solver kind ``PySciMLBridge`` builds for the Julia engine
    julia_kind: ClassVar[str] = "auto"

    @property
    def name(self) -> str:
        return type(self).__name__


@options
@dataclasses.dataclass(frozen=True)
class AutoLinsolve(LinearSolver):
    """Dense for systems up to ``dense_max`` states; beyond, banded where the Jacobian is
    narrow-banded after ordering (jax engine), else sparse (where the Jacobian is sparse)."""

    dense_max: int = DENSE_MAX


@options
@dataclasses.dataclass(frozen=True)
class DenseLU(LinearSolver):
    """Dense Jacobian (forward-mode AD) and LU with partial pivoting."""

    julia_kind: ClassVar[str] = "dense"


@options
@dataclasses.dataclass(frozen=True, eq=False)
class SparseLU(LinearSolver):
    """Sparse Jacobian from coloured forward-mode products and a sparse direct solve.

    Args:
        sparsity: ``(n, n)`` boolean pattern of the Jacobian (numpy or
            scipy.sparse); ``None`` detects it from the model.
    """

    julia_kind: ClassVar[str] = "sparse"

    sparsity: Any = None

    def __post_init__(self):
        _check_square(self.sparsity, "SparseLU.sparsity")


def _check_square(pat, argument: str) -> None:
    """A user's sparsity pattern must be None or square ``(n, n)``."""
    if pat is None:
        return
    shape = pat.shape if hasattr(pat, "tocoo") else np.shape(pat)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InputError(f"must be a square (n, n) pattern, got shape {shape}.", argument=argument)


@options
@dataclasses.dataclass(frozen=True, eq=False)
class BandedLU(LinearSolver):
    """Banded Jacobian from coloured forward-mode products and block cyclic reduction.

    The states are ordered by reverse Cuthill-McKee when that narrows the band; the
    Jacobian must be narrow-banded in that order (half-bandwidth at most 8, e.g. a
    method-of-lines problem in one space dimension); a wider band is refused with an
    :class:`~pysciml.errors.InputError` (use :class:`SparseLU`).  ``linsolve="auto"``
    picks this strategy by itself above ``DENSE_MAX`` states when the band is narrow.
    The Julia engine uses its sparse factorisation (KLU with the pattern) for it.

    Args:
        sparsity: ``(n, n)`` boolean pattern of the Jacobian (numpy or
            scipy.sparse); ``None`` detects it from the model.
    """

    julia_kind: ClassVar[str] = "sparse"

    sparsity: Any = None

    def __post_init__(self):
        _check_square(self.sparsity, "BandedLU.sparsity")


@options
@dataclasses.dataclass(frozen=True, eq=False)
class GMRES(LinearSolver):
    """Matrix-free restarted GMRES with a preconditioner.

    Args:
        preconditioner: ``"auto"`` (a lagged sparse factorisation of ``W``),
            ``"jacobi"``, ``"none"``, or a callable from the engine's API.
        rtol: relative tolerance of the linear solve.
        restart: Krylov subspace size before a restart.
        maxiter: maximum number of restarts.
    """

    julia_kind: ClassVar[str] = "gmres"

    preconditioner: Any = "auto"
    rtol: float = 1e-6
    restart: int = 20
    maxiter: int = 10

    def __post_init__(self):
        check_number(self.rtol, "GMRES.rtol", low=0, high=1, high_open=True)
        for f in ("restart", "maxiter"):
            check_int(getattr(self, f), f"GMRES.{f}")
        if isinstance(self.preconditioner, str) and self.preconditioner not in _PRECONDITIONERS:
            raise InputError(
                f"unknown preconditioner {self.preconditioner!r}; use one of {_PRECONDITIONERS} or a callable.",
                argument="GMRES.preconditioner",
            )
        if not (isinstance(self.preconditioner, str) or callable(self.preconditioner)):
            raise InputError(
                f"must be one of {_PRECONDITIONERS} or a callable, got {self.preconditioner!r}.",
                argument="GMRES.preconditioner",
            )


def resolve_linsolve(value: Any) -> LinearSolver:
    """A strategy object from an object or name (``"auto"``, ``"dense"``, ``"sparse"``, ``"banded"``, ``"gmres"``)."""
    if isinstance(value, LinearSolver):
        return value
    if isinstance(value, str):
        key = value.lower().replace("_", "").replace("-", "")
        table = {
            "auto": AutoLinsolve,
            "dense": DenseLU,
            "denselu": DenseLU,
            "lu": DenseLU,
            "sparse": SparseLU,
            "sparselu": SparseLU,
            "banded": BandedLU,
            "bandedlu": BandedLU,
            "gmres": GMRES,
            "krylov": GMRES,
        }
        if key in table:
            return table[key]()
    raise InputError(
        f"unknown linear solver {value!r}; use 'auto', ps.DenseLU(), ps.SparseLU(), ps.BandedLU() or ps.GMRES().",
        argument="linsolve",
    )
