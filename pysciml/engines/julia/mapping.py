"""Conversions between pysciml objects and the Julia bridge's plain arguments.

Everything here is numpy-only (no juliacall).  Solvers, linear solvers and adjoints
name their Julia counterparts themselves (``Solver.julia_method``,
``LinearSolver.julia_kind``, ``Adjoint.julia_sensealg``); here are the status and
counter tables that ``julia_env/src/retcodes.jl`` mirrors;
the flat parameter layout and its Lux permutation; the bound transforms of
fitting (the same formulas as ``julia_env/src/sensitivity.jl``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...errors import EngineError, InputError
from ...solvers.adjoints import resolve_adjoint
from ...solvers.auto import Auto
from ...solvers.catalog import resolve_solver
from ...solvers.linear import DENSE_MAX, AutoLinsolve, BandedLU, SparseLU
from ...status import Status

__all__ = [
    "STAT_NAMES",
    "RETCODE_STATUS",
    "VJPS",
    "solver_args",
    "adjoint_args",
    "optimizer_stages",
    "flat_theta",
    "split_theta",
    "lux_permutation",
    "bound_arrays",
    "to_natural",
    "to_unconstrained",
    "scalar_sparsity",
]

#: solver counters returned by the bridge, in order (retcodes.jl STAT_NAMES)
STAT_NAMES = ("steps", "rejected", "nfev", "njev", "nlu", "nsolve", "nnewton", "nnewton_fail")

#: SciMLBase.ReturnCode -> pysciml status (retcodes.jl status_code); every other
#: unsuccessful code is FAILED, and every code SciMLBase.successful_retcode accepts is SUCCESS
RETCODE_STATUS = {
    "Success": Status.SUCCESS,
    "Terminated": Status.SUCCESS,
    "ExactSolutionLeft": Status.SUCCESS,
    "ExactSolutionRight": Status.SUCCESS,
    "FloatingPointLimit": Status.SUCCESS,
    "StalledSuccess": Status.SUCCESS,
    "MaxIters": Status.MAX_STEPS,
    "MaxNumSub": Status.MAX_STEPS,
    "DtLessThanMin": Status.STEP_SIZE_UNDERFLOW,
    "DtNaN": Status.NONFINITE,
    "Unstable": Status.NONFINITE,
    "InternalLinearSolveFailed": Status.LINEAR_SOLVE_FAILED,
    "ConvergenceFailure": Status.NONLINEAR_SOLVE_FAILED,
}

#: vector-Jacobian product choices (SciMLSensitivity autojacvec)
VJPS = ("auto", "zygote", "enzyme", "reversediff", "forwarddiff")


def _key(x: str) -> str:
    return "".join(ch for ch in x.lower() if ch.isalnum())


def solver_args(solver: Any, model, *, argument: str = "solver") -> tuple[str, str, int, np.ndarray, np.ndarray]:
    """``(solver, linsolve, stiff_hint, sparse_rows, sparse_cols)`` for the bridge.

    ``linsolve`` is "auto", "dense", "sparse" (with a 1-based Jacobian pattern) or
    "gmres"; a sparse LU without a given pattern uses the exact pattern of a
    scalar-state model, and GMRES for array-state models (no pattern known).
    """
    s = resolve_solver(solver, argument=argument)
    if "julia" not in s.engines or not s.julia_method:
        raise EngineError(
            f"solver {s.name} is not available on the julia engine; use one of Tsit5, Dopri5, Dopri8, Vern7, "
            "Rosenbrock23, Rodas4, Rodas5P, KenCarp4, Kvaerno5, FBDF, QNDF or Auto.",
            argument=argument,
        )
    name = s.julia_method
    stiff = -1
    if isinstance(s, Auto) and s.stiff_hint is not None:
        stiff = 1 if s.stiff_hint else 0
    ls = getattr(s, "linsolve", None)
    empty = np.zeros(0, dtype=np.int64)
    rows, cols = empty, empty
    if ls is None or isinstance(ls, AutoLinsolve):
        dense_max = getattr(ls, "dense_max", DENSE_MAX)
        kind = "auto" if model.n_states <= dense_max else "sparse"
    else:
        kind = getattr(ls, "julia_kind", "auto")
    if kind == "sparse":
        # BandedLU runs as the sparse factorisation (KLU with the pattern) on the Julia engine
        pattern = getattr(ls, "sparsity", None) if isinstance(ls, (SparseLU, BandedLU)) else None
        if pattern is not None:
            rows, cols = _pattern_indices(pattern, model.n_states, argument=f"{type(ls).__name__}.sparsity")
        else:
            found = scalar_sparsity(model)
            if found is None:
                kind = "gmres"
            else:
                rows, cols = found
    return name, kind, stiff, rows, cols


def _pattern_indices(pattern, n, argument="SparseLU.sparsity"):
    if hasattr(pattern, "tocoo"):
        coo = pattern.tocoo()
        r, c = coo.row, coo.col
    else:
        r, c = np.nonzero(np.asarray(pattern))
    if np.shape(pattern) != (n, n):
        raise InputError(f"sparsity has shape {np.shape(pattern)}, the model has {n} states.", argument=argument)
    diag = np.arange(n)  # W = I - h*gamma*J always has its diagonal
    r = np.concatenate([np.asarray(r), diag])
    c = np.concatenate([np.asarray(c), diag])
    keys = np.unique(r.astype(np.int64) * n + c.astype(np.int64))
    return (keys // n + 1).astype(np.int64), (keys % n + 1).astype(np.int64)


def scalar_sparsity(model):
    """Exact 1-based Jacobian pattern ``(rows, cols)`` of a scalar-state model, else ``None``."""
    from .emit import Assign, program_for

    prog = program_for(model).program
    if prog.mode != "scalar":
        return None
    deps = {s: {off} for s, off, _ in prog.trace.state_leaves}

    def of(expr):
        out = set()
        for s in getattr(expr, "free_symbols", ()):
            out |= deps.get(s, set())
        return out

    for st in prog.statements:
        if isinstance(st, Assign):
            deps[st.symbol] = of(st.expr)
        else:
            d = set().union(*[of(a) for a in st.args]) if st.args else set()
            for o in st.node.outputs:
                deps[o] = d
    n = model.n_states
    mat = np.zeros((n, n), dtype=bool)
    for out, expr in prog.outputs:
        for j in of(expr):
            mat[out.offset, j] = True
    return _pattern_indices(mat, n)


def adjoint_args(adjoint: Any) -> tuple[str, str]:
    """``(kind, vjp)`` for PySciMLBridge.make_sensealg from an adjoint object or name.

    Accepts ``None``/"auto", names ("gauss", "gauss:enzyme"), or objects whose class
    name is one of Gauss, Interpolating, Checkpointed, Quadrature, Backsolve,
    Direct/Forward, optionally with a ``vjp`` attribute ("zygote", "enzyme",
    "reversediff", "forwarddiff", "auto").
    """
    if adjoint is None:
        return "auto", "auto"
    if isinstance(adjoint, str):
        name, _, vjp = adjoint.partition(":")
    else:
        name, vjp = adjoint, getattr(adjoint, "vjp", None) or ""
    try:
        obj = resolve_adjoint(name)
    except InputError:
        obj = None
        kind = {"forward": "forward", "forwarddiff": "forward"}.get(_key(name))  # aliases of ForwardDiffSensitivity
    else:
        kind = "auto" if obj is None else obj.julia_sensealg
    if kind is None:
        raise InputError(
            f"adjoint {adjoint!r} is not available on the julia engine; use one of "
            "ps.Gauss(), ps.Interpolating(), ps.Checkpointed(), ps.Quadrature(), ps.Backsolve(), "
            "ps.Direct() (forward mode) or 'auto'.",
            argument="adjoint",
        )
    vjp = _key(vjp) or "auto"
    if vjp not in VJPS:
        raise InputError(f"unknown vjp {vjp!r}; choose one of {VJPS}.", argument="adjoint.vjp")
    return kind, vjp


def optimizer_stages(optimizers) -> tuple:
    """``((name, learning_rate, steps), ...)`` from optimizer objects or tuples."""
    if optimizers is None:
        return (("adam", 1e-2, 500), ("lbfgs", 0.0, 200))
    if not isinstance(optimizers, Sequence) or isinstance(optimizers, str):
        optimizers = [optimizers]
    out = []
    for opt in optimizers:
        if isinstance(opt, tuple):
            name, lr, steps = opt
        else:
            name = type(opt).__name__
            lr = next((getattr(opt, a) for a in ("learning_rate", "lr") if getattr(opt, a, None) is not None), 0.0)
            steps = next(
                (getattr(opt, a) for a in ("steps", "maxiters", "max_steps") if getattr(opt, a, None) is not None), None
            )
        key = _key(str(name))
        if key not in ("adam", "lbfgs"):
            raise InputError(
                f"optimizer {opt!r} is not available on the julia engine; use Adam or LBFGS.", argument="optimizers"
            )
        if steps is None or int(steps) < 0:
            raise InputError(f"optimizer {opt!r} needs a non-negative number of steps.", argument="optimizers")
        if not callable(lr):
            lr = float(lr)
        else:
            raise InputError(
                "learning-rate schedules are not supported by the julia engine; give a number.", argument="optimizers"
            )
        out.append((key, lr, int(steps)))
    return tuple(out)


# -- parameter layout ---------------------------------------------------------------------
def flat_theta(model, params: Mapping[str, Any], network_params: Mapping[str, Any]) -> np.ndarray:
    """The flat parameter vector: physics (declaration order, C order), then networks."""
    parts = []
    for name, spec in model.param_specs.items():
        v = np.broadcast_to(_concrete(params[name], f"params.{name}"), spec.shape)
        parts.append(v.reshape(-1))
    for name, net in model.networks.items():
        w = _concrete(network_params[name], f"network_params.{name}").reshape(-1)
        if w.size != net.n_params:
            raise InputError(
                f"network {name!r} has {w.size} weights, it needs {net.n_params}.", argument=f"network_params.{name}"
            )
        parts.append(w)
    return np.concatenate(parts) if parts else np.zeros(0)


def _concrete(value, argument: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except Exception:  # noqa: BLE001 - jax tracers and other non-numbers
        raise InputError(
            f"is not a concrete number ({type(value).__name__}); the julia engine cannot run inside "
            "jax.grad/jit. It computes gradients itself: use ps.sensitivity(..., engine='julia') or "
            "model.fit(..., engine='julia'), or use engine='jax' with jax transformations.",
            argument=argument,
        ) from None


def split_theta(model, theta) -> tuple[dict, dict]:
    """``(params, network_params)`` from a flat vector (the inverse of :func:`flat_theta`)."""
    theta = np.asarray(theta, dtype=np.float64)
    params, nets, k = {}, {}, 0
    for name, spec in model.param_specs.items():
        params[name] = theta[k : k + spec.size].reshape(spec.shape).copy()
        k += spec.size
    for name, net in model.networks.items():
        nets[name] = theta[k : k + net.n_params].copy()
        k += net.n_params
    return params, nets


def lux_permutation(mlp, offset: int = 0) -> np.ndarray:
    """0-based ``perm`` with ``lux_flat = ours[perm]`` (networks.jl layer_permutation).

    Lux stores each Dense ``weight`` (out, in) column-major; ours is row-major, so
    Lux entry ``k + r + c*o`` holds our entry ``k + r*i + c``; biases are unchanged.
    """
    perm, k = [], offset
    for o, i in mlp.layer_sizes:
        r, c = np.meshgrid(np.arange(o), np.arange(i), indexing="ij")
        perm.append((k + r * i + c).reshape(-1, order="F"))
        k += o * i
        perm.append(np.arange(k, k + o))
        k += o
    return np.concatenate(perm)


# -- bounds ---------------------------------------------------------------------------------
def bound_arrays(model, fixed=()) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, lo, hi, free)`` per flat parameter (0 none, 1 lower, 2 upper, 3 both)."""
    kinds, los, his, free = [], [], [], []
    fixed = set(fixed)
    for name, spec in model.param_specs.items():
        lo, hi = spec.bounds if spec.bounds is not None else (None, None)
        k = (0 if lo is None else 1) + (0 if hi is None else 2)
        kinds.append(np.full(spec.size, k, dtype=np.int64))
        los.append(np.full(spec.size, 0.0 if lo is None else lo))
        his.append(np.full(spec.size, 0.0 if hi is None else hi))
        free.append(np.full(spec.size, not (spec.fixed or name in fixed)))
    for name, net in model.networks.items():
        kinds.append(np.zeros(net.n_params, dtype=np.int64))
        los.append(np.zeros(net.n_params))
        his.append(np.zeros(net.n_params))
        free.append(np.full(net.n_params, name not in fixed))
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
    return cat(kinds, np.int64), cat(los, np.float64), cat(his, np.float64), cat(free, bool)


