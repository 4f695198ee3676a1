"""Fitting on the Julia engine: a :class:`~pysciml.fitting.problem.FitRequest` as one bridge call.

The problem becomes plain arrays (flat parameters in pysciml's layout with their
bound transforms, padded observations, initial states and which of them are free)
and a tuple of optimisation stages; ``PySciMLBridge.bridge_fit`` runs them (Adam on
Optimisers.jl in the bridge's own loop, L-BFGS on Optim.jl) and reports progress back
at most every ``REPORT_EVERY`` seconds.

As on the jax engine, an Adam stage of ``steps`` steps adds ``steps`` entries to the loss
history (the loss at the point each step starts from; a step with a non-finite loss or
gradient is rejected and recorded), and an L-BFGS stage adds at most ``steps`` (the
finite losses up to convergence).  Whenever the fit can be stopped (a progress bar, a
callback or ``FitHooks.should_stop``) the report runs, and Ctrl-C seen there (with
juliacall's default ``HANDLE_SIGNALS=no`` Python sees it only when Julia calls back)
stops the fit with the best parameters so far, as on the jax engine.

Supported: the MSE loss; single shooting and the growing-horizon warm-up (the
default strategy); Adam (clipping, schedules, early stopping) and L-BFGS.
Multiple shooting, collocation and the Gaussian likelihood run on the jax engine.
"""

from __future__ import annotations

import time

import numpy as np

from ...errors import InputError
from ...status import Status
from ...training.losses import MSE, from_unconstrained
from ...training.optimizers import Adam
from ...training.strategies import GrowingHorizon, SingleShooting
from ..requests import FitHooks, FitResult
from .bridge import to_numpy
from .mapping import adjoint_args, solver_args, split_theta

__all__ = ["run_fit", "fit_stages", "REPORT_EVERY"]

#: seconds between progress reports from Julia
REPORT_EVERY = 0.2


def _adam(opt, horizon: float = 1.0) -> tuple:
    return (
        "adam",
        float(opt.learning_rate),
        int(opt.steps),
        float(horizon),
        float(opt.clip or 0.0),
        str(opt.schedule),
        float(opt.final_fraction),
        int(opt.patience or 0),
        float(opt.min_delta),
        10,
        0.0,
    )


def _lbfgs(opt) -> tuple:
    return ("lbfgs", 0.0, int(opt.steps), 1.0, 0.0, "constant", 1.0, 0, 0.0, int(opt.memory), float(opt.tol))


def _stage(opt, horizon: float = 1.0) -> tuple:
    kind = type(opt).__name__
    if kind == "Adam":
        return _adam(opt, horizon)
    if kind == "LBFGS":
        return _lbfgs(opt)
    raise InputError(
        f"optimizer {kind} is not available on the julia engine; use ps.Adam or ps.LBFGS.", argument="optimizers"
    )


def fit_stages(strategy, optimizers) -> tuple[tuple, list[dict]]:
    """``(stages for PySciMLBridge.Stage, [{"name", "optimizer", "strategy", "horizon"}])``."""

    stages, info = [], []
    if isinstance(strategy, GrowingHorizon):
        for k in range(1, strategy.stages + 1):
            frac = k / (strategy.stages + 1)
            stages.append(_adam(Adam(strategy.learning_rate, steps=strategy.steps), frac))
            info.append(
                {"name": f"warm-up horizon {frac:.0%}", "optimizer": "Adam", "strategy": "single", "horizon": frac}
            )
        strategy = strategy.then
    if not isinstance(strategy, SingleShooting):
        raise InputError(
            f"the julia engine fits with single shooting and the growing-horizon warm-up; "
            f"{type(strategy).__name__} runs on the jax engine (engine='jax').",
            argument="strategy",
        )
    for opt in optimizers:
        stages.append(_stage(opt))
        info.append(
            {
                "name": f"single shooting {type(opt).__name__}",
                "optimizer": type(opt).__name__,
                "strategy": "single",
                "horizon": 1.0,
            }
        )
    return tuple(stages), info


def _arrays(problem):
    """Flat natural values, unconstrained start, bound kinds and the free mask (pysciml layout)."""

    model = problem.model
    free = {f.name: f for f in problem.free}
    theta, z, kind, lo, hi, mask = [], [], [], [], [], []
    for name, spec in model.param_specs.items():
        size = spec.size
        if name in free:
            f = free[name]
            zz = np.broadcast_to(np.asarray(f.z0, dtype=float), spec.shape).reshape(-1)
            nat = np.asarray(from_unconstrained(zz, f.bounds, np), dtype=float).reshape(-1)
            b_lo, b_hi = f.bounds if f.bounds is not None else (None, None)
            k = (0 if b_lo is None else 1) + (0 if b_hi is None else 2)
            theta.append(nat), z.append(zz), mask.append(np.ones(size, bool))
            kind.append(np.full(size, k)), lo.append(np.full(size, b_lo or 0.0)), hi.append(np.full(size, b_hi or 0.0))
        else:
            v = np.broadcast_to(np.asarray(problem.fixed[name], dtype=float), spec.shape).reshape(-1)
            theta.append(v), z.append(v), mask.append(np.zeros(size, bool))
            kind.append(np.zeros(size)), lo.append(np.zeros(size)), hi.append(np.zeros(size))
    for name in model.networks:
        w = np.asarray(problem.networks_init[name], dtype=float).reshape(-1)
        theta.append(w), z.append(w), mask.append(np.full(w.size, name in problem.free_networks))
        kind.append(np.zeros(w.size)), lo.append(np.zeros(w.size)), hi.append(np.zeros(w.size))

    def cat(xs, dt):
        return np.ascontiguousarray(np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))

    return (
        cat(theta, np.float64),
        cat(z, np.float64),
        cat(kind, np.int64),
        cat(lo, np.float64),
        cat(hi, np.float64),
        cat(mask, bool),
    )


