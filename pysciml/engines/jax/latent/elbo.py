"""Decoding latent trajectories and the evidence lower bound (ELBO) on padded, masked batches.

Shapes: B series, L padded times, D observed states, K latent dims, S posterior
samples.  Times and values are already scaled (see :mod:`pysciml.latent.data`).
"""

from __future__ import annotations

from typing import Any

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np

from .nets import LatentNets, decode_paths, diffrax_solver

__all__ = [
    "first_times",
    "last_times",
    "decode",
    "gaussian_kl",
    "gaussian_loglik",
    "noise_sigma",
    "elbo_terms",
    "batch_loss",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def first_times(t, m):
    """(B,) time of each series' first observed row (t: (B, L), m: (B, L, D))."""
    obs = m.any(axis=-1)
    return jnp.take_along_axis(t, jnp.argmax(obs, axis=1)[:, None], axis=1)[:, 0]


def last_times(t, m):
    """(B,) time of each series' last observed row (t: (B, L), m: (B, L, D))."""
    obs = m.any(axis=-1)
    last = t.shape[1] - 1 - jnp.argmax(obs[:, ::-1], axis=1)
    return jnp.take_along_axis(t, last[:, None], axis=1)[:, 0]


def _stepping(cfg, direction: float = 1.0):
    """``(dt0, controller)`` of the latent flow: fixed steps of ``cfg.dt`` (scaled time) in ``direction``,
    or adaptive steps under ``cfg.rtol``/``cfg.atol`` (diffrax picks the first)."""
    if cfg.dt is None:
        return None, dfx.PIDController(rtol=cfg.rtol, atol=cfg.atol)
    return direction * cfg.dt, dfx.ConstantStepSize()


def _solve_one(nets: LatentNets, z0, t0, t1, ts, cfg, c=None):
    """Latent path from z0 at t0 to t1, saved at ts (L,) clipped to [t0, t1] (non-decreasing): (L, K).

    c: the series' condition (n_c,) read by the vector field, or None.

    The solve ends at t1 (the last time that matters), so the adaptive steps, hence the values, do not
    depend on masked or padded save times.
    """
    t1 = jnp.maximum(t1, t0 + 1e-9)
    ts = jnp.clip(ts, t0, t1)
    dt0, controller = _stepping(cfg)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(nets.field),
        diffrax_solver(cfg.solver),
        t0,
        t1,
        dt0,
        z0,
        args=c,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=cfg.max_steps,
        throw=False,
    )
    assert sol.ys is not None  # saved at ts
    return sol.ys


def _solve_back(nets: LatentNets, z0, t0, ts, cfg, c=None):
    """Latent path from z0 at t0 backwards, saved at ts (L,) clipped to <= t0: (L, K)."""
    tb = jnp.minimum(ts[0], t0 - 1e-9)
    back = jnp.clip(ts, tb, t0)[::-1]  # non-increasing, as a backward solve saves
    dt0, controller = _stepping(cfg, -1.0)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(nets.field),
        diffrax_solver(cfg.solver),
        t0,
        tb,
        dt0,
        z0,
        args=c,
        saveat=dfx.SaveAt(ts=back),
        stepsize_controller=controller,
        max_steps=cfg.max_steps,
        throw=False,
    )
    assert sol.ys is not None  # saved at ts
    return sol.ys[::-1]


def decode(nets: LatentNets, z0, t0, ts, cfg, t1=None, backward: bool = False, c=None):
    """Decoded means at ts: z0 (..., B, K), t0 (B,), ts (B, L) -> (..., B, L, D) in scaled units.

    t1: (B,) end of each solve (default: the last of its ts); later save times get the value at t1.
    backward: also solve backwards from t0 for save times before it (else they get the value at t0).
    c: (B, n_c) scaled condition of each series (read by the vector field and the decoder), or None.
    """
    lead = z0.shape[:-2]
    zf = z0.reshape((-1,) + z0.shape[-2:])
    t1 = ts[:, -1] if t1 is None else t1

    def one(z, a, b, s, ci):
        path = _solve_one(nets, z, a, b, s, cfg, ci)
        if backward:
            path = jnp.where((s < a)[:, None], _solve_back(nets, z, a, s, cfg, ci), path)
        return path

    paths = jax.vmap(lambda z: jax.vmap(one)(z, t0, t1, ts, c))(zf)  # (S, B, L, K)
    out = decode_paths(nets.decoder, paths, c)
    return out.reshape(lead + out.shape[-3:])


def gaussian_kl(mean, std, prior_mean: Any = 0.0, prior_std: Any = 1.0):
    """KL( N(mean, diag std^2) || N(prior_mean, diag prior_std^2) ) summed over the last axis (closed form)."""
    r = std / prior_std
    return 0.5 * jnp.sum(r**2 + ((mean - prior_mean) / prior_std) ** 2 - 1.0 - 2.0 * jnp.log(r), axis=-1)


def noise_sigma(nets, cfg):
    if cfg.noise_scaled is not None:
        return jnp.asarray(cfg.noise_scaled)
    return jnp.exp(jnp.clip(nets.log_sigma, np.log(cfg.min_noise), None))


def elbo_terms(nets: LatentNets, t, y, m, key, cfg, n_samples: int = 1, c=None):
    """Per-series Monte-Carlo log-likelihood and closed-form KL.

    Args:
        t: (B, L) scaled times; y: (B, L, D) scaled values (0 where missing); m: (B, L, D) bool.
        key: PRNG key of the reparameterised z0 samples.
        n_samples: posterior samples S averaged in the likelihood.
        c: (B, n_c) scaled conditions, or None.

    Returns:
        dict of (B,) arrays: ``loglik`` (scaled units), ``kl``, and ``mean``/``std`` (B, K) of q(z0).
    """
    mean, std = jax.vmap(nets.encoder)(t, y, m, c)
    eps = jax.random.normal(key, (n_samples,) + mean.shape, dtype=mean.dtype)
    z0 = mean + std * eps
    x = decode(nets, z0, first_times(t, m), t, cfg, last_times(t, m), c=c)  # (S, B, L, D)
    ll = gaussian_loglik(x, y, m, noise_sigma(nets, cfg))
    return {"loglik": ll, "kl": gaussian_kl(mean, std), "mean": mean, "std": std}


def gaussian_loglik(x, y, m, sigma):
    """(B,) log-likelihood of the observed y (B, L, D) around decoded means x (S, B, L, D), averaged over S."""
    r = (y - x) / sigma
    point = -0.5 * r**2 - jnp.log(sigma) - 0.5 * _LOG_2PI
    return jnp.where(m, point, 0.0).sum(axis=(-1, -2)).mean(axis=0)


def batch_loss(nets, t, y, m, key, beta, cfg, n_samples: int = 1, terms_of=elbo_terms, c=None):
    """Negative annealed ELBO per observed value: -(sum loglik - beta * sum KL) / n_observed.

    ``terms_of``: the model's per-series terms (:func:`elbo_terms`, or a latent SDE's); ``c``: (B, n_c)
    conditions or None.
    """
    terms = terms_of(nets, t, y, m, key, cfg, n_samples, c)
    n_obs = jnp.maximum(m.sum(), 1)
    loss = -(terms["loglik"].sum() - beta * terms["kl"].sum()) / n_obs
    return loss, (terms["loglik"].sum() / n_obs, terms["kl"].sum() / n_obs)
