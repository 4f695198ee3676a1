"""Resolve the user's solver into a :class:`SolverPlan` (including ``solver="auto"``).

``auto`` decides in two stages:

1. When concrete values are at hand, estimate the spectral radius ``rho`` of
   the Jacobian at ``u0`` (finite differences of the physics in numpy, power
   iteration for large systems).  An explicit method needs about
   ``rho * (t1 - t0) / 3.5`` steps for stability alone; past
   :data:`STIFF_STEPS` the problem is stiff and goes straight to Rodas5P.
2. Otherwise the compiled solve runs Tsit5 with a budget of
   :data:`PROBE_BUDGET` steps and, if it cannot finish (stiffness that appears
   later, as in ROBER), solves again with Rodas5P.  Both run inside one
   compiled function; the reason is reported in ``sol.stats["auto_reason"]``.
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np

from ... import solvers as S
from ..base import SolveRequest
from .plan import SolverPlan

__all__ = ["plan_solver", "stiffness_estimate", "STIFF_STEPS", "PROBE_BUDGET"]

STIFF_STEPS = 1_000
PROBE_BUDGET = 2_000
_EXPLICIT_STABILITY = 3.5  # |h * lambda| an explicit 5th-order RK tolerates on the real axis


def stiffness_estimate(request: SolveRequest) -> float | None:
    """Spectral radius of the Jacobian at ``(t0, u0)`` times the span, or None if unknown."""
    model = request.model
    try:
        y0 = np.asarray(request.u0, dtype=float)
        params = {k: np.asarray(v, dtype=float) for k, v in request.params.items()}
        nets = {k: np.asarray(v, dtype=float) for k, v in request.network_params.items()}
    except Exception:  # traced values: no concrete estimate
        return None

    def f(y):
        return np.asarray(model.rhs_numpy(y, request.t0, params, nets), dtype=float)

    try:
        with np.errstate(all="ignore"):
            f0 = f(y0)
            n = y0.size
            eps = np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(y0), 1.0)
            if n <= 64:
                jac = np.empty((n, n))
                for j in range(n):
                    y = y0.copy()
                    y[j] += eps[j]
                    jac[:, j] = (f(y) - f0) / eps[j]
                rho = float(np.max(np.abs(np.linalg.eigvals(jac))))
            else:  # power iteration on finite-difference Jacobian-vector products
                rng = np.random.default_rng(0)
                v = rng.standard_normal(n)
                v /= np.linalg.norm(v)
                h = np.sqrt(np.finfo(float).eps) * max(1.0, float(np.linalg.norm(y0)))
                rho = 0.0
                for _ in range(30):
                    w = (f(y0 + h * v) - f0) / h
                    rho = float(np.linalg.norm(w))
                    if not np.isfinite(rho) or rho == 0.0:
                        break
                    v = w / rho
    except Exception:  # physics not evaluable in numpy (jax-only functions): decide at run time
        return None
    if not np.isfinite(rho):
        return None
    return rho * (request.t1 - request.t0)


def _stiff_solver(linsolve) -> S.Solver:
    return S.Rodas5P(linsolve=linsolve)


_PREPARED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _linsolve_key(config):
    """A value key for a linsolve configuration (pattern arrays compared by identity)."""
    fields = []
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        try:
            hash(v)
            fields.append((f.name, v))
        except TypeError:
            fields.append((f.name, id(v)))
    return (type(config).__name__, tuple(fields))


def _prepared_linsolve(request: SolveRequest, solver):
    """The jax strategy for a Rosenbrock solver's ``linsolve`` setting (prepared outside jit).

    Prepared once per model and configuration (sparsity detection and symbolic analysis
    are structural), so repeated solves reuse the compiled function.
    """
    try:
        from .linsolve.select import make_linsolve
    except ImportError:
        return None
    per_model = _PREPARED.setdefault(request.model, {})
    key = (_linsolve_key(solver.linsolve), request.model.n_states)
    if key not in per_model:
        per_model[key] = make_linsolve(solver.linsolve, request)
    return per_model[key]


def plan_solver(request: SolveRequest) -> SolverPlan:
    """Turn ``request.solver`` into a plan."""
    solver = request.solver
    if not isinstance(solver, S.Auto):
        lin = _prepared_linsolve(request, solver) if isinstance(solver, S._Rosenbrock) else None
        return SolverPlan(primary=solver, linsolve=lin)
    stiff = _stiff_solver(solver.linsolve)
    if solver.stiff_hint is True:
        return SolverPlan(stiff, reason="auto: stiff=True was given", linsolve=_prepared_linsolve(request, stiff))
    if solver.stiff_hint is False:
        return SolverPlan(S.Tsit5(), reason="auto: stiff=False was given")
    est = stiffness_estimate(request)
    if est is not None and est / _EXPLICIT_STABILITY > STIFF_STEPS:
        return SolverPlan(
            stiff,
            reason=(f"auto: stiff (spectral radius x span = {est:.3g} at t0: an explicit method "
                    f"would need ~{est / _EXPLICIT_STABILITY:.2g} steps)"),
            linsolve=_prepared_linsolve(request, stiff),
        )
    budget = min(PROBE_BUDGET, request.max_steps)
    why = "not stiff at t0" if est is not None else "stiffness unknown at t0"
    return SolverPlan(
        S.Tsit5(), fallback=stiff, budget=budget,
        reason=f"auto: {why}; tried Tsit5 first", linsolve=_prepared_linsolve(request, stiff),
    )
