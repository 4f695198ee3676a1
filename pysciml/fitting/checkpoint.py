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
import json
import os
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.saved import read_document, write_document
from .saved_model import model_declaration

__all__ = ["Checkpointer", "load_checkpoint", "fit_fingerprint", "checkpoint_path", "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1
_FORMAT = "pysciml-checkpoint"


def fit_fingerprint(problem, engine: str) -> str:
    """A hash of everything that determines a fit's computations."""
    h = hashlib.sha256()
    decl = model_declaration(problem.model)
    h.update(json.dumps(decl, sort_keys=True, default=str).encode())
    for arr in (problem.t, problem.y, problem.mask, problem.u0_init, problem.u0_free, problem.scales):
        h.update(np.ascontiguousarray(arr).tobytes())
    for k in sorted(problem.fixed):
        h.update(k.encode() + np.ascontiguousarray(problem.fixed[k]).tobytes())
    for f in problem.free:
        h.update(f.name.encode() + np.ascontiguousarray(f.z0).tobytes())
    for k in sorted(problem.networks_init):
        h.update(k.encode() + np.ascontiguousarray(problem.networks_init[k]).tobytes())
    h.update(
        repr(
            (
                problem.loss,
                problem.l2,
                problem.strategy,
                problem.optimizers,
                problem.solver,
                problem.adjoint,
                problem.rtol,
                problem.atol,
                problem.max_steps,
                problem.seed,
                problem.free_networks,
                engine,
                [(type(e).__name__, getattr(e, "name", None), getattr(e, "direction", None)) for e in problem.events],
                problem.at_times,
                problem.max_events,
            )
        ).encode()
    )
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
        write_document(self.path, doc, arrays)
        self._last_step, self._last_time = step, time.monotonic()
        self.writes += 1


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
    found = read_document(p, {_FORMAT: CHECKPOINT_VERSION}, what="checkpoint", argument="checkpoint")
    if found is None:
        return None
    doc, arrays = found
    if doc.get("fingerprint") != fingerprint:
        raise InputError(
            f"{p} belongs to a different fit (other model, data, options or seed); resume=True needs the same "
            "fit. Delete the file, pass another checkpoint= path, or call fit with the original arguments.",
            argument="resume",
        )
    return doc, arrays
