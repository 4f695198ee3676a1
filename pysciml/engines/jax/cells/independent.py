"""Per-cell fits on the jax engine: the whole training vmapped over the cells of a batch.

Every cell has its own optimiser state, blow-up guard and best parameters: the
compiled Adam and L-BFGS chunks of :mod:`.train` are ``vmap``-ed over cells, so a
cell whose solve fails rejects its own step (its learning rate halves) while the
others go on.  Cells are processed in batches of a fixed size (one compile),
chosen from the memory budget (:mod:`.cells_batch`).  Parameters shared by all
cells go to :mod:`.cells_joint` instead.
"""

from __future__ import annotations

import threading
import time

import jax
import jax.numpy as jnp
import numpy as np

from ....status import Status
from ....training.losses import from_unconstrained
from ....training.optimizers import LBFGS, Adam, LevenbergMarquardt
from ..training.loops import CHUNK, adam_chunk, hyperparameters, lbfgs_chunk
from .batch import (
    Cache,
    choose_batch,
    compiled_bytes,
    fingerprint,
    pad_rows,
    run_batches,
)
from .lm import lm_cells_chunk
from .objective import (
    CellObjective,
    cell_scales,
    choose_differentiation,
    forward_mode,
    resolve_cell_solver,
)
from .objective import cell_phases as _phases

__all__ = ["fit_cells", "prepare_cells", "CellBlockResult", "history_steps", "initial_states"]

_CACHE = Cache()


def _where_cells(ok, a, b):
    """Per-cell choice between two batched pytrees (``ok`` has shape (B,))."""
    return jax.tree_util.tree_map(lambda x, y: jnp.where(ok.reshape(ok.shape + (1,) * (x.ndim - 1)), x, y), a, b)


def _aux_axes():
    return ((0, 0, 0, 0), None)


class CellBlockResult(dict):
    """Per-cell numpy results: ``params`` {name: (n, ...)}, ``u0`` (n, s), ``loss``, ``status``,
    ``rejected``, ``rmse`` (n, s), ``history`` (n, k) float32, ``history_steps`` (k,), ``solver``."""


def prepare_cells(spec, y_first_cell, u0_first, z_first):
    """The solver, its linear solve and the cell objective for a spec (decided once per spec)."""

    values = dict(spec.fixed)
    for f in (*spec.shared, *spec.per_cell):
        values[f.name] = from_unconstrained(np.asarray(z_first.get(f.name, f.z0)), f.bounds, np)
    solver, lin = resolve_cell_solver(spec.model, spec.solver, spec.t, u0_first, values, spec.networks_init)
    n_params = sum(int(np.size(f.z0)) for f in spec.per_cell) + (spec.n_states if spec.fit_u0 else 0)
    n_params += sum(int(np.size(f.z0)) for f in spec.shared) + sum(
        int(np.size(spec.networks_init[k])) for k in spec.shared_networks
    )
    diff = choose_differentiation(spec, n_params)
    return CellObjective(spec, solver, lin, diff)


