"""Per-cell parameters with parameters shared by every cell (a network over the whole grid).

One joint optimisation: the loss is the mean over cells of the cell losses.  Cells
are visited in chunks of ``B`` inside the compiled loss (a ``lax.scan``), each
chunk's cell losses and gradients computed and summed at once, so memory is that
of one chunk whatever the number of cells.  A cell whose solve fails (non-finite
loss or gradient) is dropped from that step's mean, so one bad cell never rejects
the step for everybody; it is flagged at the end if it still fails.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ....status import Status
from ....training.losses import from_unconstrained
from ....training.optimizers import Adam
from ..training.loops import CHUNK, adam_chunk, hyperparameters, lbfgs_chunk
from .batch import (
    DEFAULT_BATCH,
    Cache,
    choose_batch,
    compiled_bytes,
    fingerprint,
    pad_rows,
)
from .independent import CellBlockResult, initial_states, prepare_cells, rmse
from .objective import cell_phases as _phases
from .objective import cell_scales, nan_safe

__all__ = ["fit_cells_joint"]

_CACHE = Cache(4)


def _cell_value_and_grad(obj, shared, cell, aux, horizon):
    """One cell's loss and its gradient w.r.t. (shared, cell), NaN-safe (zeros when not finite)."""
    f = lambda sh, ce: obj.loss(ce, sh, aux, horizon)  # noqa: E731
    if obj.differentiation == "forward":
        flat, unravel = ravel_pytree((shared, cell))
        h = lambda x: f(*unravel(x))  # noqa: E731
        value, tangents = jax.vmap(lambda v: jax.jvp(h, (flat,), (v,)), out_axes=(None, 0))(
            jnp.eye(flat.size, dtype=flat.dtype)
        )
        grads = unravel(tangents)
    else:
        value, grads = jax.value_and_grad(f, argnums=(0, 1))(shared, cell)
    return nan_safe((value, grads))


def _joint_loss(obj, K: int, B: int):
    """``loss(theta, aux)``: mean cell loss over the active cells that solve, plus the L2 penalty."""

    def fwd(theta, aux):
        (ys, masks, scales, u0s, active), horizon = aux
        cells = jax.tree_util.tree_map(lambda a: a.reshape((K, B) + a.shape[1:]), theta["cells"])
        shared = theta["shared"]
        zero_sh = jax.tree_util.tree_map(jnp.zeros_like, shared)

        def body(carry, xs):
            tot, cnt, gsh = carry
            cells_k, aux_k, act_k = xs
            v, (g_sh, g_ce), ok = jax.vmap(lambda ce, a: _cell_value_and_grad(obj, shared, ce, a, horizon))(
                cells_k, aux_k
            )
            ok = ok & act_k
            sel = lambda g: jnp.where(ok.reshape(ok.shape + (1,) * (g.ndim - 1)), g, 0.0)  # noqa: E731
            gsh = jax.tree_util.tree_map(lambda a, g: a + sel(g).sum(axis=0), gsh, g_sh)
            g_ce = jax.tree_util.tree_map(sel, g_ce)
            return (tot + jnp.where(ok, v, 0.0).sum(), cnt + ok.sum(), gsh), g_ce

        init = (jnp.float64(0.0), jnp.zeros((), jnp.int64), zero_sh)
        (tot, cnt, gsh), g_cells = jax.lax.scan(body, init, (cells, (ys, masks, scales, u0s), active))
        c = jnp.maximum(cnt, 1).astype(jnp.float64)
        value = jnp.where(cnt > 0, tot / c, jnp.nan)
        grad = {
            "shared": jax.tree_util.tree_map(lambda g: g / c, gsh),
            "cells": jax.tree_util.tree_map(lambda g: g.reshape((K * B,) + g.shape[2:]) / c, g_cells),
        }
        return value, grad

    @jax.custom_vjp
    def data(theta, aux):
        return fwd(theta, aux)[0]

    data.defvjp(fwd, lambda grad, ct: (jax.tree_util.tree_map(lambda g: ct * g, grad), None))
    l2 = obj.spec.l2

    def loss(theta, aux):
        value = data(theta, aux)
        if l2:
            value = value + l2 * sum((w**2).sum() for w in theta["shared"]["nets"].values())
        return value

    return jax.tree_util.Partial(loss)


