"""NavierStokes2D: exact Taylor–Green decay, measured temporal order, energy and enstrophy budgets,
gradients against finite differences, the 4D-Var inverse problem, passive tracers, jax-cfd agreement."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from pysciml import physics as phys  # noqa: E402
from pysciml.errors import InputError  # noqa: E402
from pysciml.physics.fluids import energy, enstrophy, palinstrophy, taylor_green  # noqa: E402

L = 2 * np.pi


def smooth_field(n, seed=0, kcut=4.0, amp=3.0, length=L):
    """A random zero-mean vorticity with a Gaussian spectrum (resolved on an n x n grid)."""
    rng = np.random.default_rng(seed)
    w_hat = np.fft.rfft2(rng.standard_normal((n, n)))
    ky = np.fft.fftfreq(n, 1 / n)[:, None]
    kx = np.fft.rfftfreq(n, 1 / n)[None, :]
    w_hat *= np.exp(-(kx**2 + ky**2) / kcut**2)
    w_hat[0, 0] = 0
    w = np.fft.irfft2(w_hat, s=(n, n))
    return amp * w / np.abs(w).max()


@pytest.mark.parametrize("viscosity,length", [(1e-3, L), (0.1, L), (0.02, 3.0)])
def test_taylor_green_decays_as_exact_solution(viscosity, length):
    flow = phys.NavierStokes2D(n=32, length=length, viscosity=viscosity)
    t = np.linspace(0.0, 5.0, 6)
    w = np.asarray(flow.trajectory(taylor_green(32, length), t, dt=0.01))
    for k, tk in enumerate(t):
        exact = taylor_green(32, length, t=tk, viscosity=viscosity)
        assert np.abs(w[k] - exact).max() / np.abs(exact).max() < 1e-10


def test_temporal_order_is_four_on_a_nonlinear_flow():
    flow = phys.NavierStokes2D(n=32, viscosity=1e-2)
    w0 = smooth_field(32)
    t = np.array([0.0, 1.0])
    ref = np.asarray(flow.trajectory(w0, t, dt=1 / 256)[-1])
    errs = [np.abs(np.asarray(flow.trajectory(w0, t, dt=dt)[-1]) - ref).max() for dt in (1 / 16, 1 / 32, 1 / 64)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all((orders > 3.7) & (orders < 4.4)), (errs, orders)


def _velocity(flow, w):
    g = flow.grid
    uh, vh = g.velocity_hat(g.to_spectral(jnp.asarray(w)))
    return np.asarray(g.to_physical(uh)), np.asarray(g.to_physical(vh))


@pytest.mark.parametrize("forced", [False, True])
def test_energy_and_enstrophy_budgets_close(forced):
    """dE/dt = -2 nu Z - 2 mu E + <u.f>  and (unforced, undamped) dZ/dt = -2 nu P, from the run itself."""
    nu, mu = 1e-2, (0.1 if forced else 0.0)
    forcing = phys.Kolmogorov(k=2, amplitude=0.5) if forced else None
    flow = phys.NavierStokes2D(n=32, viscosity=nu, drag=mu, forcing=forcing)
    w0 = smooth_field(32, kcut=3.0)
    h = 2e-3
    t = np.arange(0, 41) * h
    w = np.asarray(flow.trajectory(w0, t, dt=h))
    E, Z, P = (np.asarray(f(w)) for f in (energy, enstrophy, palinstrophy))
    dE = (E[2:] - E[:-2]) / (2 * h)  # central differences: O(h^2) ~ 1e-6 relative
    mid = slice(1, -1)
    work = np.zeros_like(E)
    if forced:
        y = flow.grid.coords[:, None]
        work = np.array([np.mean(_velocity(flow, wk)[0] * 0.5 * np.sin(2 * y)) for wk in w])
    expected = -2 * nu * Z[mid] - 2 * mu * E[mid] + work[mid]
    assert np.abs(dE - expected).max() / np.abs(expected).max() < 1e-5
    if not forced:
        dZ = (Z[2:] - Z[:-2]) / (2 * h)
        assert np.abs(dZ + 2 * nu * P[mid]).max() / np.abs(2 * nu * P[mid]).max() < 1e-4
    # negative control: the budget with a wrong viscosity fails by far more than the tolerance
    wrong = -2 * 1.1 * nu * Z[mid] - 2 * mu * E[mid] + work[mid]
    assert np.abs(dE - wrong).max() / np.abs(expected).max() > 1e-2


def _fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_gradients_match_finite_differences():
    n = 16
    w0 = smooth_field(n, kcut=2.5, amp=2.0)
    t = np.linspace(0.0, 0.5, 3)
    base = phys.NavierStokes2D(n=n, viscosity=2e-2, drag=0.05, forcing=phys.Kolmogorov(k=2, amplitude=0.3))
    target = jnp.asarray(smooth_field(n, seed=3))

    def loss(flow, w_init):
        w = flow.trajectory(w_init, t, dt=0.05)
        return jnp.mean((w[1:] - target) ** 2)

    cases = {
        "viscosity": lambda p: loss(base.replace(viscosity=p), w0),
        "drag": lambda p: loss(base.replace(drag=p), w0),
        "forcing": lambda p: loss(base.replace(forcing=phys.Kolmogorov(k=2, amplitude=p)), w0),
    }
    for name, f in cases.items():
        p0 = {"viscosity": 2e-2, "drag": 0.05, "forcing": 0.3}[name]
        ad = float(jax.grad(f)(p0))
        fd = float(_fd(f, p0, 1e-6))
        assert abs(ad - fd) <= 1e-6 * abs(fd) + 1e-12, (name, ad, fd)
    # the initial field, along a random zero-mean direction
    direction = jnp.asarray(smooth_field(n, seed=7, amp=1.0))
    g = jax.grad(lambda w: loss(base, w))(jnp.asarray(w0))
    ad = float(jnp.vdot(g, direction))
    fd = float(_fd(lambda s: loss(base, jnp.asarray(w0) + s * direction), 0.0, 1e-5))
    assert abs(ad - fd) <= 1e-6 * abs(fd), (ad, fd)


def test_inverse_problem_recovers_viscosity_and_initial_vorticity():
    """4D-Var: sparse noisy observations of the later flow -> viscosity and the (smooth) initial field."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    n = 32
    rng = np.random.default_rng(1)
    x = np.arange(n) * L / n
    X, Y = np.meshgrid(x, x, indexing="xy")
    modes = [(a, b) for a in range(-3, 4) for b in range(-3, 4) if (a, b) > (0, 0) and a * a + b * b <= 9]
    basis = np.array([f(a * X + b * Y) for a, b in modes for f in (np.cos, np.sin)])
    coef_true = rng.standard_normal(len(basis))
    w0_true = np.tensordot(coef_true, basis, 1)
    nu_true = 0.03
    t = np.linspace(0.0, 1.0, 5)
    flow = phys.NavierStokes2D(n=n, viscosity=nu_true, dt=0.04)
    w_true = np.asarray(flow.trajectory(w0_true, t))
    iy, ix = np.unravel_index(rng.choice(n * n, 48, replace=False), (n, n))  # 48 of 1024 points
    clean = w_true[2:, iy, ix]  # at t = 0.5, 0.75, 1
    sigma = 0.02 * clean.std()
    obs = clean + sigma * rng.standard_normal(clean.shape)
    B = jnp.asarray(basis)

    def misfit(theta):
        w = flow.replace(viscosity=jnp.exp(theta[0])).trajectory(jnp.tensordot(theta[1:], B, 1), t)
        return 0.5 * jnp.mean((w[2:, iy, ix] - obs) ** 2) / sigma**2

    value_and_grad = jax.jit(jax.value_and_grad(misfit))
    theta0 = np.concatenate([[np.log(0.01)], np.zeros(len(basis))])  # nu 3x off, w0 = 0
    res = scipy_optimize.minimize(
        lambda th: [np.asarray(a, float) for a in value_and_grad(jnp.asarray(th))],
        theta0, jac=True, method="L-BFGS-B", options={"maxiter": 300},
    )  # fmt: skip
    nu = float(np.exp(res.x[0]))
    w0 = np.tensordot(res.x[1:], basis, 1)
    assert abs(nu - nu_true) / nu_true < 0.03
    assert np.linalg.norm(w0 - w0_true) / np.linalg.norm(w0_true) < 0.03
    assert res.fun < 1.0  # the misfit is at the noise level (0.5 per observation)


