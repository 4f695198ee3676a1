"""Advection, gradient and divergence: convergence orders, conservation, masks, orientation."""

import numpy as np
import pytest

import pysciml.grid as G

R = G.EARTH_RADIUS


def order(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def close(a, b, rel=1e-13):
    """Equal to round-off relative to the largest entry."""
    return np.abs(np.asarray(a) - b).max() <= rel * np.abs(b).max()


def sphere(n_lat, **kw):
    lat = -90 + (np.arange(n_lat) + 0.5) * 180 / n_lat
    lon = (np.arange(2 * n_lat) + 0.5) * 180 / n_lat
    return G.LatLonGrid(lat=lat, lon=lon, **kw)


def mesh(g):
    return np.meshgrid(np.deg2rad(g.lat), np.deg2rad(g.lon), indexing="ij")


def rk4(rhs, f, t1, dt):
    """Classical RK4 with a fixed step (time error far below the spatial error here)."""
    n = int(np.ceil(t1 / dt))
    dt = t1 / n
    for _ in range(n):
        k1 = rhs(f)
        k2 = rhs(f + 0.5 * dt * k1)
        k3 = rhs(f + 0.5 * dt * k2)
        k4 = rhs(f + dt * k3)
        f = f + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return f


EXPECTED = {"upwind": 1.0, "centered": 2.0}


@pytest.mark.parametrize("scheme", list(EXPECTED))
def test_uniform_flow_periodic_converges_at_scheme_order(scheme):
    U, V, T = 1.0, -0.5, 0.25

    def f0(y, x):
        return np.sin(2 * np.pi * x) * np.cos(2 * np.pi * y) + 0.5 * np.cos(2 * np.pi * (x + y))

    hs, errs = [], []
    for n in (32, 64, 128):
        g = G.RegularGrid((n, n), extent=1.0, periodic=True)
        y, x = np.meshgrid(g.y, g.x, indexing="ij")
        f = rk4(lambda f: G.advect_numpy(f, (U, V), g, scheme), f0(y, x), T, 0.2 / n)
        hs.append(1 / n)
        errs.append(np.sqrt(g.mean((f - f0(y - V * T, x - U * T)) ** 2)))
    assert abs(order(hs, errs) - EXPECTED[scheme]) < 0.2, errs


@pytest.mark.parametrize("scheme", list(EXPECTED))
def test_solid_body_rotation_on_sphere_converges(scheme):
    U0 = 40.0  # m/s at the equator; u = U0 cos(lat), v = 0; exact: f(lon - U0 t / R, lat)
    T = 0.1 * 2 * np.pi * R / U0

    def f0(p, q):
        return np.cos(p) ** 2 * np.cos(q) + np.sin(p) * np.cos(p) * np.sin(2 * q)

    hs, errs = [], []
    for n in (18, 36, 72):
        g = sphere(n)
        p, q = mesh(g)
        dt = 0.3 * R * np.deg2rad(180 / n) / U0
        f = rk4(lambda f: G.advect_numpy(f, (U0 * np.cos(p), 0.0), g, scheme), f0(p, q), T, dt)
        hs.append(1 / n)
        errs.append(np.sqrt(g.mean((f - f0(p, q - U0 / R * T)) ** 2)))
    assert abs(order(hs, errs) - EXPECTED[scheme]) < 0.2, errs


@pytest.mark.parametrize("scheme", list(EXPECTED))
def test_rotating_blob_in_closed_box_converges(scheme):
    # solid-body rotation about the box centre, walls closed; the blob stays far from walls
    om, T = 2 * np.pi, 0.0625  # a sixteenth of a turn (short-time test)

    def blob(y, x):
        return np.exp(-((x - 0.75) ** 2 + (y - 0.5) ** 2) / (2 * 0.07**2))

    hs, errs = [], []
    for n in (50, 100, 200):
        g = G.RegularGrid((n, n), extent=1.0)
        y, x = np.meshgrid(g.y, g.x, indexing="ij")
        u, v = -om * (y - 0.5), om * (x - 0.5)
        f = rk4(lambda f: G.advect_numpy(f, (u, v), g, scheme), blob(y, x), T, 0.25 / n / (om * 0.71))
        c, s = np.cos(om * T), np.sin(om * T)
        xe = 0.5 + c * (x - 0.5) + s * (y - 0.5)
        ye = 0.5 - s * (x - 0.5) + c * (y - 0.5)
        hs.append(1 / n)
        errs.append(np.sqrt(g.mean((f - blob(ye, xe)) ** 2)))
    assert abs(order(hs, errs) - EXPECTED[scheme]) < 0.2, (errs, order(hs, errs))


def _tilted_rotation(g, alpha=np.pi / 3, omega=1e-5):
    """Rotation about an axis tilted by alpha from the pole (flow crosses the polar rows)."""
    p, q = mesh(g)
    r = np.stack([np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)])
    vel = R * np.cross(omega * np.array([np.sin(alpha), 0, np.cos(alpha)]), r, axis=0)
    e_lon = np.stack([-np.sin(q), np.cos(q), 0 * q])
    e_lat = np.stack([-np.sin(p) * np.cos(q), -np.sin(p) * np.sin(q), np.cos(p)])
    x, y, z = r
    f = x * z + y**2 + 0.5 * x
    grad3 = np.stack([z + 0.5, 2 * y, x])
    return p, f, ((vel * e_lon).sum(0), (vel * e_lat).sum(0)), -(vel * grad3).sum(0) / R


