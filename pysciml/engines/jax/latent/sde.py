"""Latent SDE on jax: networks, the ELBO with the path-space KL, prior samples and posterior predictions.

The model (after Li, Wong, Chen & Duvenaud 2020, "Scalable gradients for
stochastic differential equations"): z0 ~ q(z0 | series); the posterior path
follows ``dz = f_post(z, c(t)) dt + g(z) dW`` where the context c(t) is the
backwards encoder's state at the first observation at or after t; the prior
follows ``dz = f_prior(z) dt + g(z) dW`` with the same diagonal diffusion g.
By Girsanov the KL between the two path measures is
``E int 0.5 |(f_post - f_prior) / g|^2 dt``; it is integrated along the solve as
one extra quantity.  After a series' last observation the posterior drift is the
prior's (nothing more is known), so the KL stops growing there and
predictions beyond the data follow the prior.

Every solve is Ito Euler-Maruyama with a fixed step (the cheapest step per drift
evaluation; the ELBO's gradient needs many short solves, not high order; a fixed
step count stores every step for the reverse pass), on the Brownian increments
of :func:`pysciml.engines.jax.sde.brownian.grid_brownian` drawn once on the step
grid.  The step is diffrax's Euler on an ODE term plus a diagonal control term
(``z + (f h + g dW)``), written out on all paths of a batch at once, inside one
scan: each drift layer is then one batched matmul per step, the posterior and
prior drifts one network of twice the width, and the parts of the drift's input
fixed along a step (context, condition) are multiplied in before the solve.
Shapes as in :mod:`.elbo`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..sde.brownian import step_normals
from .elbo import first_times, gaussian_kl, gaussian_loglik, last_times, noise_sigma
from .nets import Encoder, build_decoder, build_encoder, decode_paths, initial_log_sigma, nets_from_weights

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


#: q(z0)'s starting std (scaled units). With the encoder head's default initialisation the std starts
#: at softplus(+-0.5) ~ 0.5-1: z0 samples that noisy teach the decoder to ignore z0 and the fit can
#: collapse onto the observation noise (ELBO ~ -35 against ~ +16 nats per series on the oscillator
#: family of tests/test_latent_sde.py). Starting at 0.1, fit seeds 0-11 collapsed 4 times, not 8
#: (measured; docs/latent.md)
Q0_START_STD = 0.1


def _bias(layer: eqx.nn.Linear) -> jax.Array:
    """A linear layer's bias (every layer of these networks has one)."""
    assert layer.bias is not None
    return layer.bias


def _narrow_start(encoder: Encoder, K: int) -> Encoder:
    """``encoder`` whose q(z0) std starts near :data:`Q0_START_STD` (std half of its head: weights x0.1, bias
    at the softplus inverse of the std); the mean half is left as initialised."""
    head = encoder.head
    weight = head.weight.at[K:].multiply(0.1)
    bias = _bias(head).at[K:].set(float(np.log(np.expm1(Q0_START_STD))))
    return eqx.tree_at(lambda e: (e.head.weight, e.head.bias), encoder, (weight, bias))


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
        _narrow_start(build_encoder(cfg, n_obs, (k1, k2, k3)), K),
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


def _normals(keys, n: int, k: int):
    """Standard normal draws (P, n * k) behind the Brownian increments of P paths, one key each (keys (P, 2)).

    Row p, entries ``i * k : i * k + k``: step i's draws of :func:`~pysciml.engines.jax.sde.brownian.grid_brownian`
    with key p and k motions (the increments are ``sqrt(h)`` times them).  Drawn flat per path (the same
    numbers as an (n, k) draw) and read by the steps where they lie: a reshaped or transposed draw
    makes XLA convert the random bits to normals in a strided order (measured 2.5x slower).
    """
    return jax.vmap(lambda key: step_normals(key, n, k))(keys)


