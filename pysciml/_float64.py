"""pysciml computes in float64: jax's 64-bit mode is switched on before the user's first jax call.

The jax engine needs ``jax_enable_x64``; switching it on only when the engine loads (at the
first ``ps.solve``) is too late for a ``jax.grad(f)(0.5)`` written before it: jax has already
made the argument a float32, and the whole gradient comes back in float32 (measured: a decay
rate's gradient wrong in the 7th digit). ``import pysciml`` therefore switches the mode on at
once when jax is already imported, and otherwise sets ``JAX_ENABLE_X64`` (unless the user set
it) so that a later ``import jax`` starts in 64-bit mode. jax itself is never imported here.
"""

from __future__ import annotations

import os
import sys

__all__ = ["prefer_float64"]


def prefer_float64() -> None:
    """Switch jax to 64-bit now if it is imported, else when it is (idempotent, cheap)."""
    jax = sys.modules.get("jax")
    if jax is not None and hasattr(jax, "config"):
        jax.config.update("jax_enable_x64", True)
    else:
        os.environ.setdefault("JAX_ENABLE_X64", "1")