class _Joint:
    """Compiled pieces of a joint fit over ``K`` chunks of ``B`` cells."""

    def __init__(self, obj, K, B, example):
        self.obj, self.K, self.B, self.example = obj, K, B, example
        self.loss_fn = _joint_loss(obj, K, B)
        self._fns: dict = {}
        self.bytes = 0
        for _kind, _opts, opt, _name in _phases(obj.spec.strategy, obj.spec.optimizers):
            self.runner(opt)  # compile every phase now: their memory decides the batch size

    def runner(self, opt):
        adam = isinstance(opt, Adam)
        key = "adam" if adam else ("lbfgs", opt)
        if key not in self._fns:
            init, chunk = adam_chunk(self.loss_fn) if adam else lbfgs_chunk(self.loss_fn, opt)
            theta, aux = self.example
            carry = jax.eval_shape(init, theta)
            compiled = (
                jax.jit(chunk)
                .lower(carry, (aux, jnp.float64(1.0)), jnp.int32(0), jnp.int32(CHUNK), jnp.zeros(5, jnp.float64))
                .compile()
            )
            self.bytes = max(self.bytes, compiled_bytes(compiled))
            self._fns[key] = (jax.jit(init), compiled)
        return self._fns[key]

    def evaluator(self):
        if "eval" not in self._fns:
            obj = self.obj

            def ev(shared, cell, aux):
                loss, status, ys = obj.evaluate(cell, shared, aux)
                nat, u0 = obj.natural(cell, shared, aux[3])
                return loss, status, ys, nat, u0

            self._fns["eval"] = jax.jit(jax.vmap(ev, in_axes=(None, 0, 0)))
        return self._fns["eval"]


