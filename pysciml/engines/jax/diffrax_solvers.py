"""Solves with diffrax's own methods (explicit Runge-Kutta and ESDIRK)."""

from __future__ import annotations

import diffrax as dfx
import jax.numpy as jnp
import optimistix as optx

from ...solvers.adjoints import Checkpointed, Direct, ForwardDiffSensitivity
from ...solvers.runge_kutta import RungeKutta
from ...status import Status

__all__ = ["diffrax_method", "diffrax_solve", "status_from_result", "diffrax_adjoint", "solver_terms"]


def diffrax_method(solver: RungeKutta, rtol, atol):
    """The diffrax solver a Runge-Kutta solver object names (implicit ones with a full Newton)."""
    ctor = getattr(dfx, solver.diffrax_method)
    if solver.implicit:
        # Full Newton instead of diffrax's default VeryChord: with VeryChord, KenCarp4 stalls
        # (max_steps, every other step rejected) even on exponential decay and on ROBER, and
        # Kvaerno5 rejects half its steps on ROBER; with Newton both solve ROBER in ~1/6 of
        # the time (measured with diffrax 0.7.2). Tolerances follow the step controller's.
        return ctor(root_finder=optx.Newton(rtol=rtol, atol=atol, norm=optx.rms_norm))
    return ctor()


def status_from_result(result):
    """Map a diffrax ``RESULTS`` item to a pysciml status code (traceable)."""
    R = dfx.RESULTS
    code = jnp.asarray(int(Status.FAILED), jnp.int32)
    table = [
        (R.successful, Status.SUCCESS),
        (R.max_steps_reached, Status.MAX_STEPS),
        (R.dt_min_reached, Status.STEP_SIZE_UNDERFLOW),
        (R.nonfinite, Status.NONFINITE),
        (R.nonfinite_input, Status.NONFINITE),
        (R.singular, Status.LINEAR_SOLVE_FAILED),
        (R.breakdown, Status.LINEAR_SOLVE_FAILED),
        (R.nonlinear_divergence, Status.NONLINEAR_SOLVE_FAILED),
        (R.nonlinear_max_steps_reached, Status.NONLINEAR_SOLVE_FAILED),
    ]
    for item, status in table:
        code = jnp.where(result == item, jnp.int32(int(status)), code)
    return code


def solver_terms(solver: RungeKutta, fun):
    """The diffrax terms of a Runge-Kutta solver for the vector field ``fun``."""
    if solver.imex:
        # IMEX method: no explicit part, the whole right-hand side implicit.
        return dfx.MultiTerm(dfx.ODETerm(lambda t, y, args: jnp.zeros_like(y)), dfx.ODETerm(fun))
    return dfx.ODETerm(fun)


def diffrax_adjoint(adjoint, differentiation: str, max_steps: int):
    """The diffrax adjoint for a :mod:`pysciml.adjoints` object (None: the default)."""
    if differentiation == "forward" or isinstance(adjoint, ForwardDiffSensitivity):
        return dfx.ForwardMode()
    if adjoint is None or isinstance(adjoint, Checkpointed):
        n = getattr(adjoint, "checkpoints", None)
        return dfx.RecursiveCheckpointAdjoint(checkpoints=n)
    if isinstance(adjoint, Direct):
        return dfx.RecursiveCheckpointAdjoint(checkpoints=max_steps)  # every step stored
    if adjoint.continuous:
        return dfx.BacksolveAdjoint()
    raise NotImplementedError(f"adjoint {adjoint!r}")


def diffrax_solve(
    fun,
    solver,
    t0,
    t1,
    y0,
    args,
    ts,
    *,
    rtol,
    atol,
    dt0,
    max_steps,
    differentiation="reverse",
    adaptive=True,
    adjoint=None,
):
    """Solve with a diffrax method; returns ``(ys, status, stats)`` like the Rosenbrock machine.

    Args:
        fun: vector field ``fun(t, y, args)``.
        solver: a :class:`pysciml.solvers.runge_kutta.RungeKutta` object with a diffrax method.
        differentiation: ``"reverse"`` (checkpointed reverse mode) or ``"forward"``
            (forward mode, for ``jax.jacfwd``).
        adaptive: False for fixed steps of size ``dt0``.
        adjoint: a :mod:`pysciml.adjoints` object (None: recursive checkpointing).
    """
    method = diffrax_method(solver, rtol, atol)
    dadjoint = diffrax_adjoint(adjoint, differentiation, max_steps)
    sol = dfx.diffeqsolve(
        solver_terms(solver, fun),
        method,
        t0,
        t1,
        dt0,
        y0,
        args=args,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol) if adaptive else dfx.ConstantStepSize(),
        max_steps=max_steps,
        adjoint=dadjoint,
        throw=False,
    )
    status = status_from_result(sol.result)
    # diffrax rejects steps whose error estimate is NaN and ends with max_steps; when the
    # vector field is already non-finite at the start (NaN weights, log of a negative
    # parameter...), say so instead
    f0 = fun(t0, y0, args)
    status = jnp.where((status != 0) & ~jnp.all(jnp.isfinite(f0)), jnp.int32(int(Status.NONFINITE)), status)
    assert sol.ys is not None  # saved at ts
    ys = jnp.where((status == 0) | jnp.isfinite(sol.ys), sol.ys, jnp.nan)
    steps = jnp.asarray(sol.stats["num_accepted_steps"], jnp.int32)
    rejected = jnp.asarray(sol.stats["num_rejected_steps"], jnp.int32)
    stats = {"steps": steps, "rejected": rejected}
    if solver.evals_per_step is not None:
        # FSAL explicit methods: one new evaluation per stage after the first step
        stats["nfev"] = (steps + rejected) * solver.evals_per_step + 1
    return ys, status, stats
