"""The Rosenbrock machine: exact solutions, stiff references, statuses, vmap, jit hygiene."""

from __future__ import annotations

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np
import pytest
from helpers import problems as P  # noqa: E402

from pysciml.engines.jax.linsolve.dense import DenseLU  # noqa: E402
from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve  # noqa: E402
from pysciml.solvers.rosenbrock.rodas4 import RODAS4  # noqa: E402
from pysciml.solvers.rosenbrock.rodas5p import RODAS5P  # noqa: E402
from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23  # noqa: E402
from pysciml.status import Status  # noqa: E402

jax.config.update("jax_enable_x64", True)

TABLEAUS = [RODAS5P, RODAS4, ROSENBROCK23]
IDS = [t.name for t in TABLEAUS]


def solve(name, tab=RODAS5P, ts=None, rtol=1e-8, atol=1e-10, p=None, **kw):
    prob = P.PROBLEMS[name]
    ts = np.array([prob.t1]) if ts is None else np.asarray(ts, float)
    p = np.array(prob.p if p is None else p, float)
    res = rosenbrock_solve(P.for_jax(prob), prob.t0, prob.t1, np.array(prob.y0), p, ts,
                           tableau=tab, rtol=rtol, atol=atol, **kw)
    return res


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
@pytest.mark.parametrize("name", ["decay", "linear", "oscillator", "prothero_robinson"])
def test_exact_solutions(name, tab):
    prob = P.PROBLEMS[name]
    ts = np.linspace(prob.t0, prob.t1, 7)
    # an order-2 method advanced with a 3rd-order error estimate: global error ~ tol**(2/3)
    rtol, bound = {2: (1e-9, 1e-5), 4: (1e-9, 2e-7), 5: (1e-9, 2e-7)}[tab.order]
    res = jax.jit(lambda: solve(name, tab, ts, rtol=rtol, atol=1e-12))()
    assert int(res.status) == Status.SUCCESS
    exact = np.stack([prob.exact(t, prob.y0, prob.p) for t in ts])
    err = np.max(np.abs(np.asarray(res.ys) - exact))
    assert err < bound * max(1.0, np.abs(exact).max()), err
    np.testing.assert_array_equal(np.asarray(res.ys)[0], np.asarray(prob.y0))


def test_non_autonomous_needs_time_derivative():
    # Prothero-Robinson with lambda = 1e4 is stiff and non-autonomous: without the
    # df/dt term in the stages the error would be O(h) instead of tolerance-sized.
    prob = P.PROBLEMS["prothero_robinson"]
    res = jax.jit(lambda: solve("prothero_robinson", RODAS5P, [prob.t1], rtol=1e-6, atol=1e-9))()
    exact = prob.exact(prob.t1, prob.y0, prob.p)
    assert np.abs(np.asarray(res.ys)[0] - exact).max() < 1e-6
    assert int(res.stats["steps"]) < 200  # stiff: steps follow sin(t), not 1/lambda


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_rober_against_radau(tab):
    ts = [1.0, 10.0, 1e3, 1e5]
    ref = P.reference("rober", ts)
    res = jax.jit(lambda: solve("rober", tab, ts, rtol=1e-8, atol=1e-10))()
    assert int(res.status) == Status.SUCCESS
    ys = np.asarray(res.ys)
    # componentwise: relative 1e-6 of the value plus the absolute tolerance scale
    np.testing.assert_allclose(ys, ref, rtol=2e-6 if tab.order > 2 else 2e-5, atol=1e-11)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-9)  # mass conservation


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4], ids=["Rodas5P", "Rodas4"])
def test_hires_against_radau(tab):
    ref = P.reference("hires")
    res = jax.jit(lambda: solve("hires", tab, rtol=1e-8, atol=1e-10))()
    assert int(res.status) == Status.SUCCESS
    np.testing.assert_allclose(np.asarray(res.ys), ref, rtol=1e-5, atol=1e-10)
    # and the published value of the IVP test set (Mazzia et al.) for y8(321.8122)
    assert abs(float(res.ys[0, 7]) - 0.2850001604814231e-2) < 1e-8


