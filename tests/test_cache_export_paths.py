"""Everything on the hot path can be exported: every solver, every gradient path, batched.

Our solvers report failures through status codes, and diffrax runs with ``throw=False``
and equinox's checks in ``nan`` mode, so no compiled solve contains a host callback;
``jax.export`` (and hence the compiled-model cache) accepts all of them.
"""

from __future__ import annotations

import numpy as np
import pytest

import pysciml as ps
from pysciml.solvers import adjoints as A


@pytest.fixture(scope="module")
def problem(jax_engine):
    import jax.numpy as jnp

    from pysciml.engines.jax.rhs import vector_field

    def robertson_like(u, p, t, m):  # mildly stiff, with a parameter to differentiate
        x, y = u
        return [-p.k * x + 0.5 * y, p.k * x - 20.0 * y]

    model = ps.ODEModel(robertson_like, ["x", "y"], {"k": 2.0})
    fun = vector_field(model)
    y0 = jnp.array([1.0, 0.0])
    args = ({"k": jnp.float64(2.0)}, {})
    ts = jnp.linspace(0.0, 1.0, 6)
    return model, fun, y0, args, ts


def _solve_fn(fun, ts, solver, adjoint=None, differentiation="reverse", linsolve=None):
    from pysciml.engines.jax.compiled_solve import run_method

    def solve(y0, args):
        ys, status, stats = run_method(solver, fun, 0.0, 1.0, y0, args, ts, 1e-7, 1e-9, None, max_steps=4096,
                                       differentiation=differentiation, adjoint=adjoint, linsolve=linsolve)
        return ys, status

    return solve


def _exports(fn, *args):
    import jax

    exported = jax.export.export(jax.jit(fn))(*args)
    blob = exported.serialize()
    again = jax.export.deserialize(blob)
    assert again.in_avals == exported.in_avals and again.out_avals == exported.out_avals
    return again


SOLVERS = [ps.Tsit5(), ps.Dopri5(), ps.Dopri8(), ps.Kvaerno5(), ps.KenCarp4(), ps.Rosenbrock23(), ps.Rodas4(),
           ps.Rodas5P()]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.name)
def test_solve_and_gradient_export(problem, solver):
    import jax

    _, fun, y0, args, ts = problem
    solve = _solve_fn(fun, ts, solver)
    _exports(solve, y0, args)
    loss = lambda y0_, args_: solve(y0_, args_)[0].sum()  # noqa: E731
    _exports(jax.grad(loss, argnums=(0, 1)), y0, args)
    # batched over initial states (the gridded / multi-trajectory shape)
    _exports(jax.vmap(solve, in_axes=(0, None)), jax.numpy.stack([y0, 2 * y0]), args)


@pytest.mark.parametrize("adjoint", [A.Direct(), A.Checkpointed(), A.Backsolve(), A.ForwardDiffSensitivity()],
                         ids=lambda a: a.name)
@pytest.mark.parametrize("solver", [ps.Tsit5(), ps.Kvaerno5(), ps.Rodas5P()], ids=lambda s: s.name)
def test_every_adjoint_exports(problem, solver, adjoint):
    import jax

    _, fun, y0, args, ts = problem
    forward = isinstance(adjoint, A.ForwardDiffSensitivity)
    solve = _solve_fn(fun, ts, solver, adjoint=adjoint, differentiation="forward" if forward else "reverse")
    loss = lambda y0_, args_: solve(y0_, args_)[0].sum()  # noqa: E731
    grad = jax.jacfwd(loss, argnums=1) if forward else jax.grad(loss, argnums=1)
    _exports(grad, y0, args)


@pytest.mark.parametrize("linsolve", [ps.DenseLU(), ps.SparseLU(), ps.GMRES()], ids=lambda l: type(l).__name__)
def test_linear_solvers_export(problem, linsolve):
    import jax

    from pysciml.engines.jax.linsolve.select import make_linsolve
    from pysciml.ivp import build_request

    model, fun, y0, args, ts = problem
    request, _ = build_request(model, [1.0, 0.0], (0.0, 1.0), solver=ps.Rodas5P(linsolve=linsolve))
    lin = make_linsolve(linsolve, request)
    solve = _solve_fn(fun, ts, ps.Rodas5P(), linsolve=lin)
    _exports(solve, y0, args)
    _exports(jax.grad(lambda a: solve(y0, a)[0].sum()), args)


def test_auto_plan_with_runtime_fallback_exports(problem, jax_engine):
    """``solver="auto"`` when stiffness is unknown: Tsit5 with a step budget, then Rodas5P, in one module."""
    from pysciml.engines.jax.compiled_solve import make_solve
    from pysciml.engines.jax.plan import SolverPlan

    model, _, y0, args, ts = problem
    plan = SolverPlan(ps.Tsit5(), fallback=ps.Rodas5P(), budget=50, reason="test")
    fn = make_solve(model, plan, max_steps=4096, differentiation="reverse", auto_dt0=True)
    import jax.numpy as jnp

    f64 = jnp.float64
    call = (f64(0.0), f64(1.0), y0, args, ts, f64(1e-7), f64(1e-9), f64(0.0))
    exported = _exports(fn, *call)
    out = jax_jit_call(exported, call)
    ref = fn(*call)
    assert np.array_equal(np.asarray(out[0]), np.asarray(ref[0]))  # same module, same numbers
    assert int(out[1]) == 0


def jax_jit_call(exported, call):
    import jax

    return jax.jit(exported.call)(*call)


def test_exported_gradient_matches_finite_differences(problem):
    """The exported gradient of a Rodas5P solve, deserialised and run, against central differences."""
    import jax
    import jax.numpy as jnp

    _, fun, y0, args, ts = problem
    solve = _solve_fn(fun, ts, ps.Rodas5P())

    def loss(k):
        return solve(y0, ({"k": k}, {}))[0][-1, 0]

    exported = _exports(jax.grad(loss), jnp.float64(2.0))
    g = float(jax.jit(exported.call)(jnp.float64(2.0)))
    h = 1e-5
    fd = (float(jax.jit(loss)(2.0 + h)) - float(jax.jit(loss)(2.0 - h))) / (2 * h)
    assert abs(g - fd) < 1e-5 * max(1.0, abs(fd))
