"""Events in ps.solve: bouncing ball (exact bounce times, gradients vs finite differences), doses."""

import warnings

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import InputError

jax = pytest.importorskip("jax")
jnp = jax.numpy

G, E, H0 = 9.81, 0.9, 10.0


def _ball():
    model = ps.ODEModel(lambda u, p, t, m: [u[1], -p.g], states=["x", "v"], params={"g": G, "e": E})
    bounce = ps.Event(
        condition=lambda u, p, t, m: u[0],
        affect=lambda u, p, t, m: {"v": -p.e * u[1]},
        direction=-1,
        name="bounce",
    )
    return model, bounce


def _exact_bounces(h0, e, n):
    t = np.sqrt(2 * h0 / G)
    v, out = G * t, [t]
    for _ in range(n - 1):
        v *= e
        out.append(out[-1] + 2 * v / G)
    return np.array(out)


@pytest.mark.parametrize("solver", [ps.Tsit5(), ps.Rodas5P()], ids=lambda s: s.name)
def test_bounce_times_exact(solver):
    model, bounce = _ball()
    sol = ps.solve(model, [H0, 0.0], (0.0, 10.0), events=[bounce], solver=solver, rtol=1e-10, atol=1e-12)
    assert sol.ok
    tb = sol.events.times("bounce")
    assert len(tb) == 4  # exact bounces at 1.43, 4.00, 6.31, 8.39
    np.testing.assert_allclose(tb, _exact_bounces(H0, E, 4), rtol=0, atol=1e-10)


def test_gradient_of_bounce_time_matches_finite_differences():
    model, bounce = _ball()

    def t3(h, e):
        return ps.solve(
            model,
            jnp.stack([h, 0.0]),
            (0.0, 10.0),
            params={"e": e},
            events=[bounce],
            rtol=1e-10,
            atol=1e-12,
            solver=ps.Tsit5(),
        ).events.t[2]

    gh, ge = jax.grad(t3, argnums=(0, 1))(H0, E)
    eps = 1e-5
    fd_h = (float(t3(H0 + eps, E)) - float(t3(H0 - eps, E))) / (2 * eps)
    fd_e = (float(t3(H0, E + eps)) - float(t3(H0, E - eps))) / (2 * eps)
    np.testing.assert_allclose([gh, ge], [fd_h, fd_e], rtol=1e-6)
    # exact: t3 = sqrt(2h/g) (1 + 2e + 2e^2)
    np.testing.assert_allclose(gh, np.sqrt(2 / (G * H0)) / 2 * (1 + 2 * E + 2 * E**2), rtol=1e-7)


def test_dosing_time_and_state_events_and_gradient():
    model = ps.ODEModel(lambda u, p, t, m: [-p.k * u[0]], states=["x"], params={"k": 1.0})
    dose = ps.At([2.0, 4.0], affect=lambda u, p, t, m: {"x": u[0] + 1.0}, name="dose")
    sol = ps.solve(model, [1.0], (0, 6), saveat=[0, 2, 3, 4, 6], events=[dose], rtol=1e-10, atol=1e-12)
    x2 = np.exp(-2.0) + 1
    x4 = x2 * np.exp(-2.0) + 1
    np.testing.assert_allclose(sol.u[:, 0], [1, x2, x2 * np.exp(-1), x4, x4 * np.exp(-2)], rtol=1e-8)
    # threshold dose: x' = -k x, x += 1 when x crosses 0.5 downward; exact times ln2/k + j ln3/k
    refill = ps.Event(lambda u, p, t, m: u[0] - 0.5, lambda u, p, t, m: {"x": u[0] + 1.0}, direction=-1)

    def times(k):
        return ps.solve(
            model,
            jnp.array([1.0]),
            (0, 5),
            params={"k": k},
            events=[refill],
            rtol=1e-12,
            atol=1e-12,
            solver=ps.Rodas5P(),
        ).events.t

    t = np.asarray(ps.solve(model, [1.0], (0, 5), events=[refill], rtol=1e-12, atol=1e-12).events.t)
    np.testing.assert_allclose(t, np.log(2) + np.arange(4) * np.log(3), atol=1e-9)
    dt3 = jax.grad(lambda k: times(k)[2])(1.0)
    np.testing.assert_allclose(dt3, -(np.log(2) + 2 * np.log(3)), rtol=1e-7)


