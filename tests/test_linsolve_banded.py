"""Block cyclic reduction of a banded ``W`` and the BandedLU strategy (jax engine)."""

import re

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from helpers.linear_systems import heat2d, random_state  # noqa: E402

import pysciml as ps  # noqa: E402
from pysciml.engines.jax.linsolve import sparse as sparse_mod  # noqa: E402
from pysciml.engines.jax.linsolve.auto import AutoSolver  # noqa: E402
from pysciml.engines.jax.linsolve.banded import (  # noqa: E402
    BAND_MAX,
    BandedLU,
    BandedPlan,
    band_ordering,
    half_bandwidth,
)
from pysciml.engines.jax.linsolve.dense import DenseLU  # noqa: E402
from pysciml.engines.jax.linsolve.lagged import LaggedSparseLU  # noqa: E402
from pysciml.engines.jax.linsolve.sparse import SparseLU  # noqa: E402
from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve  # noqa: E402
from pysciml.errors import InputError  # noqa: E402


# -- the plan on explicit matrices -------------------------------------------------------------
def _banded_matrix(n, b, seed=0):
    """A random ``(n, n)`` matrix with half-bandwidth ``b``, strictly diagonally dominant."""
    rng = np.random.default_rng(seed)
    i, j = np.indices((n, n))
    A = np.where(np.abs(i - j) <= b, rng.normal(size=(n, n)), 0.0)
    A[np.diag_indices(n)] = np.sum(np.abs(A), axis=1) + rng.uniform(0.5, 1.5, n)
    return A


def _blocks(A, plan):
    """``A`` in the plan's ``(3, b, b, m)`` layout (identity on the padding), as ``BandedLU.blocks``."""
    n, b, m = plan.n, plan.b, plan.m
    P = np.eye(b * m)
    P[:n, :n] = A
    out = np.zeros((3, b, b, m))
    for s in range(3):
        for k in range(m):
            c0 = (k + s - 1) * b
            if 0 <= c0 < b * m:
                out[s, :, :, k] = P[k * b : (k + 1) * b, c0 : c0 + b]
    return out


def _plan_solve(A, rhs, b):
    plan = BandedPlan.build(A.shape[0], b)
    factors, ok = jax.jit(plan.factor)(jnp.asarray(_blocks(A, plan)))
    f = np.zeros(plan.b * plan.m)
    f[: A.shape[0]] = rhs
    x = jax.jit(plan.solve)(factors, jnp.asarray(f.reshape(plan.m, plan.b).T))
    return np.asarray(x).T.reshape(-1)[: A.shape[0]], bool(ok), plan


# n: exactly 2^k - 1 blocks, not a multiple of b, padded to 2^k - 1 blocks, a single block
@pytest.mark.parametrize("b,n", [(1, 1), (1, 7), (1, 12), (2, 14), (2, 23), (3, 20), (3, 64), (5, 35), (5, 41)])
def test_plan_equals_numpy_solve(b, n):
    A = _banded_matrix(n, b, seed=n)
    rhs = np.random.default_rng(b).normal(size=n)
    x, ok, plan = _plan_solve(A, rhs, b)
    assert ok
    assert plan.m * plan.b >= n and (plan.m + 1) & plan.m == 0  # m = 2^k - 1 blocks
    want = np.linalg.solve(A, rhs)
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("b,row", [(1, 0), (1, 7), (2, 3), (3, 0), (3, 7)])
def test_singular_block_row_gives_not_ok(b, row):
    n = 15 * b
    A = _banded_matrix(n, b, seed=1)
    rhs = np.ones(n)
    _, ok, _ = _plan_solve(A, rhs, b)
    assert ok  # positive control: the same matrix before the zeroed block row
    A[row * b : (row + 1) * b] = 0.0  # block row 0 is eliminated at level 0, row 7 reaches the top
    _, ok, _ = _plan_solve(A, rhs, b)
    assert not ok


# -- the strategy --------------------------------------------------------------------------------
def _linear_rhs(M):
    Mj = jnp.asarray(M)

    def rhs(t, y, args=None):
        return Mj @ y + jnp.sin(t) * y * y

    return rhs


