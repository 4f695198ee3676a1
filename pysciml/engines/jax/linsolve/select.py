"""Map the engine-free strategy objects of :mod:`pysciml.solvers.linear` to prepared jax implementations."""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import numpy as np

from ....errors import InputError
from ....solvers.linear import GMRES, AutoLinsolve, BandedLU, DenseLU, SparseLU, resolve_linsolve
from ..arguments import call_args
from ..rhs import vector_field
from .base import AbstractLinearSolver

__all__ = ["to_jax_linsolve", "make_linsolve"]


def to_jax_linsolve(value: Any) -> AbstractLinearSolver:
    """The jax strategy (not yet prepared) for ``ps.DenseLU() / SparseLU() / GMRES() / "auto"`` or a name.

    Args:
        value: a :class:`pysciml.solvers.linear.LinearSolver`, a name accepted by
            :func:`pysciml.solvers.linear.resolve_linsolve`, or a jax
            ``AbstractLinearSolver`` (returned as is).
    """

    if isinstance(value, AbstractLinearSolver):
        return value
    obj = resolve_linsolve(value)
    if isinstance(obj, AutoLinsolve):
        from .auto import AutoSolver

        return AutoSolver(dense_max=int(obj.dense_max))
    if isinstance(obj, DenseLU):
        from .dense import (
            DenseLU as JaxDenseLU,  # ImportError where the dense strategy is absent
        )

        return JaxDenseLU()
    if isinstance(obj, SparseLU):
        from .sparse import SparseLU as JaxSparseLU

        return JaxSparseLU(sparsity=obj.sparsity)
    if isinstance(obj, BandedLU):
        from .banded import BandedLU as JaxBandedLU

        return JaxBandedLU(sparsity=obj.sparsity)
    if isinstance(obj, GMRES):
        from .krylov import GMRESSolver

        pre = obj.preconditioner
        if callable(pre):
            raise InputError(
                "a callable preconditioner is not supported by the jax engine yet; use 'jacobi', 'sparse' or 'none'.",
                argument="GMRES.preconditioner",
            )
        if pre == "auto":
            # a sparse LU of W kept over steps, preconditioning GMRES on the exact W
            from .lagged import LaggedSparseLU

            return LaggedSparseLU(restart=int(obj.restart), maxiter=int(obj.maxiter))
        return GMRESSolver(preconditioner=pre, rtol=float(obj.rtol), restart=int(obj.restart), maxiter=int(obj.maxiter))
    raise InputError(f"no jax implementation of {obj!r}.", argument="linsolve")  # pragma: no cover


#: The one registry of prepared linear solvers: model -> {(configuration key, n): prepared strategy}
#: (models compared by identity; sparsity detection and symbolic analysis are done once per entry)
PREPARED_LINSOLVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pattern_digest(pattern) -> str:
    """A content hash of a sparsity pattern (numpy or scipy.sparse)."""
    import scipy.sparse as sp

    h = hashlib.sha1()
    if sp.issparse(pattern):
        csr = sp.csr_array(pattern, dtype=bool)
        csr.sum_duplicates()
        csr.sort_indices()
        h.update(str(csr.shape).encode())
        h.update(np.asarray(csr.indptr, np.int64).tobytes())
        h.update(np.asarray(csr.indices, np.int64).tobytes())
    else:
        arr = np.asarray(pattern) != 0
        h.update(str(arr.shape).encode())
        h.update(np.packbits(arr).tobytes())
    return h.hexdigest()


def config_key(value: Any):
    """A hashable key that is equal for equal linear-solve configurations.

    The engine compiles one solve per prepared strategy, so two solves with equal
    configurations (``ps.SparseLU()`` built twice, the same pattern passed twice)
    must reuse the same prepared object. Returns None when no safe key exists.
    """

    if isinstance(value, AbstractLinearSolver):
        return ("jax", id(value))
    try:
        obj = resolve_linsolve(value)
    except InputError:
        return None
    if isinstance(obj, (AutoLinsolve, DenseLU)):
        return obj  # frozen dataclasses compared by value
    if isinstance(obj, (SparseLU, BandedLU)):
        return (type(obj).__name__, None if obj.sparsity is None else _pattern_digest(obj.sparsity))
    if isinstance(obj, GMRES):
        pre = obj.preconditioner
        return (
            "GMRES",
            ("callable", id(pre)) if callable(pre) else pre,
            float(obj.rtol),
            int(obj.restart),
            int(obj.maxiter),
        )
    return None


def make_linsolve(value: Any, request) -> AbstractLinearSolver | None:
    """The prepared jax strategy for a solver's ``linsolve`` setting and a solve request.

    Runs outside ``jit`` (sparsity detection, colouring, symbolic analysis use the
    request's ``u0``, ``t0`` and parameters as example values).  Returns None when
    the dense strategy is wanted but not available (the stepper's default is dense).
    Prepared strategies are kept per model and configuration, so repeated solves of
    the same model reuse one compiled function (no new trace, no new analysis).

    Args:
        value: the ``linsolve`` of a Rosenbrock solver object (object or name).
        request: the :class:`pysciml.engines.requests.SolveRequest`.
    """

    key = config_key(value)
    n = int(request.model.n_states)
    per_model = None
    if key is not None:
        try:  # (get first: setdefault makes a weak reference on every call)
            per_model = PREPARED_LINSOLVES.get(request.model)
            if per_model is None:
                per_model = PREPARED_LINSOLVES.setdefault(request.model, {})
        except TypeError:  # model not weak-referenceable
            per_model = None
        if per_model is not None and (key, n) in per_model:
            return per_model[(key, n)]
    strategy = to_jax_linsolve(value)
    fun = vector_field(request.model)
    t0, _t1, y0, args, *_ = call_args(request)
    try:
        prepared = strategy.prepare(fun, t0, y0, args)
    except ImportError:  # the dense strategy is not installed in this checkout
        prepared = None
    if per_model is not None:
        per_model[(key, n)] = prepared
    return prepared
