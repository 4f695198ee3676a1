"""A Brownian path sampled once on the fixed step grid (the fast path for fixed-step SDE solves).

diffrax's ``VirtualBrownianTree`` bisects about ``log2((t1 - t0) / tol)`` levels per
increment; for fixed steps the increments can instead be drawn once per step
(``N(0, h)``; with the space-time Levy area ``H ~ N(0, h / 12)`` independent of them) and
looked up in O(1).  Increments between grid points are linearly interpolated: exact at
the grid, which the solver's steps are.
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
import jax.random as jr

__all__ = ["GridBrownian", "grid_brownian", "step_normals"]


class GridBrownian(dfx.AbstractBrownianPath):
    """Brownian motion ``W`` (and per-step space-time Levy areas) on a uniform grid."""

    start: float = eqx.field(static=True)
    step: float = eqx.field(static=True)
    ws: jnp.ndarray  # (n + 1, k): W at the grid points
    hs: jnp.ndarray  # (n, k): space-time Levy area of each step
    levy_area: type = eqx.field(static=True)

    @property
    def t0(self):
        return self.start

    @property
    def t1(self):
        return self.start + self.step * (self.ws.shape[0] - 1)

    def _at(self, t):
        n = self.ws.shape[0] - 1
        s = (t - self.start) / self.step
        i = jnp.clip(jnp.floor(s).astype(jnp.int32), 0, n - 1)
        frac = s - i
        return self.ws[i] + frac * (self.ws[i + 1] - self.ws[i]), i

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        del left
        if t1 is None:
            return self._at(t0)[0]
        w0, _ = self._at(t0)
        w1, _ = self._at(t1)
        dw = w1 - w0
        if not use_levy:
            return dw
        dt = jnp.asarray(t1 - t0, dw.dtype)
        if self.levy_area is dfx.SpaceTimeLevyArea:
            n = self.ws.shape[0] - 1
            mid = jnp.clip(jnp.floor((0.5 * (t0 + t1) - self.start) / self.step).astype(jnp.int32), 0, n - 1)
            return dfx.SpaceTimeLevyArea(dt=dt, W=dw, H=self.hs[mid])
        return dfx.BrownianIncrement(dt=dt, W=dw)


def step_normals(key, n_steps: int, k: int):
    """The standard normals (n_steps * k,) behind a grid's increments: step i's ``k`` draws at ``i * k``
    (the increments are ``sqrt(h)`` times them).  One definition of which draws a key gives, for
    :func:`grid_brownian` and the latent SDE's batched Euler-Maruyama."""
    return jr.normal(jr.split(key)[0], (n_steps * k,))


def grid_brownian(key, t0: float, h: float, n_steps: int, k: int, levy_area) -> GridBrownian:
    """Sample a :class:`GridBrownian` of ``k`` independent motions over ``n_steps`` steps of ``h``."""
    key_h = jr.split(key)[1]
    dw = step_normals(key, n_steps, k).reshape(n_steps, k) * jnp.sqrt(h)
    ws = jnp.concatenate([jnp.zeros((1, k)), jnp.cumsum(dw, axis=0)])
    if levy_area is dfx.SpaceTimeLevyArea:
        hs = jr.normal(key_h, (n_steps, k)) * jnp.sqrt(h / 12)
    else:
        hs = jnp.zeros((n_steps, k))
    return GridBrownian(start=t0, step=h, ws=ws, hs=hs, levy_area=levy_area)
