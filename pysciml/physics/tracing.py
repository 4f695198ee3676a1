"""Whether a value is being traced by jax: the simulators check inputs only when they are concrete."""

from __future__ import annotations

import jax


def is_traced(x) -> bool:
    """Whether any leaf of ``x`` is a jax tracer (inside ``jax.grad``, ``jit``, ``vmap``)."""
    tracer = jax.core.Tracer  # pyright: ignore[reportAttributeAccessIssue]
    return any(isinstance(leaf, tracer) for leaf in jax.tree.leaves(x))
