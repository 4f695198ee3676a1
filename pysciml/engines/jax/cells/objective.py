"""The loss of one grid cell, and the ways its gradient is taken.

A cell's parameters ``cell = {"phys": {name: z}, ["u0": (n,)], ["log_sigma": (n,)]}``
(unconstrained physics values, initial state, noise level) and the parameters
shared by all cells ``shared = {"phys": {name: z}, "nets": {name: w}}`` give the
cell's loss against its data ``aux = (y, mask, scales, u0_init)``: single shooting
from ``t[0]`` up to a fraction ``horizon`` of the span, the same data term as
``model.fit`` (each state scaled by the cell's own spread).  A failed solve gives
NaN, which the training loops treat as a rejected step for that cell only.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ....training.losses import GaussianNLL, from_unconstrained
from ....training.strategies import OneStepAhead
from ...requests import SolveRequest
from ..compiled_solve import run_method
from ..plan import plan_solver
from ..rhs import vector_field
from ..training.objectives import data_term
from ..training.run import expand_phases

__all__ = ["CellObjective", "resolve_cell_solver", "forward_mode", "nan_safe", "cell_scales", "cell_phases"]

#: forward-mode gradients when a cell sees at most this many parameters (else reverse mode)
FORWARD_MAX_PARAMS = 8


def cell_scales(y: np.ndarray) -> np.ndarray:
    """(n_cells, n_states) spread of each state in each cell (std, else rms, else 1); NaN = missing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.sum(~np.isnan(y), axis=1)
        mean = np.nansum(y, axis=1) / np.maximum(n, 1)
        ms = np.nansum(y * y, axis=1) / np.maximum(n, 1)
        std = np.sqrt(np.maximum(ms - mean**2, 0.0))
        rms = np.sqrt(ms)
    return np.where(std > 1e-12 * rms, std, np.where(rms > 0, rms, 1.0))


def resolve_cell_solver(model, solver, t, u0, values, networks):
    """The one method used in every cell (``auto`` decided once, statically) and its prepared linsolve."""
    request = SolveRequest(
        model=model,
        u0=np.asarray(u0, float),
        params=dict(values),
        network_params=dict(networks),
        t0=float(t[0]),
        t1=float(t[-1]),
        saveat=np.asarray(t, float),
        solver=solver,
    )
    plan = plan_solver(request, runtime_fallback=False)
    return plan.primary, plan.linsolve