def _scrambled(n=40, b=2, seed=3):
    """A banded matrix with its states in a random order: ``(M, perm)``, ``M = A[perm][:, perm]``."""
    A = _banded_matrix(n, b, seed)
    perm = np.random.default_rng(seed).permutation(n)
    return A[np.ix_(perm, perm)], perm


def test_rcm_recovers_a_narrow_band_and_solves_exactly():
    M, _ = _scrambled()
    pat = sp.csr_array(M != 0)
    assert half_bandwidth(pat) > BAND_MAX  # the given order is wide
    perm, bw = band_ordering(pat)
    assert perm is not None and bw <= 4
    rhs = _linear_rhs(M)
    y = jnp.asarray(np.linspace(0.5, 1.5, M.shape[0]))
    ls = BandedLU(sparsity=pat).prepare(rhs, 0.3, y, None)
    assert ls.plan.b == bw
    c = 0.05
    b = jnp.asarray(np.random.default_rng(9).normal(size=y.size))
    x, ok = jax.jit(lambda y, b: ls.solve(ls.factor(rhs, 0.3, y, None, c), b))(y, b)
    J = np.asarray(jax.jacfwd(lambda z: rhs(0.3, z))(y))
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(np.eye(y.size) - c * J, b), rtol=1e-12, atol=1e-13)
    # negative control: without the reordering the band is too wide for the strategy
    with pytest.raises(InputError, match="linsolve"):
        BandedLU(sparsity=pat, reorder=False).prepare(rhs, 0.3, y, None)


def test_detected_pattern_equals_given_and_no_reordering_of_a_banded_order():
    A = _banded_matrix(30, 1, seed=4)
    rhs = _linear_rhs(A)
    y = jnp.asarray(np.linspace(0.5, 1.5, 30))
    a = BandedLU().prepare(rhs, 0.0, y, None)
    b = BandedLU(sparsity=sp.csr_array(A != 0)).prepare(rhs, 0.0, y, None)
    assert a.plan == b.plan and a.plan.b == 1
    assert a.out_ is None  # already banded: the identity ordering, results in place
    np.testing.assert_array_equal(a.src_.v, b.src_.v)


def _bruss1d_rhs(points, alpha=0.02):
    """1-D Brusselator (Hairer & Wanner IV.1), states interleaved ``(u_1, v_1, u_2, ...)``."""
    c = alpha * (points + 1) ** 2

    def rhs(t, y, args=None):
        k = 1.0 if args is None else args
        w = y.reshape(points, 2)
        a, b = w[:, 0], w[:, 1]

        def lap(z, edge):
            e = jnp.full((1,), edge)
            return c * (jnp.concatenate([e, z[:-1]]) - 2.0 * z + jnp.concatenate([z[1:], e]))

        aab = a * a * b
        return jnp.stack([1.0 + aab - 4.0 * k * a + lap(a, 1.0), 3.0 * k * a - aab + lap(b, 3.0)], 1).reshape(-1)

    x = np.arange(1, points + 1) / (points + 1)
    y0 = np.stack([1.0 + np.sin(2 * np.pi * x), np.full(points, 3.0)], 1).reshape(-1)
    return rhs, jnp.asarray(y0)


def test_strategy_vmap_over_states_and_c():
    rhs, y = _bruss1d_rhs(20)
    ls = BandedLU().prepare(rhs, 0.0, y, None)
    ys = jnp.stack([y, y * 1.1, y * 0.9])
    cs = jnp.asarray([1e-3, 2e-2, 5e-1])
    b = jnp.asarray(np.random.default_rng(7).normal(size=y.size))

    def one(y, c):
        return ls.solve(ls.factor(rhs, 0.0, y, None, c), b)

    xs, oks = jax.jit(jax.vmap(one))(ys, cs)
    for k in range(3):
        J = np.asarray(jax.jacfwd(lambda z: rhs(0.0, z))(ys[k]))
        np.testing.assert_allclose(xs[k], np.linalg.solve(np.eye(y.size) - float(cs[k]) * J, b), rtol=1e-11)
    assert bool(jnp.all(oks))


