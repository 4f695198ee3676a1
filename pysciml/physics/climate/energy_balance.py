"""``EnergyBalance1D``: the diffusive energy-balance climate model on latitude (Budyko-Sellers/North).

    C dT/dt = (1 - alpha(lat, T)) S(lat, t) - (A + B T) + D (1/cos phi) d/dphi (cos phi dT/dphi)

with ``T`` the zonal-mean surface temperature (degC), ``C`` the heat capacity of a mixed layer
of water ``water_depth`` deep, ``A + B T`` the outgoing longwave radiation, ``D`` the meridional
diffusivity (W m-2 K-1) and the ice-albedo feedback ``alpha = ai`` where ``T < Tf``, else
``a0 + a2 P2(sin lat)`` (a step, as Budyko's; ``albedo_width > 0`` smooths it with a tanh for
gradients through the ice edge).  Insolation: the P2 annual mean, the orbital annual mean, or
the orbital daily insolation of the day (``seasonal=True``); see :mod:`.insolation`.

Space: ``n_lat`` equal cells in latitude, a flux form with ``cos`` of the cell bounds in the
fluxes, ``cos`` of the cell centres in the divergence, and no flux through the poles (the form
climlab uses, so the two agree to round-off).  Time: the semi-discrete system is an ordinary
``ps.ODEModel`` (time in years) integrated stiffly by ``ps.solve`` with a Rosenbrock method;
``jax.grad`` runs through it with respect to the parameters and the initial state.  The
equilibrium is reached by integrating from ``T0 + T2 P2(sin lat)`` and then polished by Newton's
method on the steady state (one linear solve once the ice cells are known).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...ivp import solve
from ...model import UDE, ODEModel
from ...model_spec import ParamView
from ...networks import MLP
from ...numerics import numpy_math
from ...params import Param
from ...solution import is_concrete
from ...solvers import Rodas5P
from ...status import Status
from .checks import concrete_solution, finite_number, output_times
from .insolation import DAYS_PER_YEAR, Orbit, annual_mean_insolation, daily_insolation, legendre_p2

__all__ = ["EnergyBalance1D", "SECONDS_PER_YEAR", "WATER_HEAT_CAPACITY"]

#: Seconds in the model's year (the tropical year).
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86400.0
#: Density times specific heat of liquid water, J m-3 K-1 (1000 kg m-3 x 4181.3 J kg-1 K-1).
WATER_HEAT_CAPACITY = 1000.0 * 4181.3

_INSOLATIONS = ("p2", "orbital")
#: Temperature scale (K) of the input of the learned albedo network in :meth:`EnergyBalance1D.ude`.
ALBEDO_INPUT_SCALE = 10.0
#: The model parameters that enter the ODE (and may be passed as ``params=`` to ``ps.solve``).
_PARAM_NAMES = ("D", "A", "B", "S0", "s2", "a0", "a2", "ai", "Tf")
_UNITS = {
    "D": "W m-2 K-1",
    "A": "W m-2",
    "B": "W m-2 K-1",
    "S0": "W m-2",
    "s2": "1",
    "a0": "1",
    "a2": "1",
    "ai": "1",
    "Tf": "degC",
}


@dataclass(frozen=True)
class EnergyBalance1D:
    """A zonal-mean diffusive energy-balance model with ice-albedo feedback.

    The defaults are climlab's ``EBM()`` (North's P2 insolation, Budyko's step albedo); with
    ``insolation="orbital", a0=0.33, a2=0.25`` it is climlab's ``EBM_annual(ai=0.62)``.

    Args:
        n_lat: number of equal latitude cells (at least 4; 90 gives 2-degree cells).
        diffusivity: ``D`` in W m-2 K-1 (> 0).
        A, B: outgoing longwave radiation ``A + B T`` (W m-2, W m-2 K-1; B > 0), T in degC.
        S0: solar constant (W m-2).
        s2: P2 coefficient of the insolation (``insolation="p2"`` only).
        a0, a2: albedo of ice-free cells ``a0 + a2 P2(sin lat)``.
        ai: albedo of ice-covered cells; ``None`` turns the ice-albedo feedback off.
        Tf: freezing temperature (degC): a cell is ice-covered where ``T < Tf``.
        water_depth: mixed-layer depth (m) giving the heat capacity.
        insolation: ``"p2"`` (``S0/4 (1 + s2 P2)``) or ``"orbital"`` (Berger 1978 daily insolation).
        seasonal: with ``insolation="orbital"``, force with the insolation of the day instead of
            its annual mean.
        orbit: orbital elements (:class:`pysciml.physics.climate.Orbit`; present day by default).
        albedo_width: 0 for the step albedo; > 0 (K) for ``tanh((T - Tf)/albedo_width)`` smoothing.
        T0, T2: initial temperature ``T0 + T2 P2(sin lat)`` (degC).

    >>> ebm = EnergyBalance1D(n_lat=90, diffusivity=0.555)
    >>> eq = ebm.equilibrium()          # xarray: temperature(lat), ice edges, global mean
    """

    n_lat: int = 90
    diffusivity: float = 0.555
    A: float = 210.0
    B: float = 2.0
    S0: float = 1365.2
    s2: float = -0.48
    a0: float = 0.3
    a2: float = 0.078
    ai: float | None = 0.62
    Tf: float = -10.0
    water_depth: float = 10.0
    insolation: str = "p2"
    seasonal: bool = False
    orbit: Orbit = dataclasses.field(default_factory=Orbit)
    albedo_width: float = 0.0
    T0: float = 12.0
    T2: float = -40.0

    def __post_init__(self):
        if isinstance(self.n_lat, bool) or not isinstance(self.n_lat, (int, np.integer)) or self.n_lat < 4:
            raise InputError(
                f"must be an integer >= 4 (latitude cells; 90 gives 2-degree cells), got {self.n_lat!r}.",
                argument="n_lat",
            )
        finite_number(self.diffusivity, "diffusivity", positive=True)
        finite_number(self.B, "B", positive=True)
        finite_number(self.S0, "S0", positive=True)
        finite_number(self.water_depth, "water_depth", positive=True)
        for name in ("A", "s2", "Tf", "T0", "T2"):
            finite_number(getattr(self, name), name)
        for name in ("a0", "ai"):
            if name == "ai" and self.ai is None:
                continue
            finite_number(getattr(self, name), name, unit_interval=True)
        finite_number(self.a2, "a2")
        warm = self.a0 + self.a2 * np.array([-0.5, 1.0])  # P2 spans [-1/2, 1]
        if warm.min() < 0 or warm.max() > 1:
            raise InputError(
                f"gives ice-free albedos a0 + a2 P2 outside [0, 1] ({warm.min():.3g} .. {warm.max():.3g}); "
                "reduce |a2|.",
                argument="a2",
            )
        if self.insolation not in _INSOLATIONS:
            raise InputError(f"must be one of {_INSOLATIONS}, got {self.insolation!r}.", argument="insolation")
        if self.seasonal and self.insolation != "orbital":
            raise InputError(
                "seasonal forcing needs the orbital insolation; pass insolation='orbital' with seasonal=True.",
                argument="seasonal",
            )
        if not isinstance(self.orbit, Orbit):
            raise InputError(f"must be a physics.climate.Orbit, got {type(self.orbit).__name__}.", argument="orbit")
        w = finite_number(self.albedo_width, "albedo_width")
        if w < 0:
            raise InputError(f"must be >= 0 (0: step albedo), got {self.albedo_width!r}.", argument="albedo_width")

    # -- grid ---------------------------------------------------------------------------------------
    @property
    def lat_bounds(self) -> np.ndarray:
        """Cell bounds in degrees north, from -90 to 90."""
        return np.linspace(-90.0, 90.0, self.n_lat + 1)

    @property
    def lat(self) -> np.ndarray:
        """Cell centres in degrees north."""
        b = self.lat_bounds
        return 0.5 * (b[1:] + b[:-1])

    @property
    def heat_capacity(self) -> float:
        """Heat capacity of the mixed layer, J m-2 K-1."""
        return WATER_HEAT_CAPACITY * self.water_depth

    @property
    def weights(self) -> np.ndarray:
        """Area weights of the cells for global means (``cos`` of the centre latitude, normalised)."""
        w = np.cos(np.deg2rad(self.lat))
        return w / w.sum()

    @property
    def ice_albedo(self) -> bool:
        """Whether the ice-albedo feedback is on (``ai`` given)."""
        return self.ai is not None

    def replace(self, **changes) -> EnergyBalance1D:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def params(self) -> dict[str, float]:
        """The parameter values of the ODE model by name (``D`` is ``diffusivity``)."""
        values = {
            "D": self.diffusivity,
            "A": self.A,
            "B": self.B,
            "S0": self.S0,
            "s2": self.s2,
            "a0": self.a0,
            "a2": self.a2,
        }
        if self.ai is not None:
            values.update(ai=self.ai, Tf=self.Tf)
        return {k: float(v) for k, v in values.items()}

    def initial_state(self) -> np.ndarray:
        """``T0 + T2 P2(sin lat)`` in degC."""
        return self.T0 + self.T2 * legendre_p2(np.sin(np.deg2rad(self.lat)))

    # -- physics ------------------------------------------------------------------------------------
    def _operators(self):
        dphi = np.deg2rad(180.0 / self.n_lat)
        cos_b = np.cos(np.deg2rad(self.lat_bounds[1:-1]))  # interior bounds
        inv_area = 1.0 / (np.cos(np.deg2rad(self.lat)) * dphi * dphi)
        return cos_b, inv_area

    def _forcing(self):
        """A function ``(p, t, m) -> S(lat)`` for this insolation option."""
        lat = self.lat
        if self.insolation == "p2":
            p2 = legendre_p2(np.sin(np.deg2rad(lat)))
            return lambda p, t, m: p.S0 / 4.0 * (1.0 + p.s2 * p2)
        orbit = self.orbit
        if self.seasonal:
            return lambda p, t, m: daily_insolation(lat, t * DAYS_PER_YEAR, p.S0, orbit, m)
        shape = annual_mean_insolation(lat, 1.0, orbit)
        return lambda p, t, m: p.S0 * shape

    def _albedo(self, T, p, m):
        warm = p.a0 + p.a2 * legendre_p2(np.sin(np.deg2rad(self.lat)))
        if self.ai is None:
            return warm + 0.0 * T
        if self.albedo_width == 0:
            return m.where(T < p.Tf, p.ai, warm)
        return warm + (p.ai - warm) * 0.5 * (1.0 - m.tanh((T - p.Tf) / self.albedo_width))

    def _albedo_slope(self, T, values) -> np.ndarray:
        """d alpha / d T (numpy; 0 for the step albedo away from Tf)."""
        if self.ai is None or self.albedo_width == 0:
            return np.zeros_like(T)
        warm = values["a0"] + values["a2"] * legendre_p2(np.sin(np.deg2rad(self.lat)))
        th = np.tanh((T - values["Tf"]) / self.albedo_width)
        return -(values["ai"] - warm) * 0.5 * (1.0 - th * th) / self.albedo_width

    def _learned_albedo(self, T, p, m):
        """Ice-free albedo plus a network of the scaled temperature ``(T - Tf) / ALBEDO_INPUT_SCALE``."""
        warm = p.a0 + p.a2 * legendre_p2(np.sin(np.deg2rad(self.lat)))
        return warm + p.albedo_nn(((T - p.Tf) / ALBEDO_INPUT_SCALE)[:, None])[:, 0]

    def _physics(self, learned: bool = False):
        cos_b, inv_area = self._operators()
        rate = SECONDS_PER_YEAR / self.heat_capacity
        forcing = self._forcing()
        albedo = self._learned_albedo if learned else self._albedo

        def energy_balance(u, p, t, m):
            T = u  # one state: the physics sees the (n_lat,) array
            flux = cos_b * (T[1:] - T[:-1])
            zero = m.zeros_like(T[:1])
            div = (m.concatenate([flux, zero]) - m.concatenate([zero, flux])) * inv_area
            net = (1.0 - albedo(T, p, m)) * forcing(p, t, m) - (p.A + p.B * T)
            return rate * (net + p.D * div)

        return energy_balance

    def model(self, *, name: str = "energy_balance_1d") -> ODEModel:
        """The ``ps.ODEModel`` ``dT/dt`` (degC per year) on the latitude cells; parameters by
        :meth:`params` (``D``, ``A``, ``B``, ``S0``, ``s2``, ``a0``, ``a2``, ``ai``, ``Tf``)."""
        return ODEModel(
            self._physics(),
            states={"T": self.n_lat},
            params=self.params(),
            name=name,
            time_units="years",
            u0=self.initial_state(),
            state_units={"T": "degC"},
        )

    def ude(self, network: MLP | None = None, *, name: str = "energy_balance_ude") -> UDE:
        """A ``ps.UDE`` in which a network ``albedo_nn`` learns the ice-albedo feedback.

        The albedo is ``a0 + a2 P2(sin lat) + albedo_nn((T - Tf) / 10 K)``: everything else (diffusion,
        OLR, insolation) is the known physics, with its parameters fixed at this model's values.
        The states are one scalar per latitude cell (``T_00``, ``T_01`` ...), so ``fit`` reads
        observations as ``(t, y)`` with one column per cell (or a Dataset with those variables).

        Args:
            network: a ``ps.MLP(1, 1, ...)`` (default: width 16, depth 2, tanh, small last layer).
        """
        network = network or MLP(1, 1, width=16, depth=2, last_layer_scale=0.1)
        if not isinstance(network, MLP) or network.n_in != 1 or network.n_out != 1:
            raise InputError("must be a ps.MLP(1, 1, ...): temperature in, albedo change out.", argument="network")
        values = self.params()
        values.setdefault("Tf", float(self.Tf))
        values.pop("ai", None)
        return UDE(
            self._physics(learned=True),
            states=[f"T_{i:02d}" for i in range(self.n_lat)],
            params={k: Param(v, fixed=True, units=_UNITS[k]) for k, v in values.items()},
            networks={"albedo_nn": network},
            name=name,
            time_units="years",
            u0=self.initial_state(),
        )

    def tendency(self, T, t: float = 0.0, params: dict[str, float] | None = None) -> np.ndarray:
        """``dT/dt`` (degC per year) of temperatures ``T`` (numpy)."""
        values = {**self.params(), **(params or {})}
        T = np.asarray(T, dtype=float)
        return np.asarray(self._physics()(T, ParamView(values), t, numpy_math))

    def jacobian(self, T, params: dict[str, float] | None = None) -> np.ndarray:
        """The Jacobian of :meth:`tendency` with respect to ``T`` (numpy; annual-mean forcing)."""
        values = {**self.params(), **(params or {})}
        T = np.asarray(T, dtype=float)
        cos_b, inv_area = self._operators()
        n = self.n_lat
        L = np.zeros((n, n))
        i = np.arange(n - 1)
        L[i, i + 1] += cos_b
        L[i, i] -= cos_b
        L[i + 1, i] += cos_b
        L[i + 1, i + 1] -= cos_b
        L *= inv_area[:, None]
        S = np.asarray(self._forcing()(ParamView(values), 0.0, numpy_math)) + 0.0 * T
        diag = -self._albedo_slope(T, values) * S - values["B"]
        return SECONDS_PER_YEAR / self.heat_capacity * (np.diag(diag) + values["D"] * L)

    # -- diagnostics --------------------------------------------------------------------------------
    def global_mean(self, T) -> Any:
        """Area-weighted global mean over the last axis (``cos`` weights, as climlab)."""
        return np.asarray(T, dtype=float) @ self.weights

    def ice_edges(self, T, Tf: float | None = None) -> tuple[float, float]:
        """Equatorward edges of the polar ice caps, ``(south, north)``, in degrees (cell bounds).

        A cap is the run of ice cells (``T < Tf``; ``Tf`` defaults to the model's) from the pole;
        no cap gives ``(-90, 90)``, ice everywhere ``(0, 0)`` (climlab's convention).
        """
        T = np.asarray(T, dtype=float)
        if self.ai is None:
            return -90.0, 90.0
        ice = T < (self.Tf if Tf is None else Tf)
        b = self.lat_bounds
        n = self.n_lat
        if ice.all():
            return 0.0, 0.0
        k = 0
        while k < n and ice[n - 1 - k]:
            k += 1
        north = float(b[n - k])
        k = 0
        while k < n and ice[k]:
            k += 1
        south = float(b[k])
        return south, north

    # -- running ------------------------------------------------------------------------------------
    def trajectory(self, t, T0=None, *, params=None, solver=None, rtol: float = 1e-8, atol: float = 1e-8):
        """``ps.solve`` of the model over output times ``t`` (years); a :class:`pysciml.Solution`.

        Differentiable under ``jax.grad`` with respect to ``params`` values and ``T0``.
        """
        T0 = self.initial_state() if T0 is None else T0
        t = output_times(t)
        return solve(
            self.model(),
            np.asarray(T0) if is_concrete(T0) else T0,
            t,
            params=params,
            solver=solver or Rodas5P(),
            rtol=rtol,
            atol=atol,
            max_steps=200_000,
        )

    def simulate(self, t, T0=None, *, params=None, solver=None, rtol: float = 1e-8, atol: float = 1e-8):
        """Temperature ``(time, lat)`` as an ``xarray.DataArray`` (degC, years, degrees north)."""
        import xarray as xr

        sol = concrete_solution(self.trajectory(t, T0, params=params, solver=solver, rtol=rtol, atol=atol))
        da = xr.DataArray(
            sol.u,
            dims=("time", "lat"),
            coords={"time": sol.t, "lat": self.lat},
            name="temperature",
            attrs={"units": "degC", "long_name": "zonal-mean surface temperature"},
        )
        da["time"].attrs.update(units="years", long_name="time")
        da["lat"].attrs.update(units="degrees_north", standard_name="latitude")
        return da

    def steady_state(self, T, params=None, *, max_iter: int = 50, tol: float = 1e-10):
        """Newton's method for ``tendency(T) = 0`` from ``T`` (numpy); ``(T, converged)``.

        With the step albedo the ice cells are held fixed in each linear solve and the result is
        accepted only if it keeps the same ice cells (a self-consistent equilibrium).
        """
        if self.seasonal:
            raise InputError(
                "a seasonal model has a cycle, not a steady state; use equilibrium().", argument="seasonal"
            )
        T = np.asarray(T, dtype=float).copy()
        for _ in range(max_iter):
            f = self.tendency(T, params=params)
            dT = np.linalg.solve(self.jacobian(T, params), f)
            T = T - dT
            if np.max(np.abs(dT)) < tol * (1.0 + np.max(np.abs(T))):
                res = self.tendency(T, params=params)
                return T, bool(np.max(np.abs(res)) < 1e-8 * (1.0 + np.max(np.abs(T))))
        return T, False

    def _settle(self, T0, params, years: float, rounds: int):
        """Integrate ``years`` at a time from ``T0`` until Newton finds an equilibrium nearby."""
        T = np.asarray(T0, dtype=float)
        for _ in range(rounds):
            sol = self.trajectory(np.array([0.0, years]), T, params=params)
            if sol.status != Status.SUCCESS:
                raise InputError(f"the integration failed: {sol.message}", argument="years")
            T_end = sol.u[-1]
            T_eq, ok = self.steady_state(T_end, params)
            if ok and np.max(np.abs(T_eq - T_end)) < 1e-2:
                return T_eq, True
            T = T_end
        return T, False

    def _dataset(self, T, values: dict[str, float], extra_dims: tuple = (), coords=None, attrs=None):
        import xarray as xr

        T = np.asarray(T, dtype=float)
        Tf = values.get("Tf")
        edges = np.apply_along_axis(lambda x: np.array(self.ice_edges(x, Tf)), -1, T)
        dims = (*extra_dims, "lat")
        ds = xr.Dataset(
            {
                "temperature": (dims, T, {"units": "degC", "long_name": "zonal-mean surface temperature"}),
                "global_mean": (extra_dims, self.global_mean(T), {"units": "degC", "long_name": "global mean"}),
                "ice_edge_south": (extra_dims, edges[..., 0], {"units": "degrees_north"}),
                "ice_edge_north": (extra_dims, edges[..., 1], {"units": "degrees_north"}),
            },
            coords={"lat": self.lat, **(coords or {})},
        )
        ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
        ds.attrs.update({k: v for k, v in values.items()})
        ds.attrs.update(source="pysciml.physics.EnergyBalance1D", parameter_units=str(_UNITS), **(attrs or {}))
        return ds

    def equilibrium(self, T0=None, *, params=None, years: float = 20.0, max_rounds: int = 10):
        """The equilibrium reached from ``T0`` (default :meth:`initial_state`), as an ``xarray.Dataset``.

        Integrates ``years`` at a time with ``ps.solve`` (Rodas5P) and polishes by Newton's
        method (:meth:`steady_state`) until the two agree.  Variables: ``temperature`` (lat, degC),
        ``global_mean`` (degC), ``ice_edge_south``/``ice_edge_north`` (degrees); ``attrs``
        ``converged``.  For a seasonal model: the last of ``years`` years, on 73 days of the
        year (dimension ``time``, in years) plus their mean (``annual_mean``).
        """
        values = {**self.params(), **(params or {})}
        T0 = self.initial_state() if T0 is None else np.asarray(T0, dtype=float)
        if self.seasonal:
            n_years = max(1, int(math.ceil(years)))
            if n_years > 1:  # whole years, so the last one starts on day 0
                T0 = self.trajectory(np.array([0.0, n_years - 1.0]), T0, params=params).u[-1]
            days = np.linspace(0.0, 1.0, 74)[:-1]
            last = self.trajectory(np.concatenate([days, [1.0]]), T0, params=params)
            T = last.u[:-1]
            ds = self._dataset(T, values, ("time",), {"time": days}, {"converged": int(bool(last.ok))})
            ds["time"].attrs.update(units="years", long_name="time of year")
            mean_T = T.mean(axis=0)
            ds["annual_mean"] = ("lat", mean_T, {"units": "degC", "long_name": "annual-mean temperature"})
            ds.attrs["annual_global_mean"] = float(self.global_mean(mean_T))
            return ds
        T, ok = self._settle(T0, params, years, max_rounds)
        return self._dataset(T, values, attrs={"converged": int(ok)})

    def sweep(self, parameter: str, values, T0=None, *, years: float = 20.0, max_rounds: int = 10):
        """Equilibria along ``values`` of one parameter, each started from the previous one.

        Natural-parameter continuation: the branch is followed until it ends (a fold, such as
        the snowball bifurcation), where the integration falls onto another branch.  Returns an
        ``xarray.Dataset`` over the dimension ``parameter``.
        """
        if parameter not in self.params():
            raise InputError(f"must be one of {sorted(self.params())}, got {parameter!r}.", argument="parameter")
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)):
            raise InputError("must be a 1-d array of finite numbers.", argument="values")
        T = self.initial_state() if T0 is None else np.asarray(T0, dtype=float)
        rows, converged = [], []
        for v in values:
            T, ok = self._settle(T, {parameter: float(v)}, years, max_rounds)
            rows.append(T)
            converged.append(ok)
        if parameter == "Tf":  # ice edges with each row's own freezing temperature
            edges = np.array([self.ice_edges(T_k, float(v)) for T_k, v in zip(rows, values)])
        ds = self._dataset(np.stack(rows), self.params(), (parameter,), {parameter: values})
        if parameter == "Tf":
            ds["ice_edge_south"].values[:] = edges[:, 0]
            ds["ice_edge_north"].values[:] = edges[:, 1]
        ds[parameter].attrs["units"] = _UNITS[parameter]
        ds["converged"] = ((parameter,), np.asarray(converged))
        return ds

    def hysteresis(self, values, parameter: str = "S0", *, years: float = 20.0):
        """Sweep ``parameter`` down through ``values`` and back up (continuation both ways).

        The decreasing sweep starts from the equilibrium at the largest value reached from
        :meth:`initial_state`; the increasing sweep starts where the decreasing one ended.  Returns
        an ``xarray.Dataset`` with dimensions ``(branch, parameter)``, ``branch`` being
        ``["decreasing", "increasing"]``, both on increasing parameter values.
        """
        import xarray as xr

        values = np.unique(np.asarray(values, dtype=float))
        if values.size < 2:
            raise InputError("needs at least two distinct values to sweep.", argument="values")
        down = self.sweep(parameter, values[::-1], years=years)
        start = down["temperature"].values[-1]
        up = self.sweep(parameter, values, start, years=years)
        down = down.isel({parameter: slice(None, None, -1)})
        ds = xr.concat([down, up], dim="branch")
        ds["branch"] = ["decreasing", "increasing"]
        return ds
