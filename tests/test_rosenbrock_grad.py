"""Gradients of Rosenbrock solves: discrete adjoint and forward mode against exact
linear sensitivities and central finite differences."""

from __future__ import annotations

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np
import pytest
from helpers import problems as P  # noqa: E402

from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve  # noqa: E402
from pysciml.solvers.rosenbrock.rodas4 import RODAS4
from pysciml.solvers.rosenbrock.rodas5p import RODAS5P
from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23

jax.config.update("jax_enable_x64", True)


def _central_fd(fn, x, rel=1e-6):
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        step = rel * max(abs(x.flat[i]), 1e-3)
        e.flat[i] = step
        g.flat[i] = (float(fn(x + e)) - float(fn(x - e))) / (2 * step)
    return g


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4, ROSENBROCK23], ids=["Rodas5P", "Rodas4", "Rosenbrock23"])
def test_linear_gradient_matches_exact_sensitivity(tab):
    from scipy.linalg import expm, expm_frechet

    prob = P.PROBLEMS["linear"]
    A = np.reshape(prob.p, (3, 3))
    y0 = np.array(prob.y0)
    T = 0.7
    w = np.array([1.0, -2.0, 0.5])
    f = P.for_jax(prob)
    rtol = 1e-11 if tab.order > 2 else 1e-12

    def loss(y0, a):
        ys = rosenbrock_solve(f, 0.0, T, y0, a, jnp.array([T]), tableau=tab, rtol=rtol, atol=1e-14,
                              max_steps=200_000).ys
        return ys[0] @ w

    g_y0, g_a = jax.jit(jax.grad(loss, argnums=(0, 1)))(y0, A.ravel())
    exact_y0 = expm(A * T).T @ w
    exact_a = np.array([w @ expm_frechet(A * T, T * np.eye(9)[k].reshape(3, 3), compute_expm=False) @ y0
                        for k in range(9)])
    tol = 1e-6 if tab.order > 2 else 1e-4
    np.testing.assert_allclose(np.asarray(g_y0), exact_y0, rtol=tol, atol=tol * np.abs(exact_y0).max())
    np.testing.assert_allclose(np.asarray(g_a), exact_a, rtol=tol, atol=tol * np.abs(exact_a).max())


def _rober_loss(mode):
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    ts = jnp.array([0.0, 1.0, 1e3, 1e5])
    wts = jnp.array([[1.0, 1e4, 0.3], [0.5, 2e4, 1.0], [1.0, 1e5, 0.0], [0.2, 1e6, 1.0]])

    def loss(y0, p):
        ys = rosenbrock_solve(f, 0.0, 1e5, y0, p, ts, rtol=1e-10, atol=1e-14,
                              differentiation=mode).ys
        return jnp.sum(ys * wts)

    return loss


def test_rober_reverse_gradient_matches_finite_differences():
    prob = P.PROBLEMS["rober"]
    y0, p = np.array(prob.y0), np.array(prob.p)
    loss = _rober_loss("reverse")
    g_y0, g_p = jax.jit(jax.grad(loss, argnums=(0, 1)))(y0, p)
    lj = jax.jit(loss)
    fd_p = _central_fd(lambda q: lj(y0, q), p)
    fd_y0 = _central_fd(lambda z: lj(z, p), y0, rel=1e-5)
    np.testing.assert_allclose(np.asarray(g_p), fd_p, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(g_y0), fd_y0, rtol=1e-5, atol=1e-6 * np.abs(fd_y0).max())


def test_forward_mode_equals_reverse_mode():
    prob = P.PROBLEMS["rober"]
    y0, p = np.array(prob.y0), np.array(prob.p)
    g_rev = jax.jit(jax.grad(_rober_loss("reverse"), argnums=1))(y0, p)
    g_fwd = jax.jit(jax.jacfwd(_rober_loss("forward"), argnums=1))(y0, p)
    np.testing.assert_allclose(np.asarray(g_fwd), np.asarray(g_rev), rtol=1e-9)


