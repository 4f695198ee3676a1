"""Latent SDE on jax: networks, the ELBO with the path-space KL, prior samples and posterior predictions.

The model (after Li, Wong, Chen & Duvenaud 2020, "Scalable gradients for
stochastic differential equations"): z0 ~ q(z0 | series); the posterior path
follows ``dz = f_post(z, c(t)) dt + g(z) dW`` where the context c(t) is the
backwards encoder's state at the first observation at or after t; the prior
follows ``dz = f_prior(z) dt + g(z) dW`` with the same diagonal diffusion g.
By Girsanov the KL between the two path measures is
``E int 0.5 |(f_post - f_prior) / g|^2 dt``; it is integrated along the solve as
one extra state.  After a series' last observation the posterior drift is the
prior's (nothing more is known), so the extra state stops growing there and
predictions beyond the data follow the prior.

Every solve is Ito Euler-Maruyama with a fixed step: diffrax's Euler stepper on
an ODE term plus a control term, unrolled by a scan (the cheapest step per drift
evaluation; the ELBO's gradient needs many short solves, not high order; a fixed
step count stores every step for the reverse pass), on Brownian increments drawn
once on the step grid (:mod:`pysciml.engines.jax.sde.brownian`).  Shapes as in
:mod:`.elbo`.
"""

from __future__ import annotations

import dataclasses
import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np

from ..sde.brownian import grid_brownian
from .elbo import first_times, gaussian_kl, gaussian_loglik, last_times, noise_sigma
from .nets import Encoder, build_decoder, build_encoder, decode_paths, initial_log_sigma, joined, nets_from_weights

__all__ = [
    "LatentSDENets",
    "build_sde_nets",
    "sde_elbo_terms",
    "with_span",
    "fitted_to",
    "encode",
    "sample_prior",
    "predict",
    "noise_std",
]

_MIN_DIFFUSION = 1e-3


class LatentSDENets(eqx.Module):
    """Encoder (with a context head), posterior and prior drifts, diagonal diffusion, decoder, noise std,
    and the prior of z0 (a learned diagonal Gaussian: the series' starts need not be spread as N(0, I))."""

    encoder: Encoder
    context: eqx.nn.Linear
    posterior: eqx.nn.MLP
    prior: eqx.nn.MLP
    diffusion: eqx.Module | jax.Array
    decoder: eqx.Module
    log_sigma: jax.Array
    z0_mean: jax.Array
    z0_log_std: jax.Array

    def g(self, z):
        """(K,) positive diagonal diffusion at z."""
        if isinstance(self.diffusion, eqx.nn.MLP):
            return jax.nn.softplus(self.diffusion(z)) + _MIN_DIFFUSION
        assert isinstance(self.diffusion, jax.Array)  # one learned log constant per latent dim
        return jnp.exp(self.diffusion) + 0.0 * z


def build_sde_nets(cfg, n_obs: int, key) -> LatentSDENets:
    """Fresh networks for a :class:`~pysciml.engines.requests.LatentSDEConfig` and ``n_obs`` states."""
    k1, k2, k3, k4, k5, k6, k7, k8 = jax.random.split(key, 8)
    K, C, H, n_c = cfg.n_latent, cfg.context_size, cfg.ode_hidden, cfg.n_condition

    def drift(n_in, k):
        mlp = eqx.nn.MLP(n_in, K, H, 2, activation=jnp.tanh, key=k)
        return eqx.tree_at(lambda m: m.layers[-1].weight, mlp, mlp.layers[-1].weight * 0.1)

    g0 = np.log(0.3)  # starting diffusion ~0.3 per latent dim (scaled units)
    if cfg.diffusion_hidden > 0:
        diff = eqx.nn.MLP(K, K, cfg.diffusion_hidden, 1, activation=jnp.tanh, key=k6)
        diff = eqx.tree_at(lambda m: m.layers[-1].weight, diff, diff.layers[-1].weight * 0.1)
        bias = float(np.log(np.expm1(0.3)))  # softplus(bias) = 0.3
        diff = eqx.tree_at(lambda m: m.layers[-1].bias, diff, jnp.full((K,), bias))
    else:
        diff = jnp.full((K,), g0)
    return LatentSDENets(
        build_encoder(cfg, n_obs, (k1, k2, k3)),
        eqx.nn.Linear(cfg.encoder_hidden, C, key=k4),
        drift(K + C + n_c, k5),
        drift(K + n_c, k7),
        diff,
        build_decoder(cfg, n_obs, k8),
        initial_log_sigma(n_obs),
        jnp.zeros(K),
        jnp.zeros(K),
    )


def grid(cfg) -> tuple[int, float]:
    """Fixed steps ``(n_steps, h = cfg.dt)`` covering ``cfg.span`` (the same grid for every span)."""
    return max(1, math.ceil(cfg.span / cfg.dt - 1e-9)), float(cfg.dt)


