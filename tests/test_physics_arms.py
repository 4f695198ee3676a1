"""Serial robot arms: exact pendulums, energy, pinocchio agreement (values and derivatives), URDF, fits."""


import numpy as np
import pytest
from helpers.arm_urdf import robots_folder, write_urdf

import pysciml as ps
from pysciml.errors import InputError

jax = pytest.importorskip("jax")
jnp = jax.numpy
phys = pytest.importorskip("pysciml.physics")
SerialArm = phys.SerialArm


def _pinocchio():
    return pytest.importorskip("pinocchio", reason="pinocchio (PyPI `pin`, the bench extra, ~350 MB) not installed")


def _general_arm(**kw) -> SerialArm:
    """Three joints, revolute-prismatic-revolute, tilted axes and frames, full inertias."""
    rng = np.random.default_rng(3)
    axes = rng.normal(size=(3, 3))
    rotations = np.stack([np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(3)])
    rotations *= np.sign(np.linalg.det(rotations))[:, None, None]  # proper rotations
    inertias = []
    for _ in range(3):
        a = rng.normal(size=(3, 3))
        inertias.append(0.05 * (a @ a.T) + 0.01 * np.eye(3))
    return SerialArm(["revolute", "prismatic", "revolute"], axes, rng.normal(scale=0.3, size=(3, 3)),
                     [2.0, 1.2, 0.6], rng.normal(scale=0.1, size=(3, 3)), np.array(inertias), rotations=rotations,
                     gravity=(0.3, -0.5, -9.81), **kw)


def _to_pinocchio(arm: SerialArm):
    pin = _pinocchio()
    model = pin.Model()
    parent = 0
    for i in range(arm.n):
        kind = pin.JointModelRevoluteUnaligned if arm.kinds[i] == "revolute" else pin.JointModelPrismaticUnaligned
        parent = model.addJoint(parent, kind(*arm.axes[i]), pin.SE3(arm.rotations[i], arm.origins[i]), arm.names[i])
        model.appendBodyToJoint(parent, pin.Inertia(arm.masses[i], arm.coms[i], arm.inertias[i]), pin.SE3.Identity())
    model.gravity.linear = arm.gravity
    return model


def _panda():
    """The Panda's 7-joint arm (fingers welded at zero) and pinocchio's model of the same."""
    pin = _pinocchio()
    path = str(robots_folder() / "panda_description/urdf/panda.urdf")
    arm = SerialArm.from_urdf(path, tip="panda_hand", damping=0.0)  # pinocchio's aba has no joint damping
    full = pin.buildModelFromUrdf(path)
    fingers = [full.getJointId(n) for n in ("panda_finger_joint1", "panda_finger_joint2")]
    return arm, pin.buildReducedModel(full, fingers, pin.neutral(full))


def _symmetric(upper):
    return np.triu(upper) + np.triu(upper, 1).T


def _rel(a, b):
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


def test_single_rod_pendulum_has_the_textbook_dynamics():
    m, ell, g = 2.0, 0.8, 9.81
    arm = SerialArm.planar(lengths=[ell], masses=[m], gravity=g)
    for q, v in [(0.3, 0.0), (-1.2, 2.0)]:
        np.testing.assert_allclose(arm.mass_matrix(jnp.array([q])), [[m * ell**2 / 3]], rtol=1e-14)
        # gravity torque m g (l/2) cos q (angle from +x, gravity -y); no velocity product for one joint
        np.testing.assert_allclose(arm.bias(jnp.array([q]), jnp.array([v])), [m * g * ell / 2 * np.cos(q)],
                                   rtol=1e-14)
    # small swings about the hanging pose: period 2 pi sqrt(2 l / (3 g))
    omega = np.sqrt(3 * g / (2 * ell))
    t = np.linspace(0, 2, 41)
    sol = ps.solve(arm.model(), arm.state([-np.pi / 2 + 1e-4]), (0, 2), saveat=t, solver=ps.Tsit5(), rtol=1e-12,
                   atol=1e-14)
    q = np.asarray(sol.u)[:, 0]
    np.testing.assert_allclose(q + np.pi / 2, 1e-4 * np.cos(omega * t), atol=1e-11)