def test_tracer_with_equal_diffusivity_follows_the_vorticity_exactly():
    """An unforced, undamped vorticity obeys the tracer equation with kappa = nu: a tracer started
    equal to the vorticity stays equal to it; a constant tracer stays constant."""
    flow = phys.NavierStokes2D(n=32, viscosity=1e-2, tracer_diffusivity=1e-2)
    w0 = smooth_field(32)
    ds = flow.simulate(w0, np.linspace(0, 1, 3), tracers=np.stack([w0, np.full_like(w0, 2.5)]), dt=0.02)
    assert ds.tracer.dims == ("time", "tracer", "y", "x")
    np.testing.assert_allclose(ds.tracer.isel(tracer=0), ds.vorticity, atol=1e-12)
    np.testing.assert_allclose(ds.tracer.isel(tracer=1), 2.5, atol=1e-12)


def test_simulate_returns_xarray_with_units():
    flow = phys.NavierStokes2D(n=16, viscosity=1e-2, forcing=phys.Kolmogorov(k=4))
    da = flow.simulate(taylor_green(16), np.linspace(0, 1, 3))
    assert da.dims == ("time", "y", "x") and da.attrs["units"] == "s-1"
    assert da.time.attrs["units"] == "s" and da.x.attrs["units"] == "m"
    assert da.attrs["viscosity"] == 1e-2
    assert da.attrs["forcing"] == "Kolmogorov(k=4, amplitude=1)"


