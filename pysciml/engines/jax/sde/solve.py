"""Many sample paths of an SDE in one jitted, vmapped diffrax solve.

Path ``i`` uses the key ``fold_in(key(seed), i)``, so it depends on the seed and its
index only (not on ``n_paths``).  Brownian motion:

* :class:`~pysciml.solvers.sde.BrownianTree`: ``diffrax.VirtualBrownianTree`` with the
  Levy area the solver needs; the same path for every step size and parameter value
  (convergence studies, finite differences with common noise), adaptive steps allowed;
* :class:`~pysciml.solvers.sde.BrownianGrid`: increments sampled once on the fixed step
  grid and linearly interpolated (about 50x cheaper per step than a tree; measured in
  the research notes of issue 17), exact at the solver's steps.
"""

from __future__ import annotations

import math

import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr

from ....solvers.sde import BrownianGrid, BrownianTree
from ...requests import SDERawSolution, SDESolveRequest
from ..diffrax_solvers import status_from_result
from ..rhs import split_network_weights
from .brownian import grid_brownian
from .terms import make_terms

__all__ = ["solve_paths", "grid_steps", "tree_tol"]


def grid_steps(t0: float, t1: float, dt0: float) -> tuple[int, float]:
    """Number of fixed steps and the step that divides ``[t0, t1]`` evenly (at most ``dt0``)."""
    n = max(1, math.ceil((t1 - t0) / dt0 - 1e-9))
    return n, (t1 - t0) / n


def tree_tol(request: SDESolveRequest) -> float:
    """The Brownian tree's resolution: the user's, else dt/8 (fixed steps) or span*1e-4 (adaptive)."""
    b = request.brownian
    if isinstance(b, BrownianTree) and b.tol is not None:
        return float(b.tol)
    if request.adaptive:
        return (request.t1 - request.t0) * 1e-4
    return grid_steps(request.t0, request.t1, request.dt0)[1] / 8


def _levy(solver):
    return dfx.SpaceTimeLevyArea if solver.levy_area == "space-time" else dfx.BrownianIncrement


def _build(request: SDESolveRequest):
    model, solver = request.model, request.solver
    t0, t1, adaptive = request.t0, request.t1, request.adaptive
    k = int(model.n_noise or 1)
    grid = isinstance(request.brownian, BrownianGrid)
    n_steps, h = grid_steps(t0, t1, request.dt0)
    dt0 = request.dt0 if adaptive else h
    tol = tree_tol(request)
    method = getattr(dfx, solver.diffrax_method)()
    if request.differentiation == "forward":
        adjoint = dfx.ForwardMode()
    else:
        adjoint = dfx.RecursiveCheckpointAdjoint()

    def path_of(key):
        if grid:
            return grid_brownian(key, t0, h, n_steps, k, _levy(solver))
        return dfx.VirtualBrownianTree(t0, t1, tol=tol, shape=(k,), key=key, levy_area=_levy(solver))

    def controller(rtol, atol):
        if not adaptive:
            return dfx.ConstantStepSize()
        # the PI coefficients diffrax advises for SDEs; the error estimate has order strong order + 1/2
        return dfx.PIDController(
            rtol=rtol,
            atol=atol,
            pcoeff=0.1,
            icoeff=0.3,
            dcoeff=0.0,
            dtmin=tol,
            error_order=solver.strong_order + 0.5,
        )

    def one_path(key, y0, args, ts, rtol, atol):
        terms = make_terms(model, solver.calculus, path_of(key))
        sol = dfx.diffeqsolve(
            terms,
            method,
            t0,
            t1,
            dt0,
            y0,
            args=args,
            saveat=dfx.SaveAt(ts=ts),
            stepsize_controller=controller(rtol, atol),
            max_steps=request.max_steps,
            adjoint=adjoint,
            throw=False,
        )
        status = status_from_result(sol.result)
        ys = jnp.where(status == 0, jnp.asarray(sol.ys), jnp.nan)
        stats = {
            "steps": jnp.asarray(sol.stats["num_accepted_steps"], jnp.int32),
            "rejected": jnp.asarray(sol.stats["num_rejected_steps"], jnp.int32),
        }
        return ys, status, stats

    n_paths = request.n_paths

    def run(seed, y0, args, ts, rtol, atol):
        base = jr.key(seed)
        keys = jax.vmap(lambda i: jr.fold_in(base, i))(jnp.arange(n_paths))
        args = split_network_weights(model, args)
        return jax.vmap(one_path, in_axes=(0, None, None, None, None, None))(keys, y0, args, ts, rtol, atol)

    return jax.jit(run)


def _f64(x):
    return jnp.asarray(x, dtype=jnp.float64)


def solve_paths(engine, request: SDESolveRequest) -> SDERawSolution:
    """Solve ``request.n_paths`` paths; the function is memoised per model and static configuration."""
    key = (
        "sde",
        type(request.solver).__name__,
        type(request.brownian).__name__,
        tree_tol(request),
        request.adaptive,
        request.t0,
        request.t1,
        request.dt0,
        request.n_paths,
        request.max_steps,
        request.differentiation,
    )
    fn = engine.jitted(request.model, key, lambda: _build(request))
    args = ({k: _f64(v) for k, v in request.params.items()}, {k: _f64(v) for k, v in request.network_params.items()})
    ys, status, stats = fn(
        jnp.asarray(request.seed, jnp.uint32),
        _f64(request.u0),
        args,
        _f64(request.saveat),
        _f64(request.rtol),
        _f64(request.atol),
    )
    out_stats = {"solver": request.solver.name, **stats}
    if not request.adaptive:
        out_stats["dt"] = grid_steps(request.t0, request.t1, request.dt0)[1]
    out_stats["brownian"] = type(request.brownian).__name__
    if isinstance(request.brownian, BrownianTree):
        out_stats["brownian_tol"] = tree_tol(request)
    return SDERawSolution(request.saveat, ys, status, out_stats)