def test_terminal_event_and_parameter_affect():
    model, _ = _ball()
    stop = ps.Event(lambda u, p, t, m: u[0], direction=-1, terminal=True, name="ground")
    sol = ps.solve(model, [H0, 0.0], (0.0, 3.0), events=[stop], rtol=1e-10, atol=1e-12)
    assert sol.ok
    np.testing.assert_allclose(sol.stats["t_end"], np.sqrt(2 * H0 / G), atol=1e-10)
    assert np.all(np.isnan(sol.u[sol.t > 1.5]))
    # an affect on a parameter: gravity switched off at t = 1
    off = ps.At(1.0, affect=lambda u, p, t, m: {"g": 0.0})
    sol = ps.solve(model, [H0, 0.0], (0.0, 2.0), saveat=[2.0], events=[off], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.u[0], [H0 - G / 2 - G * 1.0, -G], rtol=1e-8)


def _counter():
    """A model whose state never changes (the solver takes one step over the whole span)."""
    return ps.ODEModel(lambda u, p, t, m: [0.0 * u[0], 0.0 * u[1]], states=["a", "b"], params={"k": 1.0})


def test_crossings_inside_one_step_fire_earliest_first():
    """Two conditions crossing inside one step (dt0: the whole span): the earlier fires first, though listed
    second."""
    late = ps.Event(lambda u, p, t, m: t - 2.0, affect=lambda u, p, t, m: {"b": u[0] + 10.0}, direction=1, name="late")
    early = ps.Event(lambda u, p, t, m: t - 1.0, affect=lambda u, p, t, m: {"a": 1.0}, direction=1, name="early")
    sol = ps.solve(_counter(), [0.0, 0.0], (0.0, 3.0), saveat=[3.0], events=[late, early], solver=ps.Tsit5(), dt0=3.0)
    assert sol.ok
    assert [name for _, name in sol.events] == ["early", "late"]
    np.testing.assert_allclose(sol.events.t, [1.0, 2.0], atol=1e-10)
    np.testing.assert_allclose(sol.u[0], [1.0, 11.0])  # "late" saw the state "early" left


def test_simultaneous_crossings_both_fire_unless_the_first_undoes_the_second():
    model = _counter()
    first = ps.Event(lambda u, p, t, m: t - 1.0, affect=lambda u, p, t, m: {"a": u[0] + 1.0}, direction=1)
    second = ps.Event(lambda u, p, t, m: t - 1.0, affect=lambda u, p, t, m: {"b": u[1] + 1.0}, direction=1)
    sol = ps.solve(model, [0.0, 0.0], (0.0, 2.0), saveat=[2.0], events=[first, second], solver=ps.Tsit5())
    assert sol.ok and len(sol.events) == 2
    np.testing.assert_allclose(sol.u[0], [1.0, 1.0])
    # the same crossing, but the first one's affect moves the second's condition back below zero
    undo = ps.Event(lambda u, p, t, m: t - 1.0, affect=lambda u, p, t, m: {"k": 2.0}, direction=1)
    gated = ps.Event(lambda u, p, t, m: t - p.k, affect=lambda u, p, t, m: {"b": u[1] + 1.0}, direction=1)
    sol = ps.solve(model, [0.0, 0.0], (0.0, 1.5), saveat=[1.5], events=[undo, gated], solver=ps.Tsit5())
    assert sol.ok and [name for _, name in sol.events] == ["event0"]
    np.testing.assert_allclose(sol.u[0], [0.0, 0.0])


def test_more_events_than_max_events_fail_with_advice():
    model = _counter()
    # a clock: fires at t = k, then moves k on by 0.1 (ten ticks from t = 1 to 2)
    tick = ps.Event(lambda u, p, t, m: t - p.k, affect=lambda u, p, t, m: {"k": p.k + 0.1}, direction=1)
    sol = ps.solve(model, [0.0, 0.0], (0.0, 2.05), events=[tick], max_events=3, solver=ps.Tsit5())
    assert not sol.ok and bool(sol.events.dropped)
    assert "max_events" in sol.message
    sol = ps.solve(model, [0.0, 0.0], (0.0, 2.05), events=[tick], max_events=20, solver=ps.Tsit5())
    assert sol.ok and len(sol.events) == 11


