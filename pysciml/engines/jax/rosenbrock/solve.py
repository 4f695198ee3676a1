"""The entry point of the Rosenbrock machine: ``rosenbrock_solve``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ....errors import InputError
from ....solvers.rosenbrock.rodas5p import RODAS5P
from ....solvers.rosenbrock.tableau import RosenbrockTableau
from .controller import PIController
from .machine import RosenbrockResult, integrate

__all__ = ["rosenbrock_solve", "RosenbrockResult", "PIController"]

_DEFAULT_CONTROLLER = PIController()


def rosenbrock_solve(
    fun,
    t0,
    t1,
    y0,
    args,
    ts,
    *,
    tableau: RosenbrockTableau = RODAS5P,
    rtol=1e-6,
    atol=1e-8,
    max_steps: int = 100_000,
    dt0=None,
    linsolve=None,
    differentiation: str = "reverse",
    adaptive: bool = True,
    max_recorded_steps: int | None = None,
    controller: PIController = _DEFAULT_CONTROLLER,
    tstops=None,
) -> RosenbrockResult:
    """Solve ``dy/dt = fun(t, y, args)`` from ``t0`` to ``t1`` with a Rosenbrock-Wanner method.

    Works under ``jax.jit`` (static: ``fun``, ``tableau``, ``linsolve``, ``max_steps``,
    ``differentiation``, ``adaptive``, ``max_recorded_steps``, ``controller``, and
    whether ``dt0`` is None), ``jax.vmap`` over ``y0``, ``args``, ``ts``, ``t0``, ``t1``,
    and differentiation with respect to ``y0``, ``args`` and ``ts``.

    Args:
        fun: ``fun(t, y, args) -> dy`` with ``y`` a flat ``(n,)`` float64 array.
        t0, t1: start and end times, ``t1 > t0`` (time units of ``fun``).
        y0: ``(n,)`` initial state.
        args: pytree of arrays passed to ``fun`` (its inexact leaves are differentiable).
        ts: ``(m,)`` sorted save times within ``[t0, t1]``; times outside give NaN rows.
            They are filled from each step's dense output (steps never land on them).
        tableau: a :class:`pysciml.solvers.rosenbrock.tableau.RosenbrockTableau` (default
            ``RODAS5P``; a solver object holds its own: ``ps.Rodas4().tableau``).
        rtol, atol: relative and absolute tolerances (scalars or ``(n,)``); the error
            norm is the RMS of ``err / (atol + rtol * max(|y_n|, |y_n+1|))``.
        max_steps: most step attempts (accepted + rejected) before status ``MAX_STEPS``.
            Status ``STEP_SIZE_UNDERFLOW`` when ``h < 10 eps |t|`` (or ``t + h == t``);
            ``NONFINITE`` / ``LINEAR_SOLVE_FAILED`` after 40 consecutive failed attempts
            (each shrinks ``h`` fourfold) or when ``h`` underflows right after one.
        dt0: first step size; None chooses it (Hairer-Norsett-Wanner); with
            ``adaptive=False`` the fixed step size.
        linsolve: an ``AbstractLinearSolver`` (already ``prepare``-d); None gives
            :class:`pysciml.engines.jax.linsolve.dense.DenseLU`.  A strategy that
            carries state between steps (``LaggedSparseLU``) is used by the forward loop;
            the discrete adjoint recomputes steps with its direct path.
        differentiation: ``"reverse"`` (``jax.grad`` through a discrete adjoint) or
            ``"forward"`` (``jax.jvp`` / ``jax.jacfwd``; then ``jax.grad`` is
            unsupported, a while loop has no reverse mode). Either way the derivative
            is that of the computed solution with the step sizes held fixed.
            ``"reverse"`` does not support ``jax.jvp`` (it is a ``jax.custom_vjp``).
        adaptive: False for fixed steps of ``dt0`` (convergence studies).
        max_recorded_steps: reverse mode only: rows of the step record kept for the
            adjoint (memory ``rows * (n + 3) * 8`` bytes per solve); it also caps the
            number of step attempts. Default ``max_steps``.
        controller: step-size controller settings.
        tstops: None or ``(k,)`` times the steps must land on exactly, e.g. where ``fun``
            jumps in time (a forcing switched on at ``t = 1.1``); the step ending on one
            evaluates ``fun`` just below it (the left limit), the next one starts there.
            Not differentiated.

    Returns:
        :class:`RosenbrockResult` with ``ys`` ``(m, n)``, ``status`` (int32
        :class:`pysciml.status.Status` code) and ``stats``.
    """
    if linsolve is None:
        from ..linsolve.dense import DenseLU  # equinox: not on a cached explicit solve's path

        linsolve = DenseLU()
    if differentiation not in ("reverse", "forward"):
        raise InputError(
            f"must be 'reverse' (jax.grad) or 'forward' (jax.jvp / jax.jacfwd), got {differentiation!r}.",
            argument="differentiation",
        )
    if not isinstance(tableau, RosenbrockTableau):
        raise InputError(
            f"must be a RosenbrockTableau such as ps.Rodas5P().tableau, got {tableau!r}.", argument="tableau"
        )
    if int(max_steps) < 1:
        raise InputError(f"must be a positive integer, got {max_steps!r}.", argument="max_steps")
    if max_recorded_steps is not None and int(max_recorded_steps) < 1:
        raise InputError(
            f"must be a positive integer or None, got {max_recorded_steps!r}.", argument="max_recorded_steps"
        )
    dtype = jnp.float64
    y0 = jnp.asarray(y0, dtype)
    ts = jnp.asarray(ts, dtype)
    t0 = jnp.asarray(t0, dtype)
    t1 = jnp.asarray(t1, dtype)
    rtol = jnp.asarray(rtol, dtype)
    atol = jnp.asarray(atol, dtype)
    # hoist values closed over by fun (e.g. traced parameters) into explicit arguments
    fun_c, consts = jax.closure_convert(fun, t0, y0, args)
    if consts:
        args_ext = (args, tuple(consts))

        def fun_ext(t, y, a):
            return fun_c(t, y, a[0], *a[1])
    else:
        args_ext = args

        def fun_ext(t, y, a):
            return fun_c(t, y, a)

    if tstops is not None:
        tstops = jnp.sort(jnp.asarray(tstops, dtype).reshape(-1))
    kw: dict[str, Any] = dict(
        y0=y0,
        args=args_ext,
        ts=ts,
        t0=t0,
        t1=t1,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=int(max_steps),
        adaptive=adaptive,
        controller=controller,
        tstops=tstops,
    )
    if differentiation == "forward":
        return integrate(tableau, fun_ext, linsolve, **kw)
    from .adjoint import solve_with_adjoint

    rec = int(max_steps if max_recorded_steps is None else max_recorded_steps)
    return solve_with_adjoint(tableau, fun_ext, linsolve, max_recorded_steps=rec, **kw)