def with_span(cfg, span: float, *, round_up: bool = True):
    """``cfg`` covering ``span`` scaled time units (``round_up``: to a multiple of 16 steps, fewer
    compilations for queries; training and evaluation use the data's span)."""
    span = max(float(span), cfg.dt)
    if round_up:
        span = 16 * math.ceil(span / cfg.dt / 16 - 1e-9) * cfg.dt
    return dataclasses.replace(cfg, span=span)


def fitted_to(cfg, T, M):
    """``cfg`` with a span covering every padded series of T (B, L), M (B, L, D) from its first observation."""
    T, M = jnp.asarray(T), jnp.asarray(M)
    return with_span(cfg, float(jnp.max(T[:, -1] - first_times(T, M))), round_up=False)


def _solve(nets: LatentSDENets, z0, t0, ctx_t, ctx, t_last, save_s, key, cfg, posterior: bool, cond=None):
    """One path from z0 at t0: latent states (L, K) at t0 + save_s and the path KL up to t_last.

    ctx_t (L,) times of the context rows ctx (L, C); the posterior drift reads the row of the first
    time >= t and is used up to t_last (after it, and everywhere with posterior=False, the prior's).
    cond: the series' scaled condition (n_c,), read by both drifts, or None.
    """
    n, h = grid(cfg)
    K = z0.shape[0]

    def drift(s, y, args):
        z = y[:K]
        fp = nets.prior(joined(z, cond))
        if not posterior:
            return jnp.concatenate([fp, jnp.zeros(1, z.dtype)])
        t = t0 + s
        row = jnp.clip(jnp.searchsorted(ctx_t, t), 0, ctx_t.shape[0] - 1)
        fq = nets.posterior(joined(jnp.concatenate([z, ctx[row]]), cond))
        fq = jnp.where(t <= t_last, fq, fp)
        u = (fq - fp) / nets.g(z)
        return jnp.concatenate([fq, 0.5 * jnp.sum(u**2)[None]])

    def diffusion(s, y, args):
        return lx.DiagonalLinearOperator(jnp.concatenate([nets.g(y[:K]), jnp.zeros(1, y.dtype)]))

    path = grid_brownian(key, 0.0, h, n, K + 1, dfx.BrownianIncrement)
    terms = dfx.MultiTerm(dfx.ODETerm(drift), dfx.ControlTerm(diffusion, path))
    solver = dfx.Euler()  # on an ODE term plus a control term: Ito Euler-Maruyama
    y0 = jnp.concatenate([z0, jnp.zeros(1, z0.dtype)])

    def step(y, i):
        s0 = i * h
        y1, _, _, _, _ = solver.step(terms, s0, s0 + h, y, None, None, made_jump=False)
        return y1, y1

    # diffrax's stepper on the fixed grid, unrolled by scan (a fixed step count: no solve loop to
    # checkpoint, so the reverse pass reads the stored steps)
    _, ys = jax.lax.scan(step, y0, jnp.arange(n, dtype=z0.dtype))
    ys = jnp.concatenate([y0[None], ys])  # (n + 1, K + 1) at s = 0, h, ..., n h
    # save times between grid points: linear interpolation (Euler's dense output)
    pos = jnp.clip(save_s, 0.0, n * h) / h
    i0 = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, n - 1)
    w = (pos - i0)[:, None]
    saved = ys[i0] * (1 - w) + ys[i0 + 1] * w
    return saved[:, :K], ys[-1, K]


def _posterior_paths(nets, t, y, m, ts, z0, keys, cfg, cond=None):
    """Posterior paths decoded at ts (B, Lq) from z0 (S, B, K): ``(x (S, B, Lq, D), path KL (S, B))``.

    cond: (B, n_c) scaled conditions, or None.
    """
    hs = jax.vmap(nets.encoder.states)(t, y, m, cond)  # (B, L, H)
    ctx = jax.vmap(jax.vmap(nets.context))(hs)  # (B, L, C)
    t0, t_last = first_times(t, m), last_times(t, m)

    def one(z, a, ct, c, b, s, k, ci):
        return _solve(nets, z, a, ct, c, b, s - a, k, cfg, True, ci)

    zs, kl = jax.vmap(lambda z, k: jax.vmap(one)(z, t0, t, ctx, t_last, ts, k, cond))(z0, keys)
    x = decode_paths(nets.decoder, zs, cond)
    return x, kl


def _q0(nets, t, y, m, cond=None):
    hs = jax.vmap(nets.encoder.states)(t, y, m, cond)
    return jax.vmap(nets.encoder.posterior)(hs[:, 0])