class _Drift(NamedTuple):
    """A two-hidden-layer tanh MLP of z split from the rest of its input: ``out = W3 tanh(W2 tanh(Wz z + e) + b2) + b3``.

    ``e`` holds the first layer's bias and its product with the inputs that do not change along a
    step (context, condition), computed for every step at once outside the solve.  The posterior and
    prior drifts run as one such network of twice the width (block-diagonal W2, W3; exact zeros
    off the blocks): a step then costs three matmuls, not six.
    """

    wz: jax.Array  # (H', K)
    w2: jax.Array  # (H', H')
    b2: jax.Array  # (H',)
    w3: jax.Array  # (K', H')
    b3: jax.Array  # (K',)

    def __call__(self, z, e):
        """z (P, K), e (P, H') -> (P, K')."""
        a = jnp.tanh(z @ self.wz.T + e)
        a = jnp.tanh(a @ self.w2.T + self.b2)
        return a @ self.w3.T + self.b3


def _split_first(mlp: eqx.nn.MLP, K: int, parts):
    """(Wz (H, K), e) of a drift MLP whose input is [z (K), *parts]: e = b1 + sum of W_part @ part.

    parts: arrays (..., width) in input order (None entries skipped); e broadcasts over their leading axes.
    """
    w, e, at = mlp.layers[0].weight, _bias(mlp.layers[0]), K
    for part in parts:
        if part is not None:
            e = e + part @ w[:, at : at + part.shape[-1]].T
            at += part.shape[-1]
    return w[:, :K], e


def _prior_drift(nets: LatentSDENets, K: int, cond=None):
    """The prior drift as a :class:`_Drift` and its e (P, H) (cond: (P, n_c) or None)."""
    layers = nets.prior.layers
    wz, e = _split_first(nets.prior, K, [cond])
    return _Drift(wz, layers[1].weight, _bias(layers[1]), layers[2].weight, _bias(layers[2])), e


def _paired_drift(nets: LatentSDENets, K: int, ctx, cond=None):
    """The posterior and prior drifts as one :class:`_Drift` (outputs [f_post, f_prior]) and its e (..., 2H).

    ctx (..., C) the context each step reads; cond (..., n_c) broadcasting against it, or None.
    """
    q, p = nets.posterior.layers, nets.prior.layers
    wq, eq = _split_first(nets.posterior, K, [ctx, cond])
    wp, ep = _split_first(nets.prior, K, [cond])
    e = jnp.concatenate([eq, jnp.broadcast_to(ep, eq.shape[:-1] + ep.shape[-1:])], axis=-1)
    block = jax.scipy.linalg.block_diag
    drift = _Drift(
        jnp.concatenate([wq, wp]),
        block(q[1].weight, p[1].weight),
        jnp.concatenate([_bias(q[1]), _bias(p[1])]),
        block(q[2].weight, p[2].weight),
        jnp.concatenate([_bias(q[2]), _bias(p[2])]),
    )
    return drift, e


