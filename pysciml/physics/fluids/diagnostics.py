"""Domain means of a periodic vorticity field: energy, enstrophy, palinstrophy.

For the unforced, undamped equation ``dE/dt = -2 nu Z`` and ``dZ/dt = -2 nu P``.
"""

from __future__ import annotations

import jax.numpy as jnp

from .spectral import SpectralGrid


def _spectral_power(w, length):
    w = jnp.asarray(w)
    n = w.shape[-1]
    grid = SpectralGrid(n, float(length))
    a = jnp.abs(jnp.fft.rfft2(w)) ** 2 * grid.rfft_weights / n**4
    return grid, a


def energy(w, length: float = 2 * jnp.pi):
    """Kinetic energy per unit area, ``E = <|u|^2> / 2``, of vorticity ``w[..., y, x]`` (m2 s-2)."""
    grid, a = _spectral_power(w, length)
    return 0.5 * jnp.sum(a * grid.inverse_laplacian, axis=(-2, -1))


def enstrophy(w, length: float = 2 * jnp.pi):
    """Enstrophy per unit area, ``Z = <w^2> / 2`` (s-2)."""
    _, a = _spectral_power(w, length)
    return 0.5 * jnp.sum(a, axis=(-2, -1))


def palinstrophy(w, length: float = 2 * jnp.pi):
    """Palinstrophy per unit area, ``P = <|grad w|^2> / 2`` (m-2 s-2)."""
    grid, a = _spectral_power(w, length)
    return 0.5 * jnp.sum(a * grid.k2, axis=(-2, -1))
