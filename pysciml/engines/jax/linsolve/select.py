"""Map the engine-free strategy objects of :mod:`pysciml.linsolve` to jax implementations."""

from __future__ import annotations

from typing import Any

from ....errors import InputError
from .base import AbstractLinearSolver

__all__ = ["to_jax_linsolve", "make_linsolve"]


def to_jax_linsolve(value: Any) -> AbstractLinearSolver:
    """The jax strategy (not yet prepared) for ``ps.DenseLU() / SparseLU() / GMRES() / "auto"`` or a name.

    Args:
        value: a :class:`pysciml.linsolve.LinearSolver`, a name accepted by
            :func:`pysciml.linsolve.resolve_linsolve`, or a jax
            ``AbstractLinearSolver`` (returned as is).
    """
    from ....linsolve import GMRES, AutoLinsolve, DenseLU, SparseLU, resolve_linsolve

    if isinstance(value, AbstractLinearSolver):
        return value
    obj = resolve_linsolve(value)
    if isinstance(obj, AutoLinsolve):
        from .auto import AutoSolver

        return AutoSolver(dense_max=int(obj.dense_max))
    if isinstance(obj, DenseLU):
        from .dense import DenseLU as JaxDenseLU  # ImportError where the dense strategy is absent

        return JaxDenseLU()
    if isinstance(obj, SparseLU):
        from .sparse import SparseLU as JaxSparseLU

        return JaxSparseLU(sparsity=obj.sparsity)
    if isinstance(obj, GMRES):
        from .krylov import GMRESSolver

        pre = obj.preconditioner
        if callable(pre):
            raise InputError(
                "a callable preconditioner is not supported by the jax engine yet; use 'jacobi', 'sparse' or 'none'.",
                argument="GMRES.preconditioner",
            )
        pre = {"auto": "jacobi"}.get(pre, pre)
        return GMRESSolver(preconditioner=pre, rtol=float(obj.rtol), restart=int(obj.restart),
                           maxiter=int(obj.maxiter))
    raise InputError(f"no jax implementation of {obj!r}.", argument="linsolve")  # pragma: no cover


def make_linsolve(value: Any, request) -> AbstractLinearSolver | None:
    """The prepared jax strategy for a solver's ``linsolve`` setting and a solve request.

    Runs outside ``jit`` (sparsity detection, colouring, symbolic analysis use the
    request's ``u0``, ``t0`` and parameters as example values).  Returns None when
    the dense strategy is wanted but not available (the stepper's default is dense).

    Args:
        value: the ``linsolve`` of a Rosenbrock solver object (object or name).
        request: the :class:`pysciml.engines.base.SolveRequest`.
    """
    from ..rhs import vector_field
    from ..solve_core import call_args

    strategy = to_jax_linsolve(value)
    fun = vector_field(request.model)
    t0, _t1, y0, args, *_ = call_args(request)
    try:
        return strategy.prepare(fun, t0, y0, args)
    except ImportError:  # the dense strategy is not installed in this checkout
        return None
