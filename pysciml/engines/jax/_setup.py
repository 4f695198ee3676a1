"""Process-wide jax settings applied once, before the engine first runs.

* float64 everywhere (stiff problems and tight tolerances need it);
* XLA CPU threading tuned for the small, latency-bound kernels of ODE steps
  (set only if the user has not set ``XLA_FLAGS`` themselves, and only when
  jax has not been imported yet, since XLA reads the flags at start-up);
* JAX's persistent compilation cache in pysciml's cache directory, so a
  second Python process reuses compiled code (``PYSCIML_CACHE=0`` turns it off).
"""

from __future__ import annotations

import os
import sys

_done = False


def cache_dir() -> str:
    """The user's pysciml cache directory (``PYSCIML_CACHE_DIR`` overrides)."""
    env = os.environ.get("PYSCIML_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pysciml")


def configure() -> None:
    """Apply the settings (idempotent)."""
    global _done
    if _done:
        return
    if "jax" not in sys.modules and "XLA_FLAGS" not in os.environ:
        # One intra-op thread: ODE steps are chains of tiny kernels where
        # thread hand-offs cost more than they save on a few shared cores.
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    import jax

    jax.config.update("jax_enable_x64", True)
    if os.environ.get("PYSCIML_CACHE", "1") != "0":
        path = os.path.join(cache_dir(), "xla")
        try:
            os.makedirs(path, exist_ok=True)
            jax.config.update("jax_compilation_cache_dir", path)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.05)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        except (OSError, AttributeError):  # read-only home, old jax: run without the cache
            pass
    _done = True
