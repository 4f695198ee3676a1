"""GMRES, the matrix-free strategy, "auto" and the mapping from public objects (jax engine)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from helpers.linear_systems import heat2d, random_linear_system, random_state  # noqa: E402

import pysciml.solvers.linear as pl  # noqa: E402
from pysciml.engines.jax.linsolve.krylov import GMRESSolver, gmres  # noqa: E402
from pysciml.engines.jax.linsolve.select import to_jax_linsolve  # noqa: E402
from pysciml.engines.jax.linsolve.sparse import SparseLU  # noqa: E402
from pysciml.errors import InputError  # noqa: E402


def test_gmres_solves_and_reports():
    A, b = random_linear_system()
    x, (conv, iters, res) = jax.jit(lambda A, b: gmres(lambda v: A @ v, b, rtol=1e-10, restart=30, maxiter=5))(A, b)
    np.testing.assert_allclose(A @ x, b, atol=1e-8)
    assert bool(conv) and float(res) <= 1e-9 * float(jnp.linalg.norm(b)) * 10
    assert 0 < int(iters) < 60


def test_gmres_stops_early_on_easyrandom_linear_system():
    n = 50
    b = jnp.asarray(np.random.default_rng(1).normal(size=n))
    _, (conv, iters, _) = gmres(lambda v: 2.0 * v, b, rtol=1e-12, restart=20, maxiter=3)
    assert bool(conv) and int(iters) == 1  # a multiple of the identity: one Krylov vector


def test_gmres_restarts_and_flags_non_convergence():
    A, b = random_linear_system(80, spread=30.0)
    x, (conv, iters, _) = gmres(lambda v: A @ v, b, rtol=1e-10, restart=5, maxiter=200)
    assert bool(conv) and int(iters) > 5  # needed restarts
    np.testing.assert_allclose(A @ x, b, atol=1e-7)
    _, (conv, _, _) = gmres(lambda v: A @ v, b, rtol=1e-10, restart=3, maxiter=1)
    assert not bool(conv)


def test_gmres_preconditioner_reduces_iterations():
    A, b = random_linear_system(80, spread=30.0)
    d = jnp.diagonal(A)
    _, (c0, i0, _) = gmres(lambda v: A @ v, b, rtol=1e-8, restart=80, maxiter=2)
    _, (c1, i1, _) = gmres(lambda v: A @ v, b, lambda v: v / d, rtol=1e-8, restart=80, maxiter=2)
    assert bool(c0) and bool(c1) and int(i1) < int(i0)


@pytest.mark.parametrize("pre", ["none", "jacobi", "sparse"])
def test_gmres_strategy_solves_w(pre):
    rhs, _ = heat2d(6)
    y = random_state(6)
    ls = GMRESSolver(preconditioner=pre, rtol=1e-10, restart=40, maxiter=10).prepare(rhs, 0.0, y, None)
    c = 1e-3
    b = jnp.asarray(np.random.default_rng(2).normal(size=y.size))
    x, ok = jax.jit(lambda y, b: ls.solve(ls.factor(rhs, 0.3, y, None, c), b))(y, b)
    W = np.eye(y.size) - c * np.asarray(jax.jacfwd(lambda z: rhs(0.3, z))(y))
    assert bool(ok)
    np.testing.assert_allclose(W @ np.asarray(x), b, atol=1e-8)


def test_gmres_strategy_gradient_matches_sparse_direct():
    rhs, _ = heat2d(5)
    y = random_state(5)
    g = jnp.asarray(np.random.default_rng(3).normal(size=y.size))
    b = jnp.asarray(np.random.default_rng(4).normal(size=y.size))
    kry = GMRESSolver(preconditioner="jacobi", rtol=1e-12, restart=50, maxiter=20).prepare(rhs, 0.0, y, None)
    sp = SparseLU(leaf_size=8).prepare(rhs, 0.0, y, None)

    def loss(ls, y, c, b):
        x, _ = ls.solve(ls.factor(rhs, 0.1, y, None, c), b)
        return jnp.dot(g, x)

    gk = jax.grad(lambda y, c, b: loss(kry, y, c, b), argnums=(0, 1, 2))(y, 2e-3, b)
    gs = jax.grad(lambda y, c, b: loss(sp, y, c, b), argnums=(0, 1, 2))(y, 2e-3, b)
    for a, s in zip(gk, gs):
        np.testing.assert_allclose(a, s, rtol=1e-7, atol=1e-9)


def test_gmres_strategy_vmap():
    rhs, _ = heat2d(5)
    y = random_state(5)
    ls = GMRESSolver(rtol=1e-10, restart=40).prepare(rhs, 0.0, y, None)
    b = jnp.ones_like(y)
    xs, oks = jax.vmap(lambda y: ls.solve(ls.factor(rhs, 0.0, y, None, 1e-3), b))(jnp.stack([y, 1.2 * y]))
    x1, _ = ls.solve(ls.factor(rhs, 0.0, 1.2 * y, None, 1e-3), b)
    np.testing.assert_allclose(xs[1], x1, rtol=1e-8)
    assert bool(jnp.all(oks))


def test_bad_preconditioner_names_argument():
    with pytest.raises(InputError, match="GMRES.preconditioner"):
        GMRESSolver(preconditioner="ilu")
    with pytest.raises(InputError, match="GMRES.preconditioner"):
        to_jax_linsolve(pl.GMRES(preconditioner=lambda v: v))


def test_select_maps_public_objects():
    assert isinstance(to_jax_linsolve(pl.SparseLU()), SparseLU)
    assert isinstance(to_jax_linsolve("sparse"), SparseLU)
    g = to_jax_linsolve(pl.GMRES(rtol=1e-4, restart=7, maxiter=3, preconditioner="none"))
    assert isinstance(g, GMRESSolver) and (g.rtol, g.restart, g.maxiter, g.preconditioner) == (1e-4, 7, 3, "none")
    with pytest.raises(InputError, match="linsolve"):
        to_jax_linsolve("cholesky")
    from pysciml.engines.jax.linsolve.lagged import LaggedSparseLU

    lag = to_jax_linsolve(pl.GMRES(restart=12, maxiter=3))  # preconditioner "auto": lagged sparse LU
    assert isinstance(lag, LaggedSparseLU) and (lag.restart, lag.maxiter) == (12, 3)


def test_auto_picks_sparse_for_a_large_stencil_and_dense_for_small():
    pytest.importorskip("pysciml.engines.jax.linsolve.dense")
    from pysciml.engines.jax.linsolve.auto import AutoSolver
    from pysciml.engines.jax.linsolve.dense import DenseLU
    from pysciml.engines.jax.linsolve.lagged import LaggedSparseLU

    rhs, _ = heat2d(12)  # 288 states
    y = random_state(12)
    # above dense_max and sparse: the lagged sparse factorisation preconditioning GMRES
    assert isinstance(AutoSolver(dense_max=100).prepare(rhs, 0.0, y, None), LaggedSparseLU)
    assert isinstance(AutoSolver().prepare(rhs, 0.0, y, None), LaggedSparseLU)  # default crossover 128
    assert isinstance(AutoSolver(dense_max=1000).prepare(rhs, 0.0, y, None), DenseLU)

    def coupled(t, y, args=None):  # every state coupled to every other: stays dense
        return -y + jnp.sin(jnp.mean(y)) * jnp.ones_like(y)

    assert isinstance(AutoSolver(dense_max=100).prepare(coupled, 0.0, y, None), DenseLU)


def test_make_linsolve_prepares_from_a_request():
    import pysciml as ps
    from pysciml.engines.jax.linsolve.select import make_linsolve
    from pysciml.engines.requests import SolveRequest

    m = 40

    def physics(u, p, t, mm):  # 1-D diffusion with a reaction coupling two species
        a, b = u["a"], u["b"]
        lap = lambda w: mm.concatenate([w[1:2] - w[:1], w[2:] - 2 * w[1:-1] + w[:-2], w[-2:-1] - w[-1:]])
        return {"a": p.k * lap(a) - a * b, "b": p.k * lap(b) + a * b}

    model = ps.ODEModel(physics, states={"a": m, "b": m}, params={"k": 100.0})
    req = SolveRequest(model=model, u0=np.linspace(0.5, 1.5, 2 * m), params={"k": 100.0}, network_params={},
                       t0=0.0, t1=1.0, saveat=np.array([1.0]), solver=ps.Rodas5P())
    ls = make_linsolve(pl.SparseLU(), req)
    assert isinstance(ls, SparseLU)
    # tridiagonal blocks plus the a-b coupling: 3 + 1 non-zeros per row at most
    assert ls.jac.rows.size <= 2 * m * 4
    state = ls.factor(model_fun(model), 0.0, jnp.asarray(req.u0), ({"k": jnp.asarray(100.0)}, {}), 1e-3)
    x, ok = ls.solve(state, jnp.ones(2 * m))
    assert bool(ok) and bool(jnp.all(jnp.isfinite(x)))


def model_fun(model):
    from pysciml.engines.jax.rhs import vector_field

    return vector_field(model)
