"""``ps.solve`` for an :class:`pysciml.SDEModel`: check the SDE options, build the request, run it.

:func:`pysciml.solve` validates what every solve shares (initial state, times,
parameters, tolerances, ``dt0``) and hands the request here when the model is an SDE.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engines.registry import get_engine
from ..engines.requests import SDESolveRequest, SolveRequest
from ..errors import InputError
from ..solvers.auto import Auto
from ..solvers.sde import BrownianGrid, BrownianTree, SDESolver, choose_sde_solver
from .solution import SDESolution
from .spec import SDEModel

__all__ = ["solve_sde", "check_sde_options"]


def _check_int(value, argument: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"must be an integer >= {minimum}, got {value!r}.", argument=argument)
    return int(value)


def check_sde_options(
    model: SDEModel, solver: Any, *, adaptive: bool, brownian: Any, dt0: float | None
) -> tuple[SDESolver, BrownianTree | BrownianGrid]:
    """The SDE solver and Brownian motion for a model, or an :class:`InputError` saying the fix."""
    if isinstance(solver, Auto):
        solver = choose_sde_solver(model.noise, adaptive=adaptive)
    if not isinstance(solver, SDESolver):
        raise InputError(
            f"{solver.name} solves ODEs; an SDEModel needs an SDE solver: ps.EulerMaruyama(), ps.Milstein(), "
            "ps.ShARK() (additive noise), ps.ReversibleHeun(), ps.SPaRK() or 'auto'.",
            argument="solver",
        )
    if solver.noise == "additive" and model.noise != "additive":
        raise InputError(
            f"{solver.name} is for additive noise (g independent of u), and the model declares "
            f"noise={model.noise!r}; declare noise='additive' if g does not depend on u, or use "
            "ps.SPaRK() / ps.EulerMaruyama().",
            argument="solver",
        )
    if solver.noise == "commutative" and model.noise == "general":
        raise InputError(
            f"{solver.name} is only correct for commutative noise (diagonal, scalar, additive), and the model "
            "has noise='general'; use ps.EulerMaruyama() (Ito) or ps.SPaRK() / ps.EulerHeun() (Stratonovich).",
            argument="solver",
        )
    if dt0 is None:
        raise InputError(
            "SDE solves need a step size (the first step when adaptive=True); pass dt0=..., e.g. dt0=1e-2.",
            argument="dt0",
        )
    if adaptive and not solver.adaptive:
        raise InputError(
            f"{solver.name} has no error estimate, so it takes fixed steps only; pass adaptive=False, or use "
            "ps.ShARK() (additive noise), ps.SPaRK() or ps.ReversibleHeun() for adaptive steps.",
            argument="adaptive",
        )
    if brownian is None:
        brownian = BrownianTree() if adaptive else BrownianGrid()
    elif isinstance(brownian, str) and brownian in ("tree", "grid"):
        brownian = BrownianTree() if brownian == "tree" else BrownianGrid()
    if isinstance(brownian, BrownianGrid):
        if adaptive:
            raise InputError(
                "a Brownian grid serves fixed steps only; use brownian=ps.BrownianTree() with adaptive=True.",
                argument="brownian",
            )
    elif not isinstance(brownian, BrownianTree):
        raise InputError(
            f"must be ps.BrownianTree(tol=...), ps.BrownianGrid(), 'tree', 'grid' or None, got {brownian!r}.",
            argument="brownian",
        )
    return solver, brownian


def solve_sde(
    request: SolveRequest,
    engine: str,
    *,
    seed: Any,
    n_paths: Any,
    brownian: Any,
    adaptive: bool,
) -> SDESolution:
    """Solve the SDE of an already validated ODE-style request for ``n_paths`` sample paths."""
    model = request.model
    assert isinstance(model, SDEModel)
    seed = 0 if seed is None else _check_int(seed, "seed", minimum=0)
    if seed >= 2**32:
        raise InputError(f"must be below 2**32, got {seed}.", argument="seed")
    n_paths = 1 if n_paths is None else _check_int(n_paths, "n_paths", minimum=1)
    solver, brownian = check_sde_options(model, request.solver, adaptive=adaptive, brownian=brownian, dt0=request.dt0)
    assert request.dt0 is not None
    if not adaptive and request.dt0 > request.t1 - request.t0:
        raise InputError(
            f"= {request.dt0} is longer than the span {request.t1 - request.t0}; pass a smaller dt0.", argument="dt0"
        )
    sde_request = SDESolveRequest(
        model=model,
        u0=request.u0,
        params=request.params,
        network_params=request.network_params,
        t0=request.t0,
        t1=request.t1,
        saveat=request.saveat,
        solver=solver,
        dt0=request.dt0,
        adaptive=adaptive,
        rtol=request.rtol,
        atol=request.atol,
        max_steps=request.max_steps,
        seed=seed,
        n_paths=n_paths,
        brownian=brownian,
        differentiation=request.differentiation,
    )
    raw = get_engine(engine, operation="solve_sde").solve_sde(sde_request)
    stats = dict(raw.stats)
    stats.update(engine=engine, seed=seed, n_paths=n_paths, calculus=model.calculus, solver_calculus=solver.calculus)
    return SDESolution(model, raw.t, raw.u, raw.status, stats, params=request.params, u0=request.u0)
