"""The embedded jax engine: compiled, differentiable, vmappable solves."""

from __future__ import annotations

import functools
import weakref
from typing import Any


from ..base import Engine, RawSolution, SolveRequest
from . import _setup

__all__ = ["JaxEngine"]


class JaxEngine(Engine):
    """Runs models with jax: diffrax methods and pysciml's own Rosenbrock machine."""

    name = "jax"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        # find, not import: importing jax here would happen before _setup.configure() sets
        # XLA_FLAGS, and diffrax/equinox cost ~0.3 s that a cached solve does not need
        import importlib.util

        missing = [m for m in ("jax", "diffrax", "equinox") if importlib.util.find_spec(m) is None]
        if missing:  # pragma: no cover - core dependencies
            return False, f"the jax engine needs jax, diffrax and equinox ({', '.join(missing)} missing); pip install pysciml"
        return True, ""

    def __init__(self):
        _setup.configure()
        # model -> {config key -> jitted function}; models are compared by identity
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # -- compiled functions ---------------------------------------------------------------
    def compiled(self, model, key, build, *, persist=None):
        """Memoise ``build()`` (a jitted function) per model and configuration key.

        ``persist``: everything the built function computes with (the model, solver
        plan, static options...; see :mod:`pysciml.cache.fingerprint`).  When given,
        the function also lives in the compiled-model cache across processes and
        ``build`` runs only when it must be traced (see :mod:`.export_cache`).
        """
        per_model = self._compiled.setdefault(model, {})
        fn = per_model.get(key)
        if fn is None:
            from ...cache import store

            if persist is None or not store.enabled():
                fn = build()
            else:
                from .export_cache import CachedFunction

                fn = CachedFunction(build, persist, kind=str(key[0]), label=getattr(model, "name", ""))
            per_model[key] = fn
        return fn

    def _solve_fn(self, request: SolveRequest, plan):
        key = ("solve", plan.key, request.max_steps, request.differentiation, request.dt0 is None,
               request.adaptive)

        def build():
            from .solve_core import make_solve

            return make_solve(request.model, plan, max_steps=request.max_steps,
                              differentiation=request.differentiation, auto_dt0=request.dt0 is None,
                              adaptive=request.adaptive)

        # what make_solve's function computes with (plan.reason is only reported)
        persist = ("make_solve", request.model, plan.primary, plan.fallback, plan.budget, plan.linsolve,
                   request.max_steps, request.differentiation, request.dt0 is None, request.adaptive)
        return self.compiled(request.model, key, build, persist=persist)

    # -- Engine protocol --------------------------------------------------------------------
    def solve(self, request: SolveRequest) -> RawSolution:
        from .plan import plan_solver
        from .solve_core import call_args, finish_stats

        plan = plan_solver(request)
        fn = self._solve_fn(request, plan)
        ys, status, stats = fn(*call_args(request))
        return RawSolution(request.saveat, ys, status, finish_stats(plan, request, ys, status, stats))

    def fit(self, problem, hooks=None):
        """Fit a model (see :mod:`pysciml.engines.jax.fit.run`)."""
        from .fit.run import fit_problem

        return fit_problem(problem, hooks)

    def fit_cells(self, spec, y, **options):
        """Fit every cell of a block ``y`` (n_cells, n_t, n_states) of gridded data.

        Independent cells train in one vmapped computation per batch
        (:mod:`.fit.cells`); with shared parameters, one joint optimisation over the
        cells (:mod:`.fit.cells_joint`).  Returns per-cell numpy arrays.
        """
        if spec.joint:
            from .fit.cells_joint import fit_cells_joint

            return fit_cells_joint(spec, y, **options)
        from .fit.cells import fit_cells

        options.pop("callback", None)
        return fit_cells(spec, y, **options)

    def cell_history_steps(self, spec) -> list[int]:
        """Steps at which a per-cell fit records each cell's loss (sizes outputs before running)."""
        from .fit.cells import history_steps

        return history_steps(spec)

    def solve_cells(self, spec, u0, params, **options):
        """Solve every cell (see :func:`pysciml.engines.jax.fit.cells_solve.solve_cells`)."""
        from .fit.cells_solve import solve_cells

        return solve_cells(spec, u0, params, **options)

    def resolve_cell_solver(self, model, solver, t, u0, values, networks):
        """The one method every cell uses (``auto`` decided once from a representative cell)."""
        from .fit.cells_objective import resolve_cell_solver

        return resolve_cell_solver(model, solver, t, u0, values, networks)[0]

    def sensitivity(self, request: SolveRequest, wrt: tuple[str, ...]) -> dict[str, Any]:
        from .sensitivity import trajectory_jacobians

        return trajectory_jacobians(self, request, wrt)

    def info(self) -> dict[str, Any]:
        import os

        import diffrax
        import equinox
        import jax
        import jaxlib

        return {
            "engine": "jax",
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "diffrax": diffrax.__version__,
            "equinox": equinox.__version__,
            "devices": [str(d) for d in jax.devices()],
            "x64": bool(jax.config.jax_enable_x64),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
            "compilation_cache": getattr(jax.config, "jax_compilation_cache_dir", None),
        }


@functools.lru_cache(maxsize=1)
def _default_engine() -> JaxEngine:  # pragma: no cover - convenience for internal callers
    return JaxEngine()
