"""Optimiser loops of a fit: compiled chunks of Adam and L-BFGS steps with blow-up guards.

Steps run on device in chunks (``lax.scan`` of :data:`CHUNK` steps, one compile per
loss and optimiser); between chunks the host updates the progress bar, calls the
user's callback, checks early stopping and writes checkpoints.

Blow-ups are caught inside the compiled step: a non-finite loss or gradient (NaN
from the network, a failed solve) rejects the step, restores the last parameters
whose loss was finite (and their optimiser state), halves the learning rate (which
then recovers by 1% per accepted step) and carries on; every rejection is recorded
as an event and as NaN in the loss history.  The best parameters seen
are kept and returned.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ....training.optimizers import LBFGS, Adam
from ..cached_functions import jit as cached_jit

__all__ = ["Trainer", "CHUNK", "StopTraining"]

CHUNK = 50


class StopTraining(Exception):
    """Raised by the host loop when the user's callback (or Ctrl-C) asks to stop.

    ``args[0]`` is the best parameters so far; ``interrupted`` is True for Ctrl-C.
    """

    def __init__(self, best_theta, interrupted: bool = False):
        super().__init__(best_theta)
        self.interrupted = interrupted


def _tree_where(cond, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.bool_(True)


_SCHEDULE_IDS = {"constant": 0, "cosine": 1, "exponential": 2, "warmup_cosine": 3}


def hyperparameters(opt: Adam) -> jax.Array:
    """Adam's settings as one dynamic vector, so every Adam phase shares one compiled chunk."""
    return jnp.array(
        [
            opt.learning_rate,
            float(opt.steps),
            opt.final_fraction,
            float(_SCHEDULE_IDS[opt.schedule]),
            opt.clip if opt.clip else jnp.inf,
        ],
        jnp.float64,
    )


def _schedule_factor(k, hyper):
    """Learning-rate multiplier at step ``k`` for the schedule encoded in ``hyper``."""
    n, f, sid = hyper[1], hyper[2], hyper[3]
    x = jnp.minimum(k / n, 1.0)
    cosine = f + (1 - f) * 0.5 * (1 + jnp.cos(jnp.pi * x))
    expo = f**x
    warm = jnp.maximum(1.0, 0.05 * n)
    xw = jnp.clip((k - warm) / jnp.maximum(n - warm, 1.0), 0.0, 1.0)
    warm_cos = jnp.where(k < warm, (k + 1) / warm, f + (1 - f) * 0.5 * (1 + jnp.cos(jnp.pi * xw)))
    return jnp.select([sid == 0, sid == 1, sid == 2], [1.0, cosine, expo], warm_cos)


def adam_chunk(loss_fn):
    tx = optax.scale_by_adam()
    vg = jax.value_and_grad(loss_fn)

    def step(aux, hyper, carry, k_active):
        k, active = k_active
        theta, ostate, good_theta, good_ostate, lr_scale, best_theta, best_loss = carry

        def do(_):
            loss, grads = vg(theta, aux)
            finite = jnp.isfinite(loss) & _all_finite(grads)
            grads = jax.tree_util.tree_map(lambda g: jnp.where(finite, g, 0.0), grads)
            gnorm = optax.tree.norm(grads)
            clip = jnp.minimum(1.0, hyper[4] / jnp.maximum(gnorm, 1e-300))
            grads = jax.tree_util.tree_map(lambda g: g * clip, grads)
            updates, new_ostate = tx.update(grads, ostate, theta)
            lr = hyper[0] * _schedule_factor(k, hyper) * lr_scale
            new_theta = jax.tree_util.tree_map(lambda p, u: p - lr * u, theta, updates)
            improved = finite & (loss < best_loss)
            nxt = (
                _tree_where(finite, new_theta, good_theta),
                _tree_where(finite, new_ostate, good_ostate),
                _tree_where(finite, theta, good_theta),
                _tree_where(finite, ostate, good_ostate),
                jnp.where(finite, jnp.minimum(1.0, 1.01 * lr_scale), 0.5 * lr_scale),
                _tree_where(improved, theta, best_theta),
                jnp.where(improved, loss, best_loss),
            )
            return nxt, (loss, finite, lr)

        def skip(_):
            return carry, (jnp.nan, jnp.bool_(True), jnp.float64(0.0))

        return jax.lax.cond(active, do, skip, None)

    @cached_jit(kind="fit-adam")  # kept across processes (pysciml.cache)
    def chunk(carry, aux, start, n_active, hyper):
        ks = start + jnp.arange(CHUNK)
        active = jnp.arange(CHUNK) < n_active
        return jax.lax.scan(lambda c, ka: step(aux, hyper, c, ka), carry, (ks, active))

    def init(theta):
        ostate = tx.init(theta)
        return (theta, ostate, theta, ostate, jnp.float64(1.0), theta, jnp.float64(jnp.inf))

    return init, chunk


