"""The on-disk store of the compiled-model cache: entries, verification, LRU eviction.

Layout under the cache directory (``PYSCIML_CACHE_DIR``, else
``$XDG_CACHE_HOME/pysciml``, else ``~/.cache/pysciml``)::

    export/<key>.pxc    one exported, serialised function per entry (ours)
    xla/                JAX's persistent compilation cache (compiled executables)

An entry is ``MAGIC, u32 header length, header JSON, payload``.  The header
names the format version, the entry's key, the payload's size and BLAKE2b
digest, and what the engine needs to rebuild the call (output structure,
argument signature).  :func:`read` checks all of it before handing the payload
back; a corrupt, truncated or foreign entry is counted as rejected, removed
and reported as a miss, so the caller rebuilds it.  Writes are atomic
(temporary file + rename, :mod:`pysciml.io.atomic`), so concurrent writers
and readers only ever see complete entries.  The last use of an entry is its
file's modification time (touched on every hit); when the cache outgrows
``PYSCIML_CACHE_SIZE`` (default 2 GB, counting both stores) the least recently
used files are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.atomic import atomic_write_bytes

__all__ = [
    "FORMAT",
    "cache_root",
    "enabled",
    "max_bytes",
    "export_dir",
    "xla_dir",
    "read",
    "write",
    "touch",
    "entries",
    "evict",
    "clear",
    "stats",
    "count",
]

log = logging.getLogger("pysciml.cache")

#: entry format version; bump when the layout or the meaning of the header changes
FORMAT = 1
MAGIC = b"PYSCIML-EXPORT\n"
SUFFIX = ".pxc"
DEFAULT_MAX_BYTES = 2 * 1000**3
#: leftovers of writers killed mid-write are removed after this many seconds
STALE_PARTIAL_S = 3600.0
_KEY_RE = re.compile(r"^[0-9a-f]{16,128}$")

_lock = threading.Lock()
#: counters for this process (see :func:`pysciml.cache.info`)
stats: dict[str, int] = {"hits": 0, "misses": 0, "writes": 0, "rejected": 0, "skipped": 0, "errors": 0, "evicted": 0}
#: the last few reasons an entry was rejected or a function was not cached
reasons: list[str] = []


def count(event: str, reason: str | None = None) -> None:
    """Add one to a counter (and remember why, for ``rejected``/``skipped``/``errors``)."""
    with _lock:
        stats[event] = stats.get(event, 0) + 1
        if reason:
            reasons.append(f"{event}: {reason}")
            del reasons[:-20]
    if reason:
        log.debug("cache %s: %s", event, reason)


# -- configuration -------------------------------------------------------------------------------
def cache_root() -> Path:
    """The user's pysciml cache directory (``PYSCIML_CACHE_DIR`` overrides)."""
    env = os.environ.get("PYSCIML_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pysciml"


def enabled() -> bool:
    """False when ``PYSCIML_CACHE=0`` (no compiled-model cache, no JAX compilation cache)."""
    return os.environ.get("PYSCIML_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def max_bytes() -> int:
    """Size bound of the cache in bytes (``PYSCIML_CACHE_SIZE``: ``500MB``, ``2GB``, ``1GiB`` or bytes)."""
    raw = os.environ.get("PYSCIML_CACHE_SIZE")
    if not raw:
        return DEFAULT_MAX_BYTES
    m = _SIZE_RE.match(raw)
    if not m:
        raise InputError(
            f"= {raw!r} is not a size; use bytes or a number with a unit, e.g. PYSCIML_CACHE_SIZE=500MB or 2GiB.",
            argument="PYSCIML_CACHE_SIZE",
        )
    value, unit, binary = float(m.group(1)), m.group(2).lower(), bool(m.group(3))
    base = 1024 if binary else 1000
    return int(value * base ** " kmgt".index(unit or " "))


def export_dir() -> Path:
    return cache_root() / "export"


def xla_dir() -> Path:
    return cache_root() / "xla"


def _path(key: str) -> Path:
    if not _KEY_RE.match(key):
        raise ValueError(f"not a cache key: {key!r}")
    return export_dir() / f"{key}{SUFFIX}"


# -- entries ---------------------------------------------------------------------------------------
def _digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=32).hexdigest()


def encode(key: str, payload: bytes, *, kind: str, label: str = "", meta: dict | None = None) -> bytes:
    """The bytes of an entry (header + payload)."""
    header = {
        "format": FORMAT,
        "key": key,
        "kind": kind,
        "label": label,
        "created": time.time(),
        "payload_bytes": len(payload),
        "payload_blake2b": _digest(payload),
        "meta": meta or {},
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    return MAGIC + len(head).to_bytes(4, "little") + head + payload


def decode(data: bytes, key: str | None = None) -> tuple[dict, bytes]:
    """Split and verify an entry; raises ``ValueError`` naming what is wrong."""
    if not data.startswith(MAGIC):
        raise ValueError("not a pysciml cache entry (bad magic)")
    pos = len(MAGIC)
    if len(data) < pos + 4:
        raise ValueError("truncated header")
    n = int.from_bytes(data[pos : pos + 4], "little")
    pos += 4
    if len(data) < pos + n:
        raise ValueError("truncated header")
    try:
        header = json.loads(data[pos : pos + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable header ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError("unreadable header")
    if header.get("format") != FORMAT:
        raise ValueError(f"entry format {header.get('format')!r}, this pysciml reads {FORMAT}")
    if key is not None and header.get("key") != key:
        raise ValueError("foreign entry (its header names another key)")
    payload = data[pos + n :]
    if header.get("payload_bytes") != len(payload):
        raise ValueError("truncated or padded payload")
    if header.get("payload_blake2b") != _digest(payload):
        raise ValueError("payload checksum mismatch (corrupt entry)")
    if not isinstance(header.get("meta"), dict):
        raise ValueError("header without metadata")
    return header, payload


def read(key: str) -> tuple[dict, bytes] | None:
    """The verified ``(header, payload)`` stored under ``key``, or None (missing or rejected)."""
    path = _path(key)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        count("errors", f"cannot read {path.name}: {exc}")
        return None
    try:
        return decode(data, key)
    except ValueError as exc:
        reject(key, str(exc))
        return None


def reject(key: str, why: str) -> None:
    """Count and remove an entry that cannot be used (it will be rebuilt)."""
    count("rejected", f"{key[:12]}: {why}")
    with contextlib.suppress(OSError, ValueError):
        _path(key).unlink()


def touch(key: str) -> None:
    """Mark an entry as just used (its modification time orders LRU eviction)."""
    with contextlib.suppress(OSError, ValueError):
        os.utime(_path(key))


def write(key: str, payload: bytes, *, kind: str, label: str = "", meta: dict | None = None) -> bool:
    """Store an entry atomically, then keep the cache within its size bound; False on I/O failure."""

    try:
        # compiled code that is loaded and run: private to the user (0o600), unlike results
        atomic_write_bytes(_path(key), encode(key, payload, kind=kind, label=label, meta=meta), mode=0o600)
    except OSError as exc:  # read-only or full disk: run without the cache
        count("errors", f"cannot write an entry: {exc}")
        return False
    count("writes")
    try:
        evict()
    except OSError as exc:  # pragma: no cover - eviction is best effort
        count("errors", f"eviction failed: {exc}")
    return True


# -- listing, eviction, clearing -------------------------------------------------------------------------
def _files() -> list[tuple[float, int, Path, str]]:
    """``(last use, size, path, store)`` of every file of both stores."""
    out = []
    now = time.time()
    for store, root in (("export", export_dir()), ("xla", xla_dir())):
        if not root.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except OSError:
                    continue
                if name.endswith(".partial"):
                    if now - st.st_mtime > STALE_PARTIAL_S:  # a writer died mid-write
                        with contextlib.suppress(OSError):
                            path.unlink()
                    continue
                last = st.st_mtime if store == "export" else max(st.st_mtime, st.st_atime)
                out.append((last, st.st_size, path, store))
    return out


def evict(limit: int | None = None) -> int:
    """Remove least recently used files until the cache fits ``limit`` (default :func:`max_bytes`).

    Evicts down to 90% of the bound so that every write does not trigger a scan-and-delete.
    Returns the number of files removed.
    """
    limit = max_bytes() if limit is None else int(limit)
    files = _files()
    total = sum(f[1] for f in files)
    if total <= limit:
        return 0
    target = int(limit * 0.9)
    removed = 0
    for _last, size, path, _store in sorted(files, key=lambda f: f[0]):
        if total <= target:
            break
        try:
            path.unlink()
        except FileNotFoundError:  # another process evicted it first
            pass
        except OSError:
            continue
        total -= size
        removed += 1
    with _lock:
        stats["evicted"] += removed
    log.debug("cache: evicted %d files (bound %d bytes)", removed, limit)
    return removed


def entries() -> list[dict[str, Any]]:
    """Every compiled-model entry: key, kind, label, size, created and last-used times (newest first)."""
    out = []
    root = export_dir()
    if not root.is_dir():
        return out
    for path in root.glob(f"*{SUFFIX}"):
        try:
            st = path.stat()
            with open(path, "rb") as fh:
                head = fh.read(len(MAGIC) + 4)
                n = int.from_bytes(head[len(MAGIC) :], "little") if head.startswith(MAGIC) else 0
                header = json.loads(fh.read(n).decode("utf-8")) if 0 < n < 1 << 24 else {}
        except (OSError, ValueError):
            header, st = {}, None
        if st is None:
            continue
        out.append(
            {
                "key": path.stem,
                "kind": header.get("kind", "?"),
                "label": header.get("label", ""),
                "bytes": st.st_size,
                "created": header.get("created"),
                "last_used": st.st_mtime,
                "valid_header": header.get("format") == FORMAT and header.get("key") == path.stem,
            }
        )
    return sorted(out, key=lambda e: e["last_used"], reverse=True)


def clear() -> int:
    """Remove every entry of both stores; returns the number of files removed."""
    removed = 0
    for store in (export_dir(), xla_dir()):
        if not store.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(store):
            for name in names:
                with contextlib.suppress(OSError):
                    (Path(dirpath) / name).unlink()
                    removed += 1
    return removed


def usage() -> dict[str, int]:
    """Files and bytes per store."""
    out = {"entries": 0, "bytes": 0, "xla_files": 0, "xla_bytes": 0}
    for _last, size, path, store in _files():
        if store == "export":
            if path.suffix == SUFFIX:
                out["entries"] += 1
            out["bytes"] += size
        else:
            out["xla_files"] += 1
            out["xla_bytes"] += size
    return out