def _softplus(z):
    return np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _invsoftplus(y):
    return y + np.log(-np.expm1(-y))


def to_natural(kind, lo, hi, z):
    """Parameter values from unconstrained coordinates (sensitivity.jl ``to_natural``)."""
    kind, lo, hi, z = (np.asarray(a) for a in (kind, lo, hi, z))
    return np.select(
        [kind == 1, kind == 2, kind == 3], [lo + _softplus(z), hi - _softplus(z), lo + (hi - lo) * _sigmoid(z)], z
    ).astype(np.float64)


def to_unconstrained(kind, lo, hi, x):
    """The inverse of :func:`to_natural` (values on a bound move inside by a relative 1e-12)."""
    kind, lo, hi, x = (np.asarray(a, dtype=np.float64 if i else np.int64) for i, a in enumerate((kind, lo, hi, x)))
    with np.errstate(all="ignore"):
        low = _invsoftplus(np.maximum(x - lo, 1e-12 * np.maximum(1.0, np.abs(lo))))
        up = _invsoftplus(np.maximum(hi - x, 1e-12 * np.maximum(1.0, np.abs(hi))))
        f = np.clip((x - lo) / np.where(hi > lo, hi - lo, 1.0), 1e-12, 1 - 1e-12)
        both = np.log(f) - np.log1p(-f)
    return np.select([kind == 1, kind == 2, kind == 3], [low, up, both], x).astype(np.float64)
