"""The jax engine's math namespace ``m`` (behaves as ``jax.numpy``, plus grid operators)."""

from __future__ import annotations

import jax.numpy as jnp

from ...numerics import GRID_OPERATORS
from .gridops import advect, divergence, gradient, laplacian

_GRID_OPERATORS = {"laplacian": laplacian, "advect": advect, "gradient": gradient, "divergence": divergence}

__all__ = ["JaxMath", "jax_math"]


class JaxMath:
    """``m`` under the jax engine: ``jax.numpy`` plus pysciml's grid operators."""

    name = "jax"
    pi = jnp.pi
    e = jnp.e

    def __getattr__(self, name):
        if name in GRID_OPERATORS:
            return _GRID_OPERATORS[name]
        try:
            return getattr(jnp, name)
        except AttributeError:
            raise AttributeError(
                f"m.{name} does not exist in the jax engine's math namespace (jax.numpy "
                f"plus {', '.join(GRID_OPERATORS)})."
            ) from None

    @staticmethod
    def heaviside(x, h0=0.5):
        return jnp.heaviside(x, h0)


jax_math = JaxMath()
