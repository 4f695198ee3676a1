"""``ps.compile``: a solve checked once, called with new ``u0`` and ``params``.

The handle must give what ``ps.solve`` gives with the same options (to round-off), solve
exact problems correctly, be a pure jax function in raw mode (vmap = loop, grad = finite
differences, jit), reuse its compiled function, and refuse bad input naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import EngineUnavailableError, InputError, SolverFailure

jax = pytest.importorskip("jax")
jnp = jax.numpy

ROBER_U0 = np.array([1.0, 0.0, 0.0])
ROBER_OPTS = dict(t=(0.0, 1e5), saveat=[1e-3, 1.0, 1e2, 1e5], solver=ps.Rodas5P(), rtol=1e-6, atol=1e-10)


def _rober(u, p, t, m):
    y1, y2, y3 = u
    return [-p.k1 * y1 + p.k3 * y2 * y3, p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2, p.k2 * y2**2]


def _decay(u, p, t, m):
    return [-p.k * u[0]]


ROBER = ps.ODEModel(_rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4}, name="rober")
DECAY = ps.ODEModel(_decay, ["c"], {"k": ps.Param(0.7, bounds=(0.0, 10.0))}, name="decay")
DECAY_OPTS = dict(t=(0.0, 2.0), saveat=np.linspace(0.0, 2.0, 5), solver=ps.Tsit5(), rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def rober_handle(jax_engine):
    return ps.compile(ROBER, **ROBER_OPTS)


@pytest.fixture(scope="module")
def decay_handle(jax_engine):
    return ps.compile(DECAY, u0=[2.0], **DECAY_OPTS)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# -- the handle is ps.solve ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "u0, params",
    [(ROBER_U0, None), ([0.9, 0.1, 0.0], {"k1": 0.05}), ({"y1": 1.0, "y2": 0.0, "y3": 0.0}, {"k2": 2e7, "k3": 2e4})],
)
def test_handle_equals_solve(rober_handle, u0, params):
    sol = rober_handle(u0, params)
    ref = ps.solve(ROBER, u0, params=params, **ROBER_OPTS)
    assert isinstance(sol, ps.Solution) and sol.ok and ref.ok
    assert _rel(sol.u, ref.u) <= 1e-12 and np.array_equal(sol.t, ref.t)
    assert sol.stats == ref.stats and sol.status is ref.status
    assert sol.params.keys() == ref.params.keys()
    assert all(np.array_equal(sol.params[k], ref.params[k]) for k in ref.params)
    assert np.array_equal(sol.u0, ref.u0)
    raw = rober_handle(u0, params, raw=True)
    assert isinstance(raw, jax.Array) and raw.shape == (4, 3)
    assert _rel(raw, ref.u) <= 1e-12


def test_exact_solution_and_defaults(decay_handle):
    """Linear decay against exp(-k t) u0; the compile-time u0 and the model's k are the defaults."""
    t = DECAY_OPTS["saveat"]
    sol = decay_handle()
    np.testing.assert_allclose(sol.u[:, 0], 2.0 * np.exp(-0.7 * t), rtol=1e-8)
    sol = decay_handle([3.0], {"k": 1.3})
    np.testing.assert_allclose(sol.u[:, 0], 3.0 * np.exp(-1.3 * t), rtol=1e-8)
    ref = ps.solve(DECAY, [3.0], params={"k": 1.3}, **DECAY_OPTS)
    assert _rel(sol.u, ref.u) <= 1e-12 and sol.stats == ref.stats


def test_compile_time_params_are_the_base_of_call_overrides(jax_engine):
    f = ps.compile(ROBER, ROBER_U0, params={"k1": 0.05}, **ROBER_OPTS)
    got = f(params={"k2": 2e7}).u
    ref = ps.solve(ROBER, ROBER_U0, params={"k1": 0.05, "k2": 2e7}, **ROBER_OPTS).u
    assert _rel(got, ref) <= 1e-12


