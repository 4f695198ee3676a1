"""Body forcings of the 2-D vorticity equation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from ...errors import InputError


@dataclass(frozen=True)
class Kolmogorov:
    """Kolmogorov forcing: the body force ``(amplitude * sin(k y), 0)`` per unit mass.

    Its curl, ``-amplitude * k * cos(k y)``, drives the vorticity equation.  ``amplitude`` may be a
    jax value (gradients with respect to it); ``k`` is a whole wavenumber (cycles per box side).

    Args:
        k: forcing wavenumber, a positive integer (the Kochkov et al. 2021 setup uses 4).
        amplitude: force amplitude (m s-2 in the units of the box).
    """

    k: int = 4
    amplitude: Any = 1.0

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise InputError(f"must be a positive whole wavenumber, got {self.k!r}.", argument="k")

    def vorticity_source(self, y, length):
        """``curl f`` on the ``[y, x]`` grid nodes ``y`` (shape ``(n, 1)``) of a box of side ``length``."""
        kk = 2 * np.pi * self.k / length
        return -self.amplitude * kk * jnp.cos(kk * y)

    def power(self, u, y, length):
        """Mean work rate ``<u . f>`` of the force on the flow (``u`` the x velocity)."""
        kk = 2 * np.pi * self.k / length
        return jnp.mean(u * self.amplitude * jnp.sin(kk * y))
