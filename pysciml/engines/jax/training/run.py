"""Run a :class:`pysciml.fitting.problem.FitRequest` on the jax engine."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from ....status import Status
from ....training.losses import from_unconstrained
from ....training.optimizers import Adam
from ....training.strategies import (
    Collocation,
    GrowingHorizon,
    MultipleShooting,
    SingleShooting,
)
from ...requests import (
    FitHooks,
    FitRequest,
    FitResult,
    SolveRequest,
    arrays_list,
    state_arrays,
)
from ..cached_functions import jit as cached_jit
from ..plan import plan_solver
from .laplace import laplace_covariance
from .loops import StopTraining, Trainer
from .objectives import Objectives
from .packing import Packing
from .smoothing import smooth_derivatives

__all__ = ["fit_problem", "fit_solver"]


def fit_solver(problem: FitRequest):
    """The one method used inside the loss (``auto`` resolved statically: no runtime switch
    inside a vmapped, differentiated loss), its prepared linear solver and why it was chosen."""
    b = 0
    request = SolveRequest(
        model=problem.model,
        u0=problem.u0_init[b],
        params={**problem.fixed, **{f.name: _natural(f) for f in problem.free}},
        network_params=dict(problem.networks_init),
        t0=float(problem.t0[b]),
        t1=float(problem.t[b, problem.lengths[b] - 1]),
        saveat=problem.t[b, : problem.lengths[b]],
        solver=problem.solver,
        rtol=problem.rtol,
        atol=problem.atol,
    )
    plan = plan_solver(request, runtime_fallback=False)
    return plan.primary, plan.linsolve, plan.reason


def _natural(free):

    return from_unconstrained(np.asarray(free.z0), free.bounds, np)


def expand_phases(strategy, optimizers):
    """Expand a strategy into ``[(kind, options, optimizer, name)]``."""
    out = []
    if isinstance(strategy, GrowingHorizon):
        for k in range(1, strategy.stages + 1):
            frac = k / strategy.stages
            out.append(
                (
                    "single",
                    {"horizon": frac},
                    Adam(strategy.learning_rate, steps=strategy.steps),
                    f"warm-up horizon {frac:.0%}",
                )
            )
        return out + expand_phases(strategy.then, optimizers)
    if isinstance(strategy, Collocation):
        out.append(("collocation", {}, Adam(strategy.learning_rate, steps=strategy.steps), "collocation warm start"))
        return out + expand_phases(strategy.then, optimizers)
    if isinstance(strategy, MultipleShooting):
        for opt in optimizers:
            out.append(
                (
                    "multiple",
                    {"segments": strategy.segments, "continuity": strategy.continuity},
                    opt,
                    f"multiple shooting {opt.name}",
                )
            )
        if strategy.polish:
            out.append(("single", {"horizon": 1.0}, optimizers[-1], f"single-shooting polish {optimizers[-1].name}"))
        return out
    if isinstance(strategy, SingleShooting):
        return [("single", {"horizon": 1.0}, opt, f"single shooting {opt.name}") for opt in optimizers]
    raise NotImplementedError(strategy)  # pragma: no cover


def fit_problem(problem: FitRequest, hooks: FitHooks | None = None) -> FitResult:
    """Train on the jax engine; returns a :class:`FitResult` (never raises on numerical failure)."""
    hooks = hooks or FitHooks()
    t_start = time.perf_counter()
    solver, lin, reason = fit_solver(problem)
    packing = Packing(problem)
    obj = Objectives(problem, packing, solver, linsolve=lin, adjoint=problem.adjoint)

    def describe(theta):
        values, _, _ = packing.unpack(theta)
        return {"params": {k: np.asarray(v) for k, v in values.items() if k not in problem.fixed}}

    phases = expand_phases(problem.strategy, problem.optimizers)
    ckpt = hooks.checkpoint

    def on_chunk(tr, carry, loop_state, final):
        if ckpt is not None and (final or ckpt.due(len(tr.history))):
            _save_checkpoint(ckpt, tr, carry, loop_state, len(tr.history))

    trainer = Trainer(
        progress=hooks.progress,
        callback=hooks.callback,
        describe=describe,
        on_chunk=on_chunk,
        should_stop=hooks.should_stop,
    )
    theta = packing.theta0()
    first_phase, resume = 0, None
    if hooks.resume_state is not None:
        resume_meta, resume_arrays = hooks.resume_state
        trainer.history = list(np.asarray(resume_arrays["history"], dtype=float))
        trainer.events = list(resume_meta["events"])
        trainer.phases = list(resume_meta["phases"])
        first_phase = int(resume_meta["phase_index"])
        if first_phase >= len(phases):  # the fit had finished: restore its parameters
            leaves = [jnp.asarray(x) for x in arrays_list(resume_arrays, "theta")]
            theta = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(theta), leaves)
        else:
            resume = {"carry_leaves": arrays_list(resume_arrays, "carry"), **resume_meta["loop_state"]}
        trainer.events.append(
            {
                "step": len(trainer.history),
                "kind": "resumed",
                "detail": f"resumed from checkpoint in phase {first_phase}",
            }
        )
        if hooks.progress is not None and trainer.history:
            hooks.progress(len(trainer.history), float(trainer.history[-1]))
    ms_cache: dict = {}
    status, message = Status.SUCCESS, ""
    try:
        for index, (kind, opts, opt, name) in enumerate(phases):
            if index < first_phase:
                continue
            trainer.phase_index = index
            here, resume = resume, None
            if kind == "single":
                theta.pop("seg", None)
                theta = trainer.run(
                    opt,
                    single_shooting_loss(obj),
                    theta,
                    jnp.float64(opts["horizon"]),
                    name=name,
                    info={"strategy": "single", "horizon": opts["horizon"]},
                    resume=here,
                )
            elif kind == "multiple":
                key = (opts["segments"], opts["continuity"])
                if key not in ms_cache:
                    loss, starts = obj.multiple_shooting(int(opts["segments"]), opts["continuity"])
                    ms_cache[key] = (jax.tree_util.Partial(lambda th, aux, _l=loss: _l(th)), starts)
                loss, starts = ms_cache[key]
                if "seg" not in theta:
                    seg = (
                        jnp.zeros(starts.shape + (problem.model.n_states,))
                        if here is not None
                        else _segment_start(obj, theta, starts)
                    )
                    theta = dict(theta, seg=seg)
                theta = trainer.run(opt, loss, theta, (), name=name, info={"strategy": "multiple"}, resume=here)
            else:  # collocation
                assert isinstance(problem.strategy, Collocation)
                times, states, derivs, weight, u0_smooth = smooth_derivatives(problem, problem.strategy.smoothing)
                if here is None:
                    theta = dict(theta, u0=jnp.where(packing.u0_free, jnp.asarray(u0_smooth), theta["u0"]))
                closs = _collocation_loss(obj, times, states, derivs, weight)
                theta = trainer.run(opt, closs, theta, (), name=name, info={"strategy": "collocation"}, resume=here)
        if ckpt is not None:
            trainer.phase_index = len(phases)
            _save_final(ckpt, trainer, {k: v for k, v in theta.items() if k != "seg"})
    except StopTraining as stop:
        theta = dict(stop.args[0])
        if stop.interrupted:
            status, message = Status.INTERRUPTED, "interrupted (Ctrl-C); the best parameters so far are kept."
            if ckpt is not None:
                message += f" A checkpoint was saved: fit(..., checkpoint={str(ckpt.path)!r}, resume=True) continues."
        else:
            status, message = Status.INTERRUPTED, "stopped by the callback; the best parameters so far are kept."
    except KeyboardInterrupt:  # outside a compiled chunk: keep what the last phase returned
        status, message = Status.INTERRUPTED, "interrupted (Ctrl-C); the best parameters so far are kept."
        trainer.events.append({"step": len(trainer.history), "kind": "interrupted", "detail": "KeyboardInterrupt"})
    theta.pop("seg", None)
    final = final_loss(obj, theta)
    if not np.isfinite(final) and status is Status.SUCCESS:
        status = Status.FAILED
        message = (
            "the fitted model cannot be solved over the whole data span (the solve fails or the "
            "loss is not finite). Try a stiff solver (solver=ps.Rodas5P()), a smaller learning "
            "rate, or the default growing-horizon strategy."
        )
    elif status is Status.SUCCESS:
        n_rej = sum(1 for e in trainer.events if e["kind"] == "rejected-step")
        message = f"fitted: final loss {final:.4g}" + (f" ({n_rej} rejected steps)" if n_rej else "")
    if reason:
        message += f"; {reason}"
    values, nets, u0 = packing.to_numpy(theta)
    cov = {}
    if problem.free and np.isfinite(final):
        try:
            cov = laplace_covariance(problem, packing, solver, lin, theta)
        except Exception as exc:  # the covariance is a diagnostic: report, never fail the fit
            trainer.events.append({"step": len(trainer.history), "kind": "laplace-failed", "detail": str(exc)[:200]})
    sigma = packing.sigma(theta)
    return FitResult(
        params=values,
        network_params=nets,
        u0=u0,
        loss_history=np.asarray(trainer.history),
        phases=trainer.phases,
        events=trainer.events,
        status=status,
        message=message,
        final_loss=final,
        covariance=cov,
        sigma=None if sigma is None else np.asarray(sigma) * problem.scales,
        seconds=time.perf_counter() - t_start,
        compile_seconds=trainer.compile_seconds,
        solver=solver,
    )


_SINGLE = {}
_COLLOCATION = {}


def _collocation_loss(obj, times, states, derivs, weight):
    """The collocation loss as one callable per objective (compiled once, also on resume)."""
    key = id(obj)
    if key not in _COLLOCATION or _COLLOCATION[key][0] is not obj:
        _COLLOCATION.clear()
        closs = obj.collocation(times, states, derivs, weight)
        _COLLOCATION[key] = (obj, jax.tree_util.Partial(lambda th, aux: closs(th)))
    return _COLLOCATION[key][1]


def _save_checkpoint(ckpt, trainer, carry, loop_state, step):

    arrays = state_arrays("carry", jax.tree_util.tree_leaves(carry))
    arrays["history"] = np.asarray(trainer.history, dtype=float)
    meta = {
        "phase_index": trainer.phase_index,
        "loop_state": loop_state,
        "events": trainer.events,
        "phases": trainer.phases,
    }
    ckpt.save(meta, arrays, step)


def _save_final(ckpt, trainer, theta):

    arrays = state_arrays("theta", jax.tree_util.tree_leaves(theta))
    arrays["history"] = np.asarray(trainer.history, dtype=float)
    meta = {"phase_index": trainer.phase_index, "loop_state": {}, "events": trainer.events, "phases": trainer.phases}
    ckpt.save(meta, arrays, len(trainer.history))


def single_shooting_loss(obj):
    """The single-shooting loss as a hashable, jit-friendly callable ``f(theta, horizon)``."""
    key = id(obj)
    if key not in _SINGLE or _SINGLE[key][0] is not obj:
        _SINGLE.clear()
        _SINGLE[key] = (obj, jax.tree_util.Partial(lambda th, horizon: obj.single_shooting(th, horizon)))
    return _SINGLE[key][1]


def final_loss(obj, theta) -> float:
    """The single-shooting loss at ``theta`` over the whole horizon (what ``model.loss_`` reports),
    compiled and kept in pysciml's cache like the training chunks.  Evaluated eagerly, diffrax ran
    op by op: ~0.5 s added to every fit of the UDE benchmark (``benchmarks/results/ude.md``)."""
    loss = single_shooting_loss(obj)

    @cached_jit(kind="fit-loss")  # kept across processes (pysciml.cache)
    def value(th, horizon):
        return loss(th, horizon)

    return float(value(theta, jnp.float64(1.0)))


def _segment_start(obj, theta, starts):
    """Initial segment states: the observation where every state is observed, else the prediction."""

    @cached_jit(kind="fit-predict")  # compiled, not run op by op (see final_loss)
    def predict(th):
        return obj.predict(th, 1.0)[0]

    ys = np.asarray(predict(theta))
    B, S = starts.shape
    seg = np.zeros((B, S, ys.shape[-1]))
    y = np.asarray(obj.problem.y)
    mask = np.asarray(obj.problem.mask)
    for b in range(B):
        for s in range(S):
            i = starts[b, s]
            pred = ys[b, i] if np.all(np.isfinite(ys[b, i])) else obj.problem.u0_init[b]
            seg[b, s] = np.where(mask[b, i], y[b, i], pred)
    return jnp.asarray(seg)
