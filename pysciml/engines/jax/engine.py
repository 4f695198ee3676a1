"""The embedded jax engine: compiled, differentiable, vmappable solves, fits and latent models."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import weakref
from typing import Any

import numpy as np

from ...cache import store
from ...solvers.symplectic import Symplectic
from ..contract import OPERATIONS, Engine
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
    LatentSDEConfig,
    LatentTrainRequest,
    LatentTrainResult,
    RawSolution,
    SDEFitRequest,
    SDEFitResult,
    SDERawSolution,
    SDESolveRequest,
    Sensitivities,
    SolveFunction,
    SolveRequest,
)
from ._setup import configure

# Every module that imports jax, equinox or diffrax is imported inside the methods below: the
# process settings of ``_setup.configure`` (XLA flags, EQX_ON_ERROR, x64) must come first, and a
# solve served from the compiled-model cache never imports diffrax.

__all__ = ["JaxEngine"]


class JaxEngine(Engine):
    """Runs models with jax: diffrax methods and pysciml's own Rosenbrock machine."""

    name = "jax"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        # find, not import: diffrax/equinox cost ~0.3 s that a cached solve does not need
        missing = [m for m in ("jax", "diffrax", "equinox") if importlib.util.find_spec(m) is None]
        if missing:  # pragma: no cover - core dependencies
            return (
                False,
                f"the jax engine needs jax, diffrax and equinox ({', '.join(missing)} missing); pip install pysciml",
            )
        return True, ""

    def __init__(self):
        configure()
        # model -> {config key -> jitted function}; models are compared by identity
        self._jitted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def capabilities(self) -> frozenset[str]:
        return frozenset(OPERATIONS)  # every operation of the contract

    # -- jitted functions ------------------------------------------------------------------------
    def jitted(self, model, key, build, *, persist=None):
        """Memoise ``build()`` (a jitted function) per model and configuration key.

        ``persist``: everything the built function computes with (the model, solver
        plan, static options...; see :mod:`pysciml.cache.fingerprint`).  When given,
        the function also lives in the compiled-model cache across processes and
        ``build`` runs only when it must be traced (see :mod:`.cached_functions`).
        """
        per_model = self._jitted.setdefault(model, {})
        fn = per_model.get(key)
        if fn is None:
            if persist is None or not store.enabled():
                fn = build()
            else:
                from .cached_functions import (
                    CachedFunction,  # jax.export: only when the cache is on
                )

                fn = CachedFunction(build, persist, kind=str(key[0]), label=getattr(model, "name", ""))
            per_model[key] = fn
        return fn

    def solve_function(self, request: SolveRequest, plan):
        """The jitted ``f(t0, t1, y0, args, ts, rtol, atol, dt0) -> (ys, status, stats)`` for a request."""
        key = ("solve", plan.key, request.max_steps, request.differentiation, request.dt0 is None, request.adaptive)
        if request.events:  # the events' functions are part of the compiled solve (not persisted)
            key += ("events", request.events, request.at_times, request.max_events)
        known = self._jitted.get(request.model)
        if known is not None and key in known:  # the warm path of every solve: nothing to build
            return known[key]

        def build():
            from .compiled_solve import make_solve, run_method

            runner = run_method
            if request.events:
                from .events import event_runner

                runner = event_runner(request.model, request.events, request.at_times, request.max_events)
            return make_solve(
                request.model,
                plan,
                max_steps=request.max_steps,
                differentiation=request.differentiation,
                auto_dt0=request.dt0 is None,
                adaptive=request.adaptive,
                runner=runner,
            )

        # what make_solve's function computes with (plan.reason is only reported)
        persist = (
            "make_solve",
            request.model,
            plan.primary,
            plan.fallback,
            plan.budget,
            plan.linsolve,
            request.max_steps,
            request.differentiation,
            request.dt0 is None,
            request.adaptive,
        )
        return self.jitted(request.model, key, build, persist=None if request.events else persist)

    # -- solving ---------------------------------------------------------------------------------
    def solve(self, request: SolveRequest) -> RawSolution:
        compiled = self.compile_solve(request)
        ys, status, internal = compiled.run(request.u0, request.params, request.network_params)
        return RawSolution(request.saveat, ys, status, compiled.finish(ys, status, internal))

    def compile_solve(self, request: SolveRequest) -> SolveFunction:
        """The jitted solve of ``request`` (from the memo or the compiled-model cache) with its times,
        tolerances and solver plan fixed; ``solver="auto"`` is decided here, from ``request.u0`` and
        ``request.params``."""
        if isinstance(request.solver, Symplectic):  # fixed-step compositions: their own scan
            from .symplectic import symplectic_function

            return symplectic_function(self, request)
        from .compiled_solve import bind_solve
        from .plan import plan_solver

        plan = plan_solver(request)
        return bind_solve(self.solve_function(request, plan), plan, request)

    def sensitivity(self, request: SolveRequest, wrt: tuple[str, ...]) -> Sensitivities:
        from .sensitivity import trajectory_jacobians

        return Sensitivities(**trajectory_jacobians(self, request, wrt))

    def solve_cells(self, request: CellSolveRequest, u0, params, batching: Batching) -> CellSolveResult:
        """Every cell in compiled, vmapped batches (see :mod:`.fit.cells_solve`)."""
        from .cells.solve import solve_cells

        ys, status, solver = solve_cells(
            request,
            u0,
            dict(params),
            cells_per_batch=batching.cells_per_batch,
            max_memory=batching.max_memory,
            workers=batching.workers,
        )
        return CellSolveResult(ys, status, solver)

    def solve_ensemble(self, request, u0, params, batching, estimate=None, progress=None) -> RawSolution:
        """The compiled solve vmapped over members, in memory-bounded batches (see :mod:`.ensemble`)."""
        from .ensemble import solve_ensemble

        return solve_ensemble(self, request, np.asarray(u0, np.float64), params, batching, estimate, progress)

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, request: FitRequest, hooks: FitHooks) -> FitResult:
        """Fit a model (see :mod:`pysciml.engines.jax.training.run`)."""
        from .training.run import fit_problem

        return fit_problem(request, hooks)

    def fit_cells(
        self, request: CellFitRequest, block: CellBlock, batching: Batching, hooks: FitHooks
    ) -> CellFitResult:
        """Fit the cells of one block (``(n_cells, n_t, n_states)``).

        Independent cells train in one vmapped computation per batch (:mod:`.fit.cells`);
        with shared parameters, one joint optimisation over the cells (:mod:`.fit.cells_joint`).
        """
        kw: dict[str, Any] = dict(
            cells=block.cells,
            z0=dict(block.z0),
            u0=block.u0,
            cells_per_batch=batching.cells_per_batch,
            max_memory=batching.max_memory,
            progress=hooks.progress,
            workers=batching.workers,
        )
        if request.joint:
            from .cells.joint import fit_cells_joint

            res = fit_cells_joint(request, block.y, callback=hooks.callback, **kw)
        else:
            from .cells.independent import fit_cells

            res = fit_cells(request, block.y, estimate=hooks.estimate, **kw)
        return CellFitResult(**res)

    def cell_history_steps(self, request: CellFitRequest) -> list[int]:
        """Steps at which a per-cell fit records each cell's loss (sizes outputs before running)."""
        from .cells.independent import history_steps

        return history_steps(request)

    # -- latent ODEs -----------------------------------------------------------------------------
    def train_latent(self, request: LatentTrainRequest, hooks: FitHooks) -> LatentTrainResult:
        from .latent.train import train

        weights, hist = train(
            request.config,
            request.T,
            request.Y,
            request.M,
            steps=request.steps,
            batch_size=request.batch_size,
            learning_rate=request.learning_rate,
            kl_anneal=request.kl_anneal,
            n_samples=request.n_samples,
            seed=request.seed,
            clip=request.clip,
            progress=hooks.progress,
            weights=None if request.weights is None else list(request.weights),
            estimate=hooks.estimate,
            C=request.C,
        )
        history = {k: np.asarray(hist[k]) for k in ("loss", "loglik", "kl", "beta")}
        return LatentTrainResult(tuple(weights), history, int(hist["rejected_steps"]), float(hist["compile_seconds"]))

    def encode_latent(self, config, weights, T, Y, M, condition=None):
        from .latent import infer, sde

        module = sde if isinstance(config, LatentSDEConfig) else infer
        return module.encode(config, list(weights), T, Y, M, condition)

    def decode_latent(self, config, weights, n_states, z0, t0, ts, condition=None):
        from .latent.infer import reconstruct

        return reconstruct(config, list(weights), n_states, z0, t0, ts, condition)

    def sample_latent(self, config, weights, n_states, ts, n, seed, noise, condition=None):
        from .latent import infer, sde

        module = sde if isinstance(config, LatentSDEConfig) else infer
        return module.sample_prior(config, list(weights), n_states, ts, n, seed, noise, condition)

    def evaluate_latent(self, config, weights, T, Y, M, seed, n_samples, condition=None):
        from .latent.train import evaluate

        return evaluate(config, list(weights), T, Y, M, seed=seed, n_samples=n_samples, C=condition)

    def latent_noise_std(self, config, weights, n_states):
        from .latent import infer, sde

        return (sde if isinstance(config, LatentSDEConfig) else infer).noise_std(config, list(weights), n_states)

    def predict_latent_sde(self, config, weights, n_states, T, Y, M, ts, n_samples, seed, condition=None):
        from .latent.sde import predict

        return predict(config, list(weights), n_states, T, Y, M, ts, n_samples, seed, condition)

    # -- stochastic differential equations ---------------------------------------------------------
    def solve_sde(self, request: SDESolveRequest) -> SDERawSolution:
        """Many sample paths in one vmapped, jitted diffrax solve (see :mod:`.sde.solve`)."""
        from .sde.solve import solve_paths

        return solve_paths(self, request)

    def fit_sde(self, request: SDEFitRequest, hooks: FitHooks) -> SDEFitResult:
        """Maximise the Euler-Maruyama transition likelihood (see :mod:`.sde.fit`)."""
        from .sde.fit import fit_sde

        return fit_sde(request, hooks)

    # -- about -----------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        import diffrax
        import equinox
        import jax

        return {
            "engine": "jax",
            "jax": jax.__version__,
            "jaxlib": importlib.metadata.version("jaxlib"),
            "diffrax": diffrax.__version__,
            "equinox": equinox.__version__,
            "devices": [str(d) for d in jax.devices()],
            "x64": bool(jax.config.read("jax_enable_x64")),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
            "compilation_cache": getattr(jax.config, "jax_compilation_cache_dir", None),
        }
