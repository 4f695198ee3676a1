"""Loss functions of a fit: single shooting (with a horizon), multiple shooting, collocation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...requests import FitRequest
from ..compiled_solve import run_method
from ..events import event_solve
from ..rhs import split_network_weights, vector_field
from .packing import Packing

__all__ = ["Objectives", "segment_layout"]


def data_term(pred, y, mask, scales, sigma):
    """Mean scaled squared error (or Gaussian NLL) over observed entries; NaN-safe."""
    diff = jnp.where(mask, (pred - y) / scales, 0.0)  # where first: NaN predictions never reach gradients
    n = jnp.maximum(mask.sum(), 1)
    if sigma is None:
        return (diff**2).sum() / n
    nll = 0.5 * (diff / sigma) ** 2 + jnp.log(sigma)
    return jnp.where(mask, nll, 0.0).sum() / n


def segment_layout(problem: FitRequest, segments: int):
    """Index arrays for multiple shooting (numpy, built once).

    Each trajectory's real observations ``0 .. L-1`` are cut at
    ``round(linspace(0, L-1, S+1))``; segment ``s`` starts at observation ``a_s``
    (its initial state is a parameter, the trajectory's ``u0`` for ``s = 0``) and is
    solved up to observation ``a_{s+1}``, where its end state must match segment
    ``s+1``'s start (continuity).  Its data points are ``a_s .. a_{s+1}-1`` (the last
    segment also ``a_S``).

    Returns ``(starts, idx, own, nseg)``: ``starts`` (B, S) observation index of each
    segment start; ``idx`` (B, S, M) observation indices each segment is saved at
    (padded by repeating its end); ``own`` (B, S, M) which saved points count in
    the data term; ``nseg`` (B,) effective number of segments per trajectory.
    """
    B = problem.t.shape[0]
    S = int(segments)
    bounds = []
    for b in range(B):
        L = int(problem.lengths[b])
        s_eff = max(1, min(S, L - 1))
        cuts = np.unique(np.round(np.linspace(0, L - 1, s_eff + 1)).astype(int))
        # pad to S segments by repeating the last (empty, masked) segment
        cuts = np.concatenate([cuts, np.full(S + 1 - len(cuts), cuts[-1])])
        bounds.append(cuts)
    bounds = np.array(bounds)  # (B, S+1)
    M = int(np.max(bounds[:, 1:] - bounds[:, :-1])) + 1
    idx = np.zeros((B, S, M), dtype=int)
    own = np.zeros((B, S, M), dtype=bool)
    for b in range(B):
        for s in range(S):
            a, e = bounds[b, s], bounds[b, s + 1]
            n = e - a + 1
            idx[b, s, :n] = np.arange(a, e + 1)
            idx[b, s, n:] = e
            last = s == S - 1 or bounds[b, s + 1] == bounds[b, -1]
            own[b, s, : (n if last else n - 1)] = e > a or (s == 0)
    nseg = np.array([len(np.unique(bounds[b])) - 1 for b in range(B)])
    return bounds[:, :-1], idx, own, nseg


class Objectives:
    """Builds the loss functions of one fit problem (each a pure function of ``theta``)."""

    def __init__(
        self, problem: FitRequest, packing: Packing, solver, *, linsolve=None, differentiation="reverse", adjoint=None
    ):
        self.problem = problem
        self.packing = packing
        self.fun = vector_field(problem.model)
        self.solver = solver
        self.linsolve = linsolve
        self.differentiation = differentiation
        self.adjoint = adjoint
        self.t = jnp.asarray(problem.t)
        self.y = jnp.asarray(problem.y)
        self.mask = jnp.asarray(problem.mask)
        self.scales = jnp.asarray(problem.scales)
        self.t0 = jnp.asarray(problem.t0)
        lengths = np.asarray(problem.lengths)
        self.t_last = jnp.asarray(problem.t[np.arange(problem.t.shape[0]), lengths - 1])

    # -- solving ------------------------------------------------------------------------
    def solve_batch(self, values, nets, t0, t1, u0, ts):
        """Solve trajectories in parallel: ``t0, t1`` (B,), ``u0`` (B, n), ``ts`` (B, M)."""
        p = self.problem
        values, nets = split_network_weights(p.model, (values, nets))

        def one(t0_, t1_, u0_, ts_):
            if p.events:
                ys, status, _ = event_solve(
                    p.model,
                    self.fun,
                    self.solver,
                    p.events,
                    p.at_times,
                    t0_,
                    t1_,
                    u0_,
                    (values, nets),
                    ts_,
                    p.rtol,
                    p.atol,
                    None,
                    max_steps=p.max_steps,
                    max_events=p.max_events,
                    differentiation=self.differentiation,
                    linsolve=self.linsolve,
                )
                return ys, status
            ys, status, _ = run_method(
                self.solver,
                self.fun,
                t0_,
                t1_,
                u0_,
                (values, nets),
                ts_,
                p.rtol,
                p.atol,
                None,
                max_steps=p.max_steps,
                differentiation=self.differentiation,
                linsolve=self.linsolve,
                adjoint=self.adjoint,
                max_recorded_steps=4096,
            )
            return ys, status

        if t0.shape[0] == 1:  # one trajectory: no batching (faster to compile and to run)
            ys, status = one(t0[0], t1[0], u0[0], ts[0])
            return ys[None], status[None]
        return jax.vmap(one)(t0, t1, u0, ts)

    def l2(self, nets):
        if self.problem.l2 == 0.0:
            return 0.0
        return self.problem.l2 * sum((w**2).sum() for w in nets.values())

    # -- single shooting with a horizon ---------------------------------------------------
    def predict(self, theta, horizon=1.0):
        """Predictions at the observation times up to ``horizon`` (a fraction of each span)."""
        values, nets, u0 = self.packing.unpack(theta)
        t1 = self.t0 + horizon * (self.t_last - self.t0)
        ts = jnp.minimum(self.t, t1[:, None])
        ys, status = self.solve_batch(values, nets, self.t0, t1, u0, ts)
        within = self.t <= t1[:, None] + 1e-12 * jnp.abs(t1[:, None])
        return ys, status, within

    def single_shooting(self, theta, horizon=1.0):
        values, nets, _ = self.packing.unpack(theta)
        ys, status, within = self.predict(theta, horizon)
        mask = self.mask & within[:, :, None]
        loss = data_term(ys, self.y, mask, self.scales, self.packing.sigma(theta)) + self.l2(nets)
        return jnp.where(jnp.all(status == 0), loss, jnp.nan)

    # -- multiple shooting ---------------------------------------------------------------------
    def multiple_shooting(self, segments: int, continuity: float):
        """A loss ``f(theta)`` (theta with an extra ``"seg"`` entry (B, S, n)) and the layout."""
        starts, idx, own, nseg = segment_layout(self.problem, segments)
        B, S, M = idx.shape
        bidx = np.arange(B)[:, None, None]
        ts = jnp.asarray(self.problem.t[bidx, idx])  # (B, S, M)
        ys_obs = self.y[bidx, idx]  # (B, S, M, n)
        mask_obs = self.mask[bidx, idx] & jnp.asarray(own)[..., None]
        # continuity pairs: end of segment s vs start of segment s+1 (only real segments)
        real = np.arange(S)[None, :] < nseg[:, None]  # (B, S)
        has_next = jnp.asarray(np.arange(S)[None, :] < (nseg[:, None] - 1))
        last_pos = np.array([[int(np.nonzero(idx[b, s] == idx[b, s, -1])[0][0]) for s in range(S)] for b in range(B)])
        real_j = jnp.asarray(real)

        def loss(theta):
            values, nets, u0 = self.packing.unpack(theta)
            seg = theta["seg"].at[:, 0].set(u0)  # segment 0 starts at the trajectory's u0
            t0 = ts[:, :, 0]
            t1 = jnp.where(real_j, ts[:, :, -1], t0 + 1.0)  # padded segments: any valid span
            flat = lambda a: a.reshape((B * S,) + a.shape[2:])  # noqa: E731
            ys, status = self.solve_batch(values, nets, flat(t0), flat(t1), flat(seg), flat(ts))
            ys = ys.reshape(B, S, M, -1)
            status = status.reshape(B, S)
            data = data_term(ys, ys_obs, mask_obs, self.scales, self.packing.sigma(theta))
            ends = ys[jnp.arange(B)[:, None], jnp.arange(S)[None, :], jnp.asarray(last_pos)]  # (B, S, n)
            gap = (ends[:, :-1] - seg[:, 1:]) / self.scales
            gap = jnp.where(has_next[:, :-1, None], gap, 0.0)
            n_gap = jnp.maximum(has_next.sum() * self.scales.shape[0], 1)
            total = data + continuity * (gap**2).sum() / n_gap + self.l2(nets)
            ok = jnp.all(jnp.where(real_j, status == 0, True))
            return jnp.where(ok, total, jnp.nan)

        return loss, starts

    # -- collocation ------------------------------------------------------------------------
    def collocation(self, times, states, derivs, weight):
        """Derivative-matching loss: ``f(u_s(t), p, t)`` vs the smoothed derivative."""
        times, states, derivs, weight = map(jnp.asarray, (times, states, derivs, weight))
        dscale = jnp.sqrt(
            jnp.maximum((jnp.where(weight, derivs, 0.0) ** 2).sum(0) / jnp.maximum(weight.sum(0), 1), 1e-300)
        )

        def loss(theta):
            values, nets, _ = self.packing.unpack(theta)
            f = jax.vmap(lambda t, u: self.fun(t, u, (values, nets)))(times, states)
            diff = jnp.where(weight, (f - derivs) / dscale, 0.0)
            return (diff**2).sum() / jnp.maximum(weight.sum(), 1) + self.l2(nets)

        return loss
