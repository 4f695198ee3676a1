"""Fit an SDE to observed paths by the Euler-Maruyama transition likelihood (jax engine).

Between consecutive observations ``x_i`` (time ``t_i``) and ``x_{i+1}`` (``dt_i`` later),
one Euler-Maruyama step makes the transition Gaussian::

    x_{i+1} | x_i  ~  N(x_i + f(x_i, t_i) dt_i,  g(x_i, t_i) g(x_i, t_i)^T dt_i)

(``f`` the Ito drift, the model's drift converted when it is written in Stratonovich form).
For diagonal, additive and (one-state) scalar noise the covariance is ``diag(g^2) dt_i``;
for general noise it is factored by Cholesky.  The loss is the mean negative log density
over every transition of every path; the optimiser chain is the one model fits run
(:class:`pysciml.engines.jax.training.loops.Trainer`: Adam, then L-BFGS).
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ....sde.spec import SDEModel
from ....status import Status
from ....training.losses import from_unconstrained
from ...requests import FitHooks, SDEFitRequest, SDEFitResult
from ..rhs import split_network_weights
from ..training.loops import StopTraining, Trainer
from .terms import diffusion_field, drift_field

__all__ = ["flat_transitions", "transition_terms", "transition_nll", "fit_sde", "drift_scale", "MAX_SCALE_POINTS"]

#: transitions (at most) on which the drift's Jacobian is evaluated for :func:`drift_scale`
MAX_SCALE_POINTS = 4096

_LOG_2PI = math.log(2.0 * math.pi)


def flat_transitions(t, x):
    """``(t_i, dt_i, x_i, x_{i+1})`` of every transition: times ``(m,)`` and states ``(n_states, m)``.

    The transitions are the batch's *last* axis: XLA on CPU runs elementwise work on
    ``(m, 1)`` arrays (one-state models) about ten times slower than on ``(1, m)`` ones.
    """
    t = jnp.asarray(t, jnp.float64)
    x = jnp.asarray(x, jnp.float64)
    n_paths, n_times, n = x.shape
    ti = jnp.broadcast_to(t[:-1], (n_paths, n_times - 1)).reshape(-1)
    dt = jnp.broadcast_to(jnp.diff(t), (n_paths, n_times - 1)).reshape(-1)
    return ti, dt, x[:, :-1].reshape(-1, n).T, x[:, 1:].reshape(-1, n).T


def transition_terms(model: SDEModel):
    """``nll(values, nets, ti, dt, x0, x1) -> (m,)`` for transitions laid out by :func:`flat_transitions`."""
    f = drift_field(model, "ito")
    g = diffusion_field(model)
    n = model.n_states
    matrix = model.noise == "general"

    def nll(values, nets, ti, dt, x0, x1):
        args = split_network_weights(model, (values, nets))
        drift = jax.vmap(lambda tt, xx: f(tt, xx, args), in_axes=(0, 1), out_axes=1)(ti, x0)
        r = x1 - x0 - drift * dt
        if not matrix:  # diagonal, additive, scalar with one state: independent components
            gv = jax.vmap(lambda tt, xx: g(tt, xx, args), in_axes=(0, 1), out_axes=1)(ti, x0)
            var = gv**2 * dt
            return 0.5 * jnp.sum(r**2 / var + jnp.log(var) + _LOG_2PI, axis=0)

        def gaussian(gm, res, h):  # one transition: covariance g g^T h by Cholesky
            chol = jnp.linalg.cholesky(gm @ gm.T * h)
            z = jsl.solve_triangular(chol, res, lower=True)
            return 0.5 * (z @ z) + jnp.sum(jnp.log(jnp.diagonal(chol))) + 0.5 * n * _LOG_2PI

        gm = jax.vmap(lambda tt, xx: g(tt, xx, args), in_axes=(0, 1))(ti, x0)
        return jax.vmap(gaussian)(gm, r.T, dt)

    return nll


def transition_nll(model: SDEModel):
    """``nll(values, nets, t, x) -> (n_paths, n_times - 1)`` negative log transition densities.

    ``values``: physics parameter values by name; ``nets``: flat network weights by name;
    ``t``: ``(n_times,)``; ``x``: ``(n_paths, n_times, n_states)``.
    """
    terms = transition_terms(model)

    def nll(values, nets, t, x):
        x = jnp.asarray(x)
        return terms(values, nets, *flat_transitions(t, x)).reshape(x.shape[0], x.shape[1] - 1)

    return nll


def drift_scale(model: SDEModel, values, nets, t, x) -> float:
    """The ``dt``-weighted mean of ``dt_i * ||df/du (x_i, t_i)||_2`` over (up to
    :data:`MAX_SCALE_POINTS`) observed transitions.

    The Euler-Maruyama transition is exact only as ``dt * |df/du| -> 0``; on an
    Ornstein-Uhlenbeck process the fitted rate is biased by about ``-theta dt / 2``.
    Transitions weigh in the drift's estimate in proportion to ``dt`` (their
    information about it), hence the weighting.
    """
    f = drift_field(model, "ito")
    args = split_network_weights(model, ({k: jnp.asarray(v) for k, v in values.items()}, dict(nets)))
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    dt = np.diff(t)
    paths, times = np.meshgrid(np.arange(x.shape[0]), np.arange(len(dt)), indexing="ij")
    paths, times = paths.ravel(), times.ravel()
    if paths.size > MAX_SCALE_POINTS:
        pick = np.random.default_rng(0).choice(paths.size, MAX_SCALE_POINTS, replace=False)
        paths, times = paths[pick], times[pick]
    jac = jax.vmap(lambda ti, xi: jax.jacfwd(lambda y: f(ti, y, args))(xi))(
        jnp.asarray(t[times]), jnp.asarray(x[paths, times])
    )
    norms = np.linalg.norm(np.asarray(jac), ord=2, axis=(1, 2))
    w = dt[times]
    return float(np.sum(w * w * norms) / np.sum(w)) if norms.size else 0.0


def _unpacker(request: SDEFitRequest):
    """``unpack(theta) -> (values, nets)``, closing over the fixed values only (not the data)."""
    fixed = {k: np.asarray(v) for k, v in request.fixed.items()}
    bounds = {p.name: p.bounds for p in request.free}
    frozen = {k: np.asarray(v) for k, v in request.networks_init.items() if k not in request.free_networks}

    def unpack(theta):
        values = {k: jnp.asarray(v) for k, v in fixed.items()}
        for name, b in bounds.items():
            values[name] = from_unconstrained(theta["phys"][name], b, jnp)
        nets = {k: jnp.asarray(v) for k, v in frozen.items()}
        nets.update(theta["nets"])
        return values, nets

    return unpack


_LOSSES: dict = {}


def _loss(request: SDEFitRequest):
    """The mean NLL per transition (+ l2 on the trained networks) as ``loss(theta, flat_transitions(t, x))``."""
    nll = transition_terms(request.model)
    l2 = float(request.l2)
    unpack = _unpacker(request)

    def loss(theta, aux):
        values, nets = unpack(theta)
        out = jnp.mean(nll(values, nets, *aux))
        if l2 and theta["nets"]:
            out = out + l2 * sum(jnp.mean(w**2) for w in theta["nets"].values()) / len(theta["nets"])
        return out

    _LOSSES.clear()  # one fit at a time: keep the callable (the Trainer's compile key) alive while it runs
    _LOSSES[id(request)] = jax.tree_util.Partial(loss)
    return _LOSSES[id(request)]


def fit_sde(request: SDEFitRequest, hooks: FitHooks | None = None) -> SDEFitResult:
    """Run the optimiser chain on the transition likelihood; never raises on numerical failure."""
    hooks = hooks or FitHooks()
    t_start = time.perf_counter()
    loss = _loss(request)
    aux = flat_transitions(request.t, request.x)
    theta = {
        "phys": {p.name: jnp.asarray(p.z0, jnp.float64) for p in request.free},
        "nets": {k: jnp.asarray(request.networks_init[k], jnp.float64) for k in request.free_networks},
    }

    unpack = _unpacker(request)

    def describe(th):
        values, _ = unpack(th)
        return {"params": {p.name: np.asarray(values[p.name]) for p in request.free}}

    trainer = Trainer(
        progress=hooks.progress, callback=hooks.callback, describe=describe, should_stop=hooks.should_stop
    )
    status, message = Status.SUCCESS, ""
    try:
        for opt in request.optimizers:
            theta = trainer.run(opt, loss, theta, aux, name=opt.name, info={"objective": "EM transition NLL"})
    except StopTraining as stop:
        theta = dict(stop.args[0])
        why = "interrupted (Ctrl-C)" if stop.interrupted else "stopped by the callback"
        status, message = Status.INTERRUPTED, f"{why}; the best parameters so far are kept."
    values, nets = unpack(theta)
    n_transitions = request.x.shape[0] * (request.x.shape[1] - 1)
    total = float(jnp.sum(transition_terms(request.model)(values, nets, *aux)))
    scale = float("nan")
    if not math.isfinite(total):
        status = Status.FAILED
        message = (
            "the transition likelihood is not finite at the fitted values: a diffusion value reached zero "
            "or the covariance g g^T is singular. Declare diffusion parameters positive "
            "(ps.Param(0.5, bounds=(0, None))), start them nearer the data's spread, or lower the learning rate."
        )
    else:
        scale = drift_scale(request.model, values, nets, request.t, request.x)
        if status is Status.SUCCESS:
            n_rej = sum(1 for e in trainer.events if e["kind"] == "rejected-step")
            message = f"fitted: NLL {total:.6g} over {n_transitions} transitions" + (
                f" ({n_rej} rejected steps)" if n_rej else ""
            )
    return SDEFitResult(
        params={k: np.asarray(v) for k, v in values.items()},
        network_params={k: np.asarray(v) for k, v in nets.items()},
        nll=total,
        loss_history=np.asarray(trainer.history),
        phases=trainer.phases,
        events=trainer.events,
        status=status,
        message=message,
        drift_scale=scale,
        seconds=time.perf_counter() - t_start,
        compile_seconds=trainer.compile_seconds,
    )
