"""Training a latent ODE or SDE: Adam on the annealed negative ELBO, minibatches of padded series."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ....memory import peak_bytes
from ...requests import LatentSDEConfig
from .elbo import batch_loss, elbo_terms
from .nets import build_nets, nets_from_weights, weights_of
from .sde import build_sde_nets, fitted_to, sde_elbo_terms

__all__ = ["train", "evaluate", "parts"]


def parts(cfg):
    """``(build, terms)`` of the model ``cfg`` configures: its fresh networks and its per-series ELBO terms."""
    if isinstance(cfg, LatentSDEConfig):
        return build_sde_nets, sde_elbo_terms
    return build_nets, elbo_terms


def _for_data(cfg, T, M):
    """``cfg`` ready for the series T, M (a latent SDE's solves must cover their span)."""
    return fitted_to(cfg, T, M) if isinstance(cfg, LatentSDEConfig) else cfg


def _optimizer(opt_conf):
    """Adam with a cosine-decayed rate and gradient-norm clipping, from hashable settings (lr, steps, clip)."""
    learning_rate, steps, clip = opt_conf
    schedule = optax.cosine_decay_schedule(learning_rate, max(steps, 1), alpha=0.05)
    return optax.chain(optax.clip_by_global_norm(clip), optax.adam(schedule))


@eqx.filter_jit
def _step(params, static, opt_state, T, Y, M, idx, key, beta, cfg, n_samples, opt_conf, C=None):
    optimizer = _optimizer(opt_conf)

    def loss_fn(p):
        nets = eqx.combine(p, static)
        c = None if C is None else C[idx]
        return batch_loss(nets, T[idx], Y[idx], M[idx], key, beta, cfg, n_samples, parts(cfg)[1], c)

    (loss, (ll, kl)), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    updates, new_state = optimizer.update(grads, opt_state, params)
    return eqx.apply_updates(params, updates), new_state, loss, ll, kl


def _beta(i: int, steps: int, kl_anneal: float) -> float:
    """KL weight at step i: linear warm-up from ~0 to 1 over the first ``kl_anneal`` fraction of steps."""
    warm = kl_anneal * steps
    return 1.0 if warm < 1 else min(1.0, (i + 1) / warm)


def train(
    cfg,
    T,
    Y,
    M,
    *,
    steps: int,
    batch_size: int,
    learning_rate: float,
    kl_anneal: float,
    n_samples: int,
    seed: int,
    clip: float,
    progress: Callable | None = None,
    weights=None,
    estimate: Callable[[dict], None] | None = None,
    C=None,
):
    """Fit the networks; returns ``(weights, history, seconds)``.

    Args:
        cfg: a :class:`pysciml.latent.config.LatentConfig`.
        T, Y, M: (N, L) scaled times, (N, L, D) scaled values (0 where missing), (N, L, D) bool mask.
        C: (N, n_c) scaled condition of each series (``cfg.n_condition`` > 0), else None.
        steps: optimiser steps; batch_size: series per step (all series if >= N).
        learning_rate: peak Adam rate (cosine decay to 5% of it).
        kl_anneal: fraction of the steps over which the KL weight rises to 1.
        n_samples: posterior samples per series in each step.
        seed: PRNG seed of the initial weights, batches and samples.
        clip: global gradient-norm clip.
        progress: ``progress(n_steps_done, loss)`` called every few steps.
        weights: starting weights (default: fresh networks).
        estimate: ``estimate(info)`` called once, after the second step (the first one compiles),
            with ``compile_seconds``, ``step_seconds``, ``estimated_seconds`` (the whole run at
            that pace) and ``peak_bytes`` (this process's peak resident size so far, which the
            later steps, of the same shapes, do not raise much).
    """
    N, L, D = Y.shape
    key = jax.random.PRNGKey(seed)
    key, k_init = jax.random.split(key)
    build = parts(cfg)[0]
    cfg = _for_data(cfg, T, M)
    nets = build(cfg, D, k_init) if weights is None else nets_from_weights(cfg, D, weights, build)
    params, static = eqx.partition(nets, eqx.is_inexact_array)
    opt_conf = (float(learning_rate), int(steps), float(clip))
    opt_state = _optimizer(opt_conf).init(params)
    Tj, Yj, Mj = jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M)
    Cj = None if C is None else jnp.asarray(C)
    rng = np.random.default_rng(seed)
    B = min(batch_size, N)
    order = np.arange(N)
    pos = N
    hist: dict[str, Any] = {k: np.full(steps, np.nan) for k in ("loss", "loglik", "kl", "beta")}
    rejected = 0
    t_start = time.perf_counter()
    compile_s = 0.0
    for i in range(steps):
        if B == N:
            idx = order
        else:
            if pos + B > N:
                order, pos = rng.permutation(N), 0
            idx, pos = order[pos : pos + B], pos + B
        key, k = jax.random.split(key)
        beta = _beta(i, steps, kl_anneal)
        t0 = time.perf_counter()
        new_params, new_state, loss, ll, kl = _step(
            params, static, opt_state, Tj, Yj, Mj, jnp.asarray(idx), k, jnp.asarray(beta), cfg, n_samples, opt_conf, Cj
        )
        loss = float(loss)
        if i == 0:
            compile_s = time.perf_counter() - t0
        elif i == 1 and estimate is not None:
            step_s = time.perf_counter() - t0
            estimate(
                {
                    "compile_seconds": compile_s,
                    "step_seconds": step_s,
                    "estimated_seconds": time.perf_counter() - t_start + step_s * (steps - 2),
                    "peak_bytes": peak_bytes(),
                }
            )
        if np.isfinite(loss):
            params, opt_state = new_params, new_state
        else:
            rejected += 1
        hist["loss"][i], hist["loglik"][i], hist["kl"][i], hist["beta"][i] = loss, float(ll), float(kl), beta
        if progress is not None and ((i + 1) % 10 == 0 or i + 1 == steps):
            progress(10 if (i + 1) % 10 == 0 else (i + 1) % 10, loss)
    hist["rejected_steps"] = rejected
    hist["compile_seconds"] = compile_s
    hist["seconds"] = time.perf_counter() - t_start
    return weights_of(eqx.combine(params, static)), hist


@eqx.filter_jit
def _terms(nets, T, Y, M, key, cfg, n_samples, C=None):
    return parts(cfg)[1](nets, T, Y, M, key, cfg, n_samples, C)


def evaluate(cfg, weights, T, Y, M, *, seed: int = 0, n_samples: int = 8, C=None) -> dict[str, np.ndarray]:
    """Per-series ELBO terms (scaled units) with the KL at full weight: dict of numpy arrays (C: (B, n_c) or None)."""
    nets = nets_from_weights(cfg, Y.shape[-1], weights, parts(cfg)[0])
    cfg = _for_data(cfg, T, M)
    C = None if C is None else jnp.asarray(C)
    out = _terms(nets, jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M), jax.random.PRNGKey(seed), cfg, n_samples, C)
    return {k: np.asarray(v) for k, v in out.items()}