class _Compiled:
    """The compiled pieces of a per-cell fit for batch size ``B`` (compiled on first use)."""

    def __init__(self, obj: CellObjective, B: int, example):
        self.obj, self.B, self.example = obj, B, example
        shared = {"phys": {}, "nets": {}}
        raw = lambda th, a: obj.loss(th, shared, a[0], a[1])  # noqa: E731
        self.loss_fn = jax.tree_util.Partial(forward_mode(raw) if obj.differentiation == "forward" else raw)
        self.shared = shared
        self._fns: dict = {}
        self.bytes = 0
        for _kind, _opts, opt, _name in _phases(obj.spec.strategy, obj.spec.optimizers):
            self.runner(opt)  # compile every phase now: their memory decides the batch size
        self.evaluator()

    def _compile(self, key, fn, *args):
        if key not in self._fns:
            compiled = jax.jit(fn).lower(*args).compile()
            self.bytes = max(self.bytes, compiled_bytes(compiled))
            self._fns[key] = compiled
        return self._fns[key]

    def runner(self, opt):
        """The compiled phase runner for this optimiser (Adam shares one; L-BFGS and LM per settings)."""

        kind = "adam" if isinstance(opt, Adam) else "lm" if isinstance(opt, LevenbergMarquardt) else "lbfgs"
        key = kind if kind == "adam" else (kind, opt)
        if key in self._fns:
            return self._fns[key]
        theta, aux = self.example
        aux_h = (aux, jnp.float64(1.0))
        if kind == "lm":
            obj, shared = self.obj, self.shared
            init, chunk = lm_cells_chunk(lambda th, a: obj.residuals(th, shared, a[0], a[1]), opt)
            vinit = jax.jit(jax.vmap(init, in_axes=(0, _aux_axes()))).lower(theta, aux_h).compile()
            carry = jax.eval_shape(jax.vmap(init, in_axes=(0, _aux_axes())), theta, aux_h)
        else:
            init, chunk = lbfgs_chunk(self.loss_fn, opt) if isinstance(opt, LBFGS) else adam_chunk(self.loss_fn)
            vinit = jax.jit(jax.vmap(init)).lower(theta).compile()
            carry = jax.eval_shape(jax.vmap(init), theta)
        args = (carry, aux_h, jnp.int32(0), jnp.int32(CHUNK), jnp.zeros(5, jnp.float64))
        vchunk = self._compile(
            ("chunk",) + (key if isinstance(key, tuple) else (key,)),
            jax.vmap(chunk, in_axes=(0, _aux_axes(), None, None, None)),
            *args,
        )
        self._fns[key] = _Phase(kind, vinit, vchunk)
        return self._fns[key]

    def evaluator(self):
        obj, shared = self.obj, self.shared

        def ev(theta, aux):
            loss, status, ys = obj.evaluate(theta, shared, aux)
            nat, u0 = obj.natural(theta, shared, aux[3])
            return loss, status, ys, nat, u0

        theta, aux = self.example
        return self._compile("eval", jax.vmap(ev), theta, aux)


class _Phase:
    """A compiled optimiser phase: ``start(theta, aux_h)``, ``chunk(...)``, and where its carry keeps things."""

    def __init__(self, kind, vinit, vchunk):
        self.kind, self.vinit, self.chunk = kind, vinit, vchunk

    def start(self, theta, aux_h):
        return self.vinit(theta, aux_h) if self.kind == "lm" else self.vinit(theta)

    def best(self, carry):
        if self.kind == "adam":
            return carry[5], carry[6]
        return (carry[2], carry[3]) if self.kind == "lbfgs" else (carry[4], carry[5])

    def done(self, carry):
        return None if self.kind == "adam" else carry[4] if self.kind == "lbfgs" else carry[6]


def _last_finite(losses: np.ndarray) -> np.ndarray:
    fin = np.isfinite(losses)
    idx = losses.shape[1] - 1 - np.argmax(fin[:, ::-1], axis=1)
    return np.where(fin.any(axis=1), losses[np.arange(losses.shape[0]), idx], np.nan)


def history_steps(spec) -> list[int]:
    """Step numbers at which per-cell losses are recorded (the end of every chunk of steps)."""
    out, total = [], 0
    for _kind, _opts, opt, _name in _phases(spec.strategy, spec.optimizers):
        for done in range(0, opt.steps, CHUNK):
            total += min(CHUNK, opt.steps - done)
            out.append(total)
    return out