def test_van_der_pol_mu_1000():
    ts = [1.0, 500.0, 1500.0, 3000.0]
    ref = P.reference("vdp", ts, rtol=1e-10, atol=1e-12)
    res = jax.jit(lambda: solve("vdp", RODAS5P, ts, rtol=1e-8, atol=1e-10))()
    assert int(res.status) == Status.SUCCESS
    np.testing.assert_allclose(np.asarray(res.ys)[:, 0], ref[:, 0], rtol=1e-5, atol=1e-6)


def test_dense_output_matches_reference_at_many_times():
    ts = np.geomspace(1e-4, 1e5, 40)
    ref = P.reference("rober", ts)
    res = jax.jit(lambda: solve("rober", RODAS5P, ts, rtol=1e-8, atol=1e-10))()
    np.testing.assert_allclose(np.asarray(res.ys), ref, rtol=1e-5, atol=1e-10)
    # saving many times does not change the steps (no stepping onto save times)
    res1 = jax.jit(lambda: solve("rober", RODAS5P, [1e5], rtol=1e-8, atol=1e-10))()
    assert int(res.stats["steps"]) == int(res1.stats["steps"])


def test_lapack_and_small_inverse_paths_agree():
    ts = [1.0, 1e3, 1e5]
    a = jax.jit(lambda: solve("rober", ts=ts, linsolve=DenseLU(small_max=0)))()
    b = jax.jit(lambda: solve("rober", ts=ts, linsolve=DenseLU(small_max=16)))()
    np.testing.assert_allclose(np.asarray(a.ys), np.asarray(b.ys), rtol=1e-7, atol=1e-13)


def test_status_max_steps():
    res = jax.jit(lambda: solve("rober", ts=[1.0, 1e5], max_steps=20))()
    assert int(res.status) == Status.MAX_STEPS
    assert float(res.stats["t_end"]) < 1e5
    assert np.all(np.isnan(np.asarray(res.ys)[1]))
    assert int(res.stats["steps"]) + int(res.stats["rejected"]) == 20


def test_status_blow_up_is_step_size_underflow():
    # y' = y^2, y(0) = 1 blows up at t = 1
    res = jax.jit(lambda: solve("blowup", ts=[0.5, 1.5], rtol=1e-6, atol=1e-8))()
    assert int(res.status) == Status.STEP_SIZE_UNDERFLOW
    t_end = float(res.stats["t_end"])
    assert 0.999 < t_end < 1.001
    ys = np.asarray(res.ys)
    assert abs(ys[0, 0] - 2.0) < 1e-5 and np.isnan(ys[1, 0])


def test_status_nonfinite():
    def f(t, y, args):
        return jnp.where(t > 0.5, jnp.nan, -y)

    res = jax.jit(lambda: rosenbrock_solve(f, 0.0, 2.0, jnp.ones(1), None, jnp.array([0.25, 1.5])))()
    assert int(res.status) == Status.NONFINITE
    ys = np.asarray(res.ys)
    assert abs(ys[0, 0] - np.exp(-0.25)) < 1e-6 and np.isnan(ys[1, 0])


def test_nan_initial_state_is_nonfinite_status():
    res = jax.jit(lambda: rosenbrock_solve(lambda t, y, a: -y, 0.0, 1.0, jnp.array([jnp.nan, 1.0]),
                                           None, jnp.array([1.0])))()
    assert int(res.status) == Status.NONFINITE


def test_vmap_equals_loop():
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    rng = np.random.default_rng(1)
    ps = np.array(prob.p) * np.exp(rng.uniform(-0.5, 0.5, size=(5, 3)))
    y0s = np.array([[1.0, 0.0, 0.0]] * 5) * rng.uniform(0.5, 1.5, size=(5, 1))
    tss = np.sort(rng.uniform(1.0, 1e3, size=(5, 3)), axis=1)
    t1s = np.array([1e3, 2e3, 5e3, 1e4, 1e5])
    t0s = np.array([0.0, 0.5, 0.0, 0.2, 0.9])

    def one(y0, p, ts, t0, t1):
        r = rosenbrock_solve(f, t0, t1, y0, p, ts, rtol=1e-7, atol=1e-10)
        return r.ys, r.status, r.stats["steps"]

    ys, st, steps = jax.jit(jax.vmap(one))(y0s, ps, tss, t0s, t1s)
    one_j = jax.jit(one)
    for i in range(5):
        y_i, s_i, n_i = one_j(y0s[i], ps[i], tss[i], t0s[i], t1s[i])
        # same steps; only the floating-point association of batched kernels differs
        np.testing.assert_allclose(np.asarray(ys[i]), np.asarray(y_i), rtol=1e-9, atol=1e-15)
        assert int(st[i]) == int(s_i) == 0 and int(steps[i]) == int(n_i)


