"""The pseudo-spectral machinery on a periodic square: wavenumbers, 2/3 de-aliasing, the
nonlinear advection term and the integrating-factor Runge–Kutta 4 step (IFRK4).

Arrays are laid out ``[y, x]``; the real FFT runs along x (the last axis), so a spectral field has
shape ``(n, n // 2 + 1)``.  The linear part (viscosity, drag, tracer diffusion) is integrated
exactly by the factor ``exp(L dt)``: a Taylor–Green vortex decays to round-off, and the scheme is
4th order in time for the nonlinear part.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class SpectralGrid:
    """Wavenumbers of an ``n x n`` periodic box of side ``length`` (rad per unit length)."""

    n: int
    length: float

    @property
    def dx(self) -> float:
        return self.length / self.n

    @cached_property
    def coords(self) -> np.ndarray:
        """Node positions ``i * dx`` (the same along x and y)."""
        return np.arange(self.n) * self.dx

    @cached_property
    def wavenumbers(self) -> tuple[np.ndarray, np.ndarray]:
        """``(kx, ky)`` broadcast to the spectral shape ``(n, n//2 + 1)``."""
        scale = 2 * np.pi / self.length
        ky = scale * np.fft.fftfreq(self.n, 1.0 / self.n)
        kx = scale * np.fft.rfftfreq(self.n, 1.0 / self.n)
        KY, KX = np.meshgrid(ky, kx, indexing="ij")
        return KX, KY

    @cached_property
    def k2(self) -> np.ndarray:
        KX, KY = self.wavenumbers
        return KX**2 + KY**2

    @cached_property
    def inverse_laplacian(self) -> np.ndarray:
        """``-1/k^2`` with the mean mode set to 0 (``psi_hat = w_hat / k^2`` solves ``lap psi = -w``)."""
        k2 = self.k2
        return np.where(k2 == 0, 0.0, 1.0 / np.where(k2 == 0, 1.0, k2))

    @cached_property
    def dealias(self) -> np.ndarray:
        """The 2/3 rule: keep ``|kx|, |ky| < (2/3) k_max`` in the nonlinear term."""
        KX, KY = self.wavenumbers
        kmax = (self.n // 2) * 2 * np.pi / self.length
        return ((np.abs(KX) < 2 / 3 * kmax) & (np.abs(KY) < 2 / 3 * kmax)).astype(float)

    @cached_property
    def rfft_weights(self) -> np.ndarray:
        """Weights that turn a sum over the half spectrum into the full one (x columns 0 and n/2 once)."""
        w = np.full((self.n, self.n // 2 + 1), 2.0)
        w[:, 0] = 1.0
        w[:, -1] = 1.0
        return w

    @property
    def kmax_resolved(self) -> float:
        """The largest wavenumber the de-aliased nonlinear term keeps (for the CFL limit)."""
        return 2 / 3 * (self.n // 2) * 2 * np.pi / self.length

    def to_spectral(self, field):
        return jnp.fft.rfft2(field)

    def to_physical(self, spectral):
        return jnp.fft.irfft2(spectral, s=(self.n, self.n))

    def velocity_hat(self, w_hat):
        """Spectral ``(u, v)`` of the vorticity: ``u = d psi/dy``, ``v = -d psi/dx``, ``lap psi = -w``."""
        KX, KY = self.wavenumbers
        psi_hat = w_hat * self.inverse_laplacian
        return 1j * KY * psi_hat, -1j * KX * psi_hat

    def advection(self, u, v, f_hat):
        """De-aliased spectral ``-(u df/dx + v df/dy)`` for physical velocities ``u, v``."""
        KX, KY = self.wavenumbers
        fx = self.to_physical(1j * KX * f_hat)
        fy = self.to_physical(1j * KY * f_hat)
        return -self.dealias * self.to_spectral(u * fx + v * fy)


def ifrk4_step(linear, nonlinear, dt):
    """One integrating-factor RK4 step ``state -> state`` of ``ds/dt = L s + N(s)``.

    Args:
        linear: a pytree like the state holding the diagonal of ``L`` (spectral).
        nonlinear: ``N(state) -> pytree`` like the state.
        dt: step size.
    """
    half = jax.tree.map(lambda lam: jnp.exp(lam * (dt / 2)), linear)
    full = jax.tree.map(lambda e: e * e, half)
    mul = lambda a, b: jax.tree.map(jnp.multiply, a, b)  # noqa: E731
    axpy = lambda x, a, y: jax.tree.map(lambda xi, yi: xi + a * yi, x, y)  # noqa: E731

    def step(s):
        k1 = nonlinear(s)
        k2 = nonlinear(mul(half, axpy(s, dt / 2, k1)))
        k3 = nonlinear(axpy(mul(half, s), dt / 2, k2))
        k4 = nonlinear(axpy(mul(full, s), dt, mul(half, k3)))
        return jax.tree.map(
            lambda e, e2, si, a, b, c, d: e2 * si + dt / 6 * (e2 * a + 2 * e * (b + c) + d),
            half, full, s, k1, k2, k3, k4,
        )  # fmt: skip

    return step