def fit_cells_joint(
    spec,
    y: np.ndarray,
    *,
    cells: np.ndarray | None = None,
    z0: dict | None = None,
    u0: np.ndarray | None = None,
    cells_per_batch: int | None = None,
    max_memory: int | None = None,
    progress=None,
    callback=None,
    workers: int = 1,
) -> CellBlockResult:
    """Fit per-cell and shared parameters jointly over the cells of ``y`` (n, n_t, n_states).

    Args: as :func:`pysciml.engines.jax.cells.independent.fit_cells`; ``progress(n_steps, loss)`` is
        called after each chunk of steps, ``callback(info) -> bool`` may stop the fit.  Every
        step touches every cell, so all of them are held on the device (chunks of ``B`` cells
        are visited in turn inside the loss).
    """
    del workers  # one joint optimisation: no independent batches to spread
    if cells is not None:
        y = y[np.asarray(cells, dtype=np.int64)]
    n, n_t, n_s = y.shape
    z0 = {
        f.name: np.broadcast_to(np.asarray((z0 or {}).get(f.name, f.z0), float), (n,) + np.shape(f.z0))
        for f in spec.per_cell
    }
    u0 = initial_states(y, u0, spec.model)
    mask = ~np.isnan(y)
    yf = np.where(mask, y, 0.0)
    scales = cell_scales(y)

    def build(B):
        K = -(-n // B)

        def make():
            obj = prepare_cells(spec, y[0], u0[0], {k: v[0] for k, v in z0.items()})
            N = K * B
            theta = {
                "shared": obj.shared_theta0(),
                "cells": obj.cell_theta0({k: np.zeros((N,) + v.shape[1:]) for k, v in z0.items()}, np.zeros((N, n_s))),
            }
            aux = (
                jnp.zeros((K, B, n_t, n_s)),
                jnp.zeros((K, B, n_t, n_s), bool),
                jnp.ones((K, B, n_s)),
                jnp.zeros((K, B, n_s)),
                jnp.zeros((K, B), bool),
            )
            return _Joint(obj, K, B, (theta, aux))

        return _CACHE.get([(spec.token, "joint", n, B), (fingerprint(spec), n, B)], make)

    B, comp = choose_batch(
        n,
        build,
        max_memory=max_memory,
        cells_per_batch=cells_per_batch,
        extra_per_cell=8 * n_t * n_s * 4,
        first=min(n, DEFAULT_BATCH),
    )
    K, N = comp.K, comp.K * B
    shape = lambda a: jnp.asarray(pad_rows(a, N).reshape((K, B) + a.shape[1:]))  # noqa: E731
    aux = (shape(yf), shape(mask), shape(scales), shape(u0), jnp.asarray((np.arange(N) < n).reshape(K, B)))
    obj = comp.obj
    theta = {
        "shared": obj.shared_theta0(),
        "cells": obj.cell_theta0({k: pad_rows(v, N) for k, v in z0.items()}, pad_rows(u0, N)),
    }
    history, events = [], []
    status_all = Status.SUCCESS
    try:
        for _kind, opts, opt, name in _phases(spec.strategy, spec.optimizers):
            theta = _run_phase(
                comp, opt, theta, (aux, jnp.float64(opts["horizon"])), name, history, events, progress, callback
            )
    except KeyboardInterrupt:
        status_all = Status.INTERRUPTED
        events.append({"step": len(history), "kind": "interrupted", "detail": "KeyboardInterrupt"})
    except _Stop as stop:
        theta = stop.args[0]
        status_all = Status.INTERRUPTED
        events.append({"step": len(history), "kind": "callback-stop", "detail": "the callback asked to stop"})
    out = _evaluate(comp, theta, aux, y, scales, n)
    out["history"] = np.asarray(history, np.float64)
    out["history_steps"] = np.arange(1, len(history) + 1, dtype=np.int64)
    out["events"] = events
    out["fit_status"] = status_all
    shared = theta["shared"]
    out["shared_params"] = {
        f.name: np.asarray(from_unconstrained(shared["phys"][f.name], f.bounds, jnp)) for f in spec.shared
    }
    out["networks"] = {k: np.asarray(v) for k, v in shared["nets"].items()}
    out["solver"] = obj.solver.name
    out["batch"] = B
    out["predicted_bytes"] = comp.bytes
    return out


class _Stop(Exception):
    pass


def _run_phase(comp, opt, theta, aux, name, history, events, progress, callback):
    init, chunk = comp.runner(opt)
    adam = isinstance(opt, Adam)
    carry = init(theta)
    hyper = hyperparameters(opt) if adam else jnp.zeros(5, jnp.float64)
    done = 0
    while done < opt.steps:
        n = min(CHUNK, opt.steps - done)
        carry, (losses, finite, _extra) = chunk(carry, aux, jnp.int32(done), jnp.int32(n), hyper)
        losses = np.asarray(losses)[:n]
        finite = np.asarray(finite)[:n]
        for i in np.nonzero(~finite)[0]:
            events.append(
                {
                    "step": len(history) + int(i),
                    "kind": "rejected-step",
                    "detail": f"{name}: no cell had a finite loss; step rejected",
                }
            )
        history.extend(float(v) for v in losses)
        done += n
        valid = losses[np.isfinite(losses)]
        if progress is not None:
            progress(n, float(valid[-1]) if valid.size else float("nan"))
        best = (carry[5], carry[6]) if adam else (carry[2], carry[3])
        if callback is not None and callback(
            {"phase": name, "step": len(history), "loss": float(valid[-1]) if valid.size else float("nan")}
        ):
            raise _Stop(best[0] if np.isfinite(float(best[1])) else theta)
        if not adam and bool(np.asarray(carry[4])):
            break
    best_theta, best_loss = (carry[5], carry[6]) if adam else (carry[2], carry[3])
    if not np.isfinite(float(best_loss)):
        events.append({"step": len(history), "kind": "phase-failed", "detail": f"{name}: no finite loss"})
        return theta
    return best_theta


def _evaluate(comp, theta, aux, y, scales, n):
    spec = comp.obj.spec
    ev = comp.evaluator()
    ys_all, masks, sc, u0s, _active = aux
    K, B = comp.K, comp.B
    n_s = y.shape[2]
    out = {
        "loss": np.empty(n),
        "status": np.empty(n, np.int8),
        "rejected": np.zeros(n, np.int64),
        "u0": np.empty((n, n_s)),
        "rmse": np.empty((n, n_s)),
        "params": {f.name: np.empty((n,) + np.shape(f.z0)) for f in spec.per_cell},
    }
    cells = jax.tree_util.tree_map(lambda a: a.reshape((K, B) + a.shape[1:]), theta["cells"])
    for k in range(K):
        sl = slice(k * B, min(n, (k + 1) * B))
        m = sl.stop - sl.start
        if m <= 0:
            break
        cell_k = jax.tree_util.tree_map(lambda a, k=k: a[k], cells)
        loss, status, ys, nat, u0 = ev(theta["shared"], cell_k, (ys_all[k], masks[k], sc[k], u0s[k]))
        loss = np.asarray(loss)[:m]
        status = np.asarray(status)[:m]
        out["loss"][sl] = loss
        out["status"][sl] = np.where(
            np.isfinite(loss), int(Status.SUCCESS), np.where(status != 0, status, int(Status.FAILED))
        )
        out["u0"][sl] = np.asarray(u0)[:m]
        for name in out["params"]:
            out["params"][name][sl] = np.asarray(nat[name])[:m]
        if "__sigma__" in nat:
            out.setdefault("sigma", np.empty((n, n_s)))[sl] = np.asarray(nat["__sigma__"])[:m] * scales[sl]
        out["rmse"][sl] = rmse(np.asarray(ys)[:m], y[sl])
    return CellBlockResult(out)