def test_no_host_callbacks_in_solve_or_gradient():
    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)

    def loss(p):
        return rosenbrock_solve(f, 0.0, 10.0, jnp.array(prob.y0), p, jnp.array([10.0])).ys.sum()

    p = jnp.array(prob.p)
    for fn in (loss, jax.grad(loss)):
        text = str(jax.make_jaxpr(fn)(p))
        assert "callback" not in text and "debug" not in text
        # jax.export accepts it (it refuses custom calls without compatibility guarantees)
        exported = jax.export.export(jax.jit(fn))(p)
        assert "cpu_callback" not in exported.mlir_module()


def test_fixed_step_mode_takes_exact_number_of_steps():
    res = jax.jit(lambda: solve("decay", ts=[3.0], adaptive=False, dt0=3.0 / 50))()
    assert int(res.stats["steps"]) == 50 and int(res.stats["rejected"]) == 0


def test_misuse_raises_input_errors_naming_the_argument():
    from pysciml.errors import InputError

    f = P.for_jax(P.PROBLEMS["decay"])
    args = (f, 0.0, 1.0, np.ones(2), np.array([0.7]), np.array([1.0]))
    with pytest.raises(InputError, match="differentiation"):
        rosenbrock_solve(*args, differentiation="backward")
    with pytest.raises(InputError, match="dt0"):
        rosenbrock_solve(*args, adaptive=False)
    with pytest.raises(InputError, match="tableau"):
        rosenbrock_solve(*args, tableau="rodas5p")
    with pytest.raises(InputError, match="max_steps"):
        rosenbrock_solve(*args, max_steps=0)


def test_many_save_times_vectorised_and_looped_paths_agree_under_vmap():
    # more than VECTOR_SAVE_MAX save times go through the inner save loop
    from pysciml.engines.jax.rosenbrock import machine

    prob = P.PROBLEMS["rober"]
    f = P.for_jax(prob)
    ps = np.array(prob.p) * np.array([[1.0, 1.0, 1.0], [1.2, 0.8, 1.1]])
    base = np.geomspace(1e-3, 1e3, machine.VECTOR_SAVE_MAX + 4)
    tss = np.stack([base, base * 1.5])

    def run(p, ts):
        return rosenbrock_solve(f, 0.0, 2e3, jnp.array(prob.y0), p, ts, rtol=1e-8, atol=1e-11).ys

    many = np.asarray(jax.jit(jax.vmap(run))(ps, tss))
    for i in range(2):
        # the same times in chunks small enough for the vectorised path
        chunks = [np.asarray(jax.jit(run)(ps[i], tss[i][j:j + 10])) for j in range(0, tss.shape[1], 10)]
        np.testing.assert_allclose(many[i], np.concatenate(chunks), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(many[0], P.reference("rober", base), rtol=1e-5, atol=1e-10)


def test_status_linear_solve_failed():
    # a strategy whose solves always report failure (finite values): the machine
    # shrinks the step MAX_FAILED_ATTEMPTS times, then stops with LINEAR_SOLVE_FAILED
    from pysciml.engines.jax.rosenbrock import machine

    class AlwaysFails(DenseLU):
        def solve(self, state, b):
            x, _ = super().solve(state, b)
            return x, jnp.array(False)

    res = jax.jit(lambda: solve("decay", ts=[1.0, 3.0], linsolve=AlwaysFails()))()
    assert int(res.status) == Status.LINEAR_SOLVE_FAILED
    assert int(res.stats["steps"]) == 0
    assert int(res.stats["rejected"]) == machine.MAX_FAILED_ATTEMPTS
    assert np.all(np.isnan(np.asarray(res.ys)))
