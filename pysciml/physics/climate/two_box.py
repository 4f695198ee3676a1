"""``TwoBox``: the two-layer (surface / deep ocean) global-mean energy-balance model.

    C  dT/dt  = F(t) - lambda T - efficacy gamma (T - T0)
    C0 dT0/dt =                  gamma (T - T0)

``T`` and ``T0`` are the temperature anomalies (K) of the surface layer (mixed layer, land and
atmosphere) and of the deep ocean; ``C`` and ``C0`` their heat capacities (W yr m-2 K-1),
``lambda`` the climate feedback parameter, ``gamma`` the heat-exchange coefficient (W m-2 K-1)
and ``efficacy`` the efficacy of deep-ocean heat uptake (1 in Held et al. 2010 and Geoffroy et
al. 2013a; > 1 in Geoffroy et al. 2013b).  The forcing is ``F(t) = forcing + forcing_rate t``
(an abrupt step plus a linear ramp), so the model is linear and :meth:`TwoBox.exact` gives its
solution in closed form (two modes; the fast and slow time scales of :meth:`TwoBox.timescales`).
Time is in years.  The defaults are the CMIP5 multi-model mean of Geoffroy et al. 2013b
(J. Clim. 26, 1859-1876): C = 8.2, C0 = 109, lambda = 1.18, gamma = 0.67, efficacy = 1.28.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ...ivp import solve
from ...model import ODEModel
from ...solvers import Rodas5P
from .checks import concrete_solution, finite_number, output_times

__all__ = ["TwoBox"]

_UNITS = {
    "C": "W yr m-2 K-1",
    "C0": "W yr m-2 K-1",
    "lam": "W m-2 K-1",
    "gamma": "W m-2 K-1",
    "efficacy": "1",
    "forcing": "W m-2",
    "forcing_rate": "W m-2 yr-1",
}


@dataclass(frozen=True)
class TwoBox:
    """Surface and deep-ocean temperature anomalies under a step-plus-ramp radiative forcing.

    Args:
        C, C0: heat capacities of the surface and deep layers (W yr m-2 K-1, > 0).
        lam: climate feedback parameter lambda (W m-2 K-1, > 0).
        gamma: surface-deep heat-exchange coefficient (W m-2 K-1, > 0).
        efficacy: efficacy of deep-ocean heat uptake (> 0; 1 for the plain two-box model).
        forcing: step forcing (W m-2; 7.4 for an abrupt quadrupling of CO2, 2 x 3.7).
        forcing_rate: linear forcing trend (W m-2 per year).

    >>> box = TwoBox(forcing=7.4)
    >>> ds = box.simulate(np.linspace(0, 150, 151))      # xarray: T, T0 (K) over years
    """

    C: float = 8.2
    C0: float = 109.0
    lam: float = 1.18
    gamma: float = 0.67
    efficacy: float = 1.28
    forcing: float = 7.4
    forcing_rate: float = 0.0

    def __post_init__(self):
        for name in ("C", "C0", "lam", "gamma", "efficacy"):
            finite_number(getattr(self, name), name, positive=True)
        for name in ("forcing", "forcing_rate"):
            finite_number(getattr(self, name), name)

    def replace(self, **changes) -> TwoBox:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def params(self) -> dict[str, float]:
        """The parameter values of the ODE model by name."""
        return {name: float(getattr(self, name)) for name in _UNITS}

    def model(self, *, name: str = "two_box") -> ODEModel:
        """The ``ps.ODEModel`` with states ``T`` (surface) and ``T0`` (deep), time in years."""

        def two_box(u, p, t, m):
            T, T0 = u
            uptake = p.gamma * (T - T0)
            F = p.forcing + p.forcing_rate * t
            return [(F - p.lam * T - p.efficacy * uptake) / p.C, uptake / p.C0]

        return ODEModel(
            two_box,
            states=["T", "T0"],
            params=self.params(),
            name=name,
            time_units="years",
            u0=[0.0, 0.0],
            state_units={"T": "K", "T0": "K"},
        )

    # -- closed form --------------------------------------------------------------------------------
    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(M, b, c)`` with ``d[T, T0]/dt = M [T, T0] + b + c t``."""
        C, C0, lam, g, eps = self.C, self.C0, self.lam, self.gamma, self.efficacy
        M = np.array([[-(lam + eps * g) / C, eps * g / C], [g / C0, -g / C0]])
        return M, np.array([self.forcing / C, 0.0]), np.array([self.forcing_rate / C, 0.0])

    def timescales(self) -> tuple[float, float]:
        """The fast and slow e-folding times (years) of the two modes."""
        M = self.matrix()[0]
        rates = np.sort(-np.real(np.linalg.eigvals(M)))
        return float(1.0 / rates[1]), float(1.0 / rates[0])

    def equilibrium_warming(self) -> float:
        """``forcing / lam``: the equilibrium surface warming under the step forcing (K)."""
        return self.forcing / self.lam

    def exact(self, t, u0=(0.0, 0.0)) -> np.ndarray:
        """The exact solution ``(len(t), 2)`` by the two modes (eigenvectors of ``M``)."""
        M, b, c = self.matrix()
        t = np.asarray(t, dtype=float)
        # x = x_p(t) + sum_k a_k v_k exp(r_k t) with the particular solution x_p = p0 + p1 t:
        # M p1 + c = 0 and M p0 + b = p1
        p1 = -np.linalg.solve(M, c)
        p0 = np.linalg.solve(M, p1 - b)
        r, V = np.linalg.eig(M)
        r, V = np.real(r), np.real(V)
        a = np.linalg.solve(V, np.asarray(u0, dtype=float) - p0)
        return p0[None, :] + t[:, None] * p1[None, :] + (np.exp(np.outer(t, r)) * a[None, :]) @ V.T

    # -- running ------------------------------------------------------------------------------------
    def trajectory(self, t, u0=(0.0, 0.0), *, params=None, solver=None, rtol: float = 1e-10, atol: float = 1e-12):
        """``ps.solve`` over output times ``t`` (years); differentiable under ``jax.grad``."""
        return solve(self.model(), u0, output_times(t), params=params, solver=solver or Rodas5P(), rtol=rtol, atol=atol)

    def simulate(self, t, u0=(0.0, 0.0), *, params=None, solver=None, rtol: float = 1e-10, atol: float = 1e-12):
        """``T`` and ``T0`` (K) over ``time`` (years) as an ``xarray.Dataset``."""
        import xarray as xr

        sol = concrete_solution(self.trajectory(t, u0, params=params, solver=solver, rtol=rtol, atol=atol))
        ds = xr.Dataset(
            {
                "T": ("time", sol.u[:, 0], {"units": "K", "long_name": "surface temperature anomaly"}),
                "T0": ("time", sol.u[:, 1], {"units": "K", "long_name": "deep-ocean temperature anomaly"}),
            },
            coords={"time": sol.t},
        )
        ds["time"].attrs.update(units="years", long_name="time")
        ds.attrs.update(self.params())
        ds.attrs.update(source="pysciml.physics.TwoBox", parameter_units=str(_UNITS))
        return ds
