"""Levenberg-Marquardt steps for many cells at once (see :class:`pysciml.training.optimizers.LevenbergMarquardt`).

Per cell the carry holds the parameters, the damping ``mu``, the residuals ``r`` and
Jacobian ``J`` at the parameters, the best parameters and loss, and a done flag.
One iteration evaluates the residuals and their Jacobian (forward mode: the solver
pushes one tangent per parameter) at the trial point ``theta + d``; the trial is
kept if its loss is finite and lower.  ``jax.vmap`` runs it over cells.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..training.loops import CHUNK

__all__ = ["lm_cells_chunk"]


def _residuals_and_jacobian(residual_fn, theta, aux):
    flat, unravel = ravel_pytree(theta)
    h = lambda x: residual_fn(unravel(x), aux)  # noqa: E731
    r, cols = jax.vmap(lambda v: jax.jvp(h, (flat,), (v,)), out_axes=(None, 0))(jnp.eye(flat.size, dtype=flat.dtype))
    return r, cols.T  # (m,), (m, p)


def lm_cells_chunk(residual_fn, opt):
    """``(init, chunk)`` for one cell; ``residual_fn(theta, aux) -> r`` (NaN when the solve fails).

    ``init(theta, aux)`` evaluates the start; ``chunk(carry, aux, start, n_active, hyper)``
    runs :data:`CHUNK` iterations (the first ``n_active`` of them) and returns the carry and
    ``(best loss, trial finite (True when inactive), gradient max-norm)`` per iteration.
    """

    def init(theta, aux):
        r, J = _residuals_and_jacobian(residual_fn, theta, aux)
        loss = jnp.sum(r * r)
        ok = jnp.isfinite(loss) & jnp.all(jnp.isfinite(J))
        loss = jnp.where(ok, loss, jnp.inf)
        return (theta, jnp.float64(opt.damping), r, J, theta, loss, ~ok)

    def step(aux, carry, active):
        theta, mu, r, J, best_theta, best_loss, done = carry

        def do(_):
            flat, unravel = ravel_pytree(theta)
            g = J.T @ r
            H = J.T @ J
            d = jnp.diag(H)
            A = H + mu * jnp.diag(jnp.maximum(d, 1e-12 * jnp.max(d) + 1e-300))
            delta = jnp.linalg.solve(A, -g)
            trial = unravel(flat + delta)
            r_t, J_t = _residuals_and_jacobian(residual_fn, trial, aux)
            loss_t = jnp.sum(r_t * r_t)
            accept = (
                jnp.isfinite(loss_t) & jnp.all(jnp.isfinite(J_t)) & jnp.all(jnp.isfinite(delta)) & (loss_t <= best_loss)
            )
            keep = lambda a, b: jax.tree_util.tree_map(lambda x, y: jnp.where(accept, x, y), a, b)  # noqa: E731
            gnorm = jnp.max(jnp.abs(jnp.where(accept, J_t.T @ r_t, g)))
            nxt = (
                keep(trial, theta),
                jnp.where(accept, mu / 3.0, jnp.minimum(mu * 2.0, 1e16)),
                jnp.where(accept, r_t, r),
                jnp.where(accept, J_t, J),
                keep(trial, best_theta),
                jnp.where(accept, loss_t, best_loss),
                (gnorm < opt.tol) | (mu > 1e15),
            )
            return nxt, (jnp.where(accept, loss_t, best_loss), jnp.isfinite(loss_t), gnorm)

        def skip(_):
            return carry, (jnp.nan, jnp.bool_(True), jnp.float64(0.0))

        return jax.lax.cond(active & ~done, do, skip, None)

    @jax.jit
    def chunk(carry, aux, start, n_active, hyper):
        active = jnp.arange(CHUNK) < n_active
        return jax.lax.scan(lambda c, a: step(aux, c, a), carry, active)

    return init, chunk
