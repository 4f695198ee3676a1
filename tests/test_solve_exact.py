"""ps.solve against exact solutions, convergence orders and exact sensitivities (every jax solver)."""

import numpy as np
import pytest
import scipy.linalg
from scipy.integrate import solve_ivp

import pysciml as ps
from pysciml.errors import SolverFailure

SOLVERS = ["tsit5", "dopri5", "dopri8", "kvaerno5", "kencarp4", "rosenbrock23", "rodas4", "rodas5p"]
#: tolerance reached by each method at rtol=1e-10 / atol=1e-12 on the smooth test problems
EXACT_TOL = {"rosenbrock23": 2e-6, "kencarp4": 2e-7, "kvaerno5": 1e-7}  # ESDIRKs: 3rd-order Hermite dense output


@pytest.mark.parametrize("solver", SOLVERS)
def test_decay_exact(solver, decay_model, jax_engine):
    ts = np.linspace(0.0, 3.0, 7)
    sol = ps.solve(decay_model, [2.0], ts, solver=solver, rtol=1e-10, atol=1e-12)
    assert sol.ok, sol.message
    np.testing.assert_allclose(sol.u[:, 0], 2.0 * np.exp(-0.7 * ts), rtol=EXACT_TOL.get(solver, 1e-8))


@pytest.mark.parametrize("solver", SOLVERS)
def test_oscillator_exact(solver, oscillator_model, jax_engine):
    ts = np.linspace(0.0, 5.0, 11)
    sol = ps.solve(oscillator_model, {"x": 1.0, "v": 0.0}, ts, solver=solver, rtol=1e-10, atol=1e-12)
    assert sol.ok
    tol = EXACT_TOL.get(solver, 1e-8)
    np.testing.assert_allclose(sol["x"], np.cos(2.0 * ts), atol=tol)
    np.testing.assert_allclose(sol["v"], -2.0 * np.sin(2.0 * ts), atol=2 * tol)


@pytest.mark.parametrize("solver", SOLVERS)
def test_linear_system_exact(solver, linear_model, jax_engine):
    A = linear_model.param_specs["A"].default
    u0 = np.array([1.0, -0.5, 2.0])
    ts = np.array([0.0, 0.5, 1.7, 4.0])
    sol = ps.solve(linear_model, u0, ts, solver=solver, rtol=1e-10, atol=1e-12)
    exact = np.stack([scipy.linalg.expm(A * t) @ u0 for t in ts])
    np.testing.assert_allclose(sol.u, exact, atol=EXACT_TOL.get(solver, 1e-8))


# -- convergence orders with fixed steps ------------------------------------------------------
def _cos_growth():
    def f(u, p, t, m):
        return p.c * m.cos(t) * u

    model = ps.ODEModel(f, ["y"], {"c": 1.0})
    return model, [1.0], 3.0, np.array([np.exp(np.sin(3.0))])


def _duffing():
    def f(u, p, t, m):
        x, v = u
        return [v, -x - p.b * x**3 + p.a * m.cos(1.3 * t)]

    model = ps.ODEModel(f, ["x", "v"], {"a": 0.3, "b": 0.5})
    ref = solve_ivp(lambda t, y: [y[1], -y[0] - 0.5 * y[0] ** 3 + 0.3 * np.cos(1.3 * t)], (0, 4.0),
                    [1.0, 0.0], method="DOP853", rtol=2.3e-14, atol=1e-15).y[:, -1]
    return model, [1.0, 0.0], 4.0, ref


def _forced_logistic():
    def f(u, p, t, m):
        return u * (1 - u) + p.a * m.sin(2 * t)

    model = ps.ODEModel(f, ["y"], {"a": 0.5})
    ref = solve_ivp(lambda t, y: y * (1 - y) + 0.5 * np.sin(2 * t), (0, 3.0), [0.2],
                    method="DOP853", rtol=2.3e-14, atol=1e-15).y[:, -1]
    return model, [0.2], 3.0, ref


