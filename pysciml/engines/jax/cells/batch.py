"""Cells in memory-bounded batches: compile once per batch size, check the predicted memory.

The batch size is chosen from the memory budget with XLA's own account of a
compiled batch (``memory_analysis``: temporaries, arguments, outputs): the first
batch size tried is ``DEFAULT_BATCH`` (or ``cells_per_batch``);
if its compiled memory exceeds the budget the size is scaled down and compiled
again; a warning is given if even that is predicted to exceed it.
"""

from __future__ import annotations

import collections
import threading
import warnings

import numpy as np

from ...requests import CellFitRequest

#: default cells per compiled batch, whatever the block size: per-cell results depend (in the last
#: bits) on the batch size only, so a fixed default makes in-memory, dask and cluster runs agree
#: bitwise; larger batches stop paying (measured ~21 us per cell and step at 128 and 512 cells)
DEFAULT_BATCH = 128

__all__ = [
    "DEFAULT_BATCH",
    "MemoryBudgetWarning",
    "compiled_bytes",
    "choose_batch",
    "pad_rows",
    "bucket",
    "Cache",
    "run_batches",
    "fingerprint",
]


class MemoryBudgetWarning(ResourceWarning):
    """A compiled batch is predicted to need more memory than ``max_memory``."""


def compiled_bytes(compiled) -> int:
    """Predicted peak bytes of a compiled computation (temporaries + arguments + outputs)."""
    try:
        ma = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - a backend without the analysis: unknown
        return 0
    if ma is None:
        return 0
    return int(
        getattr(ma, "temp_size_in_bytes", 0)
        + getattr(ma, "argument_size_in_bytes", 0)
        + getattr(ma, "output_size_in_bytes", 0)
    )


def choose_batch(
    n_cells: int,
    build,
    *,
    max_memory: int | None,
    cells_per_batch: int | None,
    extra_per_cell: int = 0,
    first: int | None = None,
    unit: str = "cells",
    size_argument: str = "cells_per_batch",
):
    """``(B, bundle)``: the batch size and ``build(B)``'s result (``bundle.bytes`` = predicted bytes).

    Args:
        n_cells: cells to process.
        build: ``build(B)`` compiles for batch size ``B`` and returns an object with ``bytes``.
        max_memory: budget in bytes (None: no limit).
        cells_per_batch: the user's batch size (then the budget only warns).
        extra_per_cell: host bytes per cell held besides the compiled computation.
        first: the batch size to try first (default :func:`bucket`).
        unit, size_argument: what a batch holds and the user's argument that fixes its size
            (for the warning).
    """
    B = int(cells_per_batch) if cells_per_batch else (first or bucket(n_cells))
    bundle = build(B)
    need = bundle.bytes + extra_per_cell * B
    tried = [(B, need)]
    while max_memory and need > max_memory and not cells_per_batch and B > 1 and len(tried) < 4:
        if len(tried) == 1:  # proportional guess
            B_new = int(0.9 * max_memory * B / need)
        else:  # a line through the last two (fixed part + per cell) sizes the batch
            (b1, n1), (b2, n2) = tried[-2:]
            slope = (n1 - n2) / (b1 - b2) if b1 != b2 else n1 / b1
            B_new = int((0.95 * max_memory - (n2 - slope * b2)) / slope) if slope > 0 else B // 2
        B = max(1, min(B - 1, B_new))
        bundle = build(B)
        need = bundle.bytes + extra_per_cell * B
        tried.append((B, need))
    if max_memory and need > max_memory:
        warnings.warn(
            f"a batch of {B} {unit} is predicted to need {need / 2**20:.0f} MiB, more than max_memory="
            f"{max_memory / 2**20:.0f} MiB; "
            + (
                f"lower {size_argument}."
                if cells_per_batch
                else f"one {unit.rstrip('s')}'s computation alone exceeds it: raise max_memory, "
                "shorten the time axis or lower max_steps."
            ),
            MemoryBudgetWarning,
            stacklevel=3,
        )
    return B, bundle


def bucket(n_cells: int) -> int:
    """Default batch size: :data:`DEFAULT_BATCH` whatever ``n_cells`` (short blocks are padded), so every
    block, chunk and worker runs the same compiled batch and gives bitwise the same per-cell results."""
    del n_cells
    return DEFAULT_BATCH


def pad_rows(a: np.ndarray, B: int) -> np.ndarray:
    """``a`` (n <= B rows) padded to ``B`` rows by repeating its first row (results discarded)."""
    n = a.shape[0]
    if n == B:
        return a
    return np.concatenate([a, np.repeat(a[:1], B - n, axis=0)], axis=0)


class Cache:
    """A small thread-safe LRU of compiled bundles.

    ``get(keys, build)`` finds a bundle under any of ``keys`` (e.g. the spec's token, kept
    through pickling, and a fingerprint of its configuration, shared by equal specs in
    one process) or builds it and stores it under all of them.
    """

    def __init__(self, size: int = 8):
        self._d: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, keys, build):
        keys = keys if isinstance(keys, list) else [keys]
        with self._lock:
            for key in keys:
                if key in self._d:
                    self._d.move_to_end(key)
                    return self._d[key]
        value = build()
        with self._lock:
            for key in keys:
                self._d[key] = value
            while len(self._d) > self.size * 2:
                self._d.popitem(last=False)
        return value


def run_batches(fn, n_batches: int, workers: int = 1) -> None:
    """Call ``fn(i)`` for every batch, in ``workers`` threads (XLA releases the GIL while it runs).

    Each batch's memory counts once per worker: the budget is divided by ``workers`` upstream.
    """
    if workers <= 1 or n_batches <= 1:
        for i in range(n_batches):
            fn(i)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, n_batches)) as pool:
        for f in [pool.submit(fn, i) for i in range(n_batches)]:
            f.result()


def _arrays_key(d) -> tuple:
    return tuple((k, np.asarray(v).shape, np.asarray(v, np.float64).tobytes()) for k, v in sorted(d.items()))


def fingerprint(spec) -> tuple:
    """What a compiled computation depends on in a spec (equal specs in a process share compiled code)."""
    if isinstance(spec, CellFitRequest):
        frozen = {k: v for k, v in spec.networks_init.items() if k not in spec.shared_networks}
        return (
            "fit",
            spec.model,
            np.asarray(spec.t, np.float64).tobytes(),
            tuple((f.name, f.bounds, np.shape(f.z0)) for f in spec.per_cell),
            tuple((f.name, f.bounds, np.shape(f.z0)) for f in spec.shared),
            spec.shared_networks,
            _arrays_key(spec.fixed),
            _arrays_key(frozen),
            spec.fit_u0,
            spec.loss,
            spec.l2,
            spec.strategy,
            spec.optimizers,
            spec.solver,
            spec.adjoint,
            spec.rtol,
            spec.atol,
            spec.max_steps,
            spec.differentiation,
        )
    return (
        "solve",
        spec.model,
        float(spec.t0),
        np.asarray(spec.ts, np.float64).tobytes(),
        spec.per_cell,
        _arrays_key(spec.values),
        _arrays_key(spec.networks),
        spec.solver,
        spec.rtol,
        spec.atol,
        spec.max_steps,
    )