def _euler_maruyama(nets: LatentSDENets, drift: _Drift, z0, normals, k: int, h: float, e, live=None):
    """Ito Euler-Maruyama of P paths at once: latent states (n + 1, P, K) on the grid, and each path KL (P,).

    z0 (P, K); normals (P, n * k) from :func:`_normals` (k >= K: the first K of step i's k, times
    sqrt(h), are its Brownian increments); prior paths (live None): ``drift`` the prior's,
    e (P, H) or (H,) its fixed input.  Posterior paths: ``drift`` the paired one, e (n, P, 2H) its input at
    each step, live (n, P) bool whether the step starts at or before the series' last observation
    (there the posterior drift is used, after it the prior's).

    Each step is ``z + (f h + g dW)`` with ``f`` the drift at the step's start (diffrax's Euler on an
    ODE term plus a diagonal control term, written out on the batch of paths: a few batched matmuls
    per step instead of a vmapped solver per path).  The KL accumulates ``0.5 |(f_post - f_prior) /
    g|^2 h`` (0 for prior paths).
    """
    K = z0.shape[1]
    g_of = jax.vmap(nets.g)
    sqrt_h = jnp.sqrt(h)

    def step(carry, row):
        z, kl = carry
        g = g_of(z)
        if live is None:
            (i,) = row
            f = drift(z, e)
        else:
            i, e_i, alive = row
            out = drift(z, e_i)
            fq, fp = out[:, :K], out[:, K:]
            f = jnp.where(alive[:, None], fq, fp)
            u = (f - fp) / g
            kl = kl + 0.5 * jnp.sum(u**2, axis=-1) * h
        d = jax.lax.dynamic_slice_in_dim(normals, i * k, K, axis=1) * sqrt_h
        z = z + (f * h + g * d)
        return (z, kl), z

    steps = jnp.arange(normals.shape[1] // k)
    rows = (steps,) if live is None else (steps, e, live)
    # under differentiation, only the matmuls' outputs are kept for the reverse pass; the elementwise
    # rest is recomputed there (fewer stored slices per step: measured ~20% faster gradients)
    step = jax.checkpoint(step, policy=jax.checkpoint_policies.dots_saveable)
    (_, kl), zs = jax.lax.scan(step, (z0, jnp.zeros(z0.shape[0], z0.dtype)), rows)
    return jnp.concatenate([z0[None], zs]), kl


def _at(zs, save_s, h: float):
    """Latent states at save_s (P, Lq) (time since each path's start) from the grid zs (n + 1, P, K): (P, Lq, K).

    Between grid points: linear interpolation (Euler's dense output).
    """
    n = zs.shape[0] - 1
    pos = jnp.clip(save_s, 0.0, n * h) / h
    i0 = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, n - 1)
    w = (pos - i0)[..., None]
    paths = jnp.arange(zs.shape[1])[:, None]
    return zs[i0, paths] * (1 - w) + zs[i0 + 1, paths] * w


def _posterior_paths(nets, t, m, hs, ts, z0, keys, cfg, cond=None):
    """Posterior paths decoded at ts (B, Lq) from z0 (S, B, K): ``(x (S, B, Lq, D), path KL (S, B))``.

    hs: (B, L, H) the encoder's states of the series t (B, L), m (B, L, D); keys (S, B, 2) one per path;
    cond: (B, n_c) scaled conditions, or None.
    """
    S, B, K = z0.shape
    n, h = grid(cfg)
    ctx = jax.vmap(jax.vmap(nets.context))(hs)  # (B, L, C)
    t0, t_last = first_times(t, m), last_times(t, m)
    # the context row each step reads: that of the first time >= the step's start (steps on s = 0, h, ...)
    ts_step = t0[:, None] + jnp.arange(n, dtype=z0.dtype) * h  # (B, n)
    rows = jnp.clip(jax.vmap(jnp.searchsorted)(t, ts_step), 0, t.shape[1] - 1)
    # picked by a one-hot product (exact): its transpose in the gradient is a product too, where a
    # gather's would be a scatter-add (slow on CPU)
    pick = (rows[:, :, None] == jnp.arange(t.shape[1])).astype(ctx.dtype)  # (B, n, L)
    drift, e = _paired_drift(nets, K, jnp.einsum("bnl,blc->bnc", pick, ctx), None if cond is None else cond[:, None])
    live = ts_step <= t_last[:, None]

    def per_path(a):  # (B, ...) -> (n, S * B, ...): paths ordered sample-major, steps first
        a = jnp.swapaxes(a, 0, 1)
        return jnp.broadcast_to(a[:, None], (a.shape[0], S) + a.shape[1:]).reshape((a.shape[0], S * B) + a.shape[2:])

    P = S * B
    normals = _normals(keys.reshape(P, -1), n, K + 1)
    zs, kl = _euler_maruyama(nets, drift, z0.reshape(P, K), normals, K + 1, h, per_path(e), per_path(live))
    save_s = jnp.broadcast_to(ts - t0[:, None], (S,) + ts.shape).reshape(P, -1)
    x = decode_paths(nets.decoder, _at(zs, save_s, h).reshape((S, B) + save_s.shape[1:] + (K,)), cond)
    return x, kl.reshape(S, B)


def _states(nets, t, y, m, cond=None):
    """The encoder's states (B, L, H) of each series (row i: the series from t[i] on)."""
    return jax.vmap(nets.encoder.states)(t, y, m, cond)