# solver -> (nominal order, problem, step sizes in the asymptotic range)
ORDER_CASES = {
    "tsit5": (5, _cos_growth, [0.3, 0.15, 0.075, 0.0375]),
    "dopri5": (5, _cos_growth, [0.3, 0.15, 0.075, 0.0375]),
    "dopri8": (8, _duffing, [0.5, 0.25, 0.125]),
    "kvaerno5": (5, _cos_growth, [0.3, 0.15, 0.075, 0.0375]),
    "kencarp4": (4, _forced_logistic, [0.3, 0.15, 0.075, 0.0375]),
    "rosenbrock23": (2, _forced_logistic, [0.1, 0.05, 0.025, 0.0125]),
    "rodas4": (4, _forced_logistic, [0.3, 0.15, 0.075, 0.0375]),
    "rodas5p": (5, _cos_growth, [0.3, 0.15, 0.075, 0.0375]),
}


@pytest.mark.parametrize("solver", sorted(ORDER_CASES))
def test_convergence_order(solver, jax_engine):
    order, problem, dts = ORDER_CASES[solver]
    model, u0, T, ref = problem()
    errors = []
    for dt in dts:
        sol = ps.solve(model, u0, (0.0, T), saveat=[T], solver=solver, adaptive=False, dt0=dt,
                       rtol=1e-13, atol=1e-13)
        assert sol.ok, sol.message
        errors.append(np.max(np.abs(sol.u[-1] - ref)))
    errors = np.array(errors)
    assert np.all(errors > 1e-13), "errors reached round-off; the study is not in the asymptotic range"
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.2, f"{solver}: measured order {slope:.3f}, nominal {order}"


# -- gradients --------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["tsit5", "kvaerno5", "rodas5p", "rosenbrock23"])
def test_gradient_matches_exact_linear_sensitivity(solver, linear_model, jax_engine):
    import jax
    import jax.numpy as jnp

    A = linear_model.param_specs["A"].default
    u0 = np.array([1.0, -0.5, 2.0])
    T = 1.3
    w = np.array([0.3, -1.0, 0.7])

    def objective(A_, u0_):
        sol = ps.solve(linear_model, u0_, (0.0, T), saveat=[T], params={"A": A_}, solver=solver,
                       rtol=1e-11, atol=1e-12)
        return jnp.dot(sol.u[-1], w)

    gA, gu0 = jax.grad(objective, argnums=(0, 1))(jnp.asarray(A), jnp.asarray(u0))
    # exact: d(w . expm(AT) u0)/dA via the Frechet derivative of expm
    expAT = scipy.linalg.expm(A * T)
    exact_gA = np.zeros_like(A)
    for i in range(3):
        for j in range(3):
            E = np.zeros_like(A)
            E[i, j] = T
            exact_gA[i, j] = w @ scipy.linalg.expm_frechet(A * T, E, compute_expm=False) @ u0
    tol = 1e-5 if solver == "rosenbrock23" else 1e-7
    np.testing.assert_allclose(gA, exact_gA, atol=tol)
    np.testing.assert_allclose(gu0, expAT.T @ w, atol=tol)


@pytest.mark.parametrize("solver", ["tsit5", "rodas5p"])
def test_gradient_matches_finite_differences(solver, jax_engine):
    import jax

    def lv(u, p, t, m):
        x, y = u
        return [p.a * x - p.b * x * y, p.c * x * y - p.d * y]

    model = ps.ODEModel(lv, ["x", "y"], {"a": 1.5, "b": 1.0, "c": 1.0, "d": 3.0})

    def objective(a, d):
        sol = ps.solve(model, [1.0, 1.0], (0.0, 2.0), saveat=[0.5, 1.0, 2.0], params={"a": a, "d": d},
                       solver=solver, rtol=1e-11, atol=1e-12)
        return (sol.u**2).sum()

    ga, gd = jax.grad(objective, argnums=(0, 1))(1.5, 3.0)
    h = 1e-5
    fd_a = (objective(1.5 + h, 3.0) - objective(1.5 - h, 3.0)) / (2 * h)
    fd_d = (objective(1.5, 3.0 + h) - objective(1.5, 3.0 - h)) / (2 * h)
    np.testing.assert_allclose([ga, gd], [fd_a, fd_d], rtol=1e-5)


