"""Sparsity detection, colouring, multifrontal LU and the SparseLU strategy (jax engine)."""

import re

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spl  # noqa: E402
from helpers.linear_systems import heat2d, random_state  # noqa: E402

from pysciml.engines.jax.linsolve.coloring import ColoredJacobian, color_columns  # noqa: E402
from pysciml.engines.jax.linsolve.multifrontal import MultifrontalPlan  # noqa: E402
from pysciml.engines.jax.linsolve.ordering import nested_dissection, postorder  # noqa: E402
from pysciml.engines.jax.linsolve.sparse import SparseLU  # noqa: E402
from pysciml.engines.jax.linsolve.sparsity import as_pattern, detect_sparsity  # noqa: E402
from pysciml.errors import InputError  # noqa: E402


@pytest.mark.parametrize("periodic", [True, False])
def test_detect_sparsity_matches_stencil(periodic):
    rhs, pat = heat2d(7, periodic)
    found = detect_sparsity(rhs, 0.3, np.ones(2 * 49), None, block=20)
    assert (found != as_pattern(pat, 98)).nnz == 0


def test_as_pattern_adds_diagonal_and_checks_shape():
    p = as_pattern(np.array([[0, 1], [0, 0]]), 2)
    assert p.toarray().tolist() == [[True, True], [False, True]]
    with pytest.raises(InputError, match="sparsity"):
        as_pattern(np.ones((3, 3)), 2)
    with pytest.raises(InputError, match="sparsity"):
        as_pattern(np.ones(3), 3)


def test_colouring_is_valid_and_small():
    _, pat = heat2d(10)
    pat = as_pattern(pat, 200)
    colours = color_columns(pat)
    dense = pat.toarray()
    for k in range(colours.max() + 1):
        # no row has two non-zeros of one colour
        assert dense[:, colours == k].sum(axis=1).max() <= 1
    assert colours.max() + 1 <= 14  # a constant for a stencil, independent of n


@pytest.mark.parametrize("n", [5, 12])
def test_colored_jacobian_equals_jacfwd(n):
    rhs, pat = heat2d(n)
    cj = ColoredJacobian.build(as_pattern(pat, 2 * n * n))
    y = random_state(n)
    got = cj.dense(rhs, 0.7, y, None)
    want = jax.jacfwd(lambda z: rhs(0.7, z))(y)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_nested_dissection_covers_every_vertex_once():
    _, pat = heat2d(9)
    roots = nested_dissection(pat + pat.T, leaf_size=8)
    piv = np.concatenate([nd.pivots for nd in postorder(roots)])
    assert np.array_equal(np.sort(piv), np.arange(162))


def _w_matrix(n, c, seed=0, periodic=True):
    rhs, pat = heat2d(n, periodic)
    y = random_state(n, seed)
    J = np.asarray(jax.jacfwd(lambda z: rhs(0.1, z))(y))
    W = sp.csr_array(np.eye(J.shape[0]) - c * J)
    W = sp.csr_array(W.multiply(as_pattern(pat, J.shape[0])))  # keep the structural pattern
    W.sort_indices()
    return W


@pytest.mark.parametrize("n,leaf,minp", [(6, 8, 0), (11, 16, 0), (11, 16, 12), (16, 32, 8)])
@pytest.mark.parametrize("periodic", [True, False])
def test_multifrontal_solve_matches_spsolve(n, leaf, minp, periodic):
    W = _w_matrix(n, 3e-3, periodic=periodic)
    plan = MultifrontalPlan.build(W.astype(bool), leaf_size=leaf, min_pivots=minp)
    factors, ok = jax.jit(lambda w: plan.factor(w))(jnp.asarray(W.data))
    b = np.random.default_rng(1).normal(size=W.shape[0])
    x = jax.jit(lambda f, b: plan.solve(f, b))(factors, jnp.asarray(b))
    assert bool(ok)
    np.testing.assert_allclose(x, spl.spsolve(W.tocsc(), b), rtol=1e-10, atol=1e-12)


def test_multifrontal_general_unsymmetric_pattern():
    rng = np.random.default_rng(3)
    n = 150
    A = sp.random_array((n, n), density=0.02, random_state=rng, format="csr")
    A = sp.csr_array(A + 4.0 * sp.identity(n))  # diagonally dominant-ish, unsymmetric pattern
    A.sort_indices()
    plan = MultifrontalPlan.build(A.astype(bool), leaf_size=10)
    factors, ok = plan.factor(jnp.asarray(A.data))
    b = rng.normal(size=n)
    np.testing.assert_allclose(plan.solve(factors, jnp.asarray(b)), spl.spsolve(A.tocsc(), b), rtol=1e-10)
    assert bool(ok)