def lbfgs_chunk(loss_fn, opt: LBFGS):
    solver = optax.lbfgs(memory_size=opt.memory)

    def step(aux, carry, active):
        theta, state, best_theta, best_loss, done = carry
        value_fn = lambda th: loss_fn(th, aux)  # noqa: E731
        vg = optax.value_and_grad_from_state(value_fn)

        def do(_):
            value, grad = vg(theta, state=state)
            finite = jnp.isfinite(value) & _all_finite(grad)
            gnorm = optax.tree.norm(grad)
            updates, new_state = solver.update(grad, state, theta, value=value, grad=grad, value_fn=value_fn)
            new_theta = optax.apply_updates(theta, updates)
            improved = finite & (value < best_loss)
            converged = gnorm < opt.tol
            stop = ~finite | converged
            nxt = (
                _tree_where(stop, theta, new_theta),
                _tree_where(stop, state, new_state),
                _tree_where(improved, theta, best_theta),
                jnp.where(improved, value, best_loss),
                stop,
            )
            return nxt, (value, finite, gnorm)

        def skip(_):
            return carry, (jnp.nan, jnp.bool_(True), jnp.float64(0.0))

        return jax.lax.cond(active & ~done, do, skip, None)

    @cached_jit(kind="fit-lbfgs")  # kept across processes (pysciml.cache)
    def chunk(carry, aux, start, n_active, hyper):
        active = jnp.arange(CHUNK) < n_active
        return jax.lax.scan(lambda c, a: step(aux, c, a), carry, active)

    def init(theta):
        return (theta, solver.init(theta), theta, jnp.float64(jnp.inf), jnp.bool_(False))

    return init, chunk


