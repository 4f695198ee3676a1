"""Differentiable mechanics as ordinary ``ps.ODEModel`` s (``from pysciml import physics as phys``).

* :class:`NBody` (:mod:`.nbody`): celestial N-body gravitation by direct summation.
"""

from .nbody import NBody

__all__ = ["NBody"]