@pytest.mark.parametrize("scheme", list(EXPECTED))
def test_tilted_rotation_tendency_orders(scheme):
    hs, e_l2, e_in = [], [], []
    for n in (18, 36, 72, 144):
        g = sphere(n)
        p, f, vel, exact = _tilted_rotation(g)
        err = G.advect_numpy(f, vel, g, scheme) - exact
        s = np.abs(exact).max()
        hs.append(1 / n)
        e_l2.append(np.sqrt(g.mean(err**2)) / s)
        e_in.append(np.abs(err[np.abs(p) < np.deg2rad(60)]).max() / s)
    assert abs(order(hs, e_in) - EXPECTED[scheme]) < 0.2, e_in
    assert abs(order(hs, e_l2) - EXPECTED[scheme]) < 0.2, e_l2


def _random_setups(seed):
    rng = np.random.default_rng(seed)
    for g in (G.RegularGrid((16, 24), spacing=(0.3, 0.2), mask=rng.random((16, 24)) > 0.3),
              G.RegularGrid((16, 24), spacing=(0.3, 0.2), periodic=(True, False)),
              sphere(20, mask=rng.random((20, 40)) > 0.3),
              G.LatLonGrid(lat=np.linspace(60, -60, 13), lon=np.arange(0, 90, 5.0),
                           mask=rng.random((13, 18)) > 0.2)):
        yield g, rng.standard_normal(g.shape), (rng.standard_normal(g.shape), rng.standard_normal(g.shape))


@pytest.mark.parametrize("scheme", list(EXPECTED))
def test_advection_conserves_total_with_no_flux_or_periodic_ends(scheme):
    for g, f, vel in _random_setups(0):
        a = g.area * G.advect_numpy(f + 3, vel, g, scheme)
        assert abs(a.sum()) <= 1e-13 * np.abs(a).sum()
        d = g.area * G.divergence_numpy(vel, g)
        assert abs(d.sum()) <= 1e-13 * np.abs(d).sum()


def test_masked_cells_never_affect_advection_gradient_divergence():
    for g, f, (u, v) in _random_setups(1):
        if g.mask is None:
            continue
        bad = ~g.active
        f2, u2, v2 = f.copy(), u.copy(), v.copy()
        f2[bad], u2[bad], v2[bad] = np.nan, 1e9, np.nan
        for scheme in EXPECTED:
            a = G.advect_numpy(f, (u, v), g, scheme)
            b = G.advect_numpy(f2, (u2, v2), g, scheme)
            assert np.array_equal(a, b) and np.all(b[bad] == 0)
        for a, b in zip(G.gradient_numpy(f, g), G.gradient_numpy(f2, g)):
            assert np.array_equal(a, b) and np.all(b[bad] == 0)
        assert np.array_equal(G.divergence_numpy((v, u), g), G.divergence_numpy((v2, u2), g))


def test_constant_tracer_in_divergence_free_flow_stays_constant():
    # upwind and centred: d/dt of a constant = -c div(v); zero for a discretely divergence-free flow
    n = 32
    g = G.RegularGrid((n, n), extent=1.0, periodic=True)
    y, x = np.meshgrid(g.y, g.x, indexing="ij")
    # stream function psi = sin(2 pi x) sin(2 pi y): velocities at centres are not exactly
    # discretely divergence-free, but uniform flow is: check that case exactly
    for scheme in EXPECTED:
        assert np.abs(G.advect_numpy(np.full(g.shape, 5.0), (0.7, -1.3), g, scheme)).max() < 1e-12


