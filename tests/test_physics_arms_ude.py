"""An unmodelled joint friction learned by a UDE on a robot arm and read back as an equation (issue 14 item 6).

The truth: a one-rod arm (1 kg, 1 m, pivot at one end, gravity 9.81) swinging with a joint friction
``tau_f(v) = -0.4 v - 0.05 v^3`` that the known physics (``SerialArm.forward_dynamics`` without
friction) lacks.  A network of the joint speed stands in for it; after fitting, the learned torque
must match the true one along the data, and sparse regression on a cubic library must keep exactly
the ``v`` and ``v^3`` terms with the true coefficients.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import pysciml as ps
from pysciml import physics as phys

C1, C3 = 0.4, 0.05


def friction(v):
    return -C1 * v - C3 * v**3


ARM = phys.SerialArm.planar(lengths=[1.0], masses=[1.0])


def known_physics(u, p, t, m):
    """The arm without friction plus a network of the joint speed."""
    q, v = u[0], u[1]
    tau = p.nn(jnp.reshape(v, (1,)))
    qdd = ARM.forward_dynamics(jnp.reshape(q, (1,)), jnp.reshape(v, (1,)), jnp.reshape(tau, (1,)))
    return [v, qdd[0]]


def frictionless(u, p, t, m):
    q, v = u[0], u[1]
    return [v, ARM.forward_dynamics(jnp.reshape(q, (1,)), jnp.reshape(v, (1,)), jnp.zeros(1))[0]]


@pytest.fixture(scope="module")
def data():
    truth = ARM.model(torque=lambda t, q, v: friction(v))
    t = np.linspace(0.0, 6.0, 121)
    u0 = ARM.state([-np.pi / 2 + 2.2])  # released 2.2 rad from hanging: speeds up to about 5 rad/s
    sol = ps.solve(truth, u0, (0.0, 6.0), saveat=t, rtol=1e-10, atol=1e-10)
    assert sol.ok
    rng = np.random.default_rng(0)
    y = np.asarray(sol.u) + 0.005 * rng.standard_normal(np.shape(sol.u))  # 5 mrad, 5 mrad/s noise
    return t, y, np.asarray(sol.u), u0


@pytest.fixture(scope="module")
def fitted(data):
    t, y, _, _ = data
    model = ps.UDE(known_physics, states=["q", "v"], params={},
                   networks={"nn": ps.MLP(1, 1, width=16, depth=2, activation="tanh", inputs=("v",))})  # fmt: skip
    model.fit((t, y), strategy=ps.Collocation(steps=1000), optimizers=[ps.LBFGS(steps=400)], seed=0, verbose=0)
    return model


def test_the_learned_torque_is_the_hidden_friction(data, fitted):
    assert fitted.status_.name == "SUCCESS"
    X, Y = fitted.network_samples("nn")
    v = X[:, 0]
    assert v.min() < -3.0 and v.max() > 1.0  # the data cover speeds on both sides
    err = np.sqrt(np.mean((Y[:, 0] - friction(v)) ** 2)) / np.sqrt(np.mean(friction(v) ** 2))
    assert err < 0.05, f"learned torque off by {err:.3%} RMS"
    # the fitted UDE follows the exact trajectory; a model without the term cannot (negative control)
    t, y, exact, u0 = data
    ude = np.stack([fitted.predict(t)[s].values for s in ("q", "v")], axis=1)
    bare = ps.solve(ps.ODEModel(frictionless, states=["q", "v"], params={}), u0, (0, t[-1]), saveat=t)
    miss_ude = np.sqrt(np.mean((ude - exact) ** 2))
    miss_bare = np.sqrt(np.mean((np.asarray(bare.u) - exact) ** 2))
    assert miss_bare > 20 * miss_ude, (miss_ude, miss_bare)


def test_discovery_finds_linear_and_cubic_friction(fitted):
    eqs = fitted.discover("nn", library=ps.Polynomial(degree=3), threshold=0.05)
    terms = dict((f.name, c) for f, c in eqs.terms(0))
    assert sorted(terms) == ["v", "v^3"], str(eqs)
    assert terms["v"] == pytest.approx(-C1, rel=0.05)
    assert terms["v^3"] == pytest.approx(-C3, rel=0.10)