@pytest.mark.parametrize("solver", ["tsit5", "rodas5p"])
def test_sensitivity_helper_exact(solver, linear_model, jax_engine):
    A = linear_model.param_specs["A"].default
    u0 = np.array([1.0, -0.5, 2.0])
    ts = np.array([0.0, 0.7, 2.0])
    out = ps.sensitivity(linear_model, u0, ts, wrt=("u0", "A"), solver=solver)
    assert isinstance(out["u"], np.ndarray) and out["status"] is ps.Status.SUCCESS
    for i, t in enumerate(ts):
        np.testing.assert_allclose(out["u0"][i], scipy.linalg.expm(A * t), atol=1e-7)
    # d u_j(T) / d A_kl  =  [L(A T, T E_kl) u0]_j
    T = ts[-1]
    for k in range(3):
        for l in range(3):
            E = np.zeros((3, 3))
            E[k, l] = T
            exact = scipy.linalg.expm_frechet(A * T, E, compute_expm=False) @ u0
            np.testing.assert_allclose(out["params"]["A"][-1, :, k, l], exact, atol=1e-7)


# -- vector-valued states -----------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["tsit5", "rodas5p"])
def test_vector_state_heat_equation(solver, jax_engine):
    n, D = 40, 0.05
    dx = 1.0 / (n + 1)
    L = (np.diag(-2.0 * np.ones(n)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)) / dx**2

    def heat(u, p, t, m):  # Dirichlet zero boundaries, written with array slicing
        padded = m.concatenate([m.zeros(1), u, m.zeros(1)])
        return p.D * (padded[2:] - 2 * padded[1:-1] + padded[:-2]) / p.dx**2

    model = ps.ODEModel(heat, states={"u": n}, params={"D": D, "dx": dx})
    x = np.linspace(dx, 1 - dx, n)
    u0 = np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x)
    sol = ps.solve(model, {"u": u0}, (0.0, 0.5), saveat=[0.1, 0.5], solver=solver, rtol=1e-10, atol=1e-12)
    exact = np.stack([scipy.linalg.expm(D * L * t) @ u0 for t in (0.1, 0.5)])
    assert sol["u"].shape == (2, n)
    np.testing.assert_allclose(sol["u"], exact, atol=1e-8)


def test_several_shaped_states_view(jax_engine):
    def f(u, p, t, m):
        a, b = u  # unpack the StateView
        return {"a": -p.k * a, "b": p.k * m.sum(a) * m.ones_like(b) - u.b}

    model = ps.ODEModel(f, states={"a": (2, 3), "b": 4}, params={"k": 0.5})
    u0 = {"a": np.arange(6.0).reshape(2, 3), "b": np.zeros(4)}
    sol = ps.solve(model, u0, (0.0, 1.0), saveat=[1.0], solver="tsit5", rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol["a"][-1], np.arange(6.0).reshape(2, 3) * np.exp(-0.5), rtol=1e-8)
    assert sol["b"].shape == (1, 4)


# -- failure statuses ------------------------------------------------------------------------------
def test_max_steps_status_and_raise(jax_engine):
    def rober(u, p, t, m):
        y1, y2, y3 = u
        return [-0.04 * y1 + 1e4 * y2 * y3, 0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2**2, 3e7 * y2**2]

    model = ps.ODEModel(rober, ["y1", "y2", "y3"])
    sol = ps.solve(model, [1.0, 0.0, 0.0], (0.0, 1e5), saveat=[1.0, 1e5], solver="tsit5", max_steps=500)
    assert sol.status is ps.Status.MAX_STEPS
    assert "Rodas5P" in sol.message and not sol.ok
    assert np.all(np.isnan(sol.u[-1]))
    with pytest.raises(SolverFailure) as info:
        ps.solve(model, [1.0, 0.0, 0.0], (0.0, 1e5), solver="tsit5", max_steps=500, raise_on_failure=True)
    assert info.value.solution.status is ps.Status.MAX_STEPS


@pytest.mark.parametrize("solver", ["tsit5", "rodas5p"])
def test_finite_time_blowup_reports_status(solver, jax_engine):
    def blowup(u, p, t, m):
        return u**2

    model = ps.ODEModel(blowup, ["y"])
    sol = ps.solve(model, [1.0], (0.0, 2.0), saveat=[0.5, 2.0], solver=solver, max_steps=20_000)
    assert not sol.ok
    assert sol.status in (ps.Status.STEP_SIZE_UNDERFLOW, ps.Status.NONFINITE, ps.Status.MAX_STEPS)
    np.testing.assert_allclose(sol.u[0, 0], 2.0, rtol=1e-4)  # y = 1/(1-t) before the blow-up
    assert sol.message.startswith(sol.status.name)
