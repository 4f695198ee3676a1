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

from .admin import clear, directory, enabled, entries, info

__all__ = ["info", "entries", "clear", "directory", "enabled"]
