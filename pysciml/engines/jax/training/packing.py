"""The trainable parameter pytree of a fit and how it maps back to model values."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ....training.losses import GaussianNLL, from_unconstrained
from ...requests import FitRequest

__all__ = ["Packing"]


class Packing:
    """``theta`` = ``{"phys": {name: z}, "nets": {name: w}, "u0": (n_traj, n)[, "log_sigma": (n,)]}``.

    Physics parameters live in an unconstrained space (bounds through smooth
    transforms); initial-state entries that are not fitted are replaced by their
    given values, so their gradient is zero.
    """

    def __init__(self, problem: FitRequest):
        self.problem = problem
        self.u0_init = jnp.asarray(problem.u0_init)
        self.u0_free = jnp.asarray(problem.u0_free)
        self.fixed = {k: jnp.asarray(v) for k, v in problem.fixed.items()}
        self.frozen_nets = {
            k: jnp.asarray(v) for k, v in problem.networks_init.items() if k not in problem.free_networks
        }
        self.fit_sigma = isinstance(problem.loss, GaussianNLL) and isinstance(problem.loss.sigma, str)

    def theta0(self) -> dict:
        p = self.problem
        theta = {
            "phys": {f.name: jnp.asarray(f.z0, jnp.float64) for f in p.free},
            "nets": {k: jnp.asarray(p.networks_init[k], jnp.float64) for k in p.free_networks},
            "u0": jnp.asarray(p.u0_init, jnp.float64),
        }
        if self.fit_sigma:
            theta["log_sigma"] = jnp.log(0.1 * jnp.ones(p.scales.shape[0]))
        return theta

    def unpack(self, theta):
        """``(values, nets, u0)``: physics values by name, network weights, initial states."""
        values = dict(self.fixed)
        for f in self.problem.free:
            values[f.name] = from_unconstrained(theta["phys"][f.name], f.bounds, jnp)
        nets = dict(self.frozen_nets)
        nets.update(theta["nets"])
        u0 = jnp.where(self.u0_free, theta["u0"], self.u0_init)
        return values, nets, u0

    def sigma(self, theta):
        """Noise level per state in scaled units (GaussianNLL), or None for MSE."""
        loss = self.problem.loss
        if not isinstance(loss, GaussianNLL):
            return None
        if self.fit_sigma:
            return jnp.exp(theta["log_sigma"])
        sig = np.broadcast_to(np.asarray(loss.sigma, dtype=float), self.problem.scales.shape)
        return jnp.asarray(sig / self.problem.scales)

    def to_numpy(self, theta) -> tuple[dict, dict, np.ndarray]:
        values, nets, u0 = self.unpack(theta)
        return (
            {k: np.asarray(v) for k, v in values.items()},
            {k: np.asarray(v) for k, v in nets.items()},
            np.asarray(u0),
        )