def test_energy_is_conserved_without_damping_and_lost_with_it():
    t = np.linspace(0, 3, 31)

    def energies(**kw):
        arm = SerialArm.planar(lengths=[1.0, 0.7, 0.5], masses=[2.0, 1.5, 0.7], **kw)
        sol = ps.solve(arm.model(), arm.state([0.3, -0.5, 1.0], [0.0, 1.0, -2.0]), (0, 3), saveat=t,
                       solver=ps.Tsit5(), rtol=1e-11, atol=1e-11)
        ds = arm.to_xarray(sol)
        return ds["energy"].values, ds

    e, ds = energies()
    scale = np.ptp(ds["body_origin"].values[..., 1]) * 9.81 * 4.2
    assert np.abs(e - e[0]).max() < 1e-8 * scale
    damped, _ = energies(damping=0.2, friction=0.05)
    assert np.all(np.diff(damped) < 1e-9 * scale) and damped[-1] < damped[0] - 0.05 * scale  # negative control
    assert ds["position"].dims == ("time", "joint") and ds["position"].attrs["units"] == "rad"
    assert ds["time"].attrs["units"] == "s" and list(ds["joint"].values) == ["joint0", "joint1", "joint2"]
    # the tip of the first rod is where the second joint sits
    q = ds["position"].values
    np.testing.assert_allclose(ds["body_origin"].values[:, 1, 0], np.cos(q[:, 0]), atol=1e-12)


