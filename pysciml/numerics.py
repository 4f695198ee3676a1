"""The math namespace ``m`` handed to physics functions, and its numpy version.

Physics is written against ``m`` so it runs on every engine.  The contract
(what every engine's ``m`` provides) is :data:`MATH_CONTRACT`; the jax
engine's ``m`` additionally forwards anything else to ``jax.numpy``, but only
the contract is guaranteed to work on the Julia engine too.

Grid operators (``m.laplacian``, ``m.advect``, ...) take a grid description
from :mod:`pysciml.grid` and are implemented natively by each engine.
"""

from __future__ import annotations

import numpy as np

from .grid.numpy_operators import (
    advect_numpy,
    divergence_numpy,
    gradient_numpy,
    laplacian_numpy,
)

__all__ = ["MATH_CONTRACT", "GRID_OPERATORS", "NumpyMath", "numpy_math"]

#: Elementwise functions, constructors and reductions every engine's ``m`` provides.
MATH_CONTRACT = (
    # elementwise
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "abs",
    "sign",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "power",
    "maximum",
    "minimum",
    "clip",
    "where",
    "floor",
    "ceil",
    "heaviside",
    # constructors / shape
    "asarray",
    "stack",
    "concatenate",
    "zeros_like",
    "ones_like",
    "reshape",
    # reductions / linear algebra
    "sum",
    "mean",
    "prod",
    "dot",
    "matmul",
    # constants
    "pi",
    "e",
)

#: Grid operators every engine provides natively (see :mod:`pysciml.grid`).
GRID_OPERATORS = ("laplacian", "advect", "gradient", "divergence")


_NUMPY_GRID_OPERATORS = {
    "laplacian": laplacian_numpy,
    "advect": advect_numpy,
    "gradient": gradient_numpy,
    "divergence": divergence_numpy,
}


class NumpyMath:
    """``m`` for plain numpy evaluation (checks, discovery, references)."""

    name = "numpy"
    pi = np.pi
    e = np.e

    def __getattr__(self, name):
        if name in GRID_OPERATORS:
            return _NUMPY_GRID_OPERATORS[name]
        try:
            return getattr(np, name)
        except AttributeError:
            raise AttributeError(
                f"m.{name} does not exist; the math namespace provides {', '.join(MATH_CONTRACT)} "
                f"and the grid operators {', '.join(GRID_OPERATORS)}."
            ) from None

    @staticmethod
    def heaviside(x, h0=0.5):
        return np.heaviside(x, h0)


numpy_math = NumpyMath()