def test_hires_gradient_matches_finite_differences():
    # n = 8: the LAPACK LU path of the dense strategy
    prob = P.PROBLEMS["hires"]
    f = P.for_jax(prob)
    y0, p = np.array(prob.y0), np.array(prob.p)
    ts = jnp.array([5.0, 321.8122])

    def loss(p):
        ys = rosenbrock_solve(f, 0.0, 321.8122, y0, p, ts, rtol=1e-10, atol=1e-14).ys
        return jnp.sum(ys[:, 5:] ** 2) * 1e4 + jnp.sum(ys[0])

    g = np.asarray(jax.jit(jax.grad(loss))(p))
    fd = _central_fd(jax.jit(loss), p)
    np.testing.assert_allclose(g, fd, rtol=2e-5, atol=1e-6 * np.abs(fd).max())


def test_gradient_with_respect_to_save_times_is_the_derivative():
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    y0, p = jnp.array(prob.y0), jnp.array(prob.p)
    ts = jnp.array([0.3, 2.0, 40.0])

    def ys_of(ts):
        return rosenbrock_solve(f, 0.0, 50.0, y0, p, ts, rtol=1e-10, atol=1e-14).ys

    jac = jax.jit(jax.jacrev(lambda ts: ys_of(ts)[:, 0]))(ts)
    ys = ys_of(ts)
    dydt = np.array([f(t, y, p)[0] for t, y in zip(ts, ys)])
    np.testing.assert_allclose(np.diag(np.asarray(jac)), dydt, rtol=1e-5)


def test_parameters_closed_over_are_differentiated_too():
    prob = P.PROBLEMS["rober"]
    y0 = jnp.array(prob.y0)
    ts = jnp.array([10.0])

    def loss_closure(p):
        return rosenbrock_solve(lambda t, y, a: P.rober(t, y, p, jnp), 0.0, 10.0, y0, None, ts,
                                rtol=1e-9, atol=1e-13).ys[0, 1]

    def loss_args(p):
        return rosenbrock_solve(P.for_jax(prob), 0.0, 10.0, y0, p, ts, rtol=1e-9, atol=1e-13).ys[0, 1]

    p = jnp.array(prob.p)
    np.testing.assert_allclose(np.asarray(jax.jit(jax.grad(loss_closure))(p)),
                               np.asarray(jax.jit(jax.grad(loss_args))(p)), rtol=1e-10)


def test_vmapped_gradients_equal_loop():
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    ps = np.array(prob.p) * np.array([[1.0, 1.0, 1.0], [1.3, 0.7, 1.1], [0.8, 1.5, 0.9]])

    def loss(p):
        return rosenbrock_solve(f, 0.0, 100.0, jnp.array(prob.y0), p, jnp.array([100.0]),
                                rtol=1e-8, atol=1e-12).ys[0, 0]

    g = jax.jit(jax.vmap(jax.grad(loss)))(ps)
    gj = jax.jit(jax.grad(loss))
    for i in range(3):
        np.testing.assert_allclose(np.asarray(g[i]), np.asarray(gj(ps[i])), rtol=1e-8)


def test_gradient_with_many_save_times_forward_equals_reverse():
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    ts = jnp.array(np.geomspace(1e-2, 1e3, 25))

    def loss(p, mode):
        ys = rosenbrock_solve(f, 0.0, 1e3, jnp.array(prob.y0), p, ts, rtol=1e-9, atol=1e-13,
                              differentiation=mode).ys
        return jnp.sum(ys[:, 1]) * 1e4 + jnp.sum(ys[:, 0] * ts) * 1e-3

    p = jnp.array(prob.p)
    g_rev = jax.jit(jax.grad(lambda q: loss(q, "reverse")))(p)
    g_fwd = jax.jit(jax.jacfwd(lambda q: loss(q, "forward")))(p)
    np.testing.assert_allclose(np.asarray(g_rev), np.asarray(g_fwd), rtol=1e-9)