def _run_batch(comp: _Compiled, theta, aux):
    """Train one batch through every phase; returns (theta, history list, rejected)."""
    spec = comp.obj.spec
    B = comp.B
    history = []
    rejected = np.zeros(B, np.int64)
    for _kind, opts, opt, _name in _phases(spec.strategy, spec.optimizers):
        phase = comp.runner(opt)
        aux_h = (aux, jnp.float64(opts["horizon"]))
        carry = phase.start(theta, aux_h)
        adam = phase.kind == "adam"
        hyper = hyperparameters(opt) if adam else jnp.zeros(5, jnp.float64)
        done = 0
        while done < opt.steps:
            n = min(CHUNK, opt.steps - done)
            if not adam and bool(np.all(np.asarray(phase.done(carry)))):  # every cell converged
                history.append(history[-1] if history else np.full(B, np.nan))
                done += n
                continue
            carry, (losses, finite, _extra) = phase.chunk(carry, aux_h, jnp.int32(done), jnp.int32(n), hyper)
            losses = np.asarray(losses)[:, :n]
            finite = np.asarray(finite)[:, :n]
            rejected += (~finite).sum(axis=1) if phase.kind != "lbfgs" else (~finite).any(axis=1)
            done += n
            last = _last_finite(losses)
            if not adam and history:  # converged cells record nothing new: keep their last value
                last = np.where(np.isnan(last), history[-1], last)
            history.append(last)
        best_theta, best_loss = phase.best(carry)
        theta = _where_cells(jnp.isfinite(best_loss), best_theta, theta)
    return theta, history, rejected