def test_gradient_and_divergence_orders_on_plane():
    hs, eg, ed = [], [], []
    for n in (16, 32, 64, 128):
        g = G.RegularGrid((n, n), extent=(1.0, 2.0), periodic=True)
        y, x = np.meshgrid(g.y, g.x, indexing="ij")
        f = np.sin(2 * np.pi * y) * np.cos(np.pi * x)
        gy, gx = G.gradient_numpy(f, g)
        ey = 2 * np.pi * np.cos(2 * np.pi * y) * np.cos(np.pi * x)
        ex = -np.pi * np.sin(2 * np.pi * y) * np.sin(np.pi * x)
        div = G.divergence_numpy((ey, ex), g)
        hs.append(1 / n)
        eg.append(max(np.abs(gy - ey).max(), np.abs(gx - ex).max()))
        ed.append(np.abs(div + 5 * np.pi**2 * f).max())
    assert abs(order(hs, eg) - 2) < 0.2
    assert abs(order(hs, ed) - 2) < 0.2


def test_gradient_and_divergence_orders_on_sphere():
    hs, eg, eg_max, ed_in, ed_l2 = [], [], [], [], []
    for n in (18, 36, 72, 144):
        g = sphere(n)
        p, q = mesh(g)
        Y = np.sin(p) * np.cos(p) * np.cos(q)  # Y_2^1
        dy_ex, dx_ex = np.cos(2 * p) * np.cos(q) / R, -np.sin(p) * np.sin(q) / R
        gy, gx = G.gradient_numpy(Y, g)
        e = np.maximum(np.abs(gy - dy_ex), np.abs(gx - dx_ex)) * R
        div = G.divergence_numpy((dy_ex, dx_ex), g)
        d = np.abs(div + 6 / R**2 * Y) * R**2 / 6
        hs.append(1 / n)
        eg.append(np.sqrt(g.mean(e**2)))
        eg_max.append(e.max())  # includes the polar rows: the gradient looks across the pole
        ed_in.append(d[np.abs(p) < np.deg2rad(60)].max())
        ed_l2.append(np.sqrt(g.mean(d**2)))
    assert abs(order(hs, eg) - 2) < 0.2
    assert abs(order(hs, eg_max) - 2) < 0.2
    assert abs(order(hs, ed_in) - 2) < 0.2
    assert abs(order(hs, ed_l2) - 2) < 0.2


def test_descending_coordinates_give_the_same_physics():
    lat, lon = np.linspace(-80, 80, 17), np.arange(0, 360, 15.0)
    up = G.LatLonGrid(lat=lat, lon=lon)
    down = G.LatLonGrid(lat=lat[::-1], lon=lon[::-1])
    rng = np.random.default_rng(7)
    f, u, v = (rng.standard_normal(up.shape) for _ in range(3))
    flip = (slice(None, None, -1), slice(None, None, -1))
    assert close(G.laplacian_numpy(f[flip], down), G.laplacian_numpy(f, up)[flip])
    for scheme in EXPECTED:
        a = G.advect_numpy(f[flip], (u[flip], v[flip]), down, scheme)
        assert close(a, G.advect_numpy(f, (u, v), up, scheme)[flip])
    for a, b in zip(G.gradient_numpy(f[flip], down), G.gradient_numpy(f, up)):
        assert close(a, b[flip])
    assert close(G.divergence_numpy((v[flip], u[flip]), down), G.divergence_numpy((v, u), up)[flip])
    # physical sign: northward derivative of sin(lat) is cos(lat) / R > 0 in both orders
    p = np.deg2rad(down.lat)[:, None] + 0 * down.lon
    gy, gx = G.gradient_numpy(np.sin(p), down)
    assert np.all(gy > 0) and np.abs(gx).max() == 0


def test_upwind_takes_the_upstream_value():
    g = G.RegularGrid((1, 6), spacing=1.0, periodic=True)
    f = np.array([[0, 0, 1.0, 0, 0, 0]])
    # eastward flow: the pulse leaves cell 2 and enters cell 3 only
    assert np.array_equal(G.advect_numpy(f, (2.0, 0.0), g, "upwind"), [[0, 0, -2.0, 2.0, 0, 0]])
    assert np.array_equal(G.advect_numpy(f, (-2.0, 0.0), g, "upwind"), [[0, 2.0, -2.0, 0, 0, 0]])
    # centred: half the pulse on each of its faces; cell 1 loses, cell 3 gains
    assert np.array_equal(G.advect_numpy(f, (2.0, 0.0), g, "centered"), [[0, -1.0, 0, 1.0, 0, 0]])


def test_dirichlet_inflow_uses_boundary_value():
    g = G.RegularGrid((1, 4), spacing=1.0, boundary="dirichlet", boundary_value=(0.0, 3.0))
    f = np.zeros((1, 4))
    t = G.advect_numpy(f, (1.0, 0.0), g, "upwind")  # inflow through the western face carries 3
    assert np.array_equal(t, [[3.0, 0, 0, 0]])
    t = G.advect_numpy(f, (-1.0, 0.0), g, "upwind")  # inflow through the eastern face
    assert np.array_equal(t, [[0, 0, 0, 3.0]])
