"""pysciml.physics: differentiable simulators that know their science (``from pysciml import physics``).

* :class:`NBody` (:mod:`.nbody`): celestial N-body gravitation by direct summation, an ordinary
  ``ps.ODEModel`` solved with the symplectic solvers.
* :class:`SerialArm` (:mod:`.arms`): serial robot arms (revolute and prismatic joints) from code or
  URDF, with the mass matrix (CRBA), bias forces (RNEA) and forward dynamics (ABA) in jax and an
  ordinary ``ps.ODEModel``.
* :class:`SpringNetwork` (:mod:`.springs`): mass-spring-damper networks (ropes, cloth,
  lattices) with gravity and anchors, an ordinary ``ps.ODEModel``.
* :class:`LennardJones`, :class:`Morse`, :func:`fcc_lattice`, :func:`run_md` (:mod:`.md`): molecular
  dynamics in periodic boxes with cell-built neighbour lists, NVE velocity Verlet and NVT Langevin
  (BAOAB), results as xarray; :func:`fit_forces` fits pair parameters by force matching.
* :class:`NavierStokes2D`, :class:`Kolmogorov` (:mod:`.fluids`): 2-D incompressible flow on a
  periodic grid, returning xarray with units.
* :class:`EnergyBalance1D`, :class:`TwoBox`, :class:`Orbit` (:mod:`.climate`): the diffusive
  energy-balance climate model on latitude (ice-albedo feedback, snowball hysteresis) and the
  two-box global-mean model, ordinary ``ps.ODEModel`` objects solved stiffly by ``ps.solve``.
* :class:`Airfoil`, :func:`panel_method`, :func:`panel_coefficients` (:mod:`.aero`): NACA 4-digit
  sections and an inviscid linear-strength vortex panel method (Cl, Cm, Cp as xarray; jax gradients
  with respect to the shape parameters).

The field simulators are written in jax (``jax.grad`` runs through them), so importing this
package loads the jax engine; ``import pysciml`` alone still loads none of it.
"""

from __future__ import annotations

from .aero import Airfoil, AngleUnitsWarning, panel_coefficients, panel_method
from .arms import SerialArm
from .climate import EnergyBalance1D, Orbit, TwoBox
from .fluids import Kolmogorov, NavierStokes2D
from .md import (
    Atoms,
    Langevin,
    LennardJones,
    Morse,
    NeighbourList,
    fcc_lattice,
    fit_forces,
    neighbour_list,
    run_md,
    stability_limit,
)
from .nbody import NBody
from .springs import SpringNetwork

__all__ = [
    "NBody",
    "SpringNetwork",
    "SerialArm",
    "NavierStokes2D",
    "Kolmogorov",
    "EnergyBalance1D",
    "TwoBox",
    "Orbit",
    "Airfoil",
    "panel_method",
    "panel_coefficients",
    "AngleUnitsWarning",
    "LennardJones",
    "Morse",
    "Atoms",
    "fcc_lattice",
    "neighbour_list",
    "NeighbourList",
    "run_md",
    "Langevin",
    "fit_forces",
    "stability_limit",
]
