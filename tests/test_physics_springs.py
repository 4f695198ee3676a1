"""Mass-spring-damper networks: exact oscillators, equilibria, energy, gradients, identification, UDE use."""

import numpy as np
import pytest

import pysciml as ps

jax = pytest.importorskip("jax")
jnp = jax.numpy
phys = pytest.importorskip("pysciml.physics")


def test_single_spring_is_the_exact_harmonic_oscillator():
    net = phys.SpringNetwork([[0, 0], [1.0, 0]], [[0, 1]], k=4.0, masses=[1.0, 1.0], anchors=[0])
    t = np.linspace(0, 5, 21)
    sol = ps.solve(net.model(), net.state([[0, 0], [1.2, 0]]), (0, 5), saveat=t, solver=ps.Tsit5(), rtol=1e-12,
                   atol=1e-12)
    q, v = net.unpack(np.asarray(sol.u))
    np.testing.assert_allclose(q[:, 1, 0], 1 + 0.2 * np.cos(2 * t), atol=1e-10)  # omega = sqrt(k / m) = 2
    np.testing.assert_allclose(v[:, 1, 0], -0.4 * np.sin(2 * t), atol=1e-10)
    assert np.all(q[:, 0] == 0) and np.all(q[:, 1, 1] == 0)  # the anchor never moves; no sideways motion


def test_damped_hanging_mass_settles_at_mg_over_k_in_3d():
    k, mass, g = 50.0, 0.3, 9.81
    net = phys.SpringNetwork([[0, 0, 0], [0, 0, -1.0]], [[0, 1]], k=k, masses=mass, damping=2.0, anchors=[0],
                             gravity=g)
    sol = ps.solve(net.model(), net.state(), (0, 40), saveat=[40.0], solver=ps.Tsit5(), rtol=1e-10, atol=1e-12)
    q, _ = net.unpack(np.asarray(sol.u))
    np.testing.assert_allclose(q[-1, 1], [0.0, 0.0, -1.0 - mass * g / k], atol=1e-9)


def _cloth(damping=0.0):
    return phys.SpringNetwork.grid(4, 4, 0.25, k=80.0, masses=0.05, anchors=[0, 3], gravity=9.81, damping=damping)


def test_undamped_cloth_conserves_energy_and_damping_dissipates_it():
    cloth = _cloth()
    t = np.linspace(0, 10.0, 101)

    def energy_error(dt):
        sol = ps.solve(cloth.model(), cloth.state(), (0, t[-1]), saveat=t, solver=ps.Yoshida4(dt=dt))
        energy = cloth.energy(np.asarray(sol.u))
        q = cloth.unpack(np.asarray(sol.u))[0]
        scale = cloth.masses.sum() * 9.81 * np.ptp(q[..., 2])  # the potential energy released by the fall
        return np.abs(energy - energy[0]) / scale, scale

    err, scale = energy_error(1e-3)  # 10,000 steps
    assert err.max() < 1e-5, err.max()  # a symplectic method: bounded error ...
    assert err[50:].max() < 3 * err[:51].max()  # ... that does not drift
    coarse, _ = energy_error(2e-3)
    assert coarse.max() / err.max() > 10  # ... and shrinks at the method's order (2^4 = 16)
    damped = _cloth(damping=0.2)
    sol = ps.solve(damped.model(), damped.state(), (0, t[-1]), saveat=t, solver=ps.Tsit5(), rtol=1e-9, atol=1e-11)
    e = damped.energy(np.asarray(sol.u))
    assert np.all(np.diff(e) <= 1e-9 * scale) and e[-1] < e[0] - 0.1 * scale  # negative control: energy lost


