"""The jax grid operators: agreement with numpy, jit, vmap, gradients, bad input."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import pysciml.grid as G  # noqa: E402
from pysciml.engines.jax import gridops as J  # noqa: E402
from pysciml.errors import InputError  # noqa: E402

R = G.EARTH_RADIUS


def sphere(n_lat, **kw):
    lat = -90 + (np.arange(n_lat) + 0.5) * 180 / n_lat
    lon = (np.arange(2 * n_lat) + 0.5) * 180 / n_lat
    return G.LatLonGrid(lat=lat, lon=lon, **kw)


def grids():
    rng = np.random.default_rng(0)
    return [
        G.RegularGrid((12, 17), spacing=(0.3, 0.2), periodic=(True, False), boundary="dirichlet",
                      boundary_value=(0.0, 1.5), mask=rng.random((12, 17)) > 0.2),
        G.RegularGrid((10, 10), extent=1.0, periodic=True),
        sphere(16, mask=rng.random((16, 32)) > 0.25),
        G.LatLonGrid(lat=np.linspace(75, -75, 11), lon=np.arange(200, 100, -5.0), boundary="dirichlet",
                     boundary_value=4.0),
    ]


IDS = ["regular-dirichlet-mask", "regular-periodic", "sphere-mask", "regional-descending"]


def close(a, b, rel=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() <= rel * max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("grid", grids(), ids=IDS)
def test_jax_matches_numpy_for_every_operator(grid):
    rng = np.random.default_rng(1)
    f, u, v = (rng.standard_normal(grid.shape) for _ in range(3))
    scale = R if isinstance(grid, G.LatLonGrid) else 1.0
    f[~grid.active] = np.nan  # masked inputs are ignored by both
    assert close(J.laplacian(f, grid), G.laplacian_numpy(f, grid))
    for scheme in ("upwind", "centered"):
        assert close(J.advect(f, (u * scale, v), grid, scheme), G.advect_numpy(f, (u * scale, v), grid, scheme))
    for a, b in zip(J.gradient(f, grid), G.gradient_numpy(f, grid)):
        assert close(a, b)
    assert close(J.divergence((u, v), grid), G.divergence_numpy((u, v), grid))
    assert close(J.mean(f, grid), grid.mean(f))
    assert J.laplacian(f, grid).dtype == jnp.float64


@pytest.mark.parametrize("grid", grids(), ids=IDS)
def test_jit_and_vmap(grid):
    rng = np.random.default_rng(2)
    batch = rng.standard_normal((5,) + grid.shape)
    vel = (rng.standard_normal(grid.shape), rng.standard_normal(grid.shape))
    lap = jax.jit(lambda f: J.laplacian(f, grid))
    adv = jax.jit(jax.vmap(lambda f: J.advect(f, vel, grid, "upwind")))
    grad = jax.vmap(lambda f: J.gradient(f, grid))
    div = jax.jit(jax.vmap(lambda fy, fx: J.divergence((fy, fx), grid)))
    expect = G.laplacian_numpy(batch, grid)  # leading batch axes work in numpy too
    assert close(jax.vmap(lap)(batch), expect)
    assert close(lap(batch), expect)
    for k in range(5):
        assert close(adv(batch)[k], G.advect_numpy(batch[k], vel, grid))
        assert close(grad(batch)[1][k], G.gradient_numpy(batch[k], grid)[1])
    assert close(div(batch, 2 * batch)[3], G.divergence_numpy((batch[3], 2 * batch[3]), grid))
    # jit with the grid as a static argument (grids hash by identity)
    static = jax.jit(J.laplacian, static_argnums=1)
    assert close(static(batch[0], grid), expect[0])


@pytest.mark.parametrize("grid", grids(), ids=IDS)
def test_gradients_match_finite_differences(grid):
    rng = np.random.default_rng(3)
    f0 = rng.standard_normal(grid.shape)
    w = rng.standard_normal(grid.shape)
    vel = (rng.standard_normal(grid.shape), rng.standard_normal(grid.shape))
    s = float(np.abs(G.laplacian_numpy(f0, grid)).max())

    def J_lap(f):
        return jnp.sum(w * jnp.tanh(J.laplacian(f, grid) / s))

    def J_adv(vx):
        return jnp.sum(w * jnp.sin(J.advect(f0, (vx, vel[1]), grid, "centered")))

    for fun, x0 in ((jax.jit(J_lap), f0), (jax.jit(J_adv), vel[0])):
        g = np.asarray(jax.grad(fun)(jnp.asarray(x0)))
        for _ in range(3):
            d = rng.standard_normal(grid.shape)
            eps = 1e-6
            fd = (fun(x0 + eps * d) - fun(x0 - eps * d)) / (2 * eps)
            assert abs(float(fd) - np.sum(g * d)) <= 1e-7 * np.sum(np.abs(g * d))
    # the Laplacian is linear: its Jacobian is exactly the sparse matrix
    A, b = G.laplacian_matrix(grid)
    jac = jax.jacfwd(lambda f: J.laplacian(f.reshape(grid.shape), grid).ravel())(jnp.zeros(grid.size))
    assert close(jac, A.toarray())
    if grid.mask is not None:
        assert np.all(np.asarray(jac)[:, ~grid.active.ravel()] == 0)  # masked cells have no influence


def test_no_nan_gradient_from_masked_nans():
    mask = np.ones((6, 8), bool)
    mask[2:4, 3:5] = False
    g = G.RegularGrid((6, 8), spacing=1.0, mask=mask)
    f = np.random.default_rng(4).standard_normal(g.shape)
    f[~mask] = np.nan
    grad = jax.grad(lambda f: jnp.sum(J.laplacian(f, g) ** 2))(jnp.asarray(f))
    assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad)[~mask] == 0)


def test_jax_bad_input_names_the_argument():
    g = G.RegularGrid((3, 4), spacing=1.0)
    for argument, call in (
        ("f", lambda: J.laplacian(jnp.zeros((4, 3)), g)),
        ("grid", lambda: J.laplacian(jnp.zeros((3, 4)), None)),
        ("velocity", lambda: J.advect(jnp.zeros((3, 4)), (1.0,), g)),
        ("scheme", lambda: J.advect(jnp.zeros((3, 4)), (1.0, 1.0), g, scheme="lax")),
        ("vector", lambda: J.divergence(jnp.zeros((3, 4)), g)),
    ):
        with pytest.raises(InputError) as e:
            call()
        assert e.value.argument == argument


def test_energy_balance_model_runs_under_jit():
    # the example: a diffusive energy-balance model with a land mask, integrated by RK4
    g = sphere(18, mask=np.random.default_rng(5).random((18, 36)) > 0.3)
    phi = np.deg2rad(g.lat)[:, None] * np.ones(g.shape)
    forcing = 100 * np.cos(phi)

    def ebm(T):
        return (forcing - 2.0 * T + 1e11 * J.laplacian(T, g)) / 1e8

    @jax.jit
    def run(T):
        def step(T, _):
            dt = 1e6
            k1 = ebm(T)
            k2 = ebm(T + dt / 2 * k1)
            k3 = ebm(T + dt / 2 * k2)
            k4 = ebm(T + dt * k3)
            return T + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None
        return jax.lax.scan(step, T, None, length=200)[0]

    T = np.asarray(run(jnp.zeros(g.shape)))
    # the Laplacian integrates to 0 over the active cells, so their area-weighted mean obeys
    # the scalar RK4 recursion of dM/dt = (mean(forcing) - 2 M) / C exactly
    z = -2.0 * 1e6 / 1e8
    amp = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    target = g.mean(forcing) / 2
    assert abs(g.mean(T) - target * (1 - amp**200)) < 1e-12 * abs(target)
    assert np.all(np.isfinite(T))
