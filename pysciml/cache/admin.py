"""What users see of the compiled-model cache: where it is, how big, its entries; clearing it."""

from __future__ import annotations

from typing import Any

from .store import cache_root, max_bytes, reasons, stats, usage
from .store import clear as store_clear
from .store import enabled as store_enabled
from .store import entries as store_entries

__all__ = ["info", "entries", "clear", "directory", "enabled"]


def directory():
    """The cache directory (a :class:`pathlib.Path`; ``PYSCIML_CACHE_DIR`` overrides)."""
    return cache_root()


def enabled() -> bool:
    """Whether the cache is on (``PYSCIML_CACHE=0`` turns it off)."""
    return store_enabled()


def info() -> dict[str, Any]:
    """Where the cache is, how big, its bound, and this process's counters.

    Returns:
        ``{"enabled", "directory", "max_bytes", "entries", "bytes", "xla_files", "xla_bytes",
        "hits", "misses", "writes", "rejected", "skipped", "errors", "evicted", "reasons"}``:
        ``entries``/``bytes`` are the exported functions, ``xla_*`` JAX's compiled
        executables; the counters count this process's lookups (``hits``: loaded from
        the cache; ``misses``: built and stored; ``rejected``: corrupt or foreign entries
        that were removed and rebuilt; ``skipped``: functions that could not be cached,
        with the reasons in ``reasons``).
    """
    out: dict[str, Any] = {"enabled": store_enabled(), "directory": str(cache_root()), "max_bytes": max_bytes()}
    out.update(usage())
    out.update(dict(stats))
    out["reasons"] = list(reasons)
    return out


def entries() -> list[dict[str, Any]]:
    """The stored compiled functions, most recently used first.

    Returns:
        one dict per entry: ``key``, ``kind`` (``"solve"``, ``"fit-adam"``, ...), ``label``
        (model name), ``bytes``, ``created`` and ``last_used`` (POSIX seconds).
    """
    return store_entries()


def clear() -> int:
    """Remove every cached function and compiled executable; returns the number of files removed."""
    return store_clear()
