"""``NavierStokes2D``: 2-D incompressible flow in vorticity form on a periodic square.

    dw/dt + u . grad w = nu lap w - mu w + curl f,      lap psi = -w,  u = d psi/dy,  v = -d psi/dx

with optional passive tracers ``dc/dt + u . grad c = kappa lap c``.  Pseudo-spectral in space
(2/3 de-aliasing of the advection term), integrating-factor RK4 in time (the linear terms exactly),
written in jax: ``jax.grad`` runs through :meth:`NavierStokes2D.trajectory` with respect to the
viscosity, drag, forcing amplitude, tracer diffusivity and the initial fields.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ...engines.registry import get_engine
from ...errors import InputError
from ...options import positive_float
from ..tracing import is_traced
from .forcing import Kolmogorov
from .spectral import SpectralGrid, ifrk4_step

get_engine("jax")  # the engine's process settings (float64 above all) before anything is traced

#: Stability limit of classical RK4 on the imaginary axis (|lambda dt| <= 2 sqrt 2).
RK4_IMAGINARY_LIMIT = 2 * math.sqrt(2)


def _check_nonnegative(value, name):
    if value is None or is_traced(value):
        return
    v = np.asarray(value, dtype=float)
    if v.shape != () or not np.isfinite(v) or v < 0:
        raise InputError(f"must be a finite number >= 0, got {value!r}.", argument=name)


@functools.lru_cache(maxsize=16)
def _grid(n: int, length: float) -> SpectralGrid:
    return SpectralGrid(n, length)


def taylor_green(n: int, length: float = 2 * np.pi, t: float = 0.0, viscosity: float = 0.0) -> np.ndarray:
    """The Taylor–Green vortex ``w = -2 k cos(k x) cos(k y) exp(-2 nu k^2 t)``, ``k = 2 pi / length``,
    on the ``[y, x]`` nodes of an ``n x n`` box (an exact solution: its advection term vanishes)."""
    kk = 2 * np.pi / length
    x = np.arange(n) * length / n
    X, Y = np.meshgrid(x, x, indexing="xy")
    return -2 * kk * np.cos(kk * X) * np.cos(kk * Y) * np.exp(-2 * viscosity * kk**2 * t)


@functools.partial(jax.jit, static_argnames=("n", "length", "k_forcing", "substeps", "intervals"))
def _integrate(w0, c0, nu, mu, kappa, amplitude, h, *, n, length, k_forcing, substeps, intervals):
    grid = _grid(n, length)
    y = jnp.asarray(grid.coords)[:, None]
    if k_forcing:
        source = Kolmogorov(k_forcing, amplitude).vorticity_source(y, length) * jnp.ones((1, n))
        f_hat = grid.dealias * grid.to_spectral(source)
    else:
        f_hat = 0.0
    k2 = jnp.asarray(grid.k2)
    linear = (-nu * k2 - mu, -kappa * k2)

    def nonlinear(s):
        w_hat, c_hat = s
        uh, vh = grid.velocity_hat(w_hat)
        u, v = grid.to_physical(uh), grid.to_physical(vh)
        dc = jax.vmap(lambda ch: grid.advection(u, v, ch))(c_hat)
        return grid.advection(u, v, w_hat) + f_hat, dc

    step = jax.checkpoint(ifrk4_step(linear, nonlinear, h))
    w_hat0 = grid.to_spectral(w0).at[0, 0].set(0.0)
    s0 = (w_hat0, jax.vmap(grid.to_spectral)(c0))

    def interval(s, _):
        s = jax.lax.fori_loop(0, substeps, lambda i, s: step(s), s)
        return s, s

    _, (w_hats, c_hats) = jax.lax.scan(interval, s0, None, length=intervals)
    w = jnp.concatenate([grid.to_physical(w_hat0)[None], grid.to_physical(w_hats)])
    c = jnp.concatenate([c0[None], jax.vmap(jax.vmap(grid.to_physical))(c_hats)])
    return w, c


@dataclass(frozen=True)
class NavierStokes2D:
    """2-D incompressible Navier–Stokes (vorticity form) on a periodic ``length x length`` box.

    Args:
        n: grid points per side, even and at least 8.
        length: box side (m).
        viscosity: kinematic viscosity nu >= 0 (m2 s-1); may be a jax value.
        drag: linear (Rayleigh) drag mu >= 0 (s-1); may be a jax value.
        forcing: a body forcing such as :class:`Kolmogorov`, or None.
        tracer_diffusivity: diffusivity kappa >= 0 of the passive tracers (m2 s-1).
        dt: largest time step (s); None picks half the RK4 advective limit of the initial field.

    Example::

        flow = NavierStokes2D(n=128, viscosity=1e-3, forcing=Kolmogorov(k=4))
        w = flow.simulate(w0, t=np.linspace(0, 10, 101))           # DataArray (time, y, x)
        g = jax.grad(lambda nu: loss(flow.replace(viscosity=nu).trajectory(w0, t, dt=0.01)))(1e-3)
    """

    n: int = 64
    length: float = 2 * np.pi
    viscosity: Any = 1e-3
    drag: Any = 0.0
    forcing: Kolmogorov | None = None
    tracer_diffusivity: Any = 0.0
    dt: float | None = None

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 8 or self.n % 2:
            raise InputError(
                f"must be an even whole number >= 8 (the real FFT and the 2/3 rule need it), got {self.n!r}.",
                argument="n",
            )
        positive_float(self.length, "length")
        for name in ("viscosity", "drag", "tracer_diffusivity"):
            _check_nonnegative(getattr(self, name), name)
        if self.dt is not None:
            positive_float(self.dt, "dt")
        if self.forcing is not None and not isinstance(self.forcing, Kolmogorov):
            raise InputError(
                f"must be a Kolmogorov forcing or None, got {type(self.forcing).__name__}.", argument="forcing"
            )
        if self.forcing is not None and 3 * int(self.forcing.k) >= self.n:
            # the forcing passes the 2/3 mask with the advection: wavenumbers k >= n/3 are cut
            k = int(self.forcing.k)
            n_min = 3 * k + 1 + (3 * k + 1) % 2  # the smallest even n above 3k
            raise InputError(
                f"Kolmogorov(k={k}) would be removed by the 2/3 de-aliasing on n={self.n} points, which keeps "
                f"wavenumbers below n/3 = {self.n / 3:.3g}; use n >= {n_min} or a smaller k.",
                argument="forcing",
            )

    def replace(self, **changes) -> NavierStokes2D:
        """A copy with some fields changed (``flow.replace(viscosity=nu)`` inside ``jax.grad``)."""
        return dataclasses.replace(self, **changes)

    @property
    def grid(self) -> SpectralGrid:
        return _grid(int(self.n), float(self.length))

    def largest_stable_step(self, w) -> float:
        """The RK4 advective limit ``2 sqrt(2) / (k_max (max|u| + max|v|))`` for vorticity ``w[y, x]``."""
        g = self.grid
        uh, vh = g.velocity_hat(g.to_spectral(jnp.asarray(w)))
        speed = float(jnp.max(jnp.abs(g.to_physical(uh))) + jnp.max(jnp.abs(g.to_physical(vh))))
        return math.inf if speed == 0 else RK4_IMAGINARY_LIMIT / (g.kmax_resolved * speed)

    def _check_field(self, field, name):
        if is_traced(field):
            return jnp.asarray(field)
        a = np.asarray(field, dtype=float)
        if a.shape != (self.n, self.n):
            raise InputError(f"must have shape (n, n) = ({self.n}, {self.n}) as [y, x], got {a.shape}.", argument=name)
        if not np.all(np.isfinite(a)):
            raise InputError("must be finite everywhere.", argument=name)
        if name == "w0" and abs(a.mean()) > 1e-8 * max(np.abs(a).max(), 1e-300):
            raise InputError(
                f"has mean {a.mean():.3g}: the circulation on a periodic box is 0; pass w0 - w0.mean().",
                argument=name,
            )
        return jnp.asarray(a)

    def _steps(self, w0, t, dt):
        t = np.asarray(t, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)):
            raise InputError("must be a 1-D array of at least two finite times.", argument="t")
        dt_out = np.diff(t)
        if np.any(dt_out <= 0) or np.ptp(dt_out) > 1e-9 * abs(dt_out.mean()):
            raise InputError("must be increasing and evenly spaced (e.g. np.linspace(0, T, k)).", argument="t")
        h_out = float(dt_out.mean())
        dt = self.dt if dt is None else dt
        dt = None if dt is None else positive_float(dt, "dt")
        if is_traced(w0):
            if dt is None:
                raise InputError("is needed when differentiating with respect to w0 (pass dt=...).", argument="dt")
        else:
            limit = self.largest_stable_step(w0)
            if dt is None:
                dt = 0.5 * limit
            elif dt > limit:
                warnings.warn(
                    f"dt={dt:.4g} exceeds the largest stable step {limit:.4g} of the initial flow (RK4 advective "
                    f"limit); the run may blow up: pass dt <= {limit:.4g}.",
                    RuntimeWarning,
                    stacklevel=3,
                )
        substeps = max(1, math.ceil(h_out / dt - 1e-9))
        return t, substeps, h_out / substeps

    def trajectory(self, w0, t, *, tracers=None, dt=None):
        """Vorticity at the times ``t`` as a jax array ``(time, y, x)``; differentiable.

        Args:
            w0: initial vorticity ``[y, x]`` with zero mean (s-1).
            t: evenly spaced output times, ``t[0]`` the initial time (s).
            tracers: optional initial tracer fields ``(k, y, x)`` or ``(y, x)``; then
                ``(w, c)`` is returned with ``c`` of shape ``(time, k, y, x)``.
            dt: largest step (s), overriding the model's; needed when ``w0`` is differentiated.
        """
        w0 = self._check_field(w0, "w0")
        t, substeps, h = self._steps(w0, t, dt)
        if tracers is None:
            c0 = jnp.zeros((0, self.n, self.n))
        else:
            given = jnp.asarray(tracers)
            c0 = given[None] if given.ndim == 2 else given
            if c0.ndim != 3 or c0.shape[1:] != (self.n, self.n):
                raise InputError(
                    f"must have shape (k, n, n) or (n, n) with n = {self.n}, got {given.shape}.", argument="tracers"
                )
        f = self.forcing
        w, c = _integrate(
            w0, c0, self.viscosity, self.drag, self.tracer_diffusivity, 0.0 if f is None else f.amplitude, h,
            n=int(self.n), length=float(self.length), k_forcing=0 if f is None else int(f.k),
            substeps=substeps, intervals=t.size - 1,
        )  # fmt: skip
        return w if tracers is None else (w, c)

    def simulate(self, w0, t, *, tracers=None, dt=None):
        """Run the flow and return xarray: a DataArray ``vorticity (time, y, x)``, or a Dataset with
        ``vorticity`` and ``tracer (time, tracer, y, x)`` when ``tracers`` are given.

        Arguments as :meth:`trajectory` (use that inside ``jax.grad``: xarray cannot hold jax tracers).
        """
        out = self.trajectory(w0, t, tracers=tracers, dt=dt)
        if is_traced(out):
            raise InputError("cannot be traced into xarray; call flow.trajectory(...) inside jax transforms.",
                             argument="simulate")  # fmt: skip
        w, c = (out, None) if tracers is None else out
        x = self.grid.coords
        coords = {
            "time": ("time", np.asarray(t, dtype=float), {"units": "s", "standard_name": "time"}),
            "y": ("y", x, {"units": "m", "long_name": "y (periodic)"}),
            "x": ("x", x, {"units": "m", "long_name": "x (periodic)"}),
        }
        attrs: dict[str, object] = {"model": "NavierStokes2D (pseudo-spectral, 2/3 de-aliasing, IFRK4)"}
        for name in ("viscosity", "drag", "tracer_diffusivity"):
            if not is_traced(getattr(self, name)):
                attrs[name] = float(getattr(self, name))
        f = self.forcing
        if f is None:
            attrs["forcing"] = "none"
        elif not is_traced(f.amplitude):
            attrs["forcing"] = f"Kolmogorov(k={int(f.k)}, amplitude={float(f.amplitude):g})"
        vort = xr.DataArray(
            np.asarray(w), dims=("time", "y", "x"), coords=coords, name="vorticity",
            attrs={"units": "s-1", "long_name": "relative vorticity", **attrs},
        )  # fmt: skip
        if c is None:
            return vort
        tracer = xr.DataArray(
            np.asarray(c), dims=("time", "tracer", "y", "x"), coords=coords, name="tracer",
            attrs={"units": "1", "long_name": "passive tracer concentration"},
        )  # fmt: skip
        return xr.Dataset({"vorticity": vort, "tracer": tracer}, attrs=attrs)
