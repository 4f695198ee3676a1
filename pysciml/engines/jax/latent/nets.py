"""The latent ODE's networks: a backwards ODE-RNN / GRU encoder, the latent vector field, the decoder.

The encoder follows Rubanova, Chen & Duvenaud (2019), "Latent ODEs for
irregularly-sampled time series": a GRU updated at each observation, read
from the last observation back to the first; in the ODE-RNN variant the
hidden state also evolves under a learned ODE between observations (in the
GRU variant the time gap is an input instead).  Rows with no observed value
(missing points and padding) leave the state untouched, so ragged series share
one compiled function.
"""

from __future__ import annotations

import functools

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Encoder",
    "LatentNets",
    "build_encoder",
    "build_decoder",
    "build_nets",
    "initial_log_sigma",
    "weights_of",
    "nets_from_weights",
    "diffrax_solver",
    "joined",
    "decode_paths",
]


def joined(z, c):
    """``z`` with the condition ``c`` appended on the last axis (``z`` itself when there is no condition)."""
    return z if c is None else jnp.concatenate([z, c], axis=-1)


def decode_paths(decoder, zs, c=None):
    """The decoder over latent paths zs (S, B, L, K), each series b with its condition c[b] (B, n_c): (S, B, L, D)."""
    if c is None:
        return jax.vmap(jax.vmap(jax.vmap(decoder)))(zs)
    one = jax.vmap(lambda z, ci: decoder(joined(z, ci)), in_axes=(0, None))  # over times
    return jax.vmap(jax.vmap(one))(zs, jnp.broadcast_to(c, zs.shape[:2] + c.shape[-1:]))


def diffrax_solver(solver):
    """The diffrax solver of the configured explicit method (a :class:`pysciml.solvers.runge_kutta.RungeKutta`)."""
    return getattr(dfx, solver.diffrax_method)()


class _Field(eqx.Module):
    """Vector field ``dh/ds = dt * mlp(h)`` on s in [0, 1] (dt: the real time gap, any sign)."""

    mlp: eqx.nn.MLP

    def __call__(self, s, h, dt):
        return dt * self.mlp(h)


class Encoder(eqx.Module):
    """Backwards ODE-RNN (or GRU) from a series to the posterior mean and std of z0 at its first observation."""

    cell: eqx.nn.GRUCell
    field: _Field | None
    head: eqx.nn.Linear
    kind: str = eqx.field(static=True)
    steps: int = eqx.field(static=True)

    def _evolve(self, h, dt):
        """h after a time gap dt: ``steps`` fixed Tsit5 steps of diffrax's stepper (unrolled: no solve loop)."""
        if self.field is None:
            return h
        term, solver, ds = dfx.ODETerm(self.field), dfx.Tsit5(), 1.0 / self.steps
        state = solver.init(term, 0.0, ds, h, dt)
        for i in range(self.steps):
            h, _, _, state, _ = solver.step(term, i * ds, (i + 1) * ds, h, dt, state, made_jump=False)
        return h

    def states(self, t, y, m, c=None):
        """The hidden state after reading each row and every later one, backwards: (L, H).

        Args: t (L,) scaled times; y (L, D) scaled values (0 where missing); m (L, D) bool mask;
        c (n_c,) the series' scaled condition (appended to every GRU input), or None.
        Row i summarises the observations at and after t[i] (the context a latent SDE's posterior reads);
        row 0 summarises the whole series.
        """
        obs = m.any(axis=-1)
        L = t.shape[0]
        # before row i is read, the state has read the observed rows after it: the gap to the first of
        # them (0 if none), known from the mask alone, so every GRU input is formed before the scan
        first_after = jax.lax.cummin(jnp.where(obs, jnp.arange(L), L)[::-1])[::-1]
        first_after = jnp.concatenate([first_after[1:], jnp.full(1, L, first_after.dtype)])
        started = first_after < L
        dt = jnp.where(started, t - t[jnp.minimum(first_after, L - 1)], 0.0)
        mf = m.astype(y.dtype)
        x = [y * mf, mf] + ([jnp.abs(dt)[:, None]] if self.kind == "gru" else [])
        x = jnp.concatenate(x + ([] if c is None else [jnp.broadcast_to(c, (L, c.shape[-1]))]), axis=-1)
        # the input half of the GRU cell (eqx.nn.GRUCell's arithmetic) for every row at once: one product
        cell = self.cell
        ig = x @ cell.weight_ih.T + (0.0 if cell.bias is None else cell.bias)  # (L, 3H)
        bias_n = 0.0 if cell.bias_n is None else cell.bias_n

        def step(h, row):
            igates, dt_i, o_i = row
            h_ev = self._evolve(h, dt_i)
            hg = cell.weight_hh @ h_ev
            i0, i1, i2 = jnp.split(igates, 3)
            h0, h1, h2 = jnp.split(hg, 3)
            reset = jax.nn.sigmoid(i0 + h0)
            inp = jax.nn.sigmoid(i1 + h1)
            new = jnp.tanh(i2 + reset * (h2 + bias_n))
            h = jnp.where(o_i, new + inp * (h_ev - new), h)
            return h, h

        h0 = jnp.zeros(cell.hidden_size, y.dtype)
        _, hs = jax.lax.scan(step, h0, (ig, dt, obs), reverse=True)
        return hs

    def posterior(self, h):
        """(mean (K,), std (K,)) of q(z0) from the hidden state h (H,) that summarises a series."""
        out = self.head(h)
        k = out.shape[0] // 2
        return out[:k], jax.nn.softplus(out[k:]) + 1e-6

    def __call__(self, t, y, m, c=None):
        """Args: t (L,) scaled times; y (L, D) scaled values (0 where missing); m (L, D) bool mask;
        c (n_c,) scaled condition or None.

        Returns: (mean (K,), std (K,)) of q(z0).
        """
        return self.posterior(self.states(t, y, m, c)[0])