class Trainer:
    """Runs optimiser phases, keeping history, events, progress and the best parameters.

    Args:
        progress: ``progress(n_steps_done_now, loss)`` or None.
        callback: user callback ``callback(info) -> bool``; True stops training.
        total_steps: planned number of steps (for the progress bar).
    """

    def __init__(self, progress=None, callback=None, describe=None, on_chunk=None, should_stop=None):
        self.should_stop = should_stop
        self.progress = progress
        #: ``on_chunk(trainer, carry, loop_state, final)`` after every chunk (checkpoints)
        self.on_chunk = on_chunk
        #: index of the phase being run (set by the caller; saved in checkpoints)
        self.phase_index = 0
        self.callback = callback
        self.describe = describe or (lambda theta: {})
        self.history: list[float] = []
        self.events: list[dict] = []
        self.phases: list[dict] = []
        self.compile_seconds = 0.0
        self._compiled: dict = {}

    def _runner(self, kind, loss_fn, opt):
        key = (kind, loss_fn) if kind == "adam" else (kind, loss_fn, opt)
        if key not in self._compiled:
            self._compiled[key] = adam_chunk(loss_fn) if kind == "adam" else lbfgs_chunk(loss_fn, opt)
        return self._compiled[key]

    def _event(self, step: int, kind: str, detail: str):
        self.events.append({"step": int(step), "kind": kind, "detail": detail})

    def run(
        self,
        opt,
        loss_fn,
        theta,
        aux: Any = (),
        *,
        name: str = "",
        info: dict | None = None,
        resume: dict | None = None,
    ):
        """Run one optimiser phase from ``theta``; returns the best parameters seen.

        ``resume`` (from a checkpoint) holds ``carry_leaves``, ``done``, ``start``,
        ``best_seen`` and ``since_best`` to continue a phase exactly where it stopped.
        """
        kind = "adam" if isinstance(opt, Adam) else "lbfgs"
        if not isinstance(opt, (Adam, LBFGS)):  # pragma: no cover - resolved earlier
            raise TypeError(opt)
        init, chunk = self._runner(kind, loss_fn, opt)
        carry = init(theta)
        start = len(self.history)
        done = 0
        best_seen = np.inf
        since_best = 0
        if resume is not None:
            treedef = jax.tree_util.tree_structure(carry)
            leaves = [jnp.asarray(x) for x in resume["carry_leaves"]]
            old = jax.tree_util.tree_leaves(carry)
            if len(leaves) != len(old) or any(a.shape != b.shape for a, b in zip(leaves, old)):
                raise ValueError("checkpoint state does not match this fit's parameters")
            carry = jax.tree_util.tree_unflatten(treedef, leaves)
            done, start = int(resume["done"]), int(resume["start"])
            best_seen, since_best = float(resume["best_seen"]), int(resume["since_best"])
        stopped = None
        while done < opt.steps:
            n = min(CHUNK, opt.steps - done)
            t_start = time.perf_counter()
            tag = (kind, loss_fn, "compiled") if kind == "adam" else (kind, loss_fn, opt, "compiled")
            first = tag not in self._compiled
            hyper = hyperparameters(opt) if isinstance(opt, Adam) else jnp.zeros(5)
            try:
                new_carry, (losses, finite, extra) = chunk(carry, aux, jnp.asarray(done), jnp.asarray(n), hyper)
                losses = np.asarray(losses)  # wait for the chunk here, so Ctrl-C lands between chunks
            except KeyboardInterrupt:
                self._interrupted(kind, carry, start, done, best_seen, since_best, name, opt, info)
            carry = new_carry
            losses = np.asarray(losses)[:n]
            finite = np.asarray(finite)[:n]
            if first:
                self.compile_seconds += time.perf_counter() - t_start
                self._compiled[tag] = True
            for i in np.nonzero(~finite)[0]:
                what = (
                    "learning rate halved (it recovers by 1% per good step), last good parameters restored"
                    if kind == "adam"
                    else "L-BFGS stopped"
                )
                self._event(start + done + i, "rejected-step", f"{name}: non-finite loss or gradient; {what}")
            valid = losses[np.isfinite(losses)]
            if kind == "lbfgs":
                keep = np.isfinite(losses)
                losses = losses[keep] if keep.any() else losses[:0]
            self.history.extend(float(v) for v in losses)
            done += n
            if self.progress is not None:
                self.progress(n, float(valid[-1]) if valid.size else float("nan"))
            if kind == "lbfgs" and bool(np.asarray(carry[4])):
                gnorm = float(np.asarray(extra)[:n][finite][-1]) if finite.any() else float("nan")
                stopped = f"converged (gradient norm {gnorm:.2e})" if finite.all() else "stopped on a non-finite loss"
                break
            if isinstance(opt, Adam) and opt.patience is not None and valid.size:
                m = float(valid.min())
                if m < best_seen * (1 - opt.min_delta):
                    best_seen, since_best = m, 0
                else:
                    since_best += n
                    if since_best >= opt.patience:
                        stopped = f"early stop: no improvement for {since_best} steps"
                        break
            if self.should_stop is not None and self.should_stop():
                self._interrupted(kind, carry, start, done, best_seen, since_best, name, opt, info, record=False)
            loop_state = {"done": done, "start": start, "best_seen": best_seen, "since_best": since_best}
            if self.on_chunk is not None:
                self.on_chunk(self, carry, loop_state, False)
            if self.callback is not None:
                best_theta = carry[5] if kind == "adam" else carry[2]
                report = {
                    "phase": name,
                    "step": len(self.history),
                    "loss": float(valid[-1]) if valid.size else float("nan"),
                    **(info or {}),
                    **self.describe(best_theta),
                }
                if self.callback(report):
                    self._event(len(self.history), "callback-stop", f"{name}: the callback asked to stop")
                    self.phases.append({"name": name, "optimizer": opt.name, "start": start, "stop": len(self.history)})
                    raise StopTraining(best_theta)
        if stopped:
            self._event(len(self.history), "stop", f"{name}: {stopped}")
        self.phases.append(
            {"name": name, "optimizer": opt.name, "start": start, "stop": len(self.history), **(info or {})}
        )
        best_theta, best_loss = (carry[5], carry[6]) if kind == "adam" else (carry[2], carry[3])
        if not np.isfinite(float(best_loss)):
            self._event(
                len(self.history), "phase-failed", f"{name}: no finite loss in this phase; parameters unchanged"
            )
            return theta
        return best_theta

    def _interrupted(self, kind, carry, start, done, best_seen, since_best, name, opt, info, record=True):
        """Ctrl-C: save a checkpoint of the last finished chunk and stop with the best parameters."""
        self._event(len(self.history), "interrupted", f"{name}: interrupted (Ctrl-C)")
        if self.on_chunk is not None:
            loop_state = {"done": done, "start": start, "best_seen": best_seen, "since_best": since_best}
            self.on_chunk(self, carry, loop_state, True)
        self.phases.append(
            {"name": name, "optimizer": opt.name, "start": start, "stop": len(self.history), **(info or {})}
        )
        best = carry[5] if kind == "adam" else carry[2]
        best_loss = carry[6] if kind == "adam" else carry[3]
        raise StopTraining(best if np.isfinite(float(best_loss)) else carry[0], interrupted=True)
