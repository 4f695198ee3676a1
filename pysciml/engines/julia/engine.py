"""The Julia engine: pysciml requests in, numpy results out, Julia doing the work.

A model is traced once with sympy (:mod:`.trace`), emitted as Julia source
(:mod:`.emit`) and compiled by PySciMLBridge; then every solve, batch, gradient
or fit is one bridge call (:mod:`.bridge`) with plain arrays.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import InputError
from ...status import Status
from ..contract import Engine
from ..requests import (
    Batching,
    CellBlock,
    CellFitRequest,
    CellFitResult,
    CellSolveRequest,
    CellSolveResult,
    FitHooks,
    FitRequest,
    FitResult,
    LatentTrainRequest,
    LatentTrainResult,
    RawSolution,
    Sensitivities,
    SolveFunction,
    SolveRequest,
)
from .bridge import JuliaBridge, availability, find_julia, julia_env_path, to_numpy
from .mapping import STAT_NAMES, adjoint_args, flat_theta, solver_args, split_theta

__all__ = ["JuliaEngine", "LossGrad"]


@dataclasses.dataclass(frozen=True, eq=False)
class LossGrad:
    """Loss and gradients from :meth:`JuliaEngine.loss_and_grad`.

    Attributes:
        loss: the loss (``inf`` if a solve failed).
        grad_params: gradient by physics parameter name (each in the parameter's shape).
        grad_networks: gradient by network name (flat, pysciml layout).
        grad_u0: gradient with respect to the initial states, ``(n_traj, n_states)``.
        status: each trajectory's solve status, ``(n_traj,)``.
    """

    loss: float
    grad_params: dict
    grad_networks: dict
    grad_u0: np.ndarray
    status: np.ndarray


def _atol(atol, n_states: int):
    """A float, or a float64 array with one value per state value (Julia accepts both)."""
    if np.ndim(atol) == 0:
        return float(atol)
    return np.ascontiguousarray(np.broadcast_to(_f64(atol, argument="atol"), (n_states,)))


def _f64(x, shape=None, *, argument: str):
    try:
        a = np.ascontiguousarray(x, dtype=np.float64)
    except Exception:  # noqa: BLE001 - jax tracers and other non-numbers
        raise InputError(
            f"must be concrete numbers, got {type(x).__name__} (the julia engine cannot run "
            "inside jax.grad/jit; use engine='jax' there).",
            argument=argument,
        ) from None
    if shape is not None and a.shape != tuple(shape):
        raise InputError(f"has shape {a.shape}, expected {tuple(shape)}.", argument=argument)
    return a


class JuliaEngine(Engine):
    """OrdinaryDiffEq / SciMLSensitivity / Optimisers.jl and Optim.jl through juliacall.

    Args:
        bridge: a :class:`~.bridge.JuliaBridge`; by default the real one (Julia starts
            on the first call that needs it).
    """

    name = "julia"

    def __init__(self, bridge: JuliaBridge | None = None):
        self._bridge = bridge if bridge is not None else JuliaBridge()

    # -- the contract --------------------------------------------------------------------------
    @classmethod
    def availability(cls) -> tuple[bool, str]:
        return availability()

    def capabilities(self) -> frozenset[str]:
        return frozenset({"solve", "sensitivity", "solve_cells", "solve_ensemble", "fit"})

    @classmethod
    def static_info(cls) -> dict[str, Any]:
        """Paths and settings known without starting Julia (for ``ps.info()``)."""
        from .sysimage import usable_sysimage

        exe = find_julia()
        image = usable_sysimage(exe)
        out = {
            "julia_executable": exe,
            "bridge_package": str(julia_env_path()),
            "threads": os.environ.get("PYTHON_JULIACALL_THREADS", "1 (set on start)"),
            "handle_signals": os.environ.get("PYTHON_JULIACALL_HANDLE_SIGNALS", "no (set on start)"),
            "sysimage": os.environ.get("PYTHON_JULIACALL_SYSIMAGE") or (str(image) if image is not None else None),
        }
        try:
            from juliapkg.state import STATE

            out["project"] = STATE.get("project")
            out["depot"] = STATE.get("depot")
        except Exception:  # noqa: BLE001 - juliapkg not installed
            pass
        return out

    def info(self) -> dict[str, Any]:
        """Versions, Julia path, depot and threads; starts Julia (minutes the first time)."""
        out = {"engine": "julia", **self.static_info()}
        out.update(self._bridge.info())
        return out

    def compile(self, model) -> int:
        """Trace and compile ``model`` now (otherwise done by the first call)."""
        return self._bridge.compile(model)

    # -- helpers ----------------------------------------------------------------------------
    def _theta(self, model, params, network_params):
        values = model.resolve_params(params)
        nets = dict(model.init_networks())
        nets.update(dict(network_params or {}))
        return flat_theta(model, values, nets)

    def rhs(self, model, u, t: float = 0.0, params=None, network_params=None) -> tuple[np.ndarray, np.ndarray]:
        """The compiled right-hand side at ``(u, t)``: ``(in-place, out-of-place)`` results."""
        h = self._bridge.compile(model)
        u = _f64(u, (model.n_states,), argument="u")
        du1, du2 = self._bridge.call("bridge_rhs", h, u, self._theta(model, params, network_params), float(t))
        return to_numpy(du1), to_numpy(du2)

    @staticmethod
    def _stats(stats_row, alg: str, t_end) -> dict:
        out: dict[str, Any] = {k: int(v) for k, v in zip(STAT_NAMES, np.asarray(stats_row).reshape(-1))}
        out["solver"] = alg
        out["t_end"] = t_end
        return out

    # -- solving ------------------------------------------------------------------------------
    def solve(self, request: SolveRequest) -> RawSolution:
        """One initial-value problem (see :class:`~pysciml.engines.requests.SolveRequest`)."""
        if request.events:
            # ps.Event / ps.At are Python functions of (u, p, t, m): not yet transcribed into
            # DifferentialEquations.jl callbacks (ContinuousCallback / PresetTimeCallback)
            raise self.unavailable("solve with events", "engine='jax'")
        model = request.model
        theta = flat_theta(model, request.params, request.network_params)
        saveat = _f64(request.saveat, argument="saveat").reshape(-1)
        u0 = _f64(request.u0, (model.n_states,), argument="u0")
        h = self._bridge.compile(model)
        name, ls, stiff, rows, cols = solver_args(request.solver, model)
        t, U, status, stats, t_end, alg = self._bridge.call(
            "bridge_solve",
            h,
            u0,
            theta,
            float(request.t0),
            float(request.t1),
            saveat,
            name,
            ls,
            stiff,
            float(request.rtol),
            _atol(request.atol, model.n_states),
            float(request.dt0 or 0.0),
            int(request.max_steps),
            bool(request.adaptive),
            rows,
            cols,
        )
        return RawSolution(
            t=to_numpy(t),
            u=to_numpy(U).reshape(saveat.size, model.n_states),
            status=int(status),
            stats=self._stats(stats, str(alg), float(t_end)),
        )

    def compile_solve(self, request: SolveRequest) -> SolveFunction:
        # a compiled handle is a jax function of (u0, params) (raw mode under jax.vmap/grad/jit);
        # a Julia solve is one bridge call per problem, which ps.solve already is
        raise self.unavailable(
            "compile_solve",
            "engine='jax': ps.compile builds a jax function and is jax-only; on the julia engine call "
            "ps.solve(..., engine='julia') for each problem",
        )

    def solve_batch(
        self,
        request: SolveRequest,
        *,
        u0=None,
        params: Mapping[str, Any] | None = None,
        network_params: Mapping[str, Any] | None = None,
    ) -> RawSolution:
        """Many cells at once (EnsembleProblem with threads).

        Args:
            request: the shared problem (times, solver, tolerances, defaults).
            u0: per-cell initial states ``(n_cells, n_states)``, or ``None`` for ``request.u0``.
            params: per-cell physics parameters ``{name: (n_cells, *shape)}``; others are shared.
            network_params: per-cell network weights ``{name: (n_cells, n_weights)}``.
        Returns:
            ``u`` ``(n_cells, n_save, n_states)``, ``status`` ``(n_cells,)``, and ``stats`` whose
            counters are ``(n_cells,)`` arrays.
        """
        model = request.model
        params, network_params = dict(params or {}), dict(network_params or {})
        n_cells = None
        for k, v in (
            [("u0", u0)]
            + [(f"params.{k}", v) for k, v in params.items()]
            + [(f"network_params.{k}", v) for k, v in network_params.items()]
        ):
            if v is not None:
                n = np.shape(v)[0] if np.ndim(v) else None
                if n is None or (n_cells is not None and n != n_cells):
                    raise InputError(
                        f"needs a leading cell axis of the same length as the others, got shape {np.shape(v)}.",
                        argument=k,
                    )
                n_cells = n
        if n_cells is None:
            raise InputError(
                "give per-cell values (u0, params or network_params with a leading cell axis).", argument="u0"
            )
        base = flat_theta(model, request.params, request.network_params)
        THETA = np.repeat(base[None, :], n_cells, axis=0)
        k = 0
        for name, spec in model.param_specs.items():
            if name in params:
                v = _f64(params[name], argument=f"params.{name}")
                THETA[:, k : k + spec.size] = np.broadcast_to(
                    v.reshape((n_cells,) + v.shape[1:]), (n_cells,) + spec.shape
                ).reshape(n_cells, -1)
            k += spec.size
        for name, net in model.networks.items():
            if name in network_params:
                THETA[:, k : k + net.n_params] = _f64(
                    network_params[name], (n_cells, net.n_params), argument=f"network_params.{name}"
                )
            k += net.n_params
        unknown = set(params) - set(model.param_specs)
        if unknown:
            raise InputError(f"unknown parameters {sorted(unknown)}.", argument="params")
        U0 = (
            np.repeat(_f64(request.u0, (model.n_states,), argument="u0")[None], n_cells, axis=0)
            if u0 is None
            else _f64(u0, (n_cells, model.n_states), argument="u0")
        )
        h = self._bridge.compile(model)
        name, ls, stiff, rows, cols = solver_args(request.solver, model)
        saveat = _f64(request.saveat, argument="saveat").reshape(-1)
        U, status, stats, t_end = self._bridge.call(
            "bridge_solve_batch",
            h,
            np.ascontiguousarray(U0),
            np.ascontiguousarray(THETA),
            float(request.t0),
            float(request.t1),
            saveat,
            name,
            ls,
            stiff,
            float(request.rtol),
            _atol(request.atol, model.n_states),
            float(request.dt0 or 0.0),
            int(request.max_steps),
            bool(request.adaptive),
            rows,
            cols,
        )
        stats = to_numpy(stats, np.int64).reshape(n_cells, len(STAT_NAMES))
        out_stats: dict[str, Any] = {k: stats[:, i] for i, k in enumerate(STAT_NAMES)}
        out_stats["solver"] = name
        out_stats["t_end"] = to_numpy(t_end).reshape(n_cells)
        return RawSolution(
            t=saveat.copy(),
            u=to_numpy(U).reshape(n_cells, saveat.size, model.n_states),
            status=to_numpy(status, np.int64).reshape(n_cells),
            stats=out_stats,
        )

    # -- fitting ------------------------------------------------------------------------------
    def _data(self, model, u0, t0, ts, ys, mask, scale):
        ts = _f64(ts, argument="ts")
        if ts.ndim != 2:
            raise InputError(f"must be (n_traj, L), got shape {ts.shape}.", argument="ts")
        n_traj, L = ts.shape
        n = model.n_states
        ys = _f64(ys, (n_traj, L, n), argument="ys")
        mask = np.asarray(mask)
        if mask.shape != (n_traj, L, n):
            raise InputError(f"has shape {mask.shape}, expected {(n_traj, L, n)}.", argument="mask")
        mask = np.ascontiguousarray(mask, dtype=bool)
        scale = _f64(scale, (n,), argument="scale")
        if np.any(scale <= 0):
            raise InputError("must be positive (one scale per state).", argument="scale")
        u0 = _f64(u0, argument="u0").reshape(n_traj, n) if np.size(u0) == n_traj * n else None
        if u0 is None:
            raise InputError(f"must have shape (n_traj, n_states) = {(n_traj, n)}.", argument="u0")
        t0 = _f64(np.broadcast_to(np.asarray(t0, dtype=np.float64), (n_traj,)), argument="t0")
        return np.ascontiguousarray(u0), np.ascontiguousarray(t0), ts, ys, mask, scale

    def loss_and_grad(
        self,
        model,
        *,
        params=None,
        network_params=None,
        u0,
        t0,
        ts,
        ys,
        mask,
        scale,
        l2: float = 0.0,
        solver="auto",
        adjoint=None,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        max_steps: int = 100_000,
    ) -> LossGrad:
        """The fitting loss and its exact gradient (SciMLSensitivity adjoint).

        loss = sum(mask * ((u(ts) - ys) / scale)^2) / sum(mask) + l2 * sum(network weights^2).

        Args:
            model: the model.
            params, network_params: parameter values (defaults / initial networks otherwise).
            u0: initial states ``(n_traj, n_states)`` at times ``t0`` (scalar or ``(n_traj,)``).
            ts: observation times ``(n_traj, L)``, padded; rows with no observation are ignored.
            ys: observations ``(n_traj, L, n_states)`` (NaN where missing).
            mask: ``(n_traj, L, n_states)`` True where observed.
            scale: per-state scale ``(n_states,)``.
            l2: weight of the network-weight penalty.
            solver, adjoint: solver object or name; adjoint object or name (see :mod:`.mapping`).
        """
        h = self._bridge.compile(model)
        U0, T0, ts, ys, mask, scale = self._data(model, u0, t0, ts, ys, mask, scale)
        theta = self._theta(model, params, network_params)
        name, ls, stiff, rows, cols = solver_args(solver, model)
        kind, vjp = adjoint_args(adjoint)
        loss, g, gu, status = self._bridge.call(
            "bridge_loss_and_grad",
            h,
            theta,
            U0,
            T0,
            ts,
            ys,
            mask,
            scale,
            float(l2),
            name,
            ls,
            stiff,
            kind,
            vjp,
            float(rtol),
            float(atol),
            int(max_steps),
            rows,
            cols,
        )
        gp, gn = split_theta(model, to_numpy(g).reshape(theta.size))
        return LossGrad(
            float(loss), gp, gn, to_numpy(gu).reshape(U0.shape), to_numpy(status, np.int64).reshape(U0.shape[0])
        )

    def fit(self, request: FitRequest, hooks: FitHooks) -> FitResult:
        """Fit a :class:`~pysciml.engines.requests.FitRequest` in Julia (Adam on Optimisers.jl, L-BFGS on Optim.jl).

        Single shooting and the growing-horizon warm-up run natively; Adam (with
        clipping, schedules and early stopping) and L-BFGS map to OptimizationOptimisers
        and OptimizationOptimJL.  Returns a :class:`~pysciml.fitting.problem.FitResult`;
        numerical failure is a status, never an exception.
        """
        if request.events:
            raise self.unavailable("fit with events", "engine='jax'")
        from .training import run_fit

        return run_fit(self._bridge, request, hooks)

    def solve_cells(self, request: CellSolveRequest, u0, params, batching: Batching) -> CellSolveResult:
        """Every cell in one threaded ensemble solve (:meth:`solve_batch`); ``batching`` is not needed."""
        del batching
        model = request.model
        per_cell = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        base = SolveRequest(
            model=model,
            u0=np.zeros(model.n_states),
            params=model.resolve_params(request.values),
            network_params=dict(request.networks),
            t0=float(request.t0),
            t1=float(request.ts[-1]),
            saveat=np.asarray(request.ts, float),
            solver=request.solver,
            rtol=request.rtol,
            atol=request.atol,
            max_steps=request.max_steps,
        )
        raw = self.solve_batch(base, u0=np.asarray(u0, dtype=np.float64), params=per_cell)
        return CellSolveResult(np.asarray(raw.u), np.asarray(raw.status).astype(np.int8), str(raw.stats["solver"]))

    def solve_ensemble(self, request, u0, params, batching, estimate=None, progress=None) -> RawSolution:
        """Every member in one threaded ensemble solve (:meth:`solve_batch`): Julia holds all the
        members' solutions at once, so ``batching`` is not used and ``estimate`` is not called."""
        del batching, estimate
        if request.events:
            raise self.unavailable("solve_ensemble with events", "engine='jax'")
        raw = self.solve_batch(
            request, u0=np.asarray(u0, dtype=np.float64), params={k: np.asarray(v, float) for k, v in params.items()}
        )
        if progress is not None:
            progress(int(np.shape(u0)[0]))
        return raw

    def fit_cells(
        self, request: CellFitRequest, block: CellBlock, batching: Batching, hooks: FitHooks
    ) -> CellFitResult:
        raise self.unavailable("fit_cells", "engine='jax' for gridded fits (the julia engine solves cells)")

    def cell_history_steps(self, request: CellFitRequest):
        raise self.unavailable("cell_history_steps", "engine='jax' for gridded fits")

    def train_latent(self, request: LatentTrainRequest, hooks: FitHooks) -> LatentTrainResult:
        raise self.unavailable("train_latent", "engine='jax' for latent ODEs")

    def encode_latent(self, config, weights, T, Y, M, condition=None):
        raise self.unavailable("encode_latent", "engine='jax' for latent ODEs")

    def decode_latent(self, config, weights, n_states, z0, t0, ts, condition=None):
        raise self.unavailable("decode_latent", "engine='jax' for latent ODEs")

    def sample_latent(self, config, weights, n_states, ts, n, seed, noise, condition=None):
        raise self.unavailable("sample_latent", "engine='jax' for latent ODEs")

    def evaluate_latent(self, config, weights, T, Y, M, seed, n_samples, condition=None):
        raise self.unavailable("evaluate_latent", "engine='jax' for latent ODEs")

    def predict_latent_sde(self, config, weights, n_states, T, Y, M, ts, n_samples, seed, condition=None):
        raise self.unavailable("predict_latent_sde", "engine='jax' for latent SDEs")

    def latent_noise_std(self, config, weights, n_states):
        raise self.unavailable("latent_noise_std", "engine='jax' for latent ODEs")

    def solve_sde(self, request):
        # StochasticDiffEq is not in the bridge yet: the solver objects name their algorithm
        # (``SDESolver.julia_method``) for when it is; until then, refuse by name.
        raise self.unavailable("solve_sde", "engine='jax' for SDEs")

    def fit_sde(self, request, hooks):
        raise self.unavailable("fit_sde", "engine='jax' for SDE fits")

    def sensitivity(self, request: SolveRequest, wrt: tuple[str, ...]) -> Sensitivities:
        """d u(t_i) / d (u0, params) by ForwardDiff through the Julia solve (numpy arrays)."""

        model = request.model
        h = self._bridge.compile(model)
        name, ls, stiff, rows, cols = solver_args(request.solver, model)
        theta = flat_theta(model, request.params, request.network_params)
        names = [n for n in model.param_names if "params" in wrt or n in wrt]
        offsets, index, k = {}, [], 0
        for pname, spec in model.param_specs.items():
            if pname in names:
                offsets[pname] = (len(index), spec.shape)
                index.extend(range(k + 1, k + spec.size + 1))
            k += spec.size
        want_u0 = "u0" in wrt
        saveat = _f64(request.saveat, argument="saveat").reshape(-1)
        U, J, status = self._bridge.call(
            "bridge_sensitivity",
            h,
            _f64(request.u0, (model.n_states,), argument="u0"),
            theta,
            want_u0,
            np.asarray(index, dtype=np.int64),
            float(request.t0),
            float(request.t1),
            saveat,
            name,
            ls,
            stiff,
            float(request.rtol),
            _atol(request.atol, model.n_states),
            float(request.dt0 or 0.0),
            int(request.max_steps),
            bool(request.adaptive),
            rows,
            cols,
        )
        n, n_save = model.n_states, saveat.size
        J = to_numpy(J).reshape(n_save, n, -1)
        nu = n if want_u0 else 0
        sens_params = None
        if names:
            sens_params = {
                p: J[:, :, nu + o : nu + o + int(np.prod(shp, dtype=int))].reshape((n_save, n) + shp)
                for p, (o, shp) in offsets.items()
            }
        return Sensitivities(
            t=saveat.copy(),
            u=to_numpy(U).reshape(n_save, n),
            status=Status(int(status)),
            u0=J[:, :, :n].copy() if want_u0 else None,
            params=sens_params,
        )
