"""One Rosenbrock-Wanner step (shared by the machine, its adjoint and the diffrax adapter)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ....solvers.rosenbrock.tableau import RosenbrockTableau

__all__ = ["rosenbrock_step", "stages", "dense_eval", "dense_eval_derivative", "step_costs", "STAGE_LOOP_MIN"]


def _lincomb(coeffs, vecs, scale=1.0) -> Any:
    """``scale * sum_j coeffs[j] * vecs[j]`` skipping zero coefficients (they are static)."""
    out = None
    for cj, v in zip(coeffs, vecs):
        if cj == 0.0:
            continue
        term = (cj * scale) * v
        out = term if out is None else out + term
    return out  # None when every coefficient is zero (callers skip the term)


#: from this many states on, the stages run in a ``lax.fori_loop`` over the stage index,
#: so the linear solve and ``fun`` are compiled once instead of once per stage (compile
#: time of a sparse Rodas5P solve at n = 2048: 8 copies of the multifrontal solve
#: ~10 s, the loop ~1.4 s); below it they are unrolled, which lets XLA fuse a small
#: step into a few kernels (the fastest form for n of a few dozen or less).
STAGE_LOOP_MIN = 128


def rosenbrock_step(tableau: RosenbrockTableau, fun, linsolve, t, y, h, args, *, t_cap=None):
    """Advance ``y`` from ``t`` to ``t + h`` with one step of ``tableau``.

    Args:
        tableau: the method.
        fun: ``fun(t, y, args) -> dy``, ``y`` of shape ``(n,)``.
        linsolve: an ``AbstractLinearSolver`` (builds and solves ``W = I - h*gamma*J``).
        t: time (scalar); y: ``(n,)`` state; h: step (scalar, > 0); args: pytree.
        t_cap: None, or the largest time at which ``fun`` may be evaluated in this step
            (stage times ``t + c_i h`` are clipped to it; see :func:`stages`).

    Returns:
        ``(y_new, err, dense, ok)``: the new state ``(n,)``, the error estimate ``(n,)``
        (``y_new`` minus the embedded solution), the dense-output coefficients
        ``(k, n)`` with ``y(t + theta h) = y + sum_k theta**(k+1) dense[k]``, and a
        scalar bool, False when a linear solve failed or a stage was not finite.
    """
    state = linsolve.factor(fun, t, y, args, h * tableau.gamma)

    def solve(b):
        x, ok = linsolve.solve(state, b)
        return x, ok, jnp.zeros((), jnp.int32)

    y_new, err, dense, ok, _ = stages(
        tableau, fun, solve, t, y, h, args, t_cap=t_cap, stage_loop=getattr(linsolve, "loop_stages", None)
    )
    return y_new, err, dense, ok


def stages(tableau: RosenbrockTableau, fun, solve, t, y, h, args, *, t_cap=None, stage_loop=None):
    """The stages of one step, given the stage solver ``solve(b) -> (x, ok, iterations)``.

    ``solve`` must solve ``W x = b`` with ``W = I - h*gamma*J(t, y)`` (a direct solve,
    or an iterative one accurate to a tolerance).

    Args:
        tableau, fun, t, y, h, args: as in :func:`rosenbrock_step`.
        solve: the stage solver; ``iterations`` is an int32 scalar (0 for direct solves).
        t_cap: None, or a time past which ``fun`` is not evaluated: stage times are
            ``min(t + c_i h, t_cap)``.  A step that ends on a discontinuity of ``fun`` in
            time passes the largest float below it, so the step sees the left limit.
        stage_loop: True for a ``lax.fori_loop`` over stages, False to unroll them,
            None to decide by size (:data:`STAGE_LOOP_MIN`).

    Returns:
        ``(y_new, err, dense, ok, iterations)`` with ``iterations`` an int32 ``(2,)`` array:
        the most iterations of one stage solve and their sum over the stages.
    """
    s = tableau.stages
    a, C, c, d, m, e, P = tableau.a, tableau.C, tableau.c, tableau.d, tableau.m, tableau.e, tableau.P
    gamma = tableau.gamma
    hg = h * gamma
    n = y.shape[0]
    needs_ft = any(di != 0.0 for di in d)

    def stage_time(ci):
        ti = t + ci * h
        return ti if t_cap is None else jnp.minimum(ti, t_cap)

    if needs_ft:
        f0, ft = jax.jvp(lambda tt: fun(tt, y, args), (t,), (jnp.ones_like(t),))
    else:
        f0, ft = fun(t, y, args), None
    if stage_loop is None:
        stage_loop = n >= STAGE_LOOP_MIN
    deg = len(P[0]) - 1
    if stage_loop:
        us, ok, iters = _stages_loop(tableau, fun, solve, stage_time, y, h, args, f0, ft)
        arr = tableau.arrays()
        y_new = y + jnp.asarray(arr["m"]) @ us
        err = jnp.asarray(arr["e"]) @ us
        dense = jnp.asarray(arr["P"][:, 1:].T) @ us
    else:
        us = []
        ok = jnp.array(True)
        iters = jnp.zeros(2, jnp.int32)
        for i in range(s):
            if i == 0:
                fi = f0
            else:
                incr = _lincomb(a[i][:i], us)
                yi = y if incr is None else y + incr
                fi = fun(stage_time(c[i]), yi, args)
            rhs = hg * fi
            cu = _lincomb(C[i][:i], us, gamma)
            if cu is not None:
                rhs = rhs + cu
            if d[i] != 0.0:
                rhs = rhs + (hg * d[i] * h) * ft
            u, ok_i, it_i = solve(rhs)
            ok = ok & ok_i
            iters = _count(iters, it_i)
            us.append(u)
        y_new = y + _lincomb(m, us)
        err = _lincomb(e, us)
        dense = jnp.stack([_lincomb([P[i][k] for i in range(s)], us) for k in range(1, deg + 1)])
    ok = ok & jnp.all(jnp.isfinite(y_new)) & jnp.all(jnp.isfinite(err))
    return y_new, err, dense, ok, iters


def _count(iters, it):
    """``[max, sum]`` of stage-solve iterations, updated with one more solve."""
    it = jnp.asarray(it, jnp.int32)
    return jnp.stack([jnp.maximum(iters[0], it), iters[1] + it])


def _stages_loop(tableau, fun, solve, stage_time, y, h, args, f0, ft):
    """All stages in one ``fori_loop`` (``fun`` and ``solve`` compiled once).

    Returns ``(us (s, n), ok, iterations)``.
    """
    s = tableau.stages
    arr = tableau.arrays()
    A = jnp.asarray(arr["a"])
    Cg = jnp.asarray(arr["C"] * tableau.gamma)
    cs = jnp.asarray(arr["c"])
    ds = jnp.asarray(arr["d"])
    hg = h * tableau.gamma

    def body(i, carry):
        us, ok, iters = carry
        # stage 1 reuses f(t, y); the others evaluate fun at their stage point
        fi = jax.lax.cond(i == 0, lambda: f0, lambda: fun(stage_time(cs[i]), y + A[i] @ us, args))
        rhs = hg * fi + Cg[i] @ us
        if ft is not None:
            rhs = rhs + (hg * ds[i] * h) * ft
        u, ok_i, it_i = solve(rhs)
        return us.at[i].set(u), ok & ok_i, _count(iters, it_i)

    us = jnp.zeros((s, y.shape[0]), y.dtype)
    return jax.lax.fori_loop(0, s, body, (us, jnp.array(True), jnp.zeros(2, jnp.int32)))


def dense_eval(y, dense, theta):
    """``y + sum_k theta**(k+1) dense[k]`` by Horner's rule.

    Args:
        y: ``(n,)`` state at the step's start; dense: ``(k, n)``; theta: scalar or ``(m,)``.

    Returns:
        ``(n,)`` for scalar ``theta``, ``(m, n)`` for a vector.
    """
    theta = jnp.asarray(theta)
    th = theta[..., None]
    acc = dense[-1]
    for k in range(dense.shape[0] - 2, -1, -1):
        acc = dense[k] + th * acc
    return y + th * acc


def dense_eval_derivative(dense, theta):
    """``d/dtheta`` of :func:`dense_eval` (divide by ``h`` for ``dy/dt``)."""
    theta = jnp.asarray(theta)
    th = theta[..., None]
    kmax = dense.shape[0]
    acc = kmax * dense[-1]
    for k in range(kmax - 2, -1, -1):
        acc = (k + 1) * dense[k] + th * acc
    return acc


def step_costs(tableau: RosenbrockTableau) -> dict[str, int]:
    """Function evaluations and linear solves of one step (a ``df/dt`` JVP counts as one evaluation)."""
    needs_ft = any(di != 0.0 for di in tableau.d)
    return {"nfev": tableau.stages + int(needs_ft), "nsolve": tableau.stages}
