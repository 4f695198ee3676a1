"""The compiled-model cache: a second run of a script starts almost at once.

The jax engine exports each compiled function it builds (a solve, a fit's
loss-and-gradient steps, batched solves) with ``jax.export``, stores it here,
and later processes load it instead of tracing and compiling again; JAX's own
persistent compilation cache, kept beside it, holds the compiled executables.
Entries are keyed by everything the computation depends on (the physics code
and the values it closes over, argument shapes and dtypes, solver, adjoint and
linear-solver settings, static options, and the versions of pysciml, jax and
jaxlib), so an edited model gets a fresh compile, never a stale one.

* ``ps.cache.info()``: where the cache is, its size and bound, and this
  process's hit / miss counters.
* ``ps.cache.entries()``: the stored entries.
* ``ps.cache.clear()``: remove everything (``pysciml cache clear`` on the command line).

Environment: ``PYSCIML_CACHE=0`` switches the cache (and JAX's compilation
cache) off; ``PYSCIML_CACHE_DIR`` moves it; ``PYSCIML_CACHE_SIZE`` bounds it
(default ``2GB``; least recently used entries go first).
"""

from __future__ import annotations

from typing import Any

from . import store as _store

__all__ = ["info", "entries", "clear", "directory", "enabled"]


def directory():
    """The cache directory (a :class:`pathlib.Path`; ``PYSCIML_CACHE_DIR`` overrides)."""
    return _store.cache_root()


def enabled() -> bool:
    """Whether the cache is on (``PYSCIML_CACHE=0`` turns it off)."""
    return _store.enabled()


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
    out: dict[str, Any] = {"enabled": _store.enabled(), "directory": str(_store.cache_root()),
                           "max_bytes": _store.max_bytes()}
    out.update(_store.usage())
    out.update(dict(_store.stats))
    out["reasons"] = list(_store.reasons)
    return out


def entries() -> list[dict[str, Any]]:
    """The stored compiled functions, most recently used first.

    Returns:
        one dict per entry: ``key``, ``kind`` (``"solve"``, ``"fit-adam"``, ...), ``label``
        (model name), ``bytes``, ``created`` and ``last_used`` (POSIX seconds).
    """
    return _store.entries()


def clear() -> int:
    """Remove every cached function and compiled executable; returns the number of files removed."""
    return _store.clear()
