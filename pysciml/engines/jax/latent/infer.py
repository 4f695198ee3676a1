"""Using trained latent-ODE weights: encode series, decode latent paths, sample the prior."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .elbo import decode, first_times, noise_sigma
from .nets import nets_from_weights

__all__ = ["encode", "reconstruct", "sample_prior", "noise_std"]


def _array(C):
    return None if C is None else jnp.asarray(C)


@eqx.filter_jit
def _encode(nets, T, Y, M, C=None):
    return jax.vmap(nets.encoder)(T, Y, M, C)


@eqx.filter_jit
def _decode(nets, z0, t0, ts, cfg, backward=False, C=None):
    return decode(nets, z0, t0, ts, cfg, backward=backward, c=C)


def encode(cfg, weights, T, Y, M, C=None):
    """Posterior mean and std of z0, (B, K) each, and each series' first observed time (B,).

    C: (B, n_c) scaled conditions of a conditional model, else None (likewise below).
    """
    nets = nets_from_weights(cfg, Y.shape[-1], weights)
    mean, std = _encode(nets, jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M), _array(C))
    return np.asarray(mean), np.asarray(std), np.asarray(first_times(jnp.asarray(T), jnp.asarray(M)))


def reconstruct(cfg, weights, n_obs: int, z0, t0, ts, C=None) -> np.ndarray:
    """Decoded means (S, B, Lq, D) from z0 (S, B, K) at t0 (B,), saved at ts (B, Lq) (scaled units).

    Save times before t0 are reached by solving backwards from t0.
    """
    nets = nets_from_weights(cfg, n_obs, weights)
    backward = bool(np.any(np.asarray(ts) < np.asarray(t0)[:, None]))
    return np.asarray(_decode(nets, jnp.asarray(z0), jnp.asarray(t0), jnp.asarray(ts), cfg, backward, _array(C)))


def sample_prior(cfg, weights, n_obs: int, t, n: int, seed: int, noise: bool, C=None) -> np.ndarray:
    """``n`` trajectories (n, Lq, D) at scaled times t (Lq,) from z0 ~ N(0, I) at t[0] (C: (n, n_c) or None)."""
    nets = nets_from_weights(cfg, n_obs, weights)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    z0 = jax.random.normal(k1, (n, 1, cfg.n_latent), dtype=jnp.float64)
    t = jnp.asarray(t)
    if C is None:
        x = _decode(nets, z0, t[:1], t[None, :], cfg)[:, 0]
    else:  # each sample a series of its own condition
        x = _decode(nets, z0[:, 0][None], jnp.full(n, t[0]), jnp.broadcast_to(t, (n, t.size)), cfg, C=_array(C))[0]
    if noise:
        x = x + noise_sigma(nets, cfg) * jax.random.normal(k2, x.shape, dtype=x.dtype)
    return np.asarray(x)


def noise_std(cfg, weights, n_obs: int) -> np.ndarray:
    """(D,) observation noise std in scaled units."""
    return np.asarray(noise_sigma(nets_from_weights(cfg, n_obs, weights), cfg))