def test_strategy_vjp_matches_finite_differences():
    rhs, y = _bruss1d_rhs(10)
    ls = BandedLU().prepare(rhs, 0.0, y, None)
    b = jnp.asarray(np.random.default_rng(4).normal(size=y.size))
    g = jnp.asarray(np.random.default_rng(5).normal(size=y.size))

    def loss(y, c, b):
        x, _ = ls.solve(ls.factor(rhs, 0.2, y, None, c), b)
        return jnp.dot(g, x)

    grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(y, 3e-2, b)
    f = jax.jit(loss)
    eps = 1e-6
    dy = jnp.asarray(np.random.default_rng(6).normal(size=y.size))
    fd_y = (f(y + eps * dy, 3e-2, b) - f(y - eps * dy, 3e-2, b)) / (2 * eps)
    fd_c = (f(y, 3e-2 + eps, b) - f(y, 3e-2 - eps, b)) / (2 * eps)
    fd_b = (f(y, 3e-2, b + eps * dy) - f(y, 3e-2, b - eps * dy)) / (2 * eps)
    np.testing.assert_allclose(jnp.dot(grads[0], dy), fd_y, rtol=1e-6)
    np.testing.assert_allclose(grads[1], fd_c, rtol=1e-6)
    np.testing.assert_allclose(jnp.dot(grads[2], dy), fd_b, rtol=1e-6)


def test_strategy_exports_without_callbacks():
    from jax import export

    rhs, y = _bruss1d_rhs(8)
    ls = BandedLU().prepare(rhs, 0.0, y, None)
    b = jnp.ones_like(y)
    fn = jax.jit(lambda y, b: ls.solve(ls.factor(rhs, 0.0, y, None, 1e-2), b))
    exp = export.export(fn)(y, b)
    targets = set(re.findall(r"custom_call @(\w+)", exp.mlir_module()))
    assert not any("callback" in t for t in targets), targets
    np.testing.assert_allclose(exp.call(y, b)[0], fn(y, b)[0], rtol=1e-14)


# -- whole solves ----------------------------------------------------------------------------------
def test_rosenbrock_gradient_with_banded_solves():
    rhs, y0 = _bruss1d_rhs(12)
    k = jnp.float64(1.0)
    banded = BandedLU().prepare(rhs, 0.0, y0, k)
    w = jnp.asarray(np.linspace(-1.0, 1.0, y0.size))

    def loss(ls, k, y0):
        r = rosenbrock_solve(rhs, 0.0, 1.0, y0, k, jnp.array([0.5, 1.0]), linsolve=ls, rtol=1e-9, atol=1e-11)
        return jnp.sum(r.ys[-1] * w) + jnp.sum(r.ys[0] ** 2)

    vg = jax.jit(jax.value_and_grad(lambda k, y0: loss(banded, k, y0), argnums=(0, 1)))  # one compile for both
    g_k, g_y0 = vg(k, y0)[1]

    def f(k, y0):
        return vg(k, y0)[0]

    eps = 1e-5
    dy = jnp.asarray(np.random.default_rng(8).normal(size=y0.size))
    fd_k = (float(f(k + eps, y0)) - float(f(k - eps, y0))) / (2 * eps)
    fd_y = (float(f(k, y0 + eps * dy)) - float(f(k, y0 - eps * dy))) / (2 * eps)
    np.testing.assert_allclose(float(g_k), fd_k, rtol=1e-6)
    np.testing.assert_allclose(float(jnp.dot(g_y0, dy)), fd_y, rtol=1e-6)
    assert abs(fd_k) > 1e-2 and abs(fd_y) > 1e-2  # the loss depends on both: not a comparison of zeros


