"""Fit checkpoints: the whole training state, written atomically, resumed exactly.

A checkpoint is one ``.npz`` file (arrays plus a JSON document, no pickle)
written to a temporary name and renamed, so a crash or ``kill -9`` mid-write
leaves the previous checkpoint intact.  It carries a fingerprint of the fit
(model declaration, data, options, seed, engine): resuming a different fit
from it is refused with a clear error.  Because the state is taken between
compiled chunks of steps, a resumed fit repeats exactly the computations of an
uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, InputError
from ..io.atomic import atomic_write_bytes

__all__ = ["Checkpointer", "load_checkpoint", "fit_fingerprint", "checkpoint_path", "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1
_FORMAT = "pysciml-checkpoint"


def fit_fingerprint(problem, engine: str) -> str:
    """A hash of everything that determines a fit's computations."""
    from .persistence import _declaration

    h = hashlib.sha256()
    decl = _declaration(problem.model)
    h.update(json.dumps(decl, sort_keys=True, default=str).encode())
    for arr in (problem.t, problem.y, problem.mask, problem.u0_init, problem.u0_free, problem.scales):
        h.update(np.ascontiguousarray(arr).tobytes())
    for k in sorted(problem.fixed):
        h.update(k.encode() + np.ascontiguousarray(problem.fixed[k]).tobytes())
    for f in problem.free:
        h.update(f.name.encode() + np.ascontiguousarray(f.z0).tobytes())
    for k in sorted(problem.networks_init):
        h.update(k.encode() + np.ascontiguousarray(problem.networks_init[k]).tobytes())
    h.update(repr((problem.loss, problem.l2, problem.strategy, problem.optimizers, problem.solver,
                   problem.adjoint, problem.rtol, problem.atol, problem.max_steps, problem.seed,
                   problem.free_networks, engine)).encode())
    return h.hexdigest()


class Checkpointer:
    """Decides when to write checkpoints and writes them.

    Args:
        path: checkpoint file (``.npz`` is appended if missing).
        fingerprint: :func:`fit_fingerprint` of the fit.
        every_steps: write at least every this many optimiser steps.
        every_seconds: ... or every this many seconds, whichever comes first.
    """

    def __init__(self, path, fingerprint: str, *, every_steps: int | None = 500, every_seconds: float | None = 60.0):
        self.path = _npz(path)
        self.fingerprint = fingerprint
        self.every_steps = every_steps
        self.every_seconds = every_seconds
        self._last_step = 0
        self._last_time = time.monotonic()
        self.writes = 0

    def due(self, step: int) -> bool:
        if self.every_steps is not None and step - self._last_step >= self.every_steps:
            return True
        return self.every_seconds is not None and time.monotonic() - self._last_time >= self.every_seconds

    def save(self, meta: dict, arrays: dict[str, np.ndarray], step: int) -> None:
        doc = {"format": _FORMAT, "version": CHECKPOINT_VERSION, "fingerprint": self.fingerprint, **meta}
        payload = {"__meta__": np.frombuffer(json.dumps(doc, default=_plain).encode(), dtype=np.uint8)}
        payload.update({k: np.asarray(v) for k, v in arrays.items()})
        buf = io.BytesIO()
        np.savez(buf, **payload)
        atomic_write_bytes(self.path, buf.getvalue())
        self._last_step, self._last_time = step, time.monotonic()
        self.writes += 1


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def checkpoint_path(path) -> Path:
    """The file a ``checkpoint=`` argument names (``.npz`` appended if missing)."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


_npz = checkpoint_path


def load_checkpoint(path, fingerprint: str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``(meta, arrays)`` of the checkpoint at ``path``, or None if there is none.

    Raises :class:`FileFormatError` for a corrupt or foreign file and
    :class:`InputError` when it belongs to a different fit.
    """
    p = _npz(path)
    if not p.exists():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        doc = json.loads(arrays.pop("__meta__").tobytes().decode())
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise FileFormatError(f"{p} is not a readable pysciml checkpoint ({exc}); delete it or pass another "
                              "checkpoint= path.", argument="checkpoint") from None
    if doc.get("format") != _FORMAT:
        raise FileFormatError(f"{p} is not a pysciml checkpoint.", argument="checkpoint")
    if doc.get("version") != CHECKPOINT_VERSION:
        raise FileFormatError(f"{p} has checkpoint version {doc.get('version')!r}; this pysciml reads "
                              f"version {CHECKPOINT_VERSION}.", argument="checkpoint")
    if doc.get("fingerprint") != fingerprint:
        raise InputError(
            f"{p} belongs to a different fit (other model, data, options or seed); resume=True needs the same "
            "fit. Delete the file, pass another checkpoint= path, or call fit with the original arguments.",
            argument="resume",
        )
    return doc, arrays


def state_arrays(prefix: str, leaves) -> dict[str, Any]:
    """Flatten a list of arrays into ``{prefix/i: array}``."""
    return {f"{prefix}/{i}": np.asarray(x) for i, x in enumerate(leaves)}


def arrays_list(arrays: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """Inverse of :func:`state_arrays`."""
    keys = sorted((k for k in arrays if k.startswith(prefix + "/")), key=lambda k: int(k.rsplit("/", 1)[1]))
    return [arrays[k] for k in keys]
