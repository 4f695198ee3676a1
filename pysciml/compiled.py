"""``ps.compile``: check a solve's model, times, solver and tolerances once; then call it with new
initial states and parameters, as a :class:`Solution` or as a pure jax function (``raw=True``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .engines.registry import get_engine
from .engines.requests import RawSolution, SolveFunction, SolveRequest
from .errors import EngineUnavailableError, InputError
from .events import DEFAULT_MAX_EVENTS
from .ivp import build_request, check_model, check_ode_solver, check_u0, split_params, wrap_solution
from .model_spec import ModelSpec
from .options import check_bool
from .sde.spec import SDEModel
from .solution import Solution, is_concrete

__all__ = ["compile", "CompiledSolve"]


class CompiledSolve:
    """A solve compiled by :func:`pysciml.compile`: ``f(u0, params)`` solves it for new values.

    Attributes:
        model: the model.
        t: the save times, shape ``(n_save,)``.
        engine: the engine name (``"jax"``).
        request: the checked :class:`~pysciml.engines.requests.SolveRequest` built at compile
            time (its ``u0`` and ``params`` are the defaults of a call).
    """

    def __init__(
        self, request: SolveRequest, engine: str, function: SolveFunction, *, has_u0: bool, raise_on_failure: bool
    ):
        self.request = request
        self.model = request.model
        self.engine = engine
        self.t = np.array(request.saveat, dtype=float)
        self._function = function
        self._u0 = request.u0 if has_u0 else None
        # float64 numpy once, so that a call with default values converts nothing
        self._values = {k: np.asarray(v, dtype=float) for k, v in request.params.items()}
        self._nets = {k: np.asarray(v, dtype=float) for k, v in request.network_params.items()}
        self._raise = raise_on_failure

    def __call__(self, u0: Any = None, params: Mapping[str, Any] | None = None, *, raw: bool = False) -> Solution | Any:
        """Solve from ``u0`` with ``params``; every other option is the compiled one.

        Args:
            u0: initial state: one value per state value (list/array in declaration order) or
                ``{state: value}``; default: the ``u0`` given to :func:`pysciml.compile`, else the
                model's.  Traced values (under ``jax.vmap``/``jit``/``grad``) are taken as they are,
                their size checked.
            params: parameter overrides ``{name: value}`` on top of the parameters given to
                :func:`pysciml.compile` (which override the model's defaults); network weights
                by network name.
            raw: return the saved states alone, ``ys`` of shape ``(n_save, n_states)`` (a jax
                array; rows after a failed step are NaN), for ``jax.vmap``, ``jax.jit`` and
                ``jax.grad``; default: a :class:`pysciml.Solution`.

        Returns:
            A :class:`pysciml.Solution` equal to ``ps.solve(model, u0, ..., params=...)`` with the
            compiled options, or with ``raw=True`` the array ``ys``.
        """
        if u0 is None:
            if self._u0 is None:
                raise InputError(
                    f"no initial state given: the handle was compiled without u0 and the model has no "
                    f"default; pass u0 with {self.model.n_states} values (states {list(self.model.state_names)}).",
                    argument="u0",
                )
            y0 = self._u0
        else:
            y0 = check_u0(self.model, u0)
        if params is None:
            values, nets = self._values, self._nets
        else:
            values, nets = split_params(self.model, params, base=(self._values, self._nets))
        ys, status, internal = self._function.run(y0, values, nets)
        if raw:
            return ys
        result = RawSolution(self.t, ys, status, self._function.finish(ys, status, internal))
        return wrap_solution(self.request, self.engine, result, raise_on_failure=self._raise, u0=y0, params=values)

    def __repr__(self):
        r = self.request
        return (
            f"CompiledSolve(model={self.model.name!r}, t=[{r.t0:.4g} .. {r.t1:.4g}] ({len(self.t)} saved), "
            f"solver={r.solver.name}, rtol={r.rtol!r}, atol={r.atol!r}, engine={self.engine!r})"
        )


def compile(
    model: ModelSpec,
    u0: Any = None,
    t: Any = None,
    saveat: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    solver: Any = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dt0: float | None = None,
    max_steps: int = 100_000,
    engine: str | None = None,
    raise_on_failure: bool = False,
    adaptive: bool | None = None,
    differentiation: str = "reverse",
    events: Any = None,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> CompiledSolve:
    """Check a solve once and compile it; the handle solves it for new ``u0`` and ``params``.

    The arguments are :func:`pysciml.solve`'s, with the same names, meanings and checks (done
    here, once).  A call of the handle only checks the shapes of ``u0`` and ``params``::

        f = ps.compile(model, t=(0.0, 1e5), saveat=[1.0, 1e5], solver=ps.Rodas5P(), rtol=1e-6, atol=1e-10)
        sol = f(u0, {"k1": 0.04})            # a ps.Solution, as ps.solve with the same options
        ys = f(u0, {"k1": 0.04}, raw=True)   # the states alone: a pure jax function of (u0, params)
        jax.vmap(lambda u, k: f(u, {"k1": k}, raw=True))(U0, K1)

    Args:
        model: a :class:`pysciml.ODEModel` (or UDE).
        u0: the default initial state of a call (else the model's).  It also decides
            ``solver="auto"``: the stiffness test runs once, here, at ``u0`` and ``params``.
        t, saveat: the time span and save times, fixed (as in :func:`pysciml.solve`).
        params: the default parameter overrides of a call.
        solver, rtol, atol, dt0, max_steps: as in :func:`pysciml.solve`, fixed.
        adaptive, differentiation, events, max_events, raise_on_failure: as in :func:`pysciml.solve`, fixed.
        engine: ``"jax"`` (default); the handle is a jax function, so ``engine="julia"`` is
            refused with :class:`pysciml.EngineUnavailableError`.

    Returns:
        A :class:`~pysciml.compiled.CompiledSolve`: ``f(u0=None, params=None, *, raw=False)``.
        With a known ``u0`` it is traced and compiled now (one solve), so the first call is as
        fast as the next ones; with the compiled-model cache on, a later process loads it.
    """
    if isinstance(model, SDEModel):
        raise InputError(
            "ps.compile is for ODE models; solve an SDE with ps.solve(model, ..., seed=..., n_paths=...).",
            argument="model",
        )
    model = check_model(model)
    check_bool(raise_on_failure, "raise_on_failure")
    has_u0 = u0 is not None or model.u0 is not None
    probe = u0 if has_u0 else np.zeros(model.n_states)  # only decides solver="auto"
    request, name = build_request(
        model,
        probe,
        t,
        saveat,
        params=params,
        solver=solver,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=max_steps,
        engine=engine,
        differentiation=differentiation,
        adaptive=True if adaptive is None else adaptive,
        events=events,
        max_events=max_events,
    )
    check_ode_solver(request)
    if not (is_concrete(request.u0) and all(is_concrete(v) for v in request.params.values())):
        raise InputError(
            "ps.compile needs concrete u0 and params (it ran inside a jax transformation); compile "
            "outside and call the handle inside jax.jit/vmap/grad.",
            argument="params",
        )
    try:
        solver_engine = get_engine(name)
    except EngineUnavailableError as exc:  # not installed: say also that installing it would not help
        raise EngineUnavailableError(
            f"{str(exc).removeprefix('engine: ')}; note that ps.compile is jax-only (its handle is a jax "
            "function): use engine='jax'.",
            argument="engine",
        ) from None
    function = solver_engine.compile_solve(request)  # an engine without compiled handles refuses by name
    handle = CompiledSolve(request, name, function, has_u0=has_u0, raise_on_failure=bool(raise_on_failure))
    if has_u0:  # trace and compile now, for the argument signature of a call with default values
        function.run(handle._u0, handle._values, handle._nets)
    return handle