def test_forcing_the_grid_would_cut_is_refused():
    """The forcing goes through the 2/3 mask: k = 4 vanishes on 12 points (negative control: it
    acts on 14), so 12 points are refused with the grid size that works."""
    flow = phys.NavierStokes2D(n=14, viscosity=1e-2, forcing=phys.Kolmogorov(k=4))
    w0, t = taylor_green(14), np.linspace(0, 0.5, 2)
    forced = flow.trajectory(w0, t, dt=0.05)[-1]
    free = flow.replace(forcing=None).trajectory(w0, t, dt=0.05)[-1]
    assert float(jnp.max(jnp.abs(forced - free))) > 0.1
    with pytest.raises(InputError, match=r"n >= 14") as err:
        phys.NavierStokes2D(n=12, forcing=phys.Kolmogorov(k=4))
    assert err.value.argument == "forcing"


def test_gradient_with_respect_to_tracer_diffusivity_matches_finite_differences():
    n = 16
    flow = phys.NavierStokes2D(n=n, viscosity=2e-2)
    w0, c0 = smooth_field(n, kcut=2.5, amp=2.0), smooth_field(n, seed=5)
    t = np.linspace(0.0, 0.5, 3)

    def loss(kappa):
        _, c = flow.replace(tracer_diffusivity=kappa).trajectory(w0, t, tracers=c0, dt=0.05)
        return jnp.mean(c[-1] ** 2)

    ad, fd = float(jax.grad(loss)(3e-2)), float(_fd(loss, 3e-2, 1e-6))
    assert abs(ad - fd) <= 1e-6 * abs(fd), (ad, fd)
    assert ad < 0  # diffusion smooths the tracer: more of it, less variance


