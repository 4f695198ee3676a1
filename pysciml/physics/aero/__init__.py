"""Airfoil aerodynamics: NACA 4-digit sections and an inviscid linear-strength vortex panel method.

* :class:`Airfoil` (:mod:`.geometry`): a section as panel nodes; NACA 4-digit from a code or from
  real (differentiable) shape parameters, a circular cylinder, or given coordinates.
* :func:`panel_method` (:mod:`.polar`): ``Cl``, ``Cm`` (quarter chord) and ``Cp`` over angles of
  attack as an xarray Dataset; :func:`panel_coefficients` the same coefficients as jax arrays, for
  ``jax.grad`` with respect to the shape and the angle.
* :mod:`.panels`: the method itself (Katz & Plotkin ch. 11), in jax.
"""

from __future__ import annotations

from .geometry import Airfoil as Airfoil
from .polar import AngleUnitsWarning as AngleUnitsWarning
from .polar import panel_coefficients as panel_coefficients
from .polar import panel_method as panel_method