def test_negative_control_other_params_and_tolerances_disagree(rober_handle):
    """A handle compiled with other tolerances, or called with other params, gives other numbers."""
    ref = ps.solve(ROBER, ROBER_U0, **ROBER_OPTS).u
    loose = ps.compile(ROBER, **{**ROBER_OPTS, "rtol": 1e-2, "atol": 1e-6})(ROBER_U0).u
    assert _rel(loose, ref) > 1e-6
    other = rober_handle(ROBER_U0, {"k1": 0.08}).u
    assert _rel(other, ref) > 1e-3
    assert _rel(rober_handle(ROBER_U0).u, ref) <= 1e-12  # and the matching call does agree


def test_failure_status_and_raise_on_failure(jax_engine):
    opts = {**ROBER_OPTS, "max_steps": 5}
    sol = ps.compile(ROBER, **opts)(ROBER_U0)
    ref = ps.solve(ROBER, ROBER_U0, **opts)
    assert not sol.ok and sol.status is ref.status and sol.message == ref.message
    with pytest.raises(SolverFailure):
        ps.compile(ROBER, raise_on_failure=True, **opts)(ROBER_U0)


def test_symplectic_handle_equals_solve(jax_engine):
    def osc(u, p, t, m):
        x, v = u
        return [v, -p.w**2 * x]

    model = ps.ODEModel(osc, ["x", "v"], {"w": 2.0})
    opts = dict(t=(0.0, 1.0), saveat=[0.5, 1.0], solver=ps.VelocityVerlet(dt=0.01))
    sol = ps.compile(model, **opts)([1.0, 0.0], {"w": 3.0})
    ref = ps.solve(model, [1.0, 0.0], params={"w": 3.0}, **opts)
    assert _rel(sol.u, ref.u) <= 1e-12 and sol.stats == ref.stats


# -- raw mode is a pure jax function ----------------------------------------------------------------
def test_vmap_over_u0_and_params_equals_loop(rober_handle):
    U0 = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.8, 0.0, 0.2]])
    K1 = np.array([0.04, 0.05, 0.03])
    K3 = np.array([1e4, 2e4, 5e3])
    batched = jax.vmap(lambda u, k1, k3: rober_handle(u, {"k1": k1, "k3": k3}, raw=True))(U0, K1, K3)
    assert batched.shape == (3, 4, 3)
    for i in range(3):
        one = rober_handle(U0[i], {"k1": K1[i], "k3": K3[i]}).u
        assert _rel(batched[i], one) <= 1e-10


def test_grad_through_raw_mode_matches_central_differences(decay_handle):
    def loss(k, c0):
        ys = decay_handle(jnp.stack([c0]), {"k": k}, raw=True)
        return jnp.sum(ys[:, 0] ** 2)

    k, c0 = 1.3, 3.0
    gk, gc = jax.grad(loss, argnums=(0, 1))(k, c0)
    h = 1e-5
    fd_k = (loss(k + h, c0) - loss(k - h, c0)) / (2 * h)
    fd_c = (loss(k, c0 + h) - loss(k, c0 - h)) / (2 * h)
    assert abs(gk - fd_k) <= 1e-6 * abs(fd_k) and abs(gc - fd_c) <= 1e-6 * abs(fd_c)
    t = DECAY_OPTS["saveat"]  # and the exact derivative of sum (c0 exp(-k t))^2
    exact_k = np.sum(-2 * t * c0**2 * np.exp(-2 * k * t))
    assert abs(gk - exact_k) <= 1e-6 * abs(exact_k)


