"""One Rosenbrock-Wanner step (shared by the machine, its adjoint and the diffrax adapter)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .tableau import RosenbrockTableau

__all__ = ["rosenbrock_step", "dense_eval", "dense_eval_derivative", "step_costs"]


def _lincomb(coeffs, vecs, scale=1.0):
    """``scale * sum_j coeffs[j] * vecs[j]`` skipping zero coefficients (they are static)."""
    out = None
    for cj, v in zip(coeffs, vecs):
        if cj == 0.0:
            continue
        term = (cj * scale) * v
        out = term if out is None else out + term
    return out


def rosenbrock_step(tableau: RosenbrockTableau, fun, linsolve, t, y, h, args):
    """Advance ``y`` from ``t`` to ``t + h`` with one step of ``tableau``.

    Args:
        tableau: the method.
        fun: ``fun(t, y, args) -> dy``, ``y`` of shape ``(n,)``.
        linsolve: an ``AbstractLinearSolver`` (builds and solves ``W = I - h*gamma*J``).
        t: time (scalar); y: ``(n,)`` state; h: step (scalar, > 0); args: pytree.

    Returns:
        ``(y_new, err, dense, ok)``: the new state ``(n,)``, the error estimate ``(n,)``
        (``y_new`` minus the embedded solution), the dense-output coefficients
        ``(k, n)`` with ``y(t + theta h) = y + sum_k theta**(k+1) dense[k]``, and a
        scalar bool, False when a linear solve failed or a stage was not finite.
    """
    s = tableau.stages
    a, C, c, d, m, e, P = tableau.a, tableau.C, tableau.c, tableau.d, tableau.m, tableau.e, tableau.P
    gamma = tableau.gamma
    hg = h * gamma
    needs_ft = any(di != 0.0 for di in d)
    if needs_ft:
        f0, ft = jax.jvp(lambda tt: fun(tt, y, args), (t,), (jnp.ones_like(t),))
    else:
        f0, ft = fun(t, y, args), None
    state = linsolve.factor(fun, t, y, args, hg)
    us = []
    ok = jnp.array(True)
    for i in range(s):
        if i == 0:
            fi = f0
        else:
            incr = _lincomb(a[i][:i], us)
            yi = y if incr is None else y + incr
            fi = fun(t + c[i] * h, yi, args)
        rhs = hg * fi
        cu = _lincomb(C[i][:i], us, gamma)
        if cu is not None:
            rhs = rhs + cu
        if d[i] != 0.0:
            rhs = rhs + (hg * d[i] * h) * ft
        u, ok_i = linsolve.solve(state, rhs)
        ok = ok & ok_i
        us.append(u)
    y_new = y + _lincomb(m, us)
    err = _lincomb(e, us)
    deg = len(P[0]) - 1
    dense = jnp.stack([_lincomb([P[i][k] for i in range(s)], us) for k in range(1, deg + 1)])
    ok = ok & jnp.all(jnp.isfinite(y_new)) & jnp.all(jnp.isfinite(err))
    return y_new, err, dense, ok


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