class CellObjective:
    """Loss, prediction and parameter mapping of one cell (vmap it over cells).

    Args:
        spec: the :class:`pysciml.cells.spec.CellFitRequest`.
        solver, linsolve: the resolved method and its prepared linear solver.
        differentiation: ``"forward"`` or ``"reverse"``, how the solver is differentiated.
    """

    def __init__(self, spec, solver, linsolve, differentiation: str):
        self.spec = spec
        self.fun = vector_field(spec.model)
        self.solver = solver
        self.linsolve = linsolve
        self.differentiation = differentiation
        self.t = jnp.asarray(spec.t, jnp.float64)
        self.fixed = {k: jnp.asarray(v, jnp.float64) for k, v in spec.fixed.items()}
        self.frozen_nets = {
            k: jnp.asarray(v, jnp.float64) for k, v in spec.networks_init.items() if k not in spec.shared_networks
        }
        self.fit_sigma = isinstance(spec.loss, GaussianNLL) and isinstance(spec.loss.sigma, str)

        self.one_step = isinstance(spec.strategy, OneStepAhead)

    # -- parameters ----------------------------------------------------------------------
    def cell_theta0(self, z0: dict, u0_init):
        """Start of the per-cell parameters for a batch: ``z0`` {name: (B, ...)}, ``u0_init`` (B, n)."""
        theta: dict[str, Any] = {"phys": {f.name: jnp.asarray(z0[f.name], jnp.float64) for f in self.spec.per_cell}}
        if self.spec.fit_u0:
            theta["u0"] = jnp.asarray(u0_init, jnp.float64)
        if self.fit_sigma:
            theta["log_sigma"] = jnp.log(0.1) * jnp.ones(np.shape(u0_init), jnp.float64)
        return theta

    def shared_theta0(self) -> dict:
        spec = self.spec
        return {
            "phys": {f.name: jnp.asarray(f.z0, jnp.float64) for f in spec.shared},
            "nets": {k: jnp.asarray(spec.networks_init[k], jnp.float64) for k in spec.shared_networks},
        }

    def unpack(self, cell, shared, u0_init):
        """``(values, nets, u0)`` of one cell."""
        values = dict(self.fixed)
        for f in self.spec.shared:
            values[f.name] = from_unconstrained(shared["phys"][f.name], f.bounds, jnp)
        for f in self.spec.per_cell:
            values[f.name] = from_unconstrained(cell["phys"][f.name], f.bounds, jnp)
        nets = dict(self.frozen_nets)
        nets.update(shared.get("nets", {}))
        u0 = cell["u0"] if self.spec.fit_u0 else u0_init
        return values, nets, u0

    def sigma(self, cell, scales):
        loss = self.spec.loss
        if not isinstance(loss, GaussianNLL):
            return None
        if self.fit_sigma:
            return jnp.exp(cell["log_sigma"])
        return jnp.asarray(np.broadcast_to(np.asarray(loss.sigma, float), (self.spec.n_states,))) / scales

    # -- loss ------------------------------------------------------------------------------
    def predict(self, cell, shared, aux, horizon, *, differentiation=None):
        """``(ys (n_t, n), status, within (n_t,))`` for one cell up to ``horizon`` of the span."""
        y, mask, scales, u0_init = aux
        values, nets, u0 = self.unpack(cell, shared, u0_init)
        t = self.t
        t1 = t[0] + horizon * (t[-1] - t[0])
        ts = jnp.minimum(t, t1)
        spec = self.spec
        ys, status, _ = run_method(
            self.solver,
            self.fun,
            t[0],
            t1,
            u0,
            (values, nets),
            ts,
            spec.rtol,
            spec.atol,
            None,
            max_steps=spec.max_steps,
            differentiation=differentiation or self.differentiation,
            linsolve=self.linsolve,
            adjoint=spec.adjoint,
        )
        within = t <= t1 + 1e-12 * jnp.abs(t1)
        return ys, status, within

    def predict_steps(self, cell, shared, aux, *, differentiation=None):
        """One-step-ahead predictions ``(ys (n_t, n), status, m (n_t, n))``: row ``k+1`` solved from the
        observation at ``t_k``; ``m`` marks the entries that count (row 0 never does)."""
        y, mask, scales, u0_init = aux
        values, nets, _ = self.unpack(cell, shared, u0_init)
        t = self.t
        spec = self.spec

        def step(t0, t1, y0):
            ys, status, _ = run_method(
                self.solver,
                self.fun,
                t0,
                t1,
                y0,
                (values, nets),
                t1[None],
                spec.rtol,
                spec.atol,
                None,
                max_steps=spec.max_steps,
                differentiation=differentiation or self.differentiation,
                linsolve=self.linsolve,
                adjoint=spec.adjoint,
            )
            return ys[0], status

        full = jnp.all(mask[:-1], axis=1)  # every state observed where the step starts
        pred, status = jax.vmap(step)(t[:-1], t[1:], y[:-1])
        ys = jnp.concatenate([y[:1], pred], axis=0)
        m = jnp.concatenate([jnp.zeros_like(mask[:1]), mask[1:] & full[:, None]], axis=0)
        bad = jnp.any(jnp.where(full, status, 0) != 0)
        return ys, jnp.where(bad, jnp.max(jnp.where(full, status, 0)), 0).astype(jnp.int32), m

    def loss(self, cell, shared, aux, horizon, *, differentiation=None):
        """The cell's data term (NaN when its solve fails)."""
        y, mask, scales, _ = aux
        if self.one_step:
            ys, status, m = self.predict_steps(cell, shared, aux, differentiation=differentiation)
            value = data_term(ys, y, m, scales, self.sigma(cell, scales))
            return jnp.where(status == 0, value, jnp.nan)
        ys, status, within = self.predict(cell, shared, aux, horizon, differentiation=differentiation)
        m = mask & within[:, None]
        value = data_term(ys, y, m, scales, self.sigma(cell, scales))
        return jnp.where(status == 0, value, jnp.nan)

    def residuals(self, cell, shared, aux, horizon):
        """Scaled residuals, flat (n_t * n_states,), with ``sum(r**2)`` = the MSE data term (NaN on failure)."""
        y, mask, scales, _ = aux
        if self.one_step:
            ys, status, m = self.predict_steps(cell, shared, aux, differentiation="forward")
        else:
            ys, status, within = self.predict(cell, shared, aux, horizon, differentiation="forward")
            m = mask & within[:, None]
        r = jnp.where(m, (ys - y) / scales, 0.0) / jnp.sqrt(jnp.maximum(m.sum(), 1).astype(jnp.float64))
        return jnp.where(status == 0, r.reshape(-1), jnp.nan)

    def evaluate(self, cell, shared, aux):
        """Full-span ``(loss, status, ys)`` of one cell (no gradients)."""
        y, mask, scales, _ = aux
        if self.one_step:
            ys, status, m = self.predict_steps(cell, shared, aux, differentiation="forward")
            value = data_term(ys, y, m, scales, self.sigma(cell, scales))
            return jnp.where(status == 0, value, jnp.nan), status, ys
        ys, status, _ = self.predict(cell, shared, aux, 1.0, differentiation="forward")
        value = data_term(ys, y, mask, scales, self.sigma(cell, scales))
        return jnp.where(status == 0, value, jnp.nan), status, ys

    def natural(self, cell, shared, u0_init):
        """Per-cell natural parameter values and the initial state (for output)."""
        values, _, u0 = self.unpack(cell, shared, u0_init)
        out = {f.name: values[f.name] for f in self.spec.per_cell}
        if self.fit_sigma:
            out["__sigma__"] = jnp.exp(cell["log_sigma"])
        return out, u0


