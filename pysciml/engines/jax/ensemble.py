"""Ensembles: one solve for many initial states and parameter sets, vmapped in memory-bounded batches.

The solve is the engine's compiled solve of the request (:meth:`JaxEngine.compile_solve`, so every
solver, events and symplectic methods included), vmapped over the members' initial states and
varied parameters; the shared parameters and network weights are arguments too (not constants),
so one compiled batch serves every call with the same options.  The batch size comes from the
memory budget through XLA's account of the compiled batch (:func:`.cells.batch.choose_batch`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..requests import Batching, RawSolution, SolveRequest
from .cells.batch import Cache, choose_batch, compiled_bytes, pad_rows
from .compiled_solve import counters_per_row

__all__ = ["solve_ensemble", "DEFAULT_ENSEMBLE_BATCH"]

#: members per compiled batch without a budget that asks for fewer: large enough that the per-call
#: cost is spread thin, small enough that the first batch (which gives the time estimate) is short
DEFAULT_ENSEMBLE_BATCH = 1024

_CACHE = Cache(size=4)


class _Batch:
    """One compiled, vmapped batch of ``B`` members and its predicted memory."""

    def __init__(self, run, B, n_states, varied, shared, nets):
        def one(y0, pc, fixed, weights):
            return run(y0, {**fixed, **pc}, weights)

        batched = jax.vmap(one, in_axes=(0, 0, None, None))
        example = (
            jnp.zeros((B, n_states)),
            {k: jnp.zeros((B,) + np.shape(v)[1:]) for k, v in varied.items()},
            {k: jnp.asarray(v, jnp.float64) for k, v in shared.items()},
            {k: jnp.asarray(v, jnp.float64) for k, v in nets.items()},
        )
        self.fn = jax.jit(batched).lower(*example).compile()
        self.bytes = compiled_bytes(self.fn)


def _key(request: SolveRequest, method_key, varied: Mapping[str, np.ndarray], shared, nets, B: int) -> tuple:
    """What a compiled batch depends on: the request's options (not its values), the method the
    engine chose for it (``solver="auto"`` decides from the first member) and the shapes."""
    return (
        method_key,
        request.model,
        request.solver,
        float(request.t0),
        float(request.t1),
        np.asarray(request.saveat, float).tobytes(),
        np.asarray(request.rtol, float).tobytes(),
        np.asarray(request.atol, float).tobytes(),
        request.dt0,
        request.max_steps,
        request.adaptive,
        request.differentiation,
        request.events,
        request.at_times,
        request.max_events,
        tuple((k, np.shape(v)[1:]) for k, v in sorted(varied.items())),
        tuple((k, np.shape(v)) for k, v in sorted(shared.items())),
        tuple((k, np.shape(v)) for k, v in sorted(nets.items())),
        B,
    )


def solve_ensemble(
    engine,
    request: SolveRequest,
    u0: np.ndarray,
    params: Mapping[str, np.ndarray],
    batching: Batching,
    estimate: Callable[[dict], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RawSolution:
    """Solve ``request`` for every member: ``u0`` (n, n_states), ``params`` {name: (n, *shape)}.

    Returns a :class:`RawSolution` with ``u`` (n, n_save, n_states), ``status`` (n,) codes and
    ``stats``: the first member's (solver names) plus ``steps``/``rejected`` per member where the
    solver counts them, ``batch_size``, ``batches`` and ``predicted_batch_bytes``.
    """
    function = engine.compile_solve(request)
    n, n_states = u0.shape
    varied = {k: np.asarray(v, np.float64) for k, v in params.items()}
    shared = {k: np.asarray(v, np.float64) for k, v in request.params.items() if k not in varied}
    nets = {k: np.asarray(v, np.float64) for k, v in request.network_params.items()}

    def build(B):
        return _CACHE.get(
            _key(request, function.method_key, varied, shared, nets, B),
            lambda: _Batch(function.run, B, n_states, varied, shared, nets),
        )

    n_save = np.size(request.saveat)
    B, bundle = choose_batch(
        n,
        build,
        max_memory=batching.max_memory,
        cells_per_batch=batching.cells_per_batch,
        extra_per_cell=8 * n_save * n_states,
        first=min(n, DEFAULT_ENSEMBLE_BATCH),
        unit="members",
        size_argument="batch_size",
    )
    shared_j = {k: jnp.asarray(v) for k, v in shared.items()}
    nets_j = {k: jnp.asarray(v) for k, v in nets.items()}
    ys = np.empty((n, n_save, n_states))
    status = np.empty(n, np.int64)
    counters: dict[str, np.ndarray] = {}
    first_internal = None
    n_batches = -(-n // B)
    for start in range(0, n, B):
        sl = slice(start, min(n, start + B))
        k = sl.stop - sl.start
        tick = time.perf_counter()
        y, st, internal = bundle.fn(
            jnp.asarray(pad_rows(u0[sl], B)),
            {name: jnp.asarray(pad_rows(v[sl], B)) for name, v in varied.items()},
            shared_j,
            nets_j,
        )
        ys[sl] = np.asarray(y)[:k]
        status[sl] = np.asarray(st)[:k]
        for name, col in counters_per_row(internal).items():
            counters.setdefault(name, np.empty(n, np.int64))[sl] = col[:k]
        if first_internal is None:
            first_internal = jax.tree_util.tree_map(lambda a: np.asarray(a)[0], internal)
            if estimate is not None:
                seconds = time.perf_counter() - tick
                estimate(
                    {
                        "batch_size": B,
                        "batches": n_batches,
                        "predicted_batch_bytes": int(bundle.bytes + 8 * n_save * n_states * B),
                        "first_batch_seconds": float(seconds),
                        "estimated_seconds": float(seconds * n_batches),
                    }
                )
        if progress is not None:
            progress(k)
    stats = dict(function.finish(ys[0], status[0], first_internal))
    stats.update(counters)
    stats.update(batch_size=B, batches=n_batches, predicted_batch_bytes=int(bundle.bytes + 8 * n_save * n_states * B))
    return RawSolution(np.asarray(request.saveat, float), ys, status, stats)
