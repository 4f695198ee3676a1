"""Molecular dynamics: pair potentials, periodic boxes, neighbour lists, NVE/NVT integration (jax)."""

from __future__ import annotations

from .fitting import fit_forces as fit_forces
from .integrate import Langevin as Langevin
from .integrate import MDTimeStepWarning as MDTimeStepWarning
from .integrate import run_md as run_md
from .integrate import stability_limit as stability_limit
from .lattice import Atoms as Atoms
from .lattice import fcc_lattice as fcc_lattice
from .neighbours import NeighbourList as NeighbourList
from .neighbours import NeighbourOverflowError as NeighbourOverflowError
from .neighbours import neighbour_list as neighbour_list
from .potentials import LennardJones as LennardJones
from .potentials import Morse as Morse
from .potentials import PairPotential as PairPotential
