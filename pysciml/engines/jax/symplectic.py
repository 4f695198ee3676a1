"""Running the symplectic composition solvers (:mod:`pysciml.solvers.symplectic`) with ``lax.scan``.

The state is ``u = (q, v)`` (halves of the flat state).  A step is
``K(d_0) D(c_0) K(d_1) ... D(c_{s-1}) K(d_s)`` with the solver's kick and drift
coefficients; the acceleration at the end of a step is carried into the next (one
vector-field evaluation per stage).  Steps between two output times run in an inner
``lax.scan`` wrapped in ``jax.checkpoint``, so reverse-mode gradients store one state
per output time (plus one interval's steps while it is being differentiated).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...solvers.symplectic import Symplectic
from ...status import Status
from ..requests import SolveFunction, SolveRequest
from .arguments import state_args
from .rhs import split_network_weights, vector_field

__all__ = ["make_symplectic_solve", "symplectic_function"]


def make_symplectic_solve(model, solver: Symplectic, counts: tuple[int, ...]):
    """The jitted ``f(y0, args, starts, sizes) -> (ys, status, stats)`` for fixed step counts.

    ``counts[k]`` steps of size ``sizes[k]`` from time ``starts[k]`` end at output ``k``.
    """
    fun = vector_field(model)
    kick, drift = solver.coefficients
    n_max = max(counts) if counts else 0
    uniform = len(set(counts)) == 1
    counts_arr = np.asarray(counts, dtype=np.int32)

    def solve(y0, args, starts, sizes):
        args = split_network_weights(model, args)
        n = y0.shape[0] // 2

        def accel(q, v, t):
            return fun(t, jnp.concatenate([q, v]), args)[n:]

        def velocity(q, v, t):
            return fun(t, jnp.concatenate([q, v]), args)[:n]

        def step(state, t, h):
            q, v, a = state
            for i, c in enumerate(drift):
                v = v + (kick[i] * h) * a
                q = q + (c * h) * velocity(q, v, t)
                t = t + c * h
                a = accel(q, v, t)
            v = v + (kick[-1] * h) * a
            return q, v, a

        def interval(state, x):
            t_start, h, count = x

            def body(st, i):
                new = step(st, t_start + i * h, h)
                if not uniform:
                    keep = i < count
                    new = jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b), new, st)
                return new, None

            state, _ = jax.lax.scan(body, state, jnp.arange(n_max, dtype=y0.dtype))
            return state, jnp.concatenate([state[0], state[1]])

        q0, v0 = y0[:n], y0[n:]
        state = (q0, v0, accel(q0, v0, starts[0]))
        _, ys = jax.lax.scan(jax.checkpoint(interval), state, (starts, sizes, jnp.asarray(counts_arr)))
        finite = jnp.all(jnp.isfinite(ys), axis=-1)
        status = jnp.where(jnp.all(finite), jnp.int32(int(Status.SUCCESS)), jnp.int32(int(Status.NONFINITE)))
        # rows from the first non-finite one on are NaN
        bad = jnp.cumsum(~finite) > 0
        ys = jnp.where(bad[:, None], jnp.nan, ys)
        return ys, status, bad

    return jax.jit(solve)


def symplectic_function(engine, request: SolveRequest) -> SolveFunction:
    """The compiled solve of a :class:`SolveRequest` whose solver is a :class:`Symplectic` method, as a
    function of ``(u0, params, network_params)`` (its step grid fixed by the request's times)."""
    solver = request.solver
    assert isinstance(solver, Symplectic)
    solver = solver.with_step(request.dt0)
    counts, sizes = solver.step_counts(request.t0, request.saveat)
    key = ("symplectic", solver, tuple(int(c) for c in counts))

    def build():
        return make_symplectic_solve(request.model, solver, tuple(int(c) for c in counts))

    fn = engine.jitted(request.model, key, build)
    starts = np.concatenate([[float(request.t0)], np.asarray(request.saveat, dtype=float)[:-1]])
    steps = int(counts.sum())
    ts = np.asarray(request.saveat, dtype=float)

    def run(u0, params, network_params):
        y0, args = state_args(u0, params, network_params)
        return fn(y0, args, starts, sizes)

    def finish(ys, status, bad):
        stats = {
            "steps": steps,
            "rejected": 0,
            "nfev": steps * solver.stages + 1,
            "solver": solver.name,
            "dt": solver.dt,
        }
        try:
            b = np.asarray(bad)
            first = int(np.argmax(b))
            stats["t_end"] = float(request.t1) if not b.any() else (float(ts[first - 1]) if first else request.t0)
        except Exception:  # traced (inside jax.grad)
            pass
        return stats

    return SolveFunction(run, finish)