def test_jit_of_raw_mode(rober_handle):
    run = jax.jit(lambda u, k1: rober_handle(u, {"k1": k1}, raw=True)[-1])
    got = run(jnp.asarray([0.9, 0.1, 0.0]), 0.05)
    ref = ps.solve(ROBER, [0.9, 0.1, 0.0], params={"k1": 0.05}, **ROBER_OPTS).u[-1]
    assert _rel(got, ref) <= 1e-10
    traced_sol = jax.jit(lambda u: rober_handle(u).u)(jnp.asarray(ROBER_U0))  # Solution mode traces too
    assert _rel(traced_sol, ps.solve(ROBER, ROBER_U0, **ROBER_OPTS).u) <= 1e-10


# -- compiled once -------------------------------------------------------------------------------
def test_second_compile_reuses_the_compiled_function(jax_engine):
    traces = []

    def counted(u, p, t, m):
        traces.append(1)  # runs only when the physics is traced
        return [-p.k * u[0] + 0.25 * m.sin(t)]

    model = ps.ODEModel(counted, ["c"], {"k": 0.4})
    opts = dict(t=(0.0, 1.0), saveat=[0.5, 1.0], solver=ps.Tsit5(), rtol=1e-8, atol=1e-10)

    def lookups():
        info = ps.cache.info()
        return info["hits"] + info["misses"]

    before = lookups()
    first = ps.compile(model, [1.0], **opts)  # traced, or loaded from an earlier run's cache
    n, after_first = len(traces), lookups()
    if ps.cache.enabled():
        assert after_first == before + 1
    second = ps.compile(model, [1.0], **opts)
    assert second([2.0], {"k": 0.5}).ok
    assert len(traces) == n and lookups() == after_first  # the same jitted function: no trace, no lookup
    assert _rel(first([2.0], {"k": 0.5}).u, second([2.0], {"k": 0.5}).u) == 0.0
    # negative control: another step budget is another compiled function
    ps.compile(model, [1.0], **{**opts, "max_steps": 1234})
    assert len(traces) > n or lookups() > after_first


# -- bad input names the argument -----------------------------------------------------------------
@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda f: f([1.0, 0.0]), "u0"),
        (lambda f: f([1.0, 0.0, 0.0, 0.0]), "u0"),
        (lambda f: f([np.nan, 0.0, 0.0]), "u0"),
        (lambda f: f({"y1": 1.0, "y9": 0.0}), "u0"),
        (lambda f: f(ROBER_U0, {"k9": 1.0}), "params"),
        (lambda f: f(ROBER_U0, {"k1": [1.0, 2.0]}), "params.k1"),
        (lambda f: f(ROBER_U0, {"k1": np.inf}), "params.k1"),
        (lambda f: f(ROBER_U0, [0.04, 3e7, 1e4]), "params"),
        (lambda f: jax.vmap(lambda u: f(u, raw=True))(jnp.ones((2, 4))), "u0"),
    ],
    ids=["u0-short", "u0-long", "u0-nan", "u0-mapping", "param-unknown", "param-shape", "param-inf",
         "params-not-mapping", "u0-traced-size"],
)
def test_bad_call_input(rober_handle, call, argument):
    with pytest.raises(InputError) as info:
        call(rober_handle)
    assert info.value.argument == argument and str(info.value).startswith(argument)


@pytest.mark.parametrize(
    "overrides, argument",
    [
        (dict(saveat=[1.0, 2e5]), "saveat"),
        (dict(t=(1.0, 0.0), saveat=None), "t"),
        (dict(rtol=-1.0), "rtol"),
        (dict(atol=0.0), "atol"),
        (dict(rtol=1e-15), "rtol"),
        (dict(solver="rk99"), "solver"),
        (dict(max_steps=0), "max_steps"),
        (dict(params={"k9": 1.0}), "params"),
        (dict(u0=[1.0]), "u0"),
        (dict(raise_on_failure="yes"), "raise_on_failure"),
        (dict(solver=ps.EulerMaruyama()), "solver"),
    ],
)
def test_bad_compile_input_is_checked_as_ps_solve_checks_it(jax_engine, overrides, argument):
    kwargs = {**ROBER_OPTS, **overrides}
    with pytest.raises(InputError) as info:
        ps.compile(ROBER, **kwargs)
    assert info.value.argument == argument
    if argument != "raise_on_failure":  # ps.solve says the same
        with pytest.raises(InputError) as same:
            ps.solve(ROBER, kwargs.pop("u0", ROBER_U0), **kwargs)
        assert str(same.value) == str(info.value)


