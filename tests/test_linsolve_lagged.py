"""The lagged sparse factorisation preconditioning an exact matrix-free solve (jax engine)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from helpers.linear_systems import heat2d, random_linear_system, random_state  # noqa: E402

from pysciml.engines.jax.linsolve.krylov import fgmres  # noqa: E402
from pysciml.engines.jax.linsolve.lagged import LaggedSparseLU  # noqa: E402
from pysciml.engines.jax.linsolve.sparse import SparseLU  # noqa: E402
from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve  # noqa: E402
from pysciml.solvers.rosenbrock.rodas4 import RODAS4
from pysciml.solvers.rosenbrock.rodas5p import RODAS5P


def test_fgmres_with_exact_preconditioner_takes_one_iteration():
    A, b = random_linear_system()
    Ainv = jnp.linalg.inv(A)
    x, ok, it = fgmres(lambda v: A @ v, b, lambda v: Ainv @ v, atol=1e-10)
    assert bool(ok) and int(it) == 1
    np.testing.assert_allclose(np.asarray(A @ x), np.asarray(b), atol=1e-10)


def test_fgmres_with_nearby_preconditioner_converges_and_flags_failure():
    A, b = random_linear_system(80, spread=3.0)
    P = A + 0.05 * jnp.diag(jnp.diagonal(A))  # a "lagged" matrix: 5% off on the diagonal
    Pinv = jnp.linalg.inv(P)
    x, ok, it = fgmres(lambda v: A @ v, b, lambda v: Pinv @ v, atol=1e-11, restart=10, maxiter=3)
    assert bool(ok) and 1 < int(it) <= 10
    assert float(jnp.linalg.norm(A @ x - b)) <= 1e-11 * 1.01
    _, ok, it = fgmres(lambda v: A @ v, b, lambda v: v, atol=1e-11, restart=2, maxiter=1)
    assert not bool(ok) and int(it) == 2
    # zero right-hand side: converged at once, zero solution
    x0, ok0, it0 = fgmres(lambda v: A @ v, jnp.zeros_like(b), lambda v: Pinv @ v, atol=1e-12)
    assert bool(ok0) and int(it0) == 0 and float(jnp.abs(x0).max()) == 0.0


def _strategies(n=6):
    rhs, pat = heat2d(n)
    y = random_state(n)
    lag = LaggedSparseLU(sparsity=pat).prepare(rhs, 0.0, y, None)
    direct = SparseLU(sparsity=pat).prepare(rhs, 0.0, y, None)
    return rhs, y, lag, direct


@pytest.mark.parametrize("c_now", [1e-3, 2.5e-3])
def test_lagged_solve_equals_direct_solve_to_tolerance(c_now):
    rhs, y, lag, direct = _strategies()
    c_old = 1e-3
    carry = lag.init(rhs, 0.0, y, None, c_old)
    assert bool(carry.stale)  # the first step builds the factorisation
    scale = 1e-8 + 1e-6 * jnp.abs(y)
    # first step: P built from the current J and c (fresh)
    state, carry, fresh = lag.begin(carry, rhs, 0.0, y, None, c_old, scale)
    assert bool(fresh) and int(carry.n_factor) == 1
    # a later step at another state and step size: P is reused (lagged J, maybe lagged c)
    y2 = y * 1.05 + 0.02
    state, carry, fresh = lag.begin(carry, rhs, 0.1, y2, None, c_now, scale)
    assert not bool(fresh) and int(carry.n_factor) == 1
    b = jnp.asarray(np.random.default_rng(3).normal(size=y.size))
    x, ok, it = lag.solve_info(state, b)
    x_direct, ok_d = direct.solve(direct.factor(rhs, 0.1, y2, None, c_now), b)
    assert bool(ok) and bool(ok_d) and int(it) >= 1
    # the solve is of the exact current W: residual below lin_tol in the weighted RMS norm
    J = jax.jacfwd(lambda z: rhs(0.1, z, None))(y2)
    W = jnp.eye(y.size) - c_now * J
    res = (W @ x - b) / scale
    assert float(jnp.sqrt(jnp.mean(res**2))) <= lag.lin_tol
    err = (x - x_direct) / scale
    assert float(jnp.sqrt(jnp.mean(err**2))) <= 10 * lag.lin_tol
    # a step size far outside [c_p / max_ratio, c_p * max_ratio] rebuilds P
    state, carry, fresh = lag.begin(carry, rhs, 0.2, y2, None, c_now * 10, scale)
    assert bool(fresh) and int(carry.n_factor) == 2


def test_end_marks_stale_after_failure_or_many_iterations():
    rhs, y, lag, _ = _strategies(4)
    carry = lag.init(rhs, 0.0, y, None, 1e-3)._replace(stale=jnp.array(False))
    assert not bool(lag.end(carry, jnp.array(True), jnp.int32(2), jnp.int32(9)).stale)
    assert bool(lag.end(carry, jnp.array(False), jnp.int32(2), jnp.int32(9)).stale)
    many = lag.end(carry, jnp.array(True), jnp.int32(lag.refresh_iters + 1), jnp.int32(20))
    assert bool(many.stale) and int(many.n_iter) == 20


def _solve(linsolve, rhs, y0, tab=RODAS5P, **kw):
    ts = jnp.array([0.05, 0.2])
    return jax.jit(lambda y0: rosenbrock_solve(rhs, 0.0, 0.2, y0, None, ts, tableau=tab, linsolve=linsolve, **kw))(y0)


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4], ids=["Rodas5P", "Rodas4"])
def test_adaptive_solve_matches_direct_with_fewer_factorisations(tab):
    rhs, y, lag, direct = _strategies(6)
    r_lag = _solve(lag, rhs, y, tab, rtol=1e-7, atol=1e-9)
    r_dir = _solve(direct, rhs, y, tab, rtol=1e-7, atol=1e-9)
    assert int(r_lag.status) == 0 and int(r_dir.status) == 0
    ref = _solve(direct, rhs, y, tab, rtol=1e-12, atol=1e-14).ys
    err_lag = float(jnp.max(jnp.abs(r_lag.ys - ref)))
    err_dir = float(jnp.max(jnp.abs(r_dir.ys - ref)))
    assert err_lag < 1e-5 and err_lag < 3 * err_dir + 1e-9
    assert int(r_lag.stats["nlu"]) < int(r_lag.stats["steps"])  # factorisations reused
    assert int(r_lag.stats["nkrylov"]) > 0


def test_failed_lagged_solves_are_retried_not_failed():
    # a preconditioner that is never refreshed on its own (huge ratio and age limits) and a
    # Krylov budget of one vector: solves fail often; each failure rebuilds P and retries
    rhs, pat = heat2d(5)
    y = random_state(5)
    lag = LaggedSparseLU(sparsity=pat, restart=1, maxiter=1, max_ratio=1e9, max_age=10**6,
                         refresh_iters=10**6).prepare(rhs, 0.0, y, None)
    direct = SparseLU(sparsity=pat).prepare(rhs, 0.0, y, None)
    r = _solve(lag, rhs, y, rtol=1e-6, atol=1e-8)
    ref = _solve(direct, rhs, y, rtol=1e-6, atol=1e-8)
    assert int(r.status) == 0
    assert int(r.stats["nlu"]) > 1  # rebuilt after failures
    np.testing.assert_allclose(np.asarray(r.ys), np.asarray(ref.ys), rtol=1e-4, atol=1e-6)


def _mildrandom_linear_system(n=12):
    """A mildly stiff, non-autonomous 1-D reaction-diffusion system (sparse tridiagonal J)."""
    import scipy.sparse as sp

    def rhs(t, y, args=None):
        lap = jnp.concatenate([y[1:2] - 2 * y[:1], y[2:] - 2 * y[1:-1] + y[:-2], y[-2:-1] - 2 * y[-1:]])
        return lap - 0.5 * y * y + jnp.sin(2 * t)

    pat = sp.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1]).astype(bool)
    y0 = jnp.asarray(np.linspace(0.2, 1.0, n))
    return rhs, pat, y0


@pytest.mark.parametrize("tab,order,dts", [(RODAS5P, 5, [0.1, 0.05, 0.025]), (RODAS4, 4, [0.2, 0.1, 0.05, 0.025])],
                         ids=["Rodas5P", "Rodas4"])
def test_convergence_order_unchanged_with_lagged_solves(tab, order, dts):
    from scipy.integrate import solve_ivp

    rhs, pat, y0 = _mildrandom_linear_system()
    T = 1.0
    ref = solve_ivp(lambda t, y: np.asarray(rhs(t, jnp.asarray(y))), (0.0, T), np.asarray(y0),
                    method="DOP853", rtol=1e-13, atol=1e-14).y[:, -1]
    lag = LaggedSparseLU(sparsity=pat).prepare(rhs, 0.0, y0, None)
    direct = SparseLU(sparsity=pat).prepare(rhs, 0.0, y0, None)
    errs = {}
    for name, ls in [("lagged", lag), ("direct", direct)]:
        e = []
        for dt in dts:
            r = jax.jit(lambda y0: rosenbrock_solve(rhs, 0.0, T, y0, None, jnp.array([T]), tableau=tab, linsolve=ls,
                                                    adaptive=False, dt0=dt, rtol=1e-12, atol=1e-12))(y0)
            assert int(r.status) == 0
            e.append(float(np.max(np.abs(np.asarray(r.ys[-1]) - ref))))
        errs[name] = np.array(e)
    assert np.all(errs["lagged"] > 1e-11)  # well above the linear solves' tolerance
    slope = np.polyfit(np.log(dts), np.log(errs["lagged"]), 1)[0]
    assert abs(slope - order) < 0.2, slope
    # the two differ only by the linear solves' tolerance (weights ~1e-12 here)
    np.testing.assert_allclose(errs["lagged"], errs["direct"], rtol=1e-3, atol=1e-13)


@pytest.mark.parametrize("differentiation", ["reverse", "forward"])
def test_gradients_with_lagged_solves_equal_exact_linear_solves(differentiation):
    rhs, pat, y0 = _mildrandom_linear_system(10)

    def rhs_p(t, y, k):
        return k[0] * rhs(t, y) + k[1] * y

    k = jnp.array([1.0, -0.3])
    lag = LaggedSparseLU(sparsity=pat).prepare(rhs_p, 0.0, y0, k)
    direct = SparseLU(sparsity=pat).prepare(rhs_p, 0.0, y0, k)
    w = jnp.asarray(np.linspace(-1.0, 1.0, y0.size))

    def loss(ls, k, y0):
        r = rosenbrock_solve(rhs_p, 0.0, 0.5, y0, k, jnp.array([0.25, 0.5]), linsolve=ls, rtol=1e-9, atol=1e-11,
                             differentiation=differentiation)
        return jnp.sum(r.ys[-1] * w) + jnp.sum(r.ys[0] ** 2)

    grad = jax.grad if differentiation == "reverse" else jax.jacfwd
    g_lag = jax.jit(grad(lambda k, y0: loss(lag, k, y0), argnums=(0, 1)))(k, y0)
    g_dir = jax.jit(grad(lambda k, y0: loss(direct, k, y0), argnums=(0, 1)))(k, y0)
    for a, b in zip(g_lag, g_dir):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-9)
    # and against central finite differences of the (lagged) solve
    f = jax.jit(lambda k: loss(lag, k, y0))
    eps = 1e-5
    fd = [(float(f(k.at[i].add(eps))) - float(f(k.at[i].add(-eps)))) / (2 * eps) for i in range(2)]
    np.testing.assert_allclose(np.asarray(g_lag[0]), fd, rtol=1e-5)
