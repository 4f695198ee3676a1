"""Using trained latent-ODE weights: encode series, decode latent paths, sample the prior."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .elbo import decode, first_times, noise_sigma
from .nets import nets_from_weights

__all__ = ["encode", "reconstruct", "sample_prior", "noise_std"]


@eqx.filter_jit
def _encode(nets, T, Y, M):
    return jax.vmap(nets.encoder)(T, Y, M)


@eqx.filter_jit
def _decode(nets, z0, t0, ts, cfg, backward=False):
    return decode(nets, z0, t0, ts, cfg, backward=backward)


def encode(cfg, weights, T, Y, M):
    """Posterior mean and std of z0, (B, K) each, and each series' first observed time (B,)."""
    nets = nets_from_weights(cfg, Y.shape[-1], weights)
    mean, std = _encode(nets, jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M))
    return np.asarray(mean), np.asarray(std), np.asarray(first_times(jnp.asarray(T), jnp.asarray(M)))


def reconstruct(cfg, weights, n_obs: int, z0, t0, ts) -> np.ndarray:
    """Decoded means (S, B, Lq, D) from z0 (S, B, K) at t0 (B,), saved at ts (B, Lq) (scaled units).

    Save times before t0 are reached by solving backwards from t0.
    """
    nets = nets_from_weights(cfg, n_obs, weights)
    backward = bool(np.any(np.asarray(ts) < np.asarray(t0)[:, None]))
    return np.asarray(_decode(nets, jnp.asarray(z0), jnp.asarray(t0), jnp.asarray(ts), cfg, backward))


def sample_prior(cfg, weights, n_obs: int, t, n: int, seed: int, noise: bool) -> np.ndarray:
    """``n`` trajectories (n, Lq, D) at scaled times t (Lq,) from z0 ~ N(0, I) at t[0]."""
    nets = nets_from_weights(cfg, n_obs, weights)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    z0 = jax.random.normal(k1, (n, 1, cfg.n_latent), dtype=jnp.float64)
    t = jnp.asarray(t)
    x = _decode(nets, z0, t[:1], t[None, :], cfg)[:, 0]
    if noise:
        x = x + noise_sigma(nets, cfg) * jax.random.normal(k2, x.shape, dtype=x.dtype)
    return np.asarray(x)


def noise_std(cfg, weights, n_obs: int) -> np.ndarray:
    """(D,) observation noise std in scaled units."""
    return np.asarray(noise_sigma(nets_from_weights(cfg, n_obs, weights), cfg))
