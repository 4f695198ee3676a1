"""The shared Rosenbrock machine: adaptive loop, dense output at save times, status codes.

Every method (one small file per tableau) runs through :func:`rosenbrock_solve`.
The loop is a ``lax.while_loop`` without host callbacks, so it works under ``jit``,
``vmap`` and ``jax.export``; failures are :class:`pysciml.status.Status` codes.
Gradients: ``differentiation="reverse"`` uses the discrete adjoint of
:mod:`.adjoint` (exact gradient of the computed solution, steps frozen);
``"forward"`` differentiates the loop itself in forward mode (steps frozen too).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ....errors import InputError
from ....solvers.rosenbrock.tableau import RosenbrockTableau
from ....status import Status
from .controller import PIController, error_norm, initial_step, underflow_limit
from .step import dense_eval, rosenbrock_step, stages, step_costs

__all__ = ["RosenbrockResult", "integrate"]

_I32 = jnp.int32
#: up to this many save times, every step evaluates the dense output at all of them
#: (vectorised, no inner loop); more save times are filled by an inner loop over the
#: ones inside the step, which needs ``ts`` sorted
VECTOR_SAVE_MAX = 16
#: consecutive failed attempts (non-finite stage or failed linear solve) before giving up
MAX_FAILED_ATTEMPTS = 40


class RosenbrockResult(NamedTuple):
    """Output of :func:`rosenbrock_solve`.

    Attributes:
        ys: ``(len(ts), n)`` states at the save times; rows not reached are NaN.
        status: int32 scalar, a :class:`pysciml.status.Status` code.
        stats: dict of int32 scalars ``steps`` (accepted), ``rejected``, ``nfev``,
            ``njev``, ``nlu``, ``nsolve``, and float ``t_end`` (time reached).
    """

    ys: Any
    status: Any
    stats: dict


class Recording(NamedTuple):
    """The accepted steps of a forward pass, for the discrete adjoint."""

    t: Any  # (R,) start time of each accepted step
    h: Any  # (R,) its step size
    t_next: Any  # (R,) its end time (t + h, or exactly t1 for the last one)
    y: Any  # (R, n) state at its start
    count: Any  # int32 number of accepted steps recorded


def _target(t, t1, tstops):
    """The time the next step may not pass (``t1`` or the next tstop after ``t``) and, when
    that is a tstop before ``t1``, the largest float below it (else None / +inf)."""
    if tstops is None:
        return t1, None
    nxt = jnp.min(jnp.where(tstops > t, tstops, jnp.inf))
    is_stop = nxt < t1
    target = jnp.where(is_stop, nxt, t1)
    cap = jnp.where(is_stop, jnp.nextafter(nxt, -jnp.inf), jnp.inf)
    return target, cap


def integrate(
    tableau: RosenbrockTableau,
    fun,
    linsolve,
    *,
    y0,
    args,
    ts,
    t0,
    t1,
    rtol,
    atol,
    dt0,
    max_steps: int,
    adaptive: bool,
    controller: PIController,
    record: int = 0,
    tstops=None,
) -> Any:
    """Run the adaptive (or fixed-step) loop from ``t0`` to ``t1`` (``t1 > t0``).

    Args:
        tableau, fun, linsolve: the method, ``fun(t, y, args)`` and the linear solver.
        y0: ``(n,)`` initial state; args: pytree; ts: ``(m,)`` sorted save times.
        t0, t1: start and end times (scalars).
        rtol, atol: tolerances (scalars or ``(n,)``).
        dt0: first step size, or None for the automatic choice (fixed step when
            ``adaptive=False``).
        max_steps: most step attempts (accepted + rejected).
        adaptive: False for fixed steps of ``dt0`` (convergence studies).
        controller: the step-size controller.
        record: if positive, record up to this many accepted steps for the adjoint.
        tstops: None or ``(k,)`` sorted times the steps land on exactly (known
            discontinuities of ``fun`` in time); the step that ends on one evaluates
            ``fun`` no later than the largest float below it (the left limit).

    A linear solver with ``carries = True`` (e.g. a lagged factorisation) keeps its
    state in the loop: ``init`` once, then ``begin`` / ``solve_info`` / ``end`` each
    step; a failed solve with stale state is retried at the same step size.

    Returns:
        ``RosenbrockResult`` and, when ``record``, a :class:`Recording`.
    """
    dtype = jnp.float64
    n = y0.shape[0]
    t0 = jnp.asarray(t0, dtype)
    t1 = jnp.asarray(t1, dtype)
    costs = step_costs(tableau)
    k_err = min(tableau.order, tableau.error_order) + 1
    span = t1 - t0
    nfev0 = 0
    if dt0 is None:
        if not adaptive:
            raise InputError(
                "is needed with adaptive=False: pass the fixed step size, e.g. dt0=(t1 - t0) / 100.", argument="dt0"
            )
        f0 = fun(t0, y0, args)
        h0 = initial_step(fun, t0, y0, args, f0, tableau.order, rtol, atol, span)
        nfev0 = 2
    else:
        h0 = jnp.asarray(dt0, dtype)
    h0 = jax.lax.stop_gradient(h0)

    ys = jnp.where((ts == t0)[:, None], y0[None, :], jnp.nan).astype(dtype)
    zero = jnp.zeros((), _I32)
    carry: dict[str, Any] = dict(
        t=t0,
        y=y0,
        h=h0,
        err_prev=jnp.ones((), dtype),
        prev_rej=jnp.array(False),
        n_acc=zero,
        n_rej=zero,
        n_iter=zero,
        status=zero,
        fails=zero,
        fail_kind=zero,
        ys=ys,
    )
    m = ts.shape[0]
    pointer_saves = m > VECTOR_SAVE_MAX
    if pointer_saves:
        # ts sorted: the next save time to fill is the first one after t0
        carry["save_idx"] = jnp.sum(ts <= t0).astype(_I32)
    if record:
        carry["rec"] = Recording(
            jnp.zeros(record, dtype),
            jnp.zeros(record, dtype),
            jnp.zeros(record, dtype),
            jnp.zeros((record, n), dtype),
            zero,
        )
    carries = bool(getattr(linsolve, "carries", False))
    if carries:
        carry["lin"] = linsolve.init(fun, t0, y0, args, h0 * tableau.gamma)
    if tstops is not None:
        tstops = jnp.asarray(tstops, dtype).reshape(-1)

    def cond(c):
        go = (c["t"] < t1) & (c["status"] == 0) & (c["n_iter"] < max_steps)
        if record:
            go = go & (c["n_acc"] < record)
        return go

    def body(c):
        t, y, h = c["t"], c["y"], c["h"]
        target, t_cap = _target(t, t1, tstops)
        last = t + 1.01 * h >= target
        h_try = jnp.where(last, target - t, h)
        t_new = jnp.where(last, target, t + h_try)
        if t_cap is not None:
            t_cap = jnp.where(last, t_cap, jnp.inf)
        if carries:
            scale = jax.lax.stop_gradient(atol + rtol * jnp.abs(y))
            lstate, lin, fresh = linsolve.begin(c["lin"], fun, t, y, args, h_try * tableau.gamma, scale)
            y_new, err_vec, dense, lin_ok, its = stages(
                tableau,
                fun,
                lambda b: linsolve.solve_info(lstate, b),
                t,
                y,
                h_try,
                args,
                t_cap=t_cap,
                stage_loop=getattr(linsolve, "loop_stages", None),
            )
            lin = linsolve.end(lin, lin_ok, its[0], its[1])
            # a solve that failed with an old factorisation is retried at the same step size
            retry = ~lin_ok & ~fresh
        else:
            y_new, err_vec, dense, lin_ok = rosenbrock_step(tableau, fun, linsolve, t, y, h_try, args, t_cap=t_cap)
            retry = jnp.array(False)
        finite = jnp.all(jnp.isfinite(y_new)) & jnp.all(jnp.isfinite(err_vec))
        err = jax.lax.stop_gradient(error_norm(err_vec, y, y_new, rtol, atol))
        ok = lin_ok & finite & jnp.isfinite(err)
        accept = ok & (err <= 1.0) if adaptive else ok

        # dense output at the save times inside (t, t_new]
        if pointer_saves:

            def save_cond(sc):
                i, _ = sc
                return accept & (i < m) & (ts[jnp.minimum(i, m - 1)] <= t_new)

            def save_body(sc):
                i, ys_ = sc
                ti = ts[i]
                yi = dense_eval(y, dense, (ti - t) / h_try)
                yi = jnp.where(ti == t_new, y_new, yi)
                return i + 1, jax.lax.dynamic_update_slice(ys_, yi[None, :], (i, jnp.zeros_like(i)))

            save_idx, ys = jax.lax.while_loop(save_cond, save_body, (c["save_idx"], c["ys"]))
        else:
            theta = (ts - t) / h_try
            ysave = dense_eval(y, dense, theta)
            ysave = jnp.where((ts == t_new)[:, None], y_new[None, :], ysave)
            hit = accept & (ts > t) & (ts <= t_new)
            ys = jnp.where(hit[:, None], ysave, c["ys"])

        if adaptive:
            fac = controller.factor(err, c["err_prev"], k_err, accept, ok, c["prev_rej"])
        else:
            fac = jnp.ones((), dtype)
        h_next = jax.lax.stop_gradient(h_try * fac)
        # do not let the final clipped step shrink the proposal for nothing
        h_next = jnp.where((accept & last) | retry, h, h_next)

        t_cur = jnp.where(accept, t_new, t)
        fails = jnp.where(ok, 0, jnp.where(retry, c["fails"], c["fails"] + 1))
        kind = jnp.where(~finite | ~jnp.isfinite(err), int(Status.NONFINITE), int(Status.LINEAR_SOLVE_FAILED)).astype(
            _I32
        )
        fail_kind = jnp.where(ok | retry, 0, kind).astype(_I32)
        if adaptive:
            underflow = (t_cur < t1) & ((h_next < underflow_limit(t_cur)) | (t_cur + h_next == t_cur))
            give_up = underflow | (fails >= MAX_FAILED_ATTEMPTS)
            code = jnp.where(fail_kind != 0, fail_kind, int(Status.STEP_SIZE_UNDERFLOW)).astype(_I32)
            status = jnp.where(give_up, code, 0).astype(_I32)
        else:
            status = jnp.where(ok | retry, 0, kind).astype(_I32)

        out: dict[str, Any] = dict(
            t=t_cur,
            y=jnp.where(accept, y_new, y),
            h=h_next,
            err_prev=jnp.where(accept, jnp.maximum(err, 1e-4), c["err_prev"]),
            prev_rej=jnp.where(retry, c["prev_rej"], ~accept),
            n_acc=c["n_acc"] + accept.astype(_I32),
            n_rej=c["n_rej"] + (~accept).astype(_I32),
            n_iter=c["n_iter"] + 1,
            status=status,
            fails=fails.astype(_I32),
            fail_kind=fail_kind,
            ys=ys,
        )
        if pointer_saves:
            out["save_idx"] = save_idx
        if carries:
            out["lin"] = lin
        if record:
            r = c["rec"]
            i = c["n_acc"]
            out["rec"] = Recording(
                r.t.at[i].set(t), r.h.at[i].set(h_try), r.t_next.at[i].set(t_new), r.y.at[i].set(y), out["n_acc"]
            )
        return out

    c = jax.lax.while_loop(cond, body, carry)
    status = jnp.where((c["status"] == 0) & (c["t"] < t1), int(Status.MAX_STEPS), c["status"]).astype(_I32)
    n_iter = c["n_iter"]
    stats = {
        "steps": c["n_acc"],
        "rejected": c["n_rej"],
        "nfev": (nfev0 + costs["nfev"] * n_iter).astype(_I32),
        "njev": (linsolve.counts.get("njev", 1) * n_iter).astype(_I32),
        "nlu": (linsolve.counts.get("nlu", 1) * n_iter).astype(_I32),
        "nsolve": (costs["nsolve"] * n_iter).astype(_I32),
        "t_end": c["t"],
    }
    if carries:
        # Jacobians are formed (coloured) only to build the preconditioner's factorisation
        stats["njev"] = c["lin"].n_factor
        stats["nlu"] = c["lin"].n_factor
        stats["nkrylov"] = c["lin"].n_iter
    res = RosenbrockResult(c["ys"], status, stats)
    if record:
        return res, c["rec"]
    return res