def test_inverse_and_forward_dynamics_are_inverse_with_damping_and_friction():
    arm = _general_arm(damping=[0.1, 0.2, 0.3], friction=[0.5, 0.0, 0.2], armature=[0.01, 0.0, 0.02])
    q, v, a = np.random.default_rng(1).normal(size=(3, 3))
    tau = arm.inverse_dynamics(q, v, a)
    np.testing.assert_allclose(arm.forward_dynamics(q, v, tau), a, rtol=1e-12, atol=1e-12)
    m_matrix = np.asarray(arm.mass_matrix(q))
    np.testing.assert_allclose(m_matrix @ a + arm.bias(q, v) - arm.passive_torque(v), tau, rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(m_matrix) > 0)
    # batched: vmap over states equals one state at a time, under jit
    states = np.random.default_rng(2).normal(size=(5, 3, 3))
    batched = jax.jit(jax.vmap(arm.forward_dynamics))(states[:, 0], states[:, 1], states[:, 2])
    for k in range(5):
        np.testing.assert_allclose(batched[k], arm.forward_dynamics(*states[k]), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("which", ["planar2", "general3", "panda7"])
def test_mass_matrix_bias_and_dynamics_agree_with_pinocchio(which):
    pin = _pinocchio()
    if which == "panda7":
        arm, model = _panda()
    else:
        arm = SerialArm.planar(lengths=[1.0, 0.6], masses=[1.5, 0.8]) if which == "planar2" else _general_arm()
        model = _to_pinocchio(arm)
    data = model.createData()
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(5):
        q, v, a, tau = rng.normal(size=(4, arm.n))
        worst = max(
            worst,
            _rel(arm.mass_matrix(q), _symmetric(pin.crba(model, data, q))),
            _rel(arm.bias(q, v), pin.nonLinearEffects(model, data, q, v)),
            _rel(arm.inverse_dynamics(q, v, a), pin.rnea(model, data, q, v, a)),
            _rel(arm.forward_dynamics(q, v, tau), pin.aba(model, data, q, v, tau)),
        )
    assert worst < 1e-10, worst  # measured: at most 2.3e-15 over 20 states of each arm
    # negative control: a 1 % heavier last body is seen
    heavier = {"masses": arm.masses * np.r_[np.ones(arm.n - 1), 1.01]}
    assert _rel(arm.mass_matrix(q, params=heavier), _symmetric(pin.crba(model, data, q))) > 1e-4


@pytest.mark.parametrize("which", ["general3", "panda7"])
def test_derivatives_agree_with_pinocchio_and_finite_differences(which):
    pin = _pinocchio()
    arm, model = _panda() if which == "panda7" else (_general_arm(), _to_pinocchio(_general_arm()))
    data = model.createData()
    q, v, a, tau = np.random.default_rng(11).normal(size=(4, arm.n))
    d_aba = jax.jit(jax.jacfwd(arm.forward_dynamics, argnums=(0, 1, 2)))(q, v, tau)
    pin.computeABADerivatives(model, data, q, v, tau)
    minv = _symmetric(data.Minv)
    by_identity = jax.jit(arm.forward_dynamics_derivatives)(q, v, tau)
    for ours, identity, theirs in zip(d_aba, by_identity, (data.ddq_dq, data.ddq_dv, minv)):
        assert _rel(ours, theirs) < 1e-10, _rel(ours, theirs)
        assert _rel(identity, theirs) < 1e-10, _rel(identity, theirs)
    d_rnea = jax.jit(jax.jacfwd(arm.inverse_dynamics, argnums=(0, 1)))(q, v, a)
    pin.computeRNEADerivatives(model, data, q, v, a)
    for ours, theirs in zip(d_rnea, (data.dtau_dq, data.dtau_dv)):
        assert _rel(ours, theirs) < 1e-10, _rel(ours, theirs)
    # reverse mode agrees with forward mode, and a central difference agrees with both
    rev = jax.jit(jax.jacrev(arm.forward_dynamics))(q, v, tau)
    np.testing.assert_allclose(rev, d_aba[0], rtol=1e-11, atol=1e-11 * np.abs(d_aba[0]).max())
    h, fwd = 1e-6, jax.jit(jax.vmap(arm.forward_dynamics, in_axes=(0, None, None)))
    steps = h * np.eye(arm.n)
    fd = (np.asarray(fwd(q + steps, v, tau)) - np.asarray(fwd(q - steps, v, tau))).T / (2 * h)
    assert _rel(fd, d_aba[0]) < 1e-7


def test_gradient_with_respect_to_masses_matches_finite_differences():
    arm = _general_arm(damping=0.1)
    q, v, tau = np.random.default_rng(5).normal(size=(3, 3))

    def f(masses):
        return jnp.sum(arm.forward_dynamics(q, v, tau, params={"masses": masses}) ** 2)

    g = jax.grad(f)(jnp.asarray(arm.masses))
    h = 1e-6
    fd = [(f(arm.masses + h * e) - f(arm.masses - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-7)


def test_urdf_panda_and_ur5_load_as_serial_chains():
    pin = _pinocchio()
    root = robots_folder()
    with pytest.raises(InputError, match="panda_finger_joint1") as err:
        SerialArm.from_urdf(root / "panda_description/urdf/panda.urdf")  # the fingers branch
    assert err.value.argument == "path"
    panda = SerialArm.from_urdf(root / "panda_description/urdf/panda.urdf", tip="panda_hand")
    assert panda.n == 7 and panda.names[0] == "panda_joint1"
    np.testing.assert_allclose(panda.damping, 0.003)  # <dynamics damping="0.003"/>
    np.testing.assert_allclose(panda.lower[3], -3.0718)
    path = str(root / "ur_description/urdf/ur5_robot.urdf")
    ur5 = SerialArm.from_urdf(path)
    model = pin.buildModelFromUrdf(path)
    data = model.createData()
    assert ur5.n == model.nv == 6
    q, v, tau = np.random.default_rng(0).normal(size=(3, 6))
    assert _rel(ur5.forward_dynamics(q, v, tau), pin.aba(model, data, q, v, tau)) < 1e-10
    assert _rel(ur5.mass_matrix(q), _symmetric(pin.crba(model, data, q))) < 1e-10


def test_urdf_welds_fixed_links_and_reads_prismatic_joints(tmp_path):
    pytest.importorskip("yourdfpy", reason="yourdfpy (the robots extra) reads URDF files")
    path = write_urdf(tmp_path, ["base", "a", "b", "tool"],
                      [("j1", "revolute", "base", "a"), ("j2", "prismatic", "a", "b"), ("fix", "fixed", "b", "tool")])
    arm = SerialArm.from_urdf(path)
    assert arm.kinds == ("revolute", "prismatic") and arm.names == ("j1", "j2")
    # body 2 = link b (com 0.1 along x) + tool welded 0.2 further (com at 0.3): 2 kg, com at 0.2
    np.testing.assert_allclose(arm.masses, [1.0, 2.0])
    np.testing.assert_allclose(arm.coms[1], [0.2, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(arm.inertias[1], np.diag([0.02, 0.04 + 2 * 0.01, 0.04 + 2 * 0.01]), atol=1e-15)
    np.testing.assert_allclose([arm.lower, arm.upper], [[-1, -1], [1, 1]])
    for joints, named in [([("j1", "revolute", "base", "a"), ("j2", "planar", "a", "b")], "j2"),
                          ([("j1", "revolute", "base", "a"), ("j2", "revolute", "a", "b"),
                            ("j3", "revolute", "base", "b")], "j3")]:
        with pytest.raises(InputError, match=named):
            SerialArm.from_urdf(write_urdf(tmp_path, ["base", "a", "b"], joints))


def test_joint_limit_policy_raise_clip_and_spring():
    arm = SerialArm.planar(lengths=[1.0], masses=[1.0], lower=-0.5, upper=0.5)
    with pytest.raises(InputError, match="joint0"):
        arm.state([1.0])
    np.testing.assert_allclose(arm.state([1.0], on_limit="clip"), [0.5, 0.0])
    t = np.linspace(0, 2, 21)
    u0 = arm.state([0.4])
    free = np.asarray(ps.solve(arm.model(), u0, (0, 2), saveat=t, solver=ps.Tsit5()).u)[:, 0]
    held = np.asarray(ps.solve(arm.model(limit_stiffness=1e4, limit_damping=50.0), u0, (0, 2), saveat=t,
                               solver=ps.Tsit5()).u)[:, 0]
    assert free.min() < -1.0  # negative control: without the policy the rod swings through the limit
    assert held.min() > -0.5 - 0.01  # the one-sided spring holds it within 1 cm-rad of the limit


def _identification_setup():
    truth = np.array([2.0, 1.5, 1.0])
    arm = SerialArm.planar(lengths=[1.0, 0.8, 0.6], masses=truth, damping=0.05)

    def torque(t, q, v):  # a known excitation fixes the mass scale (gravity alone gives ratios only)
        return jnp.array([8.0 * jnp.sin(2.0 * t), 3.0 * jnp.sin(3.1 * t + 1.0), 1.0 * jnp.cos(4.3 * t)])

    return truth, arm, arm.model(torque=torque)


def test_link_masses_recovered_within_two_percent_from_noisy_joint_angles():
    from scipy.optimize import least_squares

    truth, arm, model = _identification_setup()
    t = np.linspace(0, 2, 81)
    u0 = arm.state([-1.2, 0.3, 0.2])

    def angles(log_m):
        sol = ps.solve(model, u0, (0, 2), saveat=t, params={"masses": jnp.exp(log_m)}, solver=ps.Tsit5(),
                       rtol=1e-9, atol=1e-9)
        return arm.unpack(sol.u)[0]

    noisy = np.asarray(angles(jnp.log(truth))) + 3e-3 * np.random.default_rng(0).normal(size=(t.size, 3))
    residual = jax.jit(lambda lm: (angles(lm) - noisy).ravel())
    jacobian = jax.jit(jax.jacrev(lambda lm: (angles(lm) - noisy).ravel()))
    start = np.log([1.0, 1.0, 1.0])
    fit = least_squares(lambda x: np.asarray(residual(x)), start, jac=lambda x: np.asarray(jacobian(x)))
    assert fit.success
    err = np.abs(np.exp(fit.x) / truth - 1)
    assert err.max() < 0.02, err  # measured: 0.54 %, 0.12 %, 0.06 % (noise 3e-3 rad)
    assert np.abs(np.exp(start) / truth - 1).max() > 0.02  # negative control: the start is outside the band


# -- trajectory optimisation: least effort between two poses, against a scipy shooting solution ------------------
_L, _M, _G = np.array([1.0, 0.8]), np.array([2.0, 1.2]), 9.81
_T, _K = 1.0, 4
_Q0, _QT = np.array([-1.2, 0.3]), np.array([-0.4, 0.9])
_KNOTS = np.linspace(0.0, _T, _K)


def _effort(x, xp=np):
    """The integral of |tau|^2 over [0, T] for torques linear between the knots (exact)."""
    tau = x.reshape(2, _K)
    a, b = tau[:, :-1], tau[:, 1:]
    return xp.sum((a * a + a * b + b * b) * (_T / (_K - 1)) / 3)


def _two_link_textbook(t, y, nodes):
    """The planar two-rod arm in closed form (angles from +x, gravity -y): independent of SerialArm."""
    (l1, l2), (m1, m2) = _L, _M
    c1, c2, i1, i2 = l1 / 2, l2 / 2, m1 * l1**2 / 12, m2 * l2**2 / 12
    q1, q2, v1, v2 = y
    h = m2 * l1 * c2
    m12 = i2 + m2 * c2**2 + h * np.cos(q2)
    mass = np.array([[i1 + i2 + m1 * c1**2 + m2 * (l1**2 + c2**2 + 2 * l1 * c2 * np.cos(q2)), m12],
                     [m12, i2 + m2 * c2**2]])
    coriolis = np.array([-h * np.sin(q2) * (2 * v1 * v2 + v2**2), h * np.sin(q2) * v1**2])
    gravity = np.array([(m1 * c1 + m2 * l1) * _G * np.cos(q1) + m2 * c2 * _G * np.cos(q1 + q2),
                        m2 * c2 * _G * np.cos(q1 + q2)])
    tau = np.array([np.interp(t, _KNOTS, nodes[0]), np.interp(t, _KNOTS, nodes[1])])
    return np.concatenate([[v1, v2], np.linalg.solve(mass, tau - coriolis - gravity)])


@pytest.mark.slow
def test_least_effort_torques_by_gradients_match_a_scipy_shooting_solution():
    from scipy.integrate import solve_ivp
    from scipy.optimize import minimize

    goal = np.r_[_QT, 0.0, 0.0]
    arm = SerialArm.planar(lengths=_L, masses=_M, gravity=_G)
    # the start: gravity compensation along the straight path, (joint, knot) flattened
    start = np.stack([np.asarray(arm.bias(_Q0 + (_QT - _Q0) * s, np.zeros(2))) for s in _KNOTS / _T], axis=1).ravel()

    # ours: gradients of the landing error through ps.solve (reverse mode), SLSQP
    model = arm.model(lambda t, q, v, p: jnp.stack([jnp.interp(t, _KNOTS, p.nodes[0]),
                                                    jnp.interp(t, _KNOTS, p.nodes[1])]),
                      torque_params={"nodes": np.zeros((2, _K))})

    def landing(x):
        sol = ps.solve(model, arm.state(_Q0), (0, _T), saveat=[_T], params={"nodes": x.reshape(2, _K)},
                       solver=ps.Tsit5(), rtol=1e-10, atol=1e-10)
        return sol.u[-1] - goal

    land, land_jac = jax.jit(landing), jax.jit(jax.jacrev(landing))
    effort_grad = jax.jit(jax.grad(lambda x: _effort(x, jnp)))
    ours = minimize(_effort, start, jac=lambda x: np.asarray(effort_grad(x)), method="SLSQP",
                    constraints={"type": "eq", "fun": lambda x: np.asarray(land(x)),
                                 "jac": lambda x: np.asarray(land_jac(x))}, options={"ftol": 1e-8, "maxiter": 100})

    # the reference: scipy's SLSQP with finite differences over solve_ivp of the textbook equations
    def landing_textbook(x):
        sol = solve_ivp(_two_link_textbook, (0, _T), np.r_[_Q0, 0, 0], args=(x.reshape(2, _K),), method="DOP853",
                        rtol=1e-10, atol=1e-10)
        return sol.y[:, -1] - goal

    def landing_textbook_jac(x, h=1e-6):  # central differences: scipy >= 1.17's SLSQP stopped on the
        # forward differences' noise ("rank-deficient equality constraint subproblem")
        cols = [(landing_textbook(x + h * e) - landing_textbook(x - h * e)) / (2 * h) for e in np.eye(x.size)]
        return np.stack(cols, axis=1)

    ref = minimize(_effort, start, method="SLSQP",
                   constraints={"type": "eq", "fun": landing_textbook, "jac": landing_textbook_jac},
                   options={"ftol": 1e-8, "maxiter": 100, "eps": 1e-6})
    assert ours.success and ref.success
    assert np.abs(landing_textbook(ours.x)).max() < 1e-3  # lands, checked in the independent simulator
    assert abs(ours.fun / ref.fun - 1) < 0.01, (ours.fun, ref.fun)  # measured: 3.3e-4
    assert np.abs(landing_textbook(start)).max() > 0.05  # negative control: the start does not land
