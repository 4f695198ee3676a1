"""The one file format of everything pysciml saves: a JSON document + numpy arrays, never pickle.

* :func:`write_pair` / :func:`read_pair`: ``NAME.json`` (the document: format, version,
  declarations, scalars) beside ``NAME.npz`` (the arrays).  Both are written completely
  under temporary names before either is renamed; the JSON records the npz's SHA-256, so
  a pair from two different saves is refused; a lock file serialises saves to one name.
  Used by fitted models and latent models.
* :func:`write_document` / :func:`read_document`: one ``.npz`` holding the arrays and the
  JSON document (as bytes), written atomically.  Used by fit checkpoints, which are
  rewritten often and need one atomic rename.

Every reader loads with ``allow_pickle=False`` and refuses, with a message that says
why, a file of another format or version, a damaged file and a pickle payload.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, InputError
from .atomic import atomic_path, atomic_write_bytes, check_target, file_lock

__all__ = [
    "pair_paths",
    "write_pair",
    "read_pair",
    "check_format",
    "write_document",
    "read_document",
    "load_arrays",
    "jsonable",
]

_META = "__meta__"


def jsonable(v):
    """numpy scalars and arrays as plain JSON values (``json.dumps(default=jsonable)``)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def pair_paths(path, *, argument: str = "path") -> tuple[Path, Path]:
    """``(NAME.json, NAME.npz)`` for a path given with or without either suffix."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", b""):
        raise InputError(f"must be a file path (a str or pathlib.Path), got {path!r}.", argument=argument)
    p = Path(os.fsdecode(os.fspath(path)))
    if p.suffix in (".json", ".npz"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".json"), p.with_name(p.name + ".npz")


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(buf, **named)
    return buf.getvalue()


def load_arrays(raw: bytes, name: str, *, argument: str = "path") -> dict[str, np.ndarray]:
    """The arrays of an npz file's bytes (``allow_pickle=False``; a pickle payload is refused)."""
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FileFormatError(
                f"{name} holds an object array (a pickle), which pysciml never loads: unpickling can run arbitrary "
                "code. Files pysciml writes contain only numeric arrays; this one was not written by pysciml.",
                argument=argument,
            ) from None
        raise FileFormatError(f"{name} is corrupt or not an npz file ({exc}).", argument=argument) from None
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"{name} is corrupt or not an npz file ({exc}).", argument=argument) from None


def check_format(doc: Any, name: str, formats: Mapping[str, int], *, what: str, argument: str = "path") -> str:
    """The document's format (one of ``formats``, at its version), else a :class:`FileFormatError`."""
    fmt: str | None = doc.get("format") if isinstance(doc, dict) else None
    if fmt is None or fmt not in formats:
        raise FileFormatError(f"{name} is not a pysciml {what} file (format {fmt!r}).", argument=argument)
    if doc.get("version") != formats[fmt]:
        raise FileFormatError(
            f"{name} is {what} version {doc.get('version')!r} (format version {doc.get('version')!r}); this "
            f"pysciml reads version {formats[fmt]}. "
            "Upgrade pysciml (or save again with the version that wrote it).",
            argument=argument,
        )
    return fmt


def write_pair(path, doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *, argument: str = "path") -> None:
    """Write ``path.json`` (``doc`` + the npz's checksum) and ``path.npz`` (``arrays``) as one save."""
    jpath, npath = pair_paths(path, argument=argument)
    check_target(jpath, argument=argument)
    check_target(npath, argument=argument)
    data = _npz_bytes(arrays)
    doc = {**doc, "arrays_sha256": hashlib.sha256(data).hexdigest()}
    with contextlib.ExitStack() as stack:  # exits in reverse: the npz is renamed first, then the JSON
        stack.enter_context(file_lock(jpath))  # another process saving to the same name waits
        jtmp = stack.enter_context(atomic_path(jpath))
        ntmp = stack.enter_context(atomic_path(npath))
        ntmp.write_bytes(data)
        jtmp.write_bytes(json.dumps(doc, indent=1, default=jsonable).encode())


def read_pair(
    path, formats: Mapping[str, int], *, what: str, argument: str = "path"
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(doc, arrays)`` of a pair written by :func:`write_pair` in one of ``formats`` (format -> version)."""
    jpath, npath = pair_paths(path, argument=argument)
    if not jpath.exists() or not npath.exists():
        raise InputError(f"no saved {what} at {path} (expected {jpath.name} and {npath.name}).", argument=argument)
    try:
        with file_lock(jpath, shared=True):  # never between the two renames of a concurrent save
            text, raw = jpath.read_text(), npath.read_bytes()
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{jpath} is not a pysciml {what} file ({exc}).", argument=argument) from None
    check_format(doc, str(jpath), formats, what=what, argument=argument)
    expected = doc.get("arrays_sha256")
    if expected is not None and hashlib.sha256(raw).hexdigest() != expected:
        raise FileFormatError(
            f"{npath.name} does not belong with {jpath.name} (its checksum differs): the files come from "
            "different saves, e.g. a save that was interrupted, or one was replaced. Save again.",
            argument=argument,
        )
    return doc, load_arrays(raw, str(npath), argument=argument)


def write_document(path, doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write one ``.npz`` holding ``arrays`` and the JSON ``doc``, atomically."""
    payload = {_META: np.frombuffer(json.dumps(dict(doc), default=jsonable).encode(), dtype=np.uint8)}
    payload.update({k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(Path(path), _npz_bytes(payload))


def read_document(
    path, formats: Mapping[str, int], *, what: str, argument: str = "path"
) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """``(doc, arrays)`` of a file written by :func:`write_document`, or None if there is none."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        arrays = load_arrays(p.read_bytes(), str(p), argument=argument)
        doc = json.loads(arrays.pop(_META).tobytes().decode())
    except (FileFormatError, KeyError, ValueError, UnicodeDecodeError, OSError) as exc:
        raise FileFormatError(
            f"{p} is not a readable pysciml {what} ({exc}); delete it or pass another path.", argument=argument
        ) from None
    check_format(doc, str(p), formats, what=what, argument=argument)
    return doc, arrays