@pytest.fixture(scope="module")
def bruss_model():
    points = 30

    def physics(u, p, t, m):
        a, b = u[:, 0], u[:, 1]

        def lap(w, edge):
            end = m.ones_like(w[:1]) * edge
            return p.c * (m.concatenate([end, w[:-1]]) - 2.0 * w + m.concatenate([w[1:], end]))

        aab = a * a * b
        return m.stack([1.0 + aab - 4.0 * a + lap(a, 1.0), 3.0 * a - aab + lap(b, 3.0)], axis=1)

    model = ps.ODEModel(physics, states={"uv": (points, 2)}, params={"c": 0.02 * (points + 1) ** 2})
    rhs, y0 = _bruss1d_rhs(points)
    return model, np.asarray(y0), rhs


def test_solve_with_banded_matches_dense_and_scipy(bruss_model):
    from scipy.integrate import solve_ivp

    model, y0, rhs = bruss_model
    ts = [2.0, 6.0, 10.0]
    f, jac = jax.jit(rhs), jax.jit(jax.jacfwd(rhs, argnums=1))
    ref = solve_ivp(
        lambda t, y: np.asarray(f(t, y)),
        (0.0, 10.0),
        y0,
        method="Radau",
        t_eval=ts,
        jac=lambda t, y: np.asarray(jac(t, y)),
        rtol=1e-11,
        atol=1e-13,
    ).y.T

    def run(linsolve, rtol=1e-9):
        sol = ps.solve(
            model, y0, (0.0, 10.0), solver=ps.Rodas5P(linsolve=linsolve), rtol=rtol, atol=rtol * 1e-2, saveat=ts
        )
        return np.asarray(sol.u).reshape(len(ts), -1)

    band = run("banded")
    np.testing.assert_allclose(band, run("dense"), rtol=1e-9, atol=0)
    np.testing.assert_allclose(band, ref, rtol=1e-6, atol=0)
    # negative control: a loose solve is visibly farther from the reference than the bound above
    assert np.max(np.abs(run("banded", rtol=1e-3) / ref - 1.0)) > 1e-5


# -- automatic choice and bad input ---------------------------------------------------------------
def test_auto_picks_banded_for_a_narrow_band_detecting_once(monkeypatch):
    calls = []
    detect = sparse_mod.detect_sparsity
    monkeypatch.setattr(sparse_mod, "detect_sparsity", lambda *a, **k: calls.append(1) or detect(*a, **k))
    rhs, y = _bruss1d_rhs(20)
    chosen = AutoSolver(dense_max=16).prepare(rhs, 0.0, y, None)
    assert isinstance(chosen, BandedLU) and chosen.plan.b == 2 and len(calls) == 1
    # a 2-D stencil has a wide band after any ordering: the lagged sparse LU
    rhs2, _ = heat2d(10)
    chosen = AutoSolver(dense_max=16).prepare(rhs2, 0.0, random_state(10), None)
    assert isinstance(chosen, LaggedSparseLU) and len(calls) == 2
    assert isinstance(chosen.prepared(), SparseLU)
    # small systems stay dense without looking at the pattern
    assert isinstance(AutoSolver().prepare(rhs, 0.0, y, None), DenseLU) and len(calls) == 2


def test_bad_input_names_the_argument():
    with pytest.raises(InputError, match=r"BandedLU\.sparsity"):
        ps.BandedLU(sparsity=np.ones(3))
    assert isinstance(ps.solvers.resolve_linsolve("banded"), ps.BandedLU)
    rhs, pat = heat2d(10)
    with pytest.raises(InputError, match=r"linsolve.*half-bandwidth is \d+.*ps\.SparseLU\(\)") as info:
        BandedLU().prepare(rhs, 0.0, random_state(10), None)
    assert int(re.search(r"half-bandwidth is (\d+)", str(info.value)).group(1)) > BAND_MAX


def test_wide_band_model_through_solve_raises():
    def physics(u, p, t, m):
        return -p.k * u + 0.01 * m.sum(u)  # every state coupled to every other: no narrow order

    model = ps.ODEModel(physics, states={"y": (41,)}, params={"k": 1.0})
    with pytest.raises(InputError, match="linsolve"):
        ps.solve(model, np.ones(41), (0.0, 1.0), solver=ps.Rodas5P(linsolve="banded"))
