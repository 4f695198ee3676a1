"""Discrete adjoint of the Rosenbrock machine (``differentiation="reverse"``).

The forward pass records every accepted step ``(t_n, h_n, y_n)`` in fixed-size
buffers.  The backward pass walks the recorded steps in reverse and applies the
VJP of one step (Jacobian, factorisation, stages and the dense-output polynomial
for the save times inside the step) with the step sizes frozen: the exact
gradient of the computed discrete solution with respect to ``y0``, ``args`` and
the save times ``ts`` (``t0``, ``t1`` and the tolerances get zero cotangents).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .machine import integrate
from .step import dense_eval_derivative, rosenbrock_step

__all__ = ["solve_with_adjoint"]


def _zero_cotangent(x):
    x = jnp.asarray(x) if not hasattr(x, "dtype") else x
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.zeros_like(x)
    return np.zeros(np.shape(x), dtype=jax.dtypes.float0)


def solve_with_adjoint(
    tableau,
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
    max_steps,
    adaptive,
    controller,
    max_recorded_steps,
    tstops=None,
):
    """:func:`.machine.integrate` with a ``jax.custom_vjp`` discrete adjoint (see module doc).

    The backward pass recomputes each recorded step with the strategy's direct
    ``factor`` / ``solve`` (also for strategies that carry a lagged factorisation in
    the forward loop), so the gradient is that of steps with exact linear solves.
    """
    has_dt0 = dt0 is not None
    has_stops = tstops is not None
    stops_arr = jnp.asarray(tstops if has_stops else jnp.zeros(0), jnp.float64).reshape(-1)
    dt0_arr = jnp.asarray(dt0 if has_dt0 else 0.0, jnp.float64)
    record = int(max_recorded_steps)

    steps = min(int(max_steps), record)
    # only inexact leaves of args are differentiated; the rest ride along unchanged
    diff_args, nondiff_args = eqx.partition(args, eqx.is_inexact_array)

    def run(y0, diff_args, ts, t0, t1, rtol, atol, dt0_arr, stops, record_steps):
        return integrate(
            tableau,
            fun,
            linsolve,
            y0=y0,
            args=eqx.combine(diff_args, nondiff_args),
            ts=ts,
            t0=t0,
            t1=t1,
            rtol=rtol,
            atol=atol,
            dt0=dt0_arr if has_dt0 else None,
            max_steps=steps,
            adaptive=adaptive,
            controller=controller,
            record=record_steps,
            tstops=stops if has_stops else None,
        )

    @jax.custom_vjp
    def solve(y0, args, ts, t0, t1, rtol, atol, dt0_arr, stops):
        # the primal records nothing (cheap under vmap); the same step limit as the recorded pass
        return run(y0, args, ts, t0, t1, rtol, atol, dt0_arr, stops, 0)

    def fwd(y0, args, ts, t0, t1, rtol, atol, dt0_arr, stops):
        res, rec = run(y0, args, ts, t0, t1, rtol, atol, dt0_arr, stops, record)
        return res, (rec, args, ts, t0, t1, rtol, atol, dt0_arr, y0, stops)

    def bwd(saved, g):
        rec, args, ts, t0, t1, rtol, atol, dt0_arr, y0, stops = saved
        ys_bar = g.ys
        ys_bar = jnp.where(jnp.isfinite(ys_bar), ys_bar, 0.0)

        def step_fn(tk, hk, y, a, t_cap):
            full = eqx.combine(a, nondiff_args)
            y_new, _err, dense, _ok = rosenbrock_step(tableau, fun, linsolve, tk, y, hk, full, t_cap=t_cap)
            return y_new, dense

        def body(c):
            k, lam, a_bar, ts_bar = c
            tk, hk, tk1, yk = rec.t[k], rec.h[k], rec.t_next[k], rec.y[k]
            if has_stops:
                # the forward step that ended on a tstop before t1 saw fun's left limit there
                on_stop = jnp.any(stops == tk1) & (tk1 < t1)
                t_cap = jnp.where(on_stop, jnp.nextafter(tk1, -jnp.inf), jnp.inf)
            else:
                t_cap = None
            (_y_new, dense), vjp = jax.vjp(lambda y, a: step_fn(tk, hk, y, a, t_cap), yk, args)
            at_end = ts == tk1
            inside = (ts > tk) & (ts < tk1)
            theta = (ts - tk) / hk
            gb = jnp.where(inside[:, None], ys_bar, 0.0)
            lam_end = lam + jnp.sum(jnp.where(at_end[:, None], ys_bar, 0.0), axis=0)
            powers = theta[:, None] ** jnp.arange(1, dense.shape[0] + 1, dtype=theta.dtype)[None, :]
            dense_bar = powers.T @ gb
            dydtheta = dense_eval_derivative(dense, theta)
            in_step = inside | at_end
            ts_bar = ts_bar + jnp.where(in_step, jnp.sum(ys_bar * dydtheta, axis=1) / hk, 0.0)
            y_bar, a_b = vjp((lam_end, dense_bar))
            a_bar = jax.tree_util.tree_map(lambda u, v: u + v, a_bar, a_b)
            return k - 1, y_bar + jnp.sum(gb, axis=0), a_bar, ts_bar

        a_bar0 = jax.tree_util.tree_map(lambda x: jnp.zeros_like(x), args)
        init = (rec.count - 1, jnp.zeros_like(y0), a_bar0, jnp.zeros_like(ts))
        _, lam, a_bar, ts_bar = jax.lax.while_loop(lambda c: c[0] >= 0, body, init)
        lam = lam + jnp.sum(jnp.where((ts == t0)[:, None], ys_bar, 0.0), axis=0)
        return (
            lam,
            a_bar,
            ts_bar,
            _zero_cotangent(t0),
            _zero_cotangent(t1),
            _zero_cotangent(rtol),
            _zero_cotangent(atol),
            _zero_cotangent(dt0_arr),
            _zero_cotangent(stops),
        )

    solve.defvjp(fwd, bwd)
    return solve(
        y0, diff_args, ts, t0, t1, jnp.asarray(rtol, jnp.float64), jnp.asarray(atol, jnp.float64), dt0_arr, stops_arr
    )