class LatentNets(eqx.Module):
    """All trainable parts: encoder, latent vector field, decoder, and log noise std per state."""

    encoder: Encoder
    ode: eqx.nn.MLP
    decoder: eqx.Module
    log_sigma: jax.Array

    def field(self, t, z, args):
        """dz/dt = f(z) (``args``: None), or f(z, c) for a series' condition c (``args``: (n_c,))."""
        return self.ode(joined(z, args))


def build_encoder(cfg, n_obs: int, keys) -> Encoder:
    """A fresh encoder for ``n_obs`` observed states (GRU width ``cfg.encoder_hidden``, head to 2K); three keys."""
    k1, k2, k3 = keys
    H, K = cfg.encoder_hidden, cfg.n_latent
    n_in = 2 * n_obs + (1 if cfg.encoder == "gru" else 0) + cfg.n_condition
    field = None
    if cfg.encoder == "ode-rnn":
        field = _Field(eqx.nn.MLP(H, H, H, 1, activation=jnp.tanh, key=k1))
    return Encoder(
        eqx.nn.GRUCell(n_in, H, key=k2), field, eqx.nn.Linear(H, 2 * K, key=k3), cfg.encoder, cfg.encoder_steps
    )


def build_decoder(cfg, n_obs: int, key) -> eqx.Module:
    """A fresh decoder from K latent dims (and the condition) to ``n_obs`` states (one tanh layer, or linear if
    decoder_hidden=0)."""
    n_in = cfg.n_latent + cfg.n_condition
    if cfg.decoder_hidden > 0:
        return eqx.nn.MLP(n_in, n_obs, cfg.decoder_hidden, 1, activation=jnp.tanh, key=key)
    return eqx.nn.Linear(n_in, n_obs, key=key)


def build_nets(cfg, n_obs: int, key) -> LatentNets:
    """Fresh networks for a :class:`~pysciml.latent.config.LatentConfig` and ``n_obs`` observed states."""
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    K = cfg.n_latent
    ode = eqx.nn.MLP(K + cfg.n_condition, K, cfg.ode_hidden, 2, activation=jnp.tanh, key=k4)
    # a small last layer: the untrained latent flow is gentle, so early solves are cheap
    ode = eqx.tree_at(lambda m: m.layers[-1].weight, ode, ode.layers[-1].weight * 0.1)
    return LatentNets(
        build_encoder(cfg, n_obs, (k1, k2, k3)), ode, build_decoder(cfg, n_obs, k5), initial_log_sigma(n_obs)
    )


def initial_log_sigma(n_obs: int):
    """The learned observation noise's starting value: std 0.1 in scaled units per state."""
    return jnp.full((n_obs,), np.log(0.1))


def weights_of(nets: LatentNets) -> list[np.ndarray]:
    """The array leaves in tree order, as float64 numpy arrays."""
    return [np.asarray(x, dtype=np.float64) for x in jax.tree_util.tree_leaves(eqx.filter(nets, eqx.is_array))]


@functools.lru_cache(maxsize=32)
def _layout(build, cfg, n_obs: int):
    """The tree structure, static part and leaf shapes of ``build(cfg, n_obs)`` (built once per layout)."""
    skeleton = build(cfg, n_obs, jax.random.PRNGKey(0))
    params, static = eqx.partition(skeleton, eqx.is_array)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return treedef, static, tuple(a.shape for a in leaves)


def nets_from_weights(cfg, n_obs: int, weights, build=build_nets):
    """Networks of ``cfg`` (made by ``build``) holding ``weights`` (as returned by :func:`weights_of`)."""
    treedef, static, shapes = _layout(build, cfg, n_obs)
    if len(shapes) != len(weights) or any(a != np.shape(w) for a, w in zip(shapes, weights)):
        raise ValueError("weights do not match the network layout")
    params = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(w) for w in weights])
    return eqx.combine(params, static)