def sde_elbo_terms(nets: LatentSDENets, t, y, m, key, cfg, n_samples: int = 1, c=None):
    """Per-series Monte-Carlo log-likelihood and KL (initial state, closed form, + path, Monte Carlo).

    Returns:
        dict of (B,) arrays ``loglik``, ``kl``, ``kl_path``, and ``mean``/``std`` (B, K) of q(z0).
    """
    mean, std = _q0(nets, t, y, m, c)
    k_eps, k_w = jax.random.split(key)
    z0 = mean + std * jax.random.normal(k_eps, (n_samples,) + mean.shape, dtype=mean.dtype)
    keys = jax.random.split(k_w, n_samples * mean.shape[0]).reshape(n_samples, mean.shape[0], -1)
    x, kl_path = _posterior_paths(nets, t, y, m, t, z0, keys, cfg, c)
    ll = gaussian_loglik(x, y, m, noise_sigma(nets, cfg))
    kl_path = kl_path.mean(axis=0)
    kl0 = gaussian_kl(mean, std, nets.z0_mean, jnp.exp(nets.z0_log_std))
    return {"loglik": ll, "kl": kl0 + kl_path, "kl_path": kl_path, "mean": mean, "std": std}


def _nets(cfg, n_obs, weights):
    return nets_from_weights(cfg, n_obs, weights, build=build_sde_nets)


def _array(C):
    return None if C is None else jnp.asarray(C)


@eqx.filter_jit
def _encode(nets, T, Y, M, C=None):
    return _q0(nets, T, Y, M, C)


def encode(cfg, weights, T, Y, M, C=None):
    """Posterior mean and std of z0, (B, K) each, and each series' first observed time (B,).

    C: (B, n_c) scaled conditions of a conditional model, else None (likewise below).
    """
    nets = _nets(cfg, Y.shape[-1], weights)
    mean, std = _encode(nets, jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M), _array(C))
    return np.asarray(mean), np.asarray(std), np.asarray(first_times(jnp.asarray(T), jnp.asarray(M)))


@eqx.filter_jit
def _prior(nets, z0, ts, keys, cfg, C=None):
    def one(z, k, c):
        zs, _ = _solve(nets, z, ts[0], ts, ts[:, None], ts[0], ts - ts[0], k, cfg, False, c)
        return jax.vmap(lambda zi: nets.decoder(joined(zi, c)))(zs)  # pyright: ignore[reportCallIssue]

    return jax.vmap(one)(z0, keys, C)


def sample_prior(cfg, weights, n_obs: int, t, n: int, seed: int, noise: bool, C=None) -> np.ndarray:
    """``n`` paths (n, Lq, D) at scaled times t (Lq,) from z0 ~ p(z0) at t[0] under the prior SDE."""
    t = np.asarray(t, float)
    cfg = with_span(cfg, t[-1] - t[0])
    nets = _nets(cfg, n_obs, weights)
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    eps = jax.random.normal(k1, (n, cfg.n_latent), dtype=jnp.float64)
    z0 = nets.z0_mean + jnp.exp(nets.z0_log_std) * eps
    x = _prior(nets, z0, jnp.asarray(t), jax.random.split(k2, n), cfg, _array(C))
    if noise:
        x = x + noise_sigma(nets, cfg) * jax.random.normal(k3, x.shape, dtype=x.dtype)
    return np.asarray(x)


@eqx.filter_jit
def _predict(nets, T, Y, M, ts, key, cfg, n_samples, C=None):
    mean, std = _q0(nets, T, Y, M, C)
    k_eps, k_w = jax.random.split(key)
    z0 = mean + std * jax.random.normal(k_eps, (n_samples,) + mean.shape, dtype=mean.dtype)
    keys = jax.random.split(k_w, n_samples * mean.shape[0]).reshape(n_samples, mean.shape[0], -1)
    return _posterior_paths(nets, T, Y, M, ts, z0, keys, cfg, C)[0]


def predict(cfg, weights, n_obs: int, T, Y, M, ts, n_samples: int, seed: int, C=None) -> np.ndarray:
    """Decoded posterior paths (S, B, Lq, D) at scaled times ts (B, Lq) >= each series' first time."""
    T, ts = np.asarray(T, float), np.asarray(ts, float)
    t0 = np.asarray(first_times(jnp.asarray(T), jnp.asarray(M)))
    cfg = with_span(cfg, float(np.max(ts.max(axis=1) - t0)))
    nets = _nets(cfg, n_obs, weights)
    args = (jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M), jnp.asarray(ts), jax.random.PRNGKey(seed))
    return np.asarray(_predict(nets, *args, cfg, n_samples, _array(C)))


def noise_std(cfg, weights, n_obs: int) -> np.ndarray:
    """(D,) observation noise std in scaled units."""
    return np.asarray(noise_sigma(_nets(cfg, n_obs, weights), cfg))