def run_fit(bridge, problem, hooks=None):
    """Run ``problem`` through ``bridge`` (a :class:`~.bridge.JuliaBridge`); a :class:`FitResult`."""

    hooks = hooks or FitHooks()
    if not isinstance(problem.loss, MSE):
        raise InputError(
            f"the julia engine fits the MSE loss; {type(problem.loss).__name__} runs on the jax engine (engine='jax').",
            argument="loss",
        )
    model = problem.model
    t_start = time.perf_counter()
    h = bridge.compile(model)
    stages, info = fit_stages(problem.strategy, problem.optimizers)
    theta0, z0, kind, lo, hi, free = _arrays(problem)
    name, ls, stiff, rows, cols = solver_args(problem.solver, model)
    akind, vjp = adjoint_args(problem.adjoint)
    done = {"steps": 0, "stop": None}

    def report(step, loss, stage, theta):
        try:
            return _report(step, loss, stage, theta)
        except KeyboardInterrupt:  # Ctrl-C arrives in Python here while Julia runs the fit
            done["stop"] = "interrupted"
            return True

    def _report(step, loss, stage, theta):
        step, loss, stage = int(step), float(loss), int(stage)
        if hooks.progress is not None:
            hooks.progress(step - done["steps"], loss)
        done["steps"] = step
        if hooks.should_stop is not None and hooks.should_stop():
            done["stop"] = "interrupted"
            return True
        if hooks.callback is None:
            return False
        params, _ = split_theta(model, to_numpy(theta))
        free_params = {k: v for k, v in params.items() if k not in problem.fixed}
        stop = bool(
            hooks.callback({"phase": info[stage - 1]["name"], "step": step, "loss": loss, "params": free_params})
        )
        if stop:
            done["stop"] = "callback-stop"
        return stop

    stoppable = hooks.progress is not None or hooks.callback is not None or hooks.should_stop is not None
    wrapped = bridge.report_function(report if stoppable else None)
    y = np.ascontiguousarray(np.where(problem.mask, problem.y, 0.0), dtype=np.float64)
    th, U, hist, stage, rejected, status, msg, final = bridge.call(
        "bridge_fit",
        h,
        theta0,
        z0,
        np.ascontiguousarray(problem.u0_init, dtype=np.float64),
        np.ascontiguousarray(problem.u0_free, dtype=bool),
        np.ascontiguousarray(problem.t0, dtype=np.float64),
        np.ascontiguousarray(problem.t, dtype=np.float64),
        y,
        np.ascontiguousarray(problem.mask, dtype=bool),
        np.ascontiguousarray(problem.scales, dtype=np.float64),
        float(problem.l2),
        kind,
        lo,
        hi,
        free,
        stages,
        name,
        ls,
        stiff,
        akind,
        vjp,
        float(problem.rtol),
        float(problem.atol),
        int(problem.max_steps),
        rows,
        cols,
        wrapped,
        float(REPORT_EVERY),
    )
    hist = to_numpy(hist).reshape(-1)
    stage = to_numpy(stage, np.int64).reshape(-1)
    if hooks.progress is not None and hist.size > done["steps"]:
        hooks.progress(int(hist.size - done["steps"]), float(hist[-1]))
    phases = []
    for k, meta in enumerate(info, start=1):
        idx = np.nonzero(stage == k)[0]
        if idx.size:
            phases.append({**meta, "start": int(idx[0]), "stop": int(idx[-1]) + 1})
    events = [
        {
            "step": int(i) - 1,
            "kind": "rejected-step",
            "detail": "non-finite loss or gradient (a solve failed); learning rate halved, last good parameters "
            "restored",
        }
        for i in to_numpy(rejected, np.int64).reshape(-1)
    ]
    status = Status(int(status))
    if status is Status.INTERRUPTED:
        kind = done["stop"] or "interrupted"
        events.append({"step": int(hist.size), "kind": kind, "detail": str(msg)})
    params, nets = split_theta(model, to_numpy(th))
    return FitResult(
        params=params,
        network_params=nets,
        u0=to_numpy(U).reshape(problem.u0_init.shape),
        loss_history=hist,
        phases=phases,
        events=events,
        status=status,
        message=str(msg) + "; fitted on the julia engine (no Laplace covariance)",
        final_loss=float(final),
        covariance={},
        sigma=None,
        seconds=time.perf_counter() - t_start,
        compile_seconds=0.0,
        solver=problem.solver,
    )
