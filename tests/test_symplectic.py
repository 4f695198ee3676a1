"""Symplectic composition solvers (velocity Verlet, Yoshida 4/6/8) run by ps.solve.

Checks: measured convergence orders on a Kepler orbit (exact: periodic), bounded
energy error over 1e5 steps with a drifting non-symplectic negative control, time
reversibility to rounding, exact coefficients, gradients against finite
differences, and the input errors (no step, outputs off the step grid, odd state).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import InputError
from pysciml.solvers.symplectic import kick_drift_coefficients

ECC = 0.5
PERIOD = 2 * math.pi


def kepler(u, p, t, m):
    q, v = u["q"], u["v"]
    r3 = (q[0] ** 2 + q[1] ** 2) ** 1.5
    return {"q": v, "v": -p.mu * q / r3}


MODEL = ps.ODEModel(kepler, states={"q": 2, "v": 2}, params={"mu": 1.0})
U0 = np.array([1 - ECC, 0.0, 0.0, math.sqrt((1 + ECC) / (1 - ECC))])


def energy(u):
    u = np.atleast_2d(u)
    return 0.5 * (u[:, 2] ** 2 + u[:, 3] ** 2) - 1.0 / np.hypot(u[:, 0], u[:, 1])


def one_orbit_error(solver_cls, n):
    dt = PERIOD / n
    sol = ps.solve(MODEL, U0, (0.0, PERIOD), saveat=[PERIOD], solver=solver_cls(dt=dt))
    assert sol.ok
    return float(np.max(np.abs(np.asarray(sol.u)[-1] - U0)))


@pytest.mark.parametrize(
    "solver_cls, ns",
    [
        (ps.VelocityVerlet, (400, 800, 1600)),
        (ps.Yoshida4, (200, 400, 800)),
        (ps.Yoshida6, (200, 400, 800)),
        (ps.Yoshida8, (150, 300, 600)),
    ],
)
def test_measured_order(solver_cls, ns):
    errs = [one_orbit_error(solver_cls, n) for n in ns]
    orders = [math.log2(a / b) for a, b in zip(errs[:-1], errs[1:])]
    assert all(e > 1e-12 for e in errs), errs  # above rounding: the slopes are the method's
    for p in orders:
        assert abs(p - solver_cls.order) < 0.25, (solver_cls.__name__, errs, orders)


def test_coefficients_are_consistent():
    for cls in (ps.VelocityVerlet, ps.Yoshida4, ps.Yoshida6, ps.Yoshida8):
        d, c = kick_drift_coefficients(cls.weights)
        assert math.isclose(sum(c), 1.0, abs_tol=1e-14) and math.isclose(sum(d), 1.0, abs_tol=1e-14)
        assert np.allclose(c, c[::-1], atol=0, rtol=1e-15) and np.allclose(d, d[::-1], atol=0, rtol=1e-15)
    # Yoshida's 4th-order weights (Phys. Lett. A 150, 1990): w1 = 1/(2 - 2^(1/3))
    w1 = 1 / (2 - 2 ** (1 / 3))
    assert np.allclose(ps.Yoshida4.weights, (w1, 1 - 2 * w1, w1), rtol=1e-15)
    assert (ps.Yoshida4().stages, ps.Yoshida6().stages, ps.Yoshida8().stages) == (3, 9, 27)


def test_energy_bounded_over_1e5_steps_and_rk_drifts():
    n_per_orbit, orbits = 100, 1000  # 1e5 steps of Yoshida4
    dt = PERIOD / n_per_orbit
    t1 = orbits * PERIOD
    saveat = np.arange(1, 20 * orbits + 1) * (5 * dt)
    sol = ps.solve(MODEL, U0, (0.0, t1), saveat=saveat, solver=ps.Yoshida4(dt=dt))
    assert sol.ok and sol.stats["steps"] == 100_000
    dh = np.abs(energy(np.asarray(sol.u)) - energy(U0))
    first, last = dh[: len(dh) // 10].max(), dh[-len(dh) // 10 :].max()
    # measured: 1.566e-4 in both windows (agree to 1e-10): a bounded oscillation, no drift
    assert last < 1e-3 and last < 1.01 * first, (first, last)
    # negative control: a non-symplectic method of higher order at the same step drifts
    rk = ps.solve(MODEL, U0, (0.0, 200 * PERIOD), saveat=saveat[: len(saveat) // 5], solver=ps.Tsit5(),
                  adaptive=False, dt0=dt, max_steps=100_000)
    dh_rk = np.abs(energy(np.asarray(rk.u)) - energy(U0))
    f_rk, l_rk = dh_rk[: len(dh_rk) // 10].max(), dh_rk[-len(dh_rk) // 10 :].max()
    assert l_rk > 5 * f_rk, (f_rk, l_rk)


@pytest.mark.parametrize("solver_cls", [ps.VelocityVerlet, ps.Yoshida4, ps.Yoshida6])
def test_time_reversible_to_rounding(solver_cls):
    dt, n = PERIOD / 64, 640
    fwd = ps.solve(MODEL, U0, (0.0, n * dt), saveat=[n * dt], solver=solver_cls(dt=dt))
    back0 = np.asarray(fwd.u)[-1] * np.array([1, 1, -1, -1])
    back = ps.solve(MODEL, back0, (0.0, n * dt), saveat=[n * dt], solver=solver_cls(dt=dt))
    ret = np.asarray(back.u)[-1] * np.array([1, 1, -1, -1])
    assert np.max(np.abs(ret - U0)) < 1e-11
    # negative control: Tsit5 at the same fixed step does not come back
    f2 = ps.solve(MODEL, U0, (0.0, n * dt), saveat=[n * dt], solver=ps.Tsit5(), adaptive=False, dt0=dt)
    b2 = ps.solve(MODEL, np.asarray(f2.u)[-1] * np.array([1, 1, -1, -1]), (0.0, n * dt), saveat=[n * dt],
                  solver=ps.Tsit5(), adaptive=False, dt0=dt)
    assert np.max(np.abs(np.asarray(b2.u)[-1] * np.array([1, 1, -1, -1]) - U0)) > 1e-9


def test_gradient_matches_finite_differences():
    import jax

    def final_x(mu):
        sol = ps.solve(MODEL, U0, (0.0, 1.0), saveat=[0.5, 1.0], params={"mu": mu}, solver=ps.Yoshida4(dt=0.005))
        return sol.u[-1, 0]

    g = float(jax.grad(final_x)(1.0))
    h = 1e-6
    fd = (float(final_x(1.0 + h)) - float(final_x(1.0 - h))) / (2 * h)
    assert abs(g - fd) < 1e-7 * max(1.0, abs(fd))


def test_saves_on_the_step_grid_and_dt0():
    dt = 0.01
    sol = ps.solve(MODEL, U0, (0.0, 1.0), solver="yoshida4", dt0=dt)  # default 101 outputs, 1 step apart
    assert sol.ok and sol.stats["steps"] == 100 and sol.stats["solver"] == "Yoshida4"
    # unequal intervals give the same states as one uniform run
    ref = ps.solve(MODEL, U0, (0.0, 1.0), saveat=[0.1, 0.5, 1.0], solver=ps.Yoshida4(dt=dt))
    assert np.allclose(np.asarray(sol.u)[[10, 50, 100]], np.asarray(ref.u), rtol=0, atol=1e-13)


def test_input_errors():
    with pytest.raises(InputError, match="fixed-step") as e:
        ps.solve(MODEL, U0, (0.0, 1.0), solver=ps.Yoshida4())
    assert e.value.argument == "solver"
    with pytest.raises(InputError, match="grid") as e:
        ps.solve(MODEL, U0, (0.0, 1.0), saveat=[0.333], solver=ps.Yoshida4(dt=0.01))
    assert e.value.argument == "saveat"
    with pytest.raises(InputError) as e:
        ps.Yoshida4(dt=-1.0)
    assert e.value.argument == "dt"
    odd = ps.ODEModel(lambda u, p, t, m: [u[1], -u[0], 0.0 * u[2]], states=["a", "b", "c"])
    with pytest.raises(InputError, match="positions") as e:
        ps.solve(odd, [1.0, 0.0, 0.0], (0.0, 1.0), solver=ps.VelocityVerlet(dt=0.1))
    assert e.value.argument == "model"
