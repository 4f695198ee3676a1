"""The jax engine's math namespace ``m`` (behaves as ``jax.numpy``, plus grid operators)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ...numerics import GRID_OPERATORS
from .gridops import advect, divergence, gradient, laplacian

_GRID_OPERATORS = {"laplacian": laplacian, "advect": advect, "gradient": gradient, "divergence": divergence}

__all__ = ["JaxMath", "jax_math", "power"]


@jax.custom_jvp
def power(x, y):
    """``x ** y`` (``jnp.power``) whose derivative in the exponent is ``x ** y * log|x|`` (0 at x = 0).

    ``jnp.power``'s is ``x ** y * log(x)``: NaN for an ``x`` just below zero, as a species
    concentration can be inside a solver stage, which made a Hill coefficient's gradient NaN
    although the solution is finite.  Values and the derivative in ``x`` (``y x ** (y - 1)``)
    are ``jnp.power``'s.
    """
    return jnp.power(x, y)


@power.defjvp
def _power_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    out = power(x, y)
    # d/dx through power itself, so that higher derivatives (a Rosenbrock method's Jacobian under
    # jax.grad) are safe too; y = 0 gives 0 (jnp.power's rule)
    d_base = jnp.where(y == 0, 0.0, y * power(x, y - 1))
    log_abs = jnp.log(jnp.where(x == 0, 1.0, jnp.abs(x)))
    return out, dx * d_base + dy * out * log_abs


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

    @staticmethod
    def power(x, y):
        return power(
            jnp.asarray(x, dtype=jnp.result_type(x, y, float)), jnp.asarray(y, dtype=jnp.result_type(x, y, float))
        )


jax_math = JaxMath()
