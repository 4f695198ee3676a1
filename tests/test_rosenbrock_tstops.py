"""Rosenbrock machine: tstops (known jumps of the right-hand side in time), the stage loop,
and reuse of compiled solves through the public API."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

from pysciml.engines.jax.linsolve.dense import DenseLU  # noqa: E402
from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve  # noqa: E402
from pysciml.engines.jax.rosenbrock.step import stages  # noqa: E402
from pysciml.solvers.rosenbrock.rodas4 import RODAS4
from pysciml.solvers.rosenbrock.rodas5p import RODAS5P
from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23

T_JUMP = 0.5


def switched(t, y, k):
    """``y' = -k0 y + k1 H(t - 0.5)``: a forcing switched on at t = 0.5 (right-continuous)."""
    return -k[0] * y + jnp.where(t >= T_JUMP, k[1], 0.0)


def switched_exact(t, y0, k):
    a, b = k
    ya = y0 * np.exp(-a * min(t, T_JUMP))
    if t <= T_JUMP:
        return ya
    return b / a + (ya - b / a) * np.exp(-a * (t - T_JUMP))


K = jnp.array([10.0, 10.0])
Y0 = jnp.array([1.0])
TS = jnp.array([0.25, T_JUMP, 0.75, 1.0])


def _run(tstops, tab=RODAS5P, rtol=1e-8, atol=1e-10, k=K, y0=Y0):
    return rosenbrock_solve(switched, 0.0, 1.0, y0, k, TS, tableau=tab, rtol=rtol, atol=atol, tstops=tstops)


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4, ROSENBROCK23], ids=lambda t: t.name)
def test_tstops_land_on_the_jump_and_see_its_left_limit(tab):
    exact = np.array([[switched_exact(float(t), 1.0, (10.0, 10.0))] for t in TS])
    with_stops = jax.jit(lambda: _run(jnp.array([T_JUMP]), tab))()
    without = jax.jit(lambda: _run(None, tab))()
    assert int(with_stops.status) == 0 and int(without.status) == 0
    err_with = np.abs(np.asarray(with_stops.ys) - exact).max()
    bound = {5: 1e-7, 4: 1e-7, 2: 1e-5}[tab.order]
    assert err_with < bound, err_with
    # the value saved at the jump itself is the left limit (forcing still off)
    np.testing.assert_allclose(np.asarray(with_stops.ys)[1, 0], np.exp(-10 * T_JUMP), rtol=bound * 10)
    # stepping onto the jump costs no rejected steps there; stepping across it does
    assert int(with_stops.stats["rejected"]) < int(without.stats["rejected"])


def test_tstops_outside_the_span_or_unsorted_are_harmless():
    a = jax.jit(lambda: _run(jnp.array([2.0, T_JUMP, -1.0])))()
    b = jax.jit(lambda: _run(jnp.array([T_JUMP])))()
    np.testing.assert_array_equal(np.asarray(a.ys), np.asarray(b.ys))


def test_gradient_with_tstops_matches_finite_differences():
    def loss(k, y0):
        r = _run(jnp.array([T_JUMP]), k=k, y0=y0, rtol=1e-10, atol=1e-12)
        return jnp.sum(r.ys[:, 0] * jnp.array([1.0, -2.0, 0.5, 3.0]))

    gk, gy = jax.jit(jax.grad(loss, argnums=(0, 1)))(K, Y0)
    f = jax.jit(loss)
    eps = 1e-6
    fd_k = [(float(f(K.at[i].add(eps), Y0)) - float(f(K.at[i].add(-eps), Y0))) / (2 * eps) for i in range(2)]
    fd_y = (float(f(K, Y0 + eps)) - float(f(K, Y0 - eps))) / (2 * eps)
    np.testing.assert_allclose(np.asarray(gk), fd_k, rtol=1e-6)
    np.testing.assert_allclose(float(gy[0]), fd_y, rtol=1e-6)


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4, ROSENBROCK23], ids=lambda t: t.name)
def test_stage_loop_equals_unrolled_stages(tab):
    from helpers import problems as P

    prob = P.PROBLEMS["hires"]
    fun = P.for_jax(prob)
    y = jnp.asarray(prob.y0) + 0.01
    p = jnp.asarray(prob.p)
    lin = DenseLU()
    h = 0.05

    def step(loop):
        state = lin.factor(fun, 1.0, y, p, h * tab.gamma)

        def solve(b):
            x, ok = lin.solve(state, b)
            return x, ok, jnp.zeros((), jnp.int32)

        return stages(tab, fun, solve, jnp.float64(1.0), y, h, p, stage_loop=loop)

    unrolled = jax.jit(lambda: step(False))()
    looped = jax.jit(lambda: step(True))()
    for a, b in zip(unrolled[:3], looped[:3]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)
    assert bool(unrolled[3]) and bool(looped[3])


def test_public_solves_reuse_one_compiled_function():
    import pysciml as ps
    from pysciml.engines import get_engine

    def decay_pde(u, p, t, m):  # 1-D diffusion, 200 states: above the dense crossover
        lap = m.concatenate([u[1:2] - 2 * u[:1], u[2:] - 2 * u[1:-1] + u[:-2], u[-2:-1] - 2 * u[-1:]])
        return p.d * lap - u

    model = ps.ODEModel(decay_pde, states={"u": 200}, params={"d": 50.0})
    u0 = np.sin(np.linspace(0, np.pi, 200))
    engine = get_engine("jax")
    sols = [ps.solve(model, u0, (0.0, 0.1), saveat=[0.1], solver=ps.Rodas5P(linsolve=lin), rtol=1e-6)
            for lin in ("auto", "auto", ps.SparseLU(), ps.SparseLU())]
    assert all(s.ok for s in sols)
    assert len(engine._jitted[model]) == 2  # one per linear-solve configuration, not per call
    np.testing.assert_allclose(sols[0].u, sols[2].u, rtol=1e-5, atol=1e-8)