def fit_cells(
    spec,
    y: np.ndarray,
    *,
    cells: np.ndarray | None = None,
    z0: dict | None = None,
    u0: np.ndarray | None = None,
    cells_per_batch: int | None = None,
    max_memory: int | None = None,
    progress=None,
    workers: int = 1,
    estimate=None,
) -> CellBlockResult:
    """Fit cells of ``y`` independently (one compiled, vmapped training per batch).

    Only one batch of cells is copied at a time (the batch's filled values, mask and
    scales), so host memory stays at ``y`` plus one batch per worker.

    Args:
        spec: a :class:`pysciml.cells.spec.CellFitRequest` without shared parameters.
        y: (n, n_t, n_states) observations, NaN = missing.
        cells: indices of the cells to fit (each with >= 2 observed times); default all.
        z0: per-cell unconstrained starts {name: (n_fit, *shape)} (default: the spec's).
        u0: (n_fit, n_states) initial states (NaN entries: first observation of the cell).
        cells_per_batch, max_memory: batch size, or the memory budget it is chosen from.
        progress: ``progress(n_cells_done)`` called after each batch.
        workers: batches run at once in threads (XLA runs each on one core).
        estimate: ``estimate(info)`` called once, after the first batch (see
            :class:`pysciml.engines.requests.FitHooks`).

    Returns:
        per-cell arrays for the cells fitted, in the order of ``cells``.
    """
    _, n_t, n_s = y.shape
    cells = np.arange(y.shape[0]) if cells is None else np.asarray(cells, dtype=np.int64)
    n = cells.size
    z0 = {
        f.name: np.broadcast_to(np.asarray((z0 or {}).get(f.name, f.z0), float), (n,) + np.shape(f.z0))
        for f in spec.per_cell
    }
    u0 = None if u0 is None else np.broadcast_to(np.asarray(u0, float), (n, n_s))

    def batch_data(rows):
        yb = y[cells[rows]]
        mask = ~np.isnan(yb)
        return (
            yb,
            mask,
            np.where(mask, yb, 0.0),
            cell_scales(yb),
            initial_states(yb, None if u0 is None else u0[rows], spec.model),
        )

    def build(B):
        key = (spec.token, "cells", B)

        def make():
            first = batch_data(slice(0, 1))
            obj = prepare_cells(spec, first[0][0], first[4][0], {k: v[0] for k, v in z0.items()})
            theta = obj.cell_theta0({k: np.zeros((B,) + v.shape[1:]) for k, v in z0.items()}, np.zeros((B, n_s)))
            aux = (jnp.zeros((B, n_t, n_s)), jnp.zeros((B, n_t, n_s), bool), jnp.ones((B, n_s)), jnp.zeros((B, n_s)))
            return _Compiled(obj, B, (theta, aux))

        return _CACHE.get([key, (fingerprint(spec), B)], make)

    B, comp = choose_batch(
        n, build, max_memory=max_memory, cells_per_batch=cells_per_batch, extra_per_cell=8 * n_t * n_s * 4
    )
    evaluate = comp.evaluator()
    out = {
        "loss": np.empty(n),
        "status": np.empty(n, np.int8),
        "rejected": np.empty(n, np.int64),
        "u0": np.empty((n, n_s)),
        "rmse": np.empty((n, n_s)),
        "params": {f.name: np.empty((n,) + np.shape(f.z0)) for f in spec.per_cell},
    }
    if comp.obj.fit_sigma:
        out["sigma"] = np.empty((n, n_s))
    starts = list(range(0, n, B))
    hist_rows: list = [None] * len(starts)
    told = threading.Lock()
    pending = [estimate]

    def tell(seconds):
        with told:
            fn, pending[0] = pending[0], None
        if fn is not None:
            rounds = -(-len(starts) // max(1, min(workers, len(starts))))
            fn(
                {
                    "cells_per_batch": int(B),
                    "batches": len(starts),
                    "predicted_batch_bytes": int(comp.bytes),
                    "first_batch_seconds": float(seconds),
                    "estimated_seconds": float(seconds * rounds),
                }
            )

    def one_batch(i):
        started = time.perf_counter()
        sl = slice(starts[i], min(n, starts[i] + B))
        k = sl.stop - sl.start
        yb, mask, yf, scales, u0b = batch_data(sl)
        aux = tuple(jnp.asarray(pad_rows(a, B)) for a in (yf, mask, scales, u0b))
        theta = comp.obj.cell_theta0({name: pad_rows(v[sl], B) for name, v in z0.items()}, aux[3])
        theta, history, rejected = _run_batch(comp, theta, aux)
        loss, status, ys, nat, u0_fit = evaluate(theta, aux)
        loss = np.asarray(loss)[:k]
        status = np.asarray(status)[:k]
        out["loss"][sl] = loss
        out["status"][sl] = np.where(
            np.isfinite(loss), int(Status.SUCCESS), np.where(status != 0, status, int(Status.FAILED))
        )
        out["rejected"][sl] = rejected[:k]
        out["u0"][sl] = np.asarray(u0_fit)[:k]
        for name in out["params"]:
            out["params"][name][sl] = np.asarray(nat[name])[:k]
        if "__sigma__" in nat:
            out["sigma"][sl] = np.asarray(nat["__sigma__"])[:k] * scales
        out["rmse"][sl] = rmse(np.asarray(ys)[:k], yb)
        hist_rows[i] = np.stack(history, axis=1)[:k].astype(np.float32) if history else np.zeros((k, 0), np.float32)
        if progress is not None:
            progress(k)
        tell(time.perf_counter() - started)

    run_batches(one_batch, len(starts), workers)
    res = CellBlockResult(out)
    res["history"] = np.concatenate(hist_rows, axis=0) if hist_rows else np.zeros((0, 0), np.float32)
    res["history_steps"] = np.asarray(history_steps(spec), np.int64)
    res["solver"] = comp.obj.solver.name
    res["batch"] = B
    res["predicted_bytes"] = comp.bytes
    return res


def initial_states(y: np.ndarray, u0, model) -> np.ndarray:
    """(n, n_states) starting initial states: given values, else each cell's first observation
    of each state, else the model's default, else 0."""
    n, _, n_s = y.shape
    out = np.full((n, n_s), np.nan) if u0 is None else np.array(np.broadcast_to(np.asarray(u0, float), (n, n_s)))
    obs = ~np.isnan(y)
    first = np.argmax(obs, axis=1)  # (n, n_s)
    firstval = np.take_along_axis(y, first[:, None, :], axis=1)[:, 0, :]
    firstval = np.where(obs.any(axis=1), firstval, np.nan)
    out = np.where(np.isnan(out), firstval, out)
    default = np.asarray(model.u0, float) if getattr(model, "u0", None) is not None else np.zeros(n_s)
    return np.where(np.isnan(out), default[None, :], out)


def rmse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = ~np.isnan(y)
    with np.errstate(invalid="ignore"):
        sq = np.where(m, (pred - np.where(m, y, 0.0)) ** 2, 0.0).sum(axis=1)
        return np.sqrt(sq / np.maximum(m.sum(axis=1), 1))
