"""Process-wide jax settings applied once, before the engine first runs.

* float64 everywhere (stiff problems and tight tolerances need it);
* XLA flags for fast compiles of solver loops and one BLAS thread for small
  LUs (set only if the user has not set them, and only when jax has not been
  imported yet, since XLA reads them at start-up); synchronous CPU dispatch;
* JAX's persistent compilation cache in pysciml's cache directory, so a
  second Python process reuses compiled code (``PYSCIML_CACHE=0`` turns it off);
* equinox's runtime checks (inside diffrax, lineax, optimistix) return NaN
  instead of calling back into Python, unless the user chose a mode with the
  ``EQX_ON_ERROR`` environment variable: host callbacks cannot be exported
  (so a compiled solve could not be cached), and our solvers report failures
  through status codes, not exceptions, anyway.
"""

from __future__ import annotations

import os
import sys

from ..._float64 import prefer_float64
from ...cache.store import cache_root, enabled

_done = False


def cache_dir() -> str:
    """The user's pysciml cache directory (``PYSCIML_CACHE_DIR`` overrides)."""

    return str(cache_root())


def _backends_started() -> bool:
    """Whether XLA has started (it reads XLA_FLAGS then); importing jax alone does not start it."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # other jax versions: assume the worst
        return True


def _equinox_errors_as_nan() -> None:
    """``EQX_ON_ERROR=nan`` unless the user set the variable, also when equinox is already imported
    (it reads the variable once, at import; its checks read the module global on every trace)."""
    if "EQX_ON_ERROR" in os.environ:
        return
    os.environ["EQX_ON_ERROR"] = "nan"
    errors = sys.modules.get("equinox._errors")
    if errors is not None and getattr(errors, "EQX_ON_ERROR", None) == "raise":
        errors.EQX_ON_ERROR = "nan"  # pyright: ignore[reportAttributeAccessIssue]


#: the variables a user sets to choose BLAS threads (then pysciml leaves BLAS alone)
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _blas_one_thread() -> None:
    """BLAS/LAPACK on one thread unless the user chose: jaxlib's dense LU (every implicit step) calls
    scipy's OpenBLAS, whose spinning threads cost far more than they save on small LUs on a few shared
    cores (2-D Brusselator N = 32, Rodas5P: 8.6 s with BLAS threads vs 0.67 s on one, measured).  The
    environment variables work only before a BLAS library loads; a user who imported numpy or scipy
    first has it loaded, so its threads are limited at run time (threadpoolctl)."""
    if any(var in os.environ for var in _BLAS_THREAD_VARS):
        return
    loaded = any(name in sys.modules for name in ("numpy", "scipy"))
    for var in _BLAS_THREAD_VARS[:2]:
        os.environ[var] = "1"
    if loaded:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")


def configure() -> None:
    """Apply the settings (idempotent)."""
    global _done
    if _done:
        return
    if not _backends_started() and "XLA_FLAGS" not in os.environ:
        # XLA's newer CPU fusion emitters roughly double compile time of our solver loops
        # with no run-time gain (measured, jax 0.10.2); compile time dominates short solves.
        os.environ["XLA_FLAGS"] = "--xla_cpu_use_fusion_emitters=false"
    _equinox_errors_as_nan()
    _blas_one_thread()
    import jax

    prefer_float64()  # jax is imported now, so this switches 64-bit mode on
    # synchronous dispatch: a 1-step solve call drops from ~55 to ~17 us (measured)
    try:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    except (AttributeError, ValueError):  # option absent in this jax
        pass

    if enabled():
        path = os.path.join(cache_dir(), "xla")
        try:
            os.makedirs(path, exist_ok=True)
            jax.config.update("jax_compilation_cache_dir", path)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        except (OSError, AttributeError):  # read-only home, old jax: run without the cache
            pass
    _done = True