def forward_mode(f):
    """``f(theta, aux) -> scalar`` with its gradient taken in forward mode (one JVP per parameter).

    For the few parameters of a cell, pushing tangents forward through the solver
    is cheaper than a checkpointed reverse pass; ``jax.grad`` of the result works as usual.
    """

    @jax.custom_vjp
    def g(theta, aux):
        return f(theta, aux)

    def fwd(theta, aux):
        flat, unravel = ravel_pytree(theta)
        h = lambda x: f(unravel(x), aux)  # noqa: E731
        value, tangents = jax.vmap(lambda v: jax.jvp(h, (flat,), (v,)), out_axes=(None, 0))(
            jnp.eye(flat.size, dtype=flat.dtype)
        )
        return value, unravel(tangents)

    def bwd(grad, ct):
        return jax.tree_util.tree_map(lambda q: ct * q, grad), None

    g.defvjp(fwd, bwd)
    return g


def nan_safe(value_and_grad):
    """``(value, grad)`` with the gradient zeroed where the value or gradient is not finite."""
    value, grad = value_and_grad
    leaves = jax.tree_util.tree_leaves(grad)
    ok = jnp.isfinite(value)
    for leaf in leaves:
        ok = ok & jnp.all(jnp.isfinite(leaf))
    return value, jax.tree_util.tree_map(lambda q: jnp.where(ok, q, 0.0), grad), ok


def choose_differentiation(spec, n_cell_params: int) -> str:
    """``"forward"`` for few parameters per cell, else ``"reverse"`` (unless the spec says)."""
    if spec.differentiation in ("forward", "reverse"):
        return spec.differentiation
    return "forward" if n_cell_params <= FORWARD_MAX_PARAMS else "reverse"


def cell_phases(strategy, optimizers):
    """Optimiser phases of a per-cell fit: as the estimator's, plus :class:`OneStepAhead`."""

    if isinstance(strategy, OneStepAhead):
        return [("single", {"horizon": 1.0}, opt, f"one-step-ahead {opt.name}") for opt in optimizers]
    return expand_phases(strategy, optimizers)
