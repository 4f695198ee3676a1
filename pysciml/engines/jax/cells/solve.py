"""Solving one model in many cells at once: a vmapped, compiled solve per batch of cells."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..compiled_solve import run_method
from ..rhs import vector_field
from .batch import Cache, choose_batch, compiled_bytes, fingerprint, pad_rows, run_batches
from .objective import resolve_cell_solver

__all__ = ["solve_cells"]

_CACHE = Cache()
#: default cells per solve batch, fixed so that every chunking gives bitwise the same values. Lanes of a
#: vmapped solve wait for the batch's slowest cell and short blocks are padded, so larger is not faster:
#: 512 was quickest for 540 and for 10,000 cells of the gridded benchmark (128 / 256 / 512 / 1024 measured)
SOLVE_BATCH = 512


class _Solve:
    def __init__(self, spec, B, u0_first, first_values):
        solver, lin = resolve_cell_solver(
            spec.model, spec.solver, spec.ts, u0_first, {**spec.values, **first_values}, spec.networks
        )
        self.solver = solver
        fun = vector_field(spec.model)
        fixed = {k: jnp.asarray(v, jnp.float64) for k, v in spec.values.items()}
        nets = {k: jnp.asarray(v, jnp.float64) for k, v in spec.networks.items()}
        ts = jnp.asarray(spec.ts, jnp.float64)
        t0 = jnp.float64(spec.t0)

        def one(u0, pc):
            ys, status, _ = run_method(
                solver,
                fun,
                t0,
                ts[-1],
                u0,
                ({**fixed, **pc}, nets),
                ts,
                spec.rtol,
                spec.atol,
                None,
                max_steps=spec.max_steps,
                differentiation="forward",
                linsolve=lin,
            )
            return ys, status

        n_s = spec.model.n_states
        ex_pc = {k: jnp.zeros((B,) + np.shape(v)) for k, v in first_values.items()}
        self.fn = jax.jit(jax.vmap(one)).lower(jnp.zeros((B, n_s)), ex_pc).compile()
        self.bytes = compiled_bytes(self.fn)


def solve_cells(spec, u0: np.ndarray, params: dict, *, cells_per_batch=None, max_memory=None, workers=1):
    """Solve every cell: ``u0`` (n, n_states), ``params`` {name: (n, *shape)} per-cell values.

    ``workers`` batches run at once in threads (XLA runs each on one core; ``max_memory`` is per batch).

    Returns:
        ``(ys (n, n_t, n_states), status (n,) int8, solver name)``; rows of failed cells hold NaN
        after the failure.
    """
    n = u0.shape[0]
    first = {k: np.asarray(v[0], float) for k, v in params.items()}

    def build(B):
        return _CACHE.get([(spec.token, B), (fingerprint(spec), B)], lambda: _Solve(spec, B, u0[0], first))

    nt, ns = spec.ts.size, spec.model.n_states
    B, comp = choose_batch(
        n, build, max_memory=max_memory, cells_per_batch=cells_per_batch, extra_per_cell=8 * nt * ns, first=SOLVE_BATCH
    )
    ys = np.empty((n, nt, ns))
    status = np.empty(n, np.int8)
    starts = list(range(0, n, B))

    def one_batch(i):
        sl = slice(starts[i], min(n, starts[i] + B))
        k = sl.stop - sl.start
        y, st = comp.fn(
            jnp.asarray(pad_rows(u0[sl], B)), {name: jnp.asarray(pad_rows(v[sl], B)) for name, v in params.items()}
        )
        ys[sl] = np.asarray(y)[:k]
        status[sl] = np.asarray(st)[:k]

    run_batches(one_batch, len(starts), workers)
    return ys, status, comp.solver.name
