"""SDE solving (issue 17): GBM strong order, OU stationary moments, common-noise gradients, seeds, xarray."""

import numpy as np
import pytest

import pysciml as ps


def gbm(mu=1.0, sigma=0.5):
    return ps.SDEModel(
        lambda u, p, t, m: [p.mu * u[0]],
        lambda u, p, t, m: [p.sigma * u[0]],
        states=["x"],
        params={"mu": mu, "sigma": sigma},
    )


def test_gbm_strong_order_euler_and_milstein():
    """Strong error E|X_T^h - X_T| against the exact solution on the same Brownian tree."""
    model = gbm()
    n, tol = 400, 2.0**-10
    dts = [2.0**-3, 2.0**-4, 2.0**-5, 2.0**-6]
    # exact: the finest tree solve of the Brownian path is not needed: X_T = exp((mu - s^2/2) T + s W_T);
    # W_T is recovered from an Ito-Euler solve of dY = dW (a second model on the same tree and seed)
    w_model = ps.SDEModel(lambda u, p, t, m: [0.0 * u[0]], lambda u, p, t, m: [1.0 + 0.0 * u[0]], states=["w"])
    w = ps.solve(w_model, [0.0], (0, 1), saveat=[1.0], solver=ps.EulerMaruyama(), dt0=dts[0], seed=3,
                 n_paths=n, brownian=ps.BrownianTree(tol=tol))["w"][:, -1]
    exact = np.exp((1.0 - 0.125) + 0.5 * w)
    for solver, order in [(ps.EulerMaruyama(), 0.5), (ps.Milstein(), 1.0)]:
        errs = []
        for dt in dts:
            sol = ps.solve(model, [1.0], (0, 1), saveat=[1.0], solver=solver, dt0=dt, seed=3, n_paths=n,
                           brownian=ps.BrownianTree(tol=tol))
            errs.append(np.mean(np.abs(sol["x"][:, -1] - exact)))
        slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
        assert abs(slope - order) < 0.2, (solver.name, slope, errs)


def test_ou_stationary_moments_within_3_se():
    ou = ps.SDEModel(lambda u, p, t, m: [p.theta * (p.mu - u[0])], lambda u, p, t, m: [p.sigma], states=["x"],
                     params={"theta": 2.0, "mu": 1.0, "sigma": 0.5}, noise="additive")
    n = 4000
    sol = ps.solve(ou, [1.0], (0, 5), saveat=[5.0], solver=ps.ShARK(), dt0=0.05, seed=0, n_paths=n)
    x = sol["x"][:, -1]
    v = 0.25 / 4
    assert abs(x.mean() - 1.0) < 3 * np.sqrt(v / n)
    assert abs(x.var() - v) < 3 * v * np.sqrt(2 / (n - 1))


def test_pathwise_gradient_matches_fd_with_common_noise():
    import jax

    model = gbm()

    def loss(mu):
        sol = ps.solve(model, [1.0], (0, 1), saveat=[1.0], solver=ps.Milstein(), dt0=1 / 32, seed=1, n_paths=64,
                       params={"mu": mu})
        return (sol.u[:, -1, 0] ** 2).mean()

    g = float(jax.grad(loss)(1.0))
    eps = 1e-5
    fd = (float(loss(1.0 + eps)) - float(loss(1.0 - eps))) / (2 * eps)
    assert abs(g - fd) < 1e-6 * abs(fd)


def test_seeds_paths_and_xarray():
    model = gbm()
    a = ps.solve(model, [1.0], (0, 1), dt0=0.05, seed=7, n_paths=5)
    b = ps.solve(model, [1.0], (0, 1), dt0=0.05, seed=7, n_paths=8)
    c = ps.solve(model, [1.0], (0, 1), dt0=0.05, seed=8, n_paths=5)
    np.testing.assert_array_equal(a.u, b.u[:5])  # path i depends on the seed and i only
    assert not np.allclose(a.u, c.u)
    ds = a.to_xarray()
    assert ds["x"].dims == ("path", "time") and ds.sizes["path"] == 5
    assert ds.attrs["sde_calculus"] == "ito"


def test_bad_sde_inputs():
    model = gbm()
    with pytest.raises(ps.InputError, match="additive"):
        ps.solve(model, [1.0], (0, 1), solver=ps.ShARK(), dt0=0.1)
    with pytest.raises(ps.InputError, match="dt0"):
        ps.solve(model, [1.0], (0, 1), solver=ps.EulerMaruyama())
    with pytest.raises(ps.InputError, match="adaptive"):
        ps.solve(model, [1.0], (0, 1), solver=ps.EulerMaruyama(), dt0=0.1, adaptive=True)
    with pytest.raises(ps.InputError, match="n_paths"):
        ps.solve(model, [1.0], (0, 1), dt0=0.1, n_paths=0)