def test_bad_events():
    model, bounce = _ball()
    with pytest.raises(InputError, match="events"):
        ps.solve(model, [H0, 0.0], (0, 1), events=[lambda u: u])
    with pytest.raises(InputError, match="direction"):
        ps.solve(model, [H0, 0.0], (0, 1), events=[ps.Event(lambda u, p, t, m: u[0], direction=2)])
    with pytest.raises(InputError, match="unknown name"):
        ps.solve(model, [H0, 0.0], (0, 1), events=[ps.At(0.5, lambda u, p, t, m: {"y": 1.0})])


def test_event_whose_condition_never_changes_sign_warns():
    model = ps.ODEModel(lambda u, p, t, m: -p.k * u[0], states=["x"], params={"k": 1.0})
    save = np.linspace(0.0, 5.0, 11)

    def run(condition, direction=0):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            sol = ps.solve(
                model, [1.0], (0.0, 5.0), saveat=save, events=[ps.Event(condition, direction=direction, name="e")]
            )
        return sol, [w for w in record if issubclass(w.category, ps.EventWarning)]

    # a threshold never reached (x decays from 1 towards 0; 2 is never crossed)
    _, warned = run(lambda u, p, t, m: u[0] - 2.0)
    assert len(warned) == 1 and "'e'" in str(warned[0].message) and "never fired" in str(warned[0].message)
    assert warned[0].filename == __file__  # points at the user's call
    # a condition that stays positive names its side
    _, warned = run(lambda u, p, t, m: u[0] + 1.0)
    assert len(warned) == 1 and "stayed positive" in str(warned[0].message)
    # negative controls: an event that fires, and one that crosses the other way, do not warn
    sol, warned = run(lambda u, p, t, m: u[0] - 0.5)
    assert not warned and len(sol.events) == 1
    sol, warned = run(lambda u, p, t, m: u[0] - 0.5, direction=1)
    assert not warned and len(sol.events) == 0


def _dosed(t, k, dose):
    x = np.exp(-k * t)
    for td in (2.0, 4.0):
        x = x + np.where(t >= td, dose * np.exp(-k * (t - td)), 0.0)
    return x


def test_fit_with_doses_recovers_rate_and_dose_and_predicts_with_them():
    t = np.linspace(0, 6, 31)
    y = _dosed(t, 0.5, 1.0) + 0.002 * np.random.default_rng(0).normal(size=t.size)
    model = ps.ODEModel(lambda u, p, t, m: [-p.k * u[0]], ["x"], {"k": ps.Param(0.3, bounds=(0, None)), "dose": 0.5})
    dose = ps.At([2.0, 4.0], affect=lambda u, p, t, m: {"x": u[0] + p.dose}, name="dose")
    fast = dict(u0=[1.0], fit_u0=False, verbose=0, strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=60)])
    model.fit((t, y[:, None]), events=[dose], **fast)
    assert model.status_ == 0
    assert abs(model.params_["k"] - 0.5) < 0.005 and abs(model.params_["dose"] - 1.0) < 0.01  # measured 3e-4, 3e-4
    # predict applies the fit's events: the doses are in the prediction
    np.testing.assert_allclose(model.predict(t)["x"].values, _dosed(t, 0.5, 1.0), atol=0.005)
    # negative control: the same fit without the doses cannot explain the data
    plain = ps.ODEModel(lambda u, p, t, m: [-p.k * u[0]], ["x"], {"k": ps.Param(0.3, bounds=(0, None)), "dose": 0.5})
    plain.fit((t, y[:, None]), fit=["k"], **fast)
    assert plain.loss_ > 1000 * model.loss_ and abs(plain.params_["k"] - 0.5) > 0.1


def test_fit_events_refused_where_they_cannot_apply():
    t = np.linspace(0, 6, 31)
    model = ps.ODEModel(lambda u, p, t, m: [-p.k * u[0]], ["x"], {"k": 0.3})
    dose = ps.At([2.0], affect=lambda u, p, t, m: {"x": u[0] + 1.0})
    for strategy in (ps.MultipleShooting(segments=3), ps.Collocation()):
        with pytest.raises(InputError) as info:
            model.fit((t, np.exp(-t)[:, None]), events=[dose], strategy=strategy, verbose=0)
        assert info.value.argument == "strategy"
    with pytest.raises(InputError) as info:
        model.fit((t, np.exp(-t)[:, None]), events=[dose], adjoint=ps.Checkpointed(), verbose=0)
    assert info.value.argument == "adjoint"
