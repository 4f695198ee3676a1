"""Climate models: the 1-D diffusive energy-balance model and the two-box global-mean model.

* :class:`EnergyBalance1D` (:mod:`.energy_balance`): zonal-mean temperature on latitude with
  diffusive heat transport and the ice-albedo feedback (Budyko-Sellers/North); equilibria,
  continuation in a parameter and the snowball hysteresis loop.
* :class:`TwoBox` (:mod:`.two_box`): surface and deep-ocean temperature anomalies under a
  radiative forcing (Held et al. 2010; Geoffroy et al. 2013), with its exact solution.
* :mod:`.insolation`: P2, daily and annual-mean insolation (Berger 1978) and :class:`Orbit`.

Each builds an ordinary ``ps.ODEModel`` solved stiffly by ``ps.solve`` (Rosenbrock methods).
"""

from __future__ import annotations

from .energy_balance import EnergyBalance1D
from .insolation import Orbit, annual_mean_insolation, daily_insolation, p2_insolation
from .two_box import TwoBox

__all__ = ["EnergyBalance1D", "TwoBox", "Orbit", "annual_mean_insolation", "daily_insolation", "p2_insolation"]
