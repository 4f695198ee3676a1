"""pysciml.physics: simulators that know their science and return xarray with units.

Each subpackage is a differentiable simulator written in jax (``jax.grad`` runs through it), so
importing it loads the jax engine; ``import pysciml`` alone still loads none of it.
"""

from __future__ import annotations

# fields (issue 15): 2-D fluids
from .fluids import Kolmogorov as Kolmogorov
from .fluids import NavierStokes2D as NavierStokes2D
