"""2-D incompressible Navier–Stokes in vorticity form on a periodic box (pseudo-spectral)."""

from __future__ import annotations

from .diagnostics import energy as energy
from .diagnostics import enstrophy as enstrophy
from .diagnostics import palinstrophy as palinstrophy
from .forcing import Kolmogorov as Kolmogorov
from .navier_stokes import NavierStokes2D as NavierStokes2D
from .navier_stokes import taylor_green as taylor_green
