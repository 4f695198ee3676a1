"""Checkpoints of per-cell gridded fits: every finished group of cells saved, a killed fit resumed.

A checkpoint is a folder: ``manifest.json`` (format, version, the fit's fingerprint, the
group size) and one ``cells-<first>-<last>.npz`` per finished group of cells, holding
the cells' global indices and every per-cell output.  Each group file is written to a
temporary name and renamed (:func:`pysciml.io.saved.write_document`), so a fit killed
mid-write leaves only whole groups; dask workers fitting different chunks write
different files and never the same one.  ``resume=True`` reads the finished groups and
fits only the other cells, in the same groups as an uninterrupted run, so the result is
the same cell for cell.

A folder of atomic files, not one Zarr store: a Zarr chunk rewritten in place by a
process that is killed can be left torn, and chunks shared by two dask workers would
need locks; whole-file renames need neither.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, InputError
from ..io.atomic import atomic_write_text, check_target
from ..io.saved import check_format, read_document, write_document

__all__ = ["CellCheckpoint", "open_cell_checkpoint", "data_fingerprint", "DEFAULT_CHECKPOINT_CELLS"]

_FORMAT = "pysciml-cell-checkpoint"
_VERSION = 1
_MANIFEST = "manifest.json"
_GROUP = re.compile(r"cells-(\d+)-(\d+)\.npz")
#: cells per checkpointed group when ``checkpoint_cells`` is not given
DEFAULT_CHECKPOINT_CELLS = 1024


def data_fingerprint(arrays: Sequence[Any]) -> str:
    """A hash of the fit's inputs: the values of numpy-backed ones, the dask token of lazy ones."""
    h = hashlib.sha256()
    for a in arrays:
        data = getattr(a, "data", a)
        h.update(repr((getattr(a, "dims", None), np.shape(data))).encode())
        if type(data).__module__.startswith("dask"):
            from dask.base import tokenize

            h.update(tokenize(data).encode())
        else:
            h.update(np.ascontiguousarray(np.asarray(data)).tobytes())
    return h.hexdigest()


@dataclasses.dataclass(frozen=True)
class CellCheckpoint:
    """Where and how a per-cell fit saves its finished groups (small and picklable: dask workers get it).

    Attributes:
        folder: the checkpoint folder.
        fingerprint: identifies the fit (model, options, data, starts, group size).
        cells: cells per group.
    """

    folder: str
    fingerprint: str
    cells: int

    def done(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs of the cells among ``ids`` that finished: ``{"ids": (k,), name: (k, ...)}``."""
        ids = np.asarray(ids, np.int64)
        wanted = set(ids.tolist())
        lo, hi = (int(ids.min()), int(ids.max())) if ids.size else (0, -1)
        parts: dict[str, list[np.ndarray]] = {}
        for path in sorted(Path(self.folder).iterdir()):
            m = _GROUP.fullmatch(path.name)
            if m is None:
                continue
            first, last = int(m.group(1)), int(m.group(2))
            if not wanted or last < lo or first > hi:  # the group holds none of these cells
                continue
            found = read_document(path, {_FORMAT: _VERSION}, what="gridded fit checkpoint", argument="checkpoint")
            if found is None:  # removed meanwhile
                continue
            doc, arrays = found
            if doc.get("fingerprint") != self.fingerprint:
                raise InputError(
                    f"{path} belongs to a different fit (other model, data, options or starts); resume=True "
                    "needs the same fit. Pass another checkpoint= folder, or delete this one to start again.",
                    argument="resume",
                )
            keep = np.isin(arrays["ids"], ids)
            for k, v in arrays.items():
                parts.setdefault(k, []).append(v[keep])
        return {k: np.concatenate(v) for k, v in parts.items()}

    def save(self, ids: np.ndarray, outputs: Mapping[str, np.ndarray]) -> None:
        """Save one finished group (``ids`` ascending global cell indices)."""
        ids = np.asarray(ids, np.int64)
        doc = {"format": _FORMAT, "version": _VERSION, "fingerprint": self.fingerprint}
        path = Path(self.folder) / f"cells-{int(ids[0]):012d}-{int(ids[-1]):012d}.npz"
        write_document(path, doc, {"ids": ids, **{k: np.asarray(v) for k, v in outputs.items()}})


def open_cell_checkpoint(checkpoint, resume, fingerprint: str, cells) -> CellCheckpoint | None:
    """Check ``checkpoint=`` / ``checkpoint_cells=`` (``resume`` is a checked bool) and prepare the folder.

    A folder that already holds a checkpoint is continued only with ``resume=True`` (never
    overwritten); ``resume=True`` with no folder starts a new checkpoint there.
    """
    if checkpoint is None:
        if resume:
            raise InputError("resume=True needs checkpoint='path/to/folder'.", argument="resume")
        if cells is not None:
            raise InputError(
                "checkpoint_cells= sizes the groups of checkpoint=; give checkpoint= too.", argument="checkpoint_cells"
            )
        return None
    if cells is None:
        cells = DEFAULT_CHECKPOINT_CELLS
    if isinstance(cells, bool) or not isinstance(cells, (int, np.integer)) or cells <= 0:
        raise InputError(f"must be a positive integer, got {cells!r}.", argument="checkpoint_cells")
    folder = check_target(checkpoint, argument="checkpoint", directory=True)
    manifest = folder / _MANIFEST
    fingerprint = hashlib.sha256(f"{fingerprint}:{int(cells)}".encode()).hexdigest()
    if manifest.exists():
        if not resume:
            raise InputError(
                f"{folder} already holds a checkpoint of a gridded fit; pass resume=True to continue it, or "
                "another checkpoint= folder (nothing there is overwritten).",
                argument="checkpoint",
            )
        try:
            doc = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"{manifest} is not readable ({exc}).", argument="checkpoint") from None
        check_format(doc, str(manifest), {_FORMAT: _VERSION}, what="gridded fit checkpoint", argument="checkpoint")
        if doc.get("fingerprint") != fingerprint:
            raise InputError(
                f"{folder} holds a checkpoint of a different fit (other model, data, options, starts or "
                f"checkpoint_cells; it was written with checkpoint_cells={doc.get('cells')}). resume=True needs "
                "the same fit: call it with the original arguments, or pass another checkpoint= folder.",
                argument="resume",
            )
    else:
        os.makedirs(folder, exist_ok=True)
        doc = {"format": _FORMAT, "version": _VERSION, "fingerprint": fingerprint, "cells": int(cells)}
        atomic_write_text(manifest, json.dumps(doc, indent=1))
    return CellCheckpoint(str(folder), fingerprint, int(cells))