@pytest.mark.parametrize(
    "kwargs,argument",
    [({"n": 33}, "n"), ({"n": 4}, "n"), ({"viscosity": -1e-3}, "viscosity"), ({"drag": -0.1}, "drag"),
     ({"tracer_diffusivity": -1.0}, "tracer_diffusivity"), ({"forcing": "kolmogorov"}, "forcing")],
)  # fmt: skip
def test_bad_parameters_are_refused(kwargs, argument):
    with pytest.raises(InputError, match=argument):
        phys.NavierStokes2D(**kwargs)


def test_bad_fields_and_times_are_refused():
    flow = phys.NavierStokes2D(n=16)
    w0 = taylor_green(16)
    with pytest.raises(InputError, match="w0"):
        flow.trajectory(w0 + 1.0, [0, 1])  # nonzero circulation
    with pytest.raises(InputError, match="w0"):
        flow.trajectory(w0[:8], [0, 1])
    with pytest.raises(InputError, match="t"):
        flow.trajectory(w0, [0, 1, 3])  # uneven
    with pytest.raises(InputError, match="k"):
        phys.Kolmogorov(k=2.5)


def test_step_above_the_cfl_limit_warns_with_the_largest_stable_step():
    flow = phys.NavierStokes2D(n=32, viscosity=1e-3)
    w0 = smooth_field(32, amp=20.0)
    limit = flow.largest_stable_step(w0)
    with pytest.warns(RuntimeWarning, match=f"largest stable step {limit:.4g}"):
        flow.trajectory(w0, [0.0, 2 * limit], dt=2 * limit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow.trajectory(w0, [0.0, limit], dt=0.9 * limit)


def test_agrees_with_jax_cfd_spectral_solver():
    """Same forced problem in jax-cfd's CN-RK4 spectral solver (arrays [x, y] there, Kolmogorov forcing
    at grid nodes).  At n=64 the flow is resolved (the two codes' 2/3 masks differ by one mode row, which
    matters at n=32: 6e-4), and the codes agree to 4e-7, independent of jax-cfd's step."""
    pytest.importorskip("jax_cfd", reason="jax-cfd is the peer spectral solver (pip install jax-cfd)")
    from jax_cfd.base import forcings, grids
    from jax_cfd.spectral import equations, time_stepping

    n, nu, mu, T = 64, 1e-2, 0.1, 1.0
    x = np.arange(n) * L / n
    X, Y = np.meshgrid(x, x, indexing="xy")
    w0 = np.sin(2 * X) * np.cos(Y) + 0.5 * np.cos(3 * X + Y) + 0.3 * np.sin(X - 2 * Y)
    ours = phys.NavierStokes2D(n=n, viscosity=nu, drag=mu, forcing=phys.Kolmogorov(k=4, amplitude=1.0))
    w_ours = np.asarray(ours.trajectory(w0, [0.0, T], dt=5e-3)[-1])

    grid = grids.Grid((n, n), domain=((0, L), (0, L)))
    eq = equations.NavierStokes2D(
        viscosity=nu, grid=grid, drag=mu, smooth=True,
        forcing_fn=lambda g: forcings.kolmogorov_forcing(g, scale=1.0, k=4, offsets=((0, 0), (0, 0))),
    )  # fmt: skip
    dt = 5e-3
    step = time_stepping.crank_nicolson_rk4(eq, dt)
    wh = jax.lax.fori_loop(0, int(round(T / dt)), lambda i, w: step(w), jnp.fft.rfftn(jnp.asarray(w0.T)))
    w_cfd = np.asarray(jnp.fft.irfftn(wh, s=(n, n))).T
    rel = np.abs(w_ours - w_cfd).max() / np.abs(w_ours).max()
    assert rel < 2e-6, rel
    # negative control: a 10% different viscosity is far outside that agreement
    w_off = np.asarray(ours.replace(viscosity=1.1 * nu).trajectory(w0, [0.0, T], dt=5e-3)[-1])
    assert np.abs(w_off - w_cfd).max() / np.abs(w_ours).max() > 10 * rel