def test_gradient_with_respect_to_stiffness_matches_finite_differences():
    rope = phys.SpringNetwork.chain(4, 0.5, horizontal=False, k=[30.0, 60.0, 90.0], anchors=[0], gravity=9.81,
                                    masses=0.2)
    u0 = rope.state(rope.positions + np.array([[0, 0], [0.1, 0], [0.15, 0], [0.2, 0]]))
    model = rope.model()

    def tip_x(k):
        sol = ps.solve(model, u0, (0, 1.0), saveat=[1.0], params={"k": k}, solver=ps.Tsit5(), rtol=1e-12,
                       atol=1e-12)
        return rope.unpack(sol.u)[0][-1, -1, 0]

    k = jnp.array([30.0, 60.0, 90.0])
    g = np.asarray(jax.grad(tip_x)(k))
    h = 1e-4
    fd = [(float(tip_x(k.at[i].add(h))) - float(tip_x(k.at[i].add(-h)))) / (2 * h) for i in range(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_spring_constants_recovered_within_one_percent_from_noisy_positions():
    from scipy.optimize import least_squares

    truth = np.array([30.0, 60.0, 90.0])
    rope = phys.SpringNetwork.chain(4, 0.5, horizontal=False, k=truth, anchors=[0], gravity=9.81, masses=0.2)
    u0 = rope.state(rope.positions + np.array([[0, 0], [0.1, 0], [0.15, 0], [0.2, 0]]))
    t = np.linspace(0, 2, 81)
    model = rope.model()

    def positions(log_k):
        sol = ps.solve(model, u0, (0, 2), saveat=t, params={"k": jnp.exp(log_k)}, solver=ps.Tsit5(), rtol=1e-10,
                       atol=1e-10)
        return rope.unpack(sol.u)[0]

    noisy = np.asarray(positions(jnp.log(truth))) + 1e-3 * np.random.default_rng(0).normal(size=(t.size, 4, 2))
    residual = jax.jit(lambda lk: (positions(lk) - noisy).ravel())
    jacobian = jax.jit(jax.jacrev(lambda lk: (positions(lk) - noisy).ravel()))
    fit = least_squares(lambda x: np.asarray(residual(x)), np.log([50.0, 50.0, 50.0]),
                        jac=lambda x: np.asarray(jacobian(x)))
    assert fit.success
    np.testing.assert_allclose(np.exp(fit.x), truth, rtol=0.01)
    # negative control: the starting guess is far outside the 1 % band
    assert np.max(np.abs(50.0 / truth - 1)) > 0.01


def test_network_physics_inside_a_ude_and_xarray_results():
    rope = phys.SpringNetwork.chain(3, 1.0, k=10.0, anchors=[0], gravity=9.81)
    free = np.array([[0.0], [1.0], [1.0]])  # node 0 is anchored
    drag = ps.MLP(2, 2, width=4, depth=1)

    def physics(u, p, t, m):  # the springs plus a learned force on every node
        a = rope.acceleration(u["q"], u["v"], p, m)
        return {"q": u["v"], "v": a + m.stack([p.drag(vi) for vi in u["v"]]) * free}

    ude = ps.UDE(physics, states={"q": (3, 2), "v": (3, 2)}, params=rope.params(), networks={"drag": drag})
    u0 = rope.state(velocities=[[0, 0], [0.3, 0.1], [0.2, -0.1]])
    theta = ude.init_networks()
    w = theta["drag"]
    expected = rope.model().rhs_numpy(u0) + np.concatenate(
        [np.zeros(6), (np.stack([drag.apply_numpy(w, v) for v in u0[6:].reshape(3, 2)]) * [[0], [1], [1]]).ravel()]
    )
    np.testing.assert_allclose(ude.rhs_numpy(u0), expected, rtol=1e-12, atol=1e-12)
    sol = ps.solve(ude, u0, (0, 1), saveat=np.linspace(0, 1, 5), solver=ps.Tsit5())
    assert sol.ok
    ds = rope.to_xarray(ps.solve(rope.model(), u0, (0, 1), saveat=np.linspace(0, 1, 5), solver=ps.Tsit5(),
                                 rtol=1e-11, atol=1e-11))
    assert ds["position"].dims == ("time", "node", "component") and ds["position"].shape == (5, 3, 2)
    assert ds["energy"].dims == ("time",) and ds.attrs["anchors"] == [0]
    np.testing.assert_allclose(ds["energy"].values, ds["energy"].values[0], rtol=1e-8)