def _q0_of(nets, hs):
    """q(z0)'s mean and std (B, K) from the encoder's states hs (B, L, H)."""
    return jax.vmap(nets.encoder.posterior)(hs[:, 0])


def _z0_and_keys(mean, std, key, n_samples: int):
    """z0 (S, B, K) drawn from q(z0) = N(mean, std^2) and one Brownian key per path (S, B, 2)."""
    k_eps, k_w = jax.random.split(key)
    z0 = mean + std * jax.random.normal(k_eps, (n_samples,) + mean.shape, dtype=mean.dtype)
    keys = jax.random.split(k_w, n_samples * mean.shape[0]).reshape(n_samples, mean.shape[0], -1)
    return z0, keys


def sde_elbo_terms(nets: LatentSDENets, t, y, m, key, cfg, n_samples: int = 1, c=None):
    """Per-series Monte-Carlo log-likelihood and KL (initial state, closed form, + path, Monte Carlo).

    Returns:
        dict of (B,) arrays ``loglik``, ``kl``, ``kl_path``, and ``mean``/``std`` (B, K) of q(z0).
    """
    hs = _states(nets, t, y, m, c)  # read once: q(z0) and the posterior drift's context
    mean, std = _q0_of(nets, hs)
    z0, keys = _z0_and_keys(mean, std, key, n_samples)
    x, kl_path = _posterior_paths(nets, t, m, hs, t, z0, keys, cfg, c)
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
    return _q0_of(nets, _states(nets, T, Y, M, C))


def encode(cfg, weights, T, Y, M, C=None):
    """Posterior mean and std of z0, (B, K) each, and each series' first observed time (B,).

    C: (B, n_c) scaled conditions of a conditional model, else None (likewise below).
    """
    nets = _nets(cfg, Y.shape[-1], weights)
    mean, std = _encode(nets, jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M), _array(C))
    return np.asarray(mean), np.asarray(std), np.asarray(first_times(jnp.asarray(T), jnp.asarray(M)))


@functools.partial(jax.jit, static_argnums=(0, 1, 4, 5))
def _sample(cfg, n_obs: int, weights, t, n: int, noise: bool, seed, C=None):
    """The whole of :func:`sample_prior` in one compiled call (weights: numpy arrays; seed: an integer array)."""
    nets = _nets(cfg, n_obs, weights)
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    eps = jax.random.normal(k1, (n, cfg.n_latent), dtype=t.dtype)
    z0 = nets.z0_mean + jnp.exp(nets.z0_log_std) * eps
    steps, h = grid(cfg)
    normals = _normals(jax.random.split(k2, n), steps, cfg.n_latent + 1)
    drift, e = _prior_drift(nets, cfg.n_latent, C)
    zs, _ = _euler_maruyama(nets, drift, z0, normals, cfg.n_latent + 1, h, e)
    x = decode_paths(nets.decoder, _at(zs, jnp.broadcast_to(t - t[0], (n, t.shape[0])), h)[None], C)[0]
    if noise:
        x = x + noise_sigma(nets, cfg) * jax.random.normal(k3, x.shape, dtype=x.dtype)
    return x


def sample_prior(cfg, weights, n_obs: int, t, n: int, seed: int, noise: bool, C=None) -> np.ndarray:
    """``n`` paths (n, Lq, D) at scaled times t (Lq,) from z0 ~ p(z0) at t[0] under the prior SDE."""
    t = np.asarray(t, float)
    cfg = with_span(cfg, t[-1] - t[0])
    return np.asarray(_sample(cfg, n_obs, list(weights), t, n, bool(noise), np.int64(seed), C))


@eqx.filter_jit
def _predict(nets, T, Y, M, ts, key, cfg, n_samples, C=None):
    hs = _states(nets, T, Y, M, C)
    mean, std = _q0_of(nets, hs)
    z0, keys = _z0_and_keys(mean, std, key, n_samples)
    return _posterior_paths(nets, T, M, hs, ts, z0, keys, cfg, C)[0]


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
