"""Equation discovery: read learned network terms back as equations.

After a universal-differential-equation fit, the network's inputs ``X`` and
outputs ``Y`` along the fitted trajectories are regressed on a library of
candidate features by sequentially thresholded least squares; the result is
an :class:`Equations` object (sympy expressions, a printable summary, and a
pure-physics model to refit).  numpy and sympy only (sympy loaded on use).

Example (``X``: (n, 2) prey/predator samples, ``Y``: (n, 2) network outputs)::

    eqs = discover(X, Y, input_names=["prey", "predator"], library=Polynomial(2))
    print(eqs)            # nn[0] = -0.900*prey*predator
                          # nn[1] = 0.800*prey*predator
    eqs[0]                # sympy expression
    eqs.to_model(model)   # pure physics, coefficients as parameters

See ``docs/discovery.md`` for what ``threshold`` means.
"""

from .custom import Custom
from .ensemble import bootstrap
from .equations import Equations
from .libraries import (
    ConcatLibrary,
    Feature,
    Fourier,
    Library,
    Polynomial,
    ProductLibrary,
)
from .regression import CRITERIA, DEFAULT_THRESHOLD, stlsq
from .search import discover

__all__ = [
    "discover",
    "stlsq",
    "bootstrap",
    "Equations",
    "Library",
    "Polynomial",
    "Fourier",
    "Custom",
    "ConcatLibrary",
    "ProductLibrary",
    "Feature",
    "CRITERIA",
    "DEFAULT_THRESHOLD",
]