def test_multifrontal_singular_gives_not_ok():
    W = _w_matrix(6, 1e-3)
    data = W.data.copy()
    # zero one full row: W singular
    r = 5
    data[W.indptr[r] : W.indptr[r + 1]] = 0.0
    plan = MultifrontalPlan.build(W.astype(bool), leaf_size=8)
    _, ok = plan.factor(jnp.asarray(data))
    assert not bool(ok)


def _prepared(n=6):
    rhs, _ = heat2d(n)
    y = random_state(n)
    return rhs, y, SparseLU(leaf_size=8).prepare(rhs, 0.0, y, None)


def test_sparselu_strategy_solves_w():
    rhs, y, ls = _prepared()
    c = 2e-3
    state = jax.jit(lambda y, c: ls.factor(rhs, 0.4, y, None, c))(y, c)
    b = jnp.asarray(np.random.default_rng(2).normal(size=y.size))
    x, ok = jax.jit(lambda s, b: ls.solve(s, b))(state, b)
    J = jax.jacfwd(lambda z: rhs(0.4, z))(y)
    W = np.eye(y.size) - c * np.asarray(J)
    assert bool(ok)
    np.testing.assert_allclose(W @ np.asarray(x), b, atol=1e-10)


def test_sparselu_user_pattern_equals_detected():
    rhs, pat = heat2d(5)
    y = random_state(5)
    a = SparseLU(sparsity=pat, leaf_size=8).prepare(rhs, 0.0, y, None)
    b = SparseLU(leaf_size=8).prepare(rhs, 0.0, y, None)
    assert np.array_equal(a.jac.rows, b.jac.rows) and np.array_equal(a.jac.cols, b.jac.cols)
    with pytest.raises(InputError, match="sparsity"):
        SparseLU(sparsity=np.ones((3, 3), bool)).prepare(rhs, 0.0, y, None)


def test_sparselu_vjp_matches_finite_differences():
    rhs, y, ls = _prepared(5)
    b = jnp.asarray(np.random.default_rng(4).normal(size=y.size))
    g = jnp.asarray(np.random.default_rng(5).normal(size=y.size))

    def loss(y, c, b):
        x, _ = ls.solve(ls.factor(rhs, 0.2, y, None, c), b)
        return jnp.dot(g, x)

    grads = jax.grad(loss, argnums=(0, 1, 2))(y, 3e-3, b)
    eps = 1e-6
    dy = jnp.asarray(np.random.default_rng(6).normal(size=y.size))
    fd_y = (loss(y + eps * dy, 3e-3, b) - loss(y - eps * dy, 3e-3, b)) / (2 * eps)
    fd_c = (loss(y, 3e-3 + eps, b) - loss(y, 3e-3 - eps, b)) / (2 * eps)
    fd_b = (loss(y, 3e-3, b + eps * dy) - loss(y, 3e-3, b - eps * dy)) / (2 * eps)
    np.testing.assert_allclose(jnp.dot(grads[0], dy), fd_y, rtol=1e-6)
    np.testing.assert_allclose(grads[1], fd_c, rtol=1e-6)
    np.testing.assert_allclose(jnp.dot(grads[2], dy), fd_b, rtol=1e-6)


def test_sparselu_vmap_over_states_and_c():
    rhs, y, ls = _prepared(5)
    ys = jnp.stack([y, y * 1.1, y * 0.9])
    cs = jnp.asarray([1e-3, 2e-3, 5e-3])
    b = jnp.asarray(np.random.default_rng(7).normal(size=y.size))

    def one(y, c):
        return ls.solve(ls.factor(rhs, 0.0, y, None, c), b)

    xs, oks = jax.vmap(one)(ys, cs)
    for k in range(3):
        x1, _ = one(ys[k], cs[k])
        np.testing.assert_allclose(xs[k], x1, rtol=1e-12, atol=1e-14)
    assert bool(jnp.all(oks))


def test_sparselu_exports_without_callbacks():
    from jax import export

    rhs, y, ls = _prepared(4)
    b = jnp.ones_like(y)
    fn = jax.jit(lambda y, b: ls.solve(ls.factor(rhs, 0.0, y, None, 1e-3), b))
    exp = export.export(fn)(y, b)
    targets = set(re.findall(r"custom_call @(\w+)", exp.mlir_module()))
    assert targets and not any("callback" in t for t in targets), targets
    np.testing.assert_allclose(exp.call(y, b)[0], fn(y, b)[0], rtol=1e-14)
    pytest.importorskip("flatbuffers")
    again = export.deserialize(exp.serialize())
    np.testing.assert_allclose(again.call(y, b)[0], fn(y, b)[0], rtol=1e-14)