def test_missing_u0_is_asked_for_at_the_call(jax_engine):
    f = ps.compile(ROBER, **ROBER_OPTS)  # ROBER has no default u0
    with pytest.raises(InputError, match="no initial state") as info:
        f()
    assert info.value.argument == "u0"


def test_sde_models_are_refused(jax_engine):
    sde = ps.SDEModel(lambda u, p, t, m: [-u[0]], lambda u, p, t, m: [0.1 + 0.0 * u[0]], ["x"], {}, noise="additive")
    with pytest.raises(InputError) as info:
        ps.compile(sde, [1.0], (0.0, 1.0))
    assert info.value.argument == "model"


def test_julia_engine_refuses_by_name(monkeypatch):
    """The handle is a jax function: the julia engine (here on the fake bridge) says so."""
    from helpers.fake_julia_bridge import FakeJulia, FakeMain

    from pysciml.engines import registry
    from pysciml.engines.julia.bridge import JuliaBridge, report_wrapper
    from pysciml.engines.julia.engine import JuliaEngine

    engine = JuliaEngine(bridge=JuliaBridge(backend=FakeJulia(), report_wrap=report_wrapper(FakeMain())))
    monkeypatch.setitem(registry._instances, "julia", engine)
    with pytest.raises(EngineUnavailableError) as info:
        ps.compile(ROBER, ROBER_U0, engine="julia", **ROBER_OPTS)
    assert info.value.argument == "engine"
    assert "jax-only" in str(info.value) and "engine='jax'" in str(info.value)


def test_repr_names_the_compiled_options(rober_handle):
    text = repr(rober_handle)
    assert "rober" in text and "Rodas5P" in text and "1e-06" in text


def test_julia_engine_refused_as_jax_only_whether_installed_or_not(jax_engine):
    with pytest.raises(EngineUnavailableError) as info:
        ps.compile(ROBER, ROBER_U0, engine="julia", **ROBER_OPTS)
    assert info.value.argument == "engine" and "jax-only" in str(info.value)


def test_events_and_network_weights_as_in_ps_solve(jax_engine):
    half = ps.Event(lambda u, p, t, m: u[0] - 0.5, name="half")
    opts = dict(t=(0.0, 3.0), saveat=[1.0, 2.0, 3.0], solver=ps.Tsit5(), events=[half])
    sol = ps.compile(DECAY, **opts)([1.0], {"k": 0.9})
    ref = ps.solve(DECAY, [1.0], params={"k": 0.9}, **opts)
    assert _rel(sol.u, ref.u) <= 1e-12 and sol.events.names == ref.events.names
    np.testing.assert_allclose(sol.events.t, np.log(2.0) / 0.9, rtol=1e-6)
    np.testing.assert_array_equal(sol.events.t, ref.events.t)

    def lv(u, p, t, m):
        x, y = u
        f = p.nn(u)
        return [p.a * x + f[0], -y + f[1]]

    ude = ps.UDE(lv, ["x", "y"], {"a": 0.5}, networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    w = np.linspace(-0.3, 0.3, ude.networks["nn"].n_params)
    opts = dict(t=(0.0, 1.0), saveat=[0.5, 1.0], solver=ps.Tsit5())
    got = ps.compile(ude, [1.0, 0.5], **opts)(params={"nn": w})
    ref = ps.solve(ude, [1.0, 0.5], params={"nn": w}, **opts)
    default = ps.solve(ude, [1.0, 0.5], **opts)
    assert _rel(got.u, ref.u) <= 1e-12 and _rel(got.u, default.u) > 1e-6
