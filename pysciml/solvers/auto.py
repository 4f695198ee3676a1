"""``solver="auto"``: the one place where pysciml chooses a method for the user.

:func:`choose_solver` decides for ``ps.solve``, for fits and for gridded cells alike:

1. When concrete values are at hand, estimate the spectral radius ``rho`` of the
   Jacobian at ``u0`` (finite differences of the physics in numpy, power iteration for
   large systems).  An explicit method needs about ``rho * (t1 - t0) / 3.5`` steps for
   stability alone; past :data:`STIFF_STEPS` the problem is stiff and goes straight to
   Rodas5P.
2. Otherwise a solve runs Tsit5 with a budget of :data:`PROBE_BUDGET` steps and, if it
   cannot finish (stiffness that appears later, as in ROBER), solves again with Rodas5P
   (``runtime_fallback=True``: both run inside one compiled function).  Where one static
   method is needed (inside a differentiated, vmapped loss) it is Tsit5.

The reason is reported in ``sol.stats["auto_reason"]`` and in a fit's phases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..options import check_bool, options
from .base import Solver
from .linear import resolve_linsolve
from .rosenbrock.rodas5p import Rodas5P
from .runge_kutta import Tsit5

__all__ = ["Auto", "SolverChoice", "choose_solver", "stiffness_estimate", "STIFF_STEPS", "PROBE_BUDGET"]

#: explicit steps needed for stability alone beyond which a problem counts as stiff
STIFF_STEPS = 1_000
#: step budget of the explicit probe before ``auto`` falls back to the stiff method
PROBE_BUDGET = 2_000
#: |h * lambda| an explicit 5th-order Runge-Kutta method tolerates on the real axis
EXPLICIT_STABILITY = 3.5


@options
@dataclasses.dataclass(frozen=True)
class Auto(Solver):
    """Let pysciml choose: stiff problems go to Rodas5P, others to Tsit5.

    The choice (and why) is reported in ``sol.stats["solver"]`` and
    ``sol.stats["auto_reason"]``.  The Julia engine maps it to OrdinaryDiffEq's
    ``DefaultODEAlgorithm`` (stiffness detection).

    Args:
        stiff_hint: force the decision (``True``/``False``) instead of detecting it.
        linsolve: passed to the stiff solver when one is picked.
    """

    stiff_hint: bool | None = None
    linsolve: Any = "auto"
    julia_method: ClassVar[str] = "auto"  # OrdinaryDiffEqDefault.DefaultODEAlgorithm

    def __post_init__(self):
        check_bool(self.stiff_hint, "Auto.stiff_hint", allow_none=True)
        resolve_linsolve(self.linsolve)  # an unknown linear solver is refused here, not at the first stiff step
        if self.stiff_hint is False and not (isinstance(self.linsolve, str) and self.linsolve == "auto"):
            raise InputError(
                f"linsolve={self.linsolve!r} is only used by a stiff solver, and stiff_hint=False rules one out; "
                "drop linsolve= or stiff_hint=False.",
                argument="Auto.linsolve",
            )


@dataclasses.dataclass(frozen=True)
class SolverChoice:
    """What ``auto`` decided.

    Attributes:
        primary: the method run first (the only one without a fallback).
        fallback: the stiff method run when ``primary`` cannot finish within ``budget``
            steps (only with ``runtime_fallback=True``), else None.
        budget: step budget of ``primary`` before falling back.
        reason: why (reported to the user); empty when the user named the method.
    """

    primary: Solver
    fallback: Solver | None = None
    budget: int = 0
    reason: str = ""


def stiffness_estimate(
    model, u0, t0: float, t1: float, params: Mapping[str, Any], networks: Mapping[str, Any]
) -> float | None:
    """Spectral radius of the Jacobian at ``(t0, u0)`` times the span ``t1 - t0``, or None if unknown.

    Args:
        model: the model (its physics is evaluated with numpy).
        u0: (n,) flat initial state; params, networks: values by name (traced values give None).
    """
    try:
        y0 = np.asarray(u0, dtype=float).reshape(-1)
        pvals = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        nets = {k: np.asarray(v, dtype=float) for k, v in networks.items()}
    except Exception:  # noqa: BLE001 - traced values: no concrete estimate
        return None

    def f(y):
        return np.asarray(model.rhs_numpy(y, t0, pvals, nets), dtype=float)

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
    except Exception:  # noqa: BLE001 - physics not evaluable in numpy (jax-only functions)
        return None
    if not np.isfinite(rho):
        return None
    return rho * (t1 - t0)


def choose_solver(
    solver: Solver,
    model,
    u0,
    t0: float,
    t1: float,
    params: Mapping[str, Any],
    networks: Mapping[str, Any],
    *,
    max_steps: int = 100_000,
    runtime_fallback: bool = True,
) -> SolverChoice:
    """Resolve ``solver`` (possibly :class:`Auto`) into the method(s) to run.

    Args:
        solver: the user's solver object.
        model, u0, t0, t1, params, networks: the problem (a representative one for fits and cells).
        max_steps: the solve's step budget (caps the probe budget).
        runtime_fallback: allow "try Tsit5, then Rodas5P" inside the compiled solve; False
            (fits, cells) gives one static method.
    """
    if not isinstance(solver, Auto):
        return SolverChoice(solver)
    stiff = Rodas5P(linsolve=solver.linsolve)
    if solver.stiff_hint is not None:
        chosen = stiff if solver.stiff_hint else Tsit5()
        return SolverChoice(chosen, reason=f"auto: stiff={solver.stiff_hint} was given -> {chosen.name}")
    est = stiffness_estimate(model, u0, t0, t1, params, networks)
    if est is not None and est / EXPLICIT_STABILITY > STIFF_STEPS:
        return SolverChoice(
            stiff,
            reason=(
                f"auto: stiff (spectral radius x span = {est:.3g} at t0: an explicit method would need "
                f"~{est / EXPLICIT_STABILITY:.2g} steps) -> {stiff.name}"
            ),
        )
    why = "not stiff at t0" if est is not None else "stiffness unknown at t0"
    if not runtime_fallback:
        return SolverChoice(Tsit5(), reason=f"auto: {why} -> Tsit5")
    return SolverChoice(
        Tsit5(), fallback=stiff, budget=min(PROBE_BUDGET, int(max_steps)), reason=f"auto: {why}; tried Tsit5 first"
    )
