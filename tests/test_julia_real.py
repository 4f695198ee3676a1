"""The Julia engine with a real Julia (marked ``julia``: skipped without Julia, failed
instead when ``PYSCIML_TEST_JULIA=1``).  None of these has run yet: no machine with
Julia has run this file (see docs/julia.md, "What has run").

* the compiled right-hand side of every example model equals the physics evaluated
  with numpy (in-place and out-of-place), so the emitted Julia means what the
  Python physics means;
* solves against exact solutions and a tight scipy Radau reference (every ROBER
  state, with every stiff solver);
* batches against single solves; gradients against finite differences;
* cross-engine agreement with the jax engine: solutions to 1e-6 relative, loss
  gradients and forward sensitivities to 1e-5, and a fit with the same history
  length per phase and the same Adam losses;
* ``bridge_info`` (``ps.info``) names every package version.

The only skip is "no Julia"; every other exception is a failure.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.julia_engine import require_julia
from helpers.julia_models import example_models, lv_ude, rober

import pysciml as ps
from pysciml.engines.requests import SolveRequest

jax.config.update("jax_enable_x64", True)

pytestmark = pytest.mark.julia

MODELS, _ = example_models()


@pytest.fixture(autouse=True)
def _julia_here():
    require_julia()


@pytest.fixture(scope="module")
def eng():
    from pysciml.engines.julia import JuliaEngine

    return JuliaEngine()


def _request(model, u0, saveat, solver, params=None, rtol=1e-10, atol=1e-12):
    return SolveRequest(model=model, u0=np.asarray(u0, dtype=float),
                        params=model.resolve_params(params), network_params=model.init_networks(),
                        t0=0.0, t1=float(saveat[-1]), saveat=np.asarray(saveat, dtype=float), solver=solver,
                        rtol=rtol, atol=atol)


def _close(got, want, rtol):
    """Relative agreement, with an absolute floor of ``rtol`` times the largest reference value."""
    want = np.asarray(want)
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=rtol * max(np.abs(want).max(), 1e-300))


def _rober_model():
    return ps.ODEModel(rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})


def test_bridge_info_names_every_package(eng):
    info = eng.info()
    for name in ("julia", "threads", "PySciMLBridge", "SciMLBase", "OrdinaryDiffEqRosenbrock", "SciMLSensitivity",
                 "Lux", "ComponentArrays", "Optimization", "Zygote", "LinearSolve"):
        assert info.get(name), name


@pytest.mark.parametrize("name,model", MODELS, ids=[n for n, _ in MODELS])
def test_compiled_rhs_equals_numpy_physics(eng, name, model):
    rng = np.random.default_rng(7)
    for _ in range(2):
        u = rng.uniform(0.2, 1.5, model.n_states)
        params = {k: s.default * rng.uniform(0.5, 1.5, s.shape) for k, s in model.param_specs.items()}
        nets = {k: net.init(3) * 5.0 for k, net in model.networks.items()}
        t = float(rng.uniform(0, 2))
        want = model.rhs_numpy(u, t, params, nets)
        a, b = eng.rhs(model, u, t, params, nets)
        scale = max(1.0, np.abs(want).max())
        np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12 * scale)
        np.testing.assert_allclose(b, want, rtol=1e-12, atol=1e-12 * scale)


def test_whole_number_powers_of_negative_bases(eng):
    """x**2.0 and x**p.n (n = 2) of a negative state are real in Julia, as in numpy (issue 13 item 5)."""
    model = ps.ODEModel(lambda u, p, t, m: [u[0] ** 2.0 + m.power(u[1], 3.0), u[0] ** p.n], ["a", "b"],
                        {"n": 2.0})
    u = np.array([-2.0, -1.5])
    want = model.rhs_numpy(u)
    for got in eng.rhs(model, u):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_rober_against_radau(eng):
    from scipy.integrate import solve_ivp

    model = _rober_model()
    saveat = np.array([0.0, 1.0, 1e2, 1e4, 1e5])
    ref = solve_ivp(lambda t, y: model.rhs_numpy(y, t), (0, 1e5), [1.0, 0, 0], method="Radau",
                    t_eval=saveat, rtol=1e-12, atol=1e-16)
    assert ref.success
    for solver in (ps.Rodas5P(), ps.Rodas4(), ps.Rosenbrock23(), ps.KenCarp4(), ps.Kvaerno5(), ps.FBDF(),
                   ps.QNDF(), ps.Auto()):
        sol = eng.solve(_request(model, [1.0, 0, 0], saveat, solver, rtol=1e-9, atol=1e-13))
        assert sol.status == ps.Status.SUCCESS, solver
        for j in range(3):  # every state, y2 (~1e-5) on its own scale
            _close(sol.u[:, j], ref.y[j], 1e-5)
        assert sol.stats["steps"] > 0 and sol.stats["nfev"] > 0


def test_linear_oscillator_exact(eng):
    def osc(u, p, t, m):
        x, v = u
        return [v, -p.w**2 * x]

    model = ps.ODEModel(osc, ["x", "v"], {"w": 2.0})
    ts = np.linspace(0, 5, 11)
    for solver in (ps.Tsit5(), ps.Vern7(), ps.Dopri8(), ps.Rodas5P()):
        sol = eng.solve(_request(model, [1.0, 0.0], ts, solver))
        np.testing.assert_allclose(sol.u[:, 0], np.cos(2 * ts), atol=1e-7)
        np.testing.assert_allclose(sol.u[:, 1], -2 * np.sin(2 * ts), atol=1e-7)


def test_batch_equals_single_solves(eng):
    model = _rober_model()
    k1 = np.array([0.02, 0.04, 0.08])
    saveat = np.array([0.0, 1.0, 10.0])
    req = _request(model, [1.0, 0, 0], saveat, ps.Rodas5P(), rtol=1e-8, atol=1e-12)
    batch = eng.solve_batch(req, params={"k1": k1})
    for i, k in enumerate(k1):
        one = eng.solve(_request(model, [1.0, 0, 0], saveat, ps.Rodas5P(), {"k1": k}, rtol=1e-8, atol=1e-12))
        np.testing.assert_allclose(batch.u[i], one.u, rtol=1e-10, atol=1e-14)
    assert list(batch.status) == [0, 0, 0]


def _lv():
    return ps.ODEModel(lv_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                       networks={"nn": ps.MLP(2, 2, width=6, depth=1)})


def _lv_data():
    from scipy.integrate import solve_ivp

    ts = np.linspace(0.2, 2.0, 8)[None, :]
    truth = ps.ODEModel(lambda u, p, t, m: [1.3 * u[0] - 0.9 * u[0] * u[1], 0.8 * u[0] * u[1] - 1.8 * u[1]],
                        ["prey", "predator"])
    ys = solve_ivp(lambda t, y: truth.rhs_numpy(y, t), (0, 2), [0.44, 4.6], t_eval=ts[0], rtol=1e-11,
                   atol=1e-12).y.T[None]
    return dict(u0=np.array([[0.44, 4.6]]), t0=0.0, ts=ts, ys=ys, mask=np.ones_like(ys, bool),
                scale=ys[0].std(axis=0))


@pytest.mark.parametrize("adjoint", ["direct", "gauss:zygote", "gauss:enzyme", "interpolating:reversediff",
                                     "quadrature:zygote", "checkpointed:enzyme"])
def test_gradient_against_finite_differences(eng, adjoint):
    model = _lv()
    nets = model.init_networks(1)
    kw = dict(solver=ps.Tsit5(), rtol=1e-11, atol=1e-12, l2=1e-3, **_lv_data())
    res = eng.loss_and_grad(model, network_params=nets, adjoint=adjoint, **kw)
    assert list(res.status) == [0]
    h = 1e-6
    for name in ("alpha", "delta"):
        up = eng.loss_and_grad(model, params={name: model.param_specs[name].default + h},
                               network_params=nets, adjoint="direct", **kw).loss
        dn = eng.loss_and_grad(model, params={name: model.param_specs[name].default - h},
                               network_params=nets, adjoint="direct", **kw).loss
        assert res.grad_params[name] == pytest.approx((up - dn) / (2 * h), rel=1e-4)
    w = nets["nn"].copy()
    for i in (0, 5, len(w) - 1):
        wp, wm = w.copy(), w.copy()
        wp[i] += h
        wm[i] -= h
        up = eng.loss_and_grad(model, network_params={"nn": wp}, adjoint="direct", **kw).loss
        dn = eng.loss_and_grad(model, network_params={"nn": wm}, adjoint="direct", **kw).loss
        assert res.grad_networks["nn"][i] == pytest.approx((up - dn) / (2 * h), rel=1e-4, abs=1e-9)


def test_failed_solve_gives_inf_loss_and_zero_gradient(eng):
    """A failed solve is a status and an infinite loss, not an exception (the fit then rejects the step)."""
    model = _lv()
    kw = dict(solver=ps.Tsit5(), rtol=1e-8, atol=1e-10, **_lv_data())
    res = eng.loss_and_grad(model, params={"alpha": 60.0}, network_params=model.init_networks(1),
                            max_steps=20, **kw)
    assert np.isinf(res.loss) and list(res.status) != [0]
    assert not np.any(res.grad_params["alpha"]) and not np.any(res.grad_networks["nn"])


# -- cross-engine agreement ------------------------------------------------------------------
def test_solutions_agree_with_the_jax_engine():
    model = _rober_model()
    kw = dict(u0=[1.0, 0.0, 0.0], t=(0.0, 1e3), saveat=[0.0, 1.0, 10.0, 1e3], solver=ps.Rodas5P(),
              rtol=1e-9, atol=1e-12)
    a = ps.solve(model, engine="jax", **kw)
    b = ps.solve(model, engine="julia", **kw)
    assert a.ok and b.ok
    for j in range(3):
        _close(np.asarray(b.u)[:, j], np.asarray(a.u)[:, j], 1e-6)


def test_loss_gradients_agree_with_the_jax_engine(eng):
    """The Julia adjoint gradient of the fitting loss equals jax.grad through the jax engine's solve."""
    model = _lv()
    data = _lv_data()
    nets = model.init_networks(1)
    l2, rtol, atol = 1e-3, 1e-11, 1e-12
    ys, mask, scale = data["ys"][0], data["mask"][0], data["scale"]

    def jax_loss(p):
        sol = ps.solve(model, data["u0"][0], (0.0, float(data["ts"][0, -1])), saveat=data["ts"][0], params=p,
                       solver=ps.Tsit5(), rtol=rtol, atol=atol, engine="jax")
        r = (sol.u - ys) / scale
        return jnp.sum(mask * r**2) / mask.sum() + l2 * jnp.sum(p["nn"] ** 2)

    p = {"alpha": jnp.asarray(1.3), "delta": jnp.asarray(1.8), "nn": jnp.asarray(nets["nn"])}
    want_loss, want = jax.value_and_grad(jax_loss)(p)
    for adjoint in ("gauss:zygote", "direct"):
        res = eng.loss_and_grad(model, network_params=nets, adjoint=adjoint, solver=ps.Tsit5(), l2=l2,
                                rtol=rtol, atol=atol, **data)
        assert res.loss == pytest.approx(float(want_loss), rel=1e-8)
        for name in ("alpha", "delta"):
            assert float(res.grad_params[name]) == pytest.approx(float(want[name]), rel=1e-5), (adjoint, name)
        _close(res.grad_networks["nn"], np.asarray(want["nn"]), 1e-5)


def test_forward_sensitivities_agree_with_the_jax_engine():
    model = _rober_model()
    kw = dict(u0=[1.0, 0.0, 0.0], t=(0.0, 100.0), saveat=[1.0, 10.0, 100.0], solver=ps.Rodas5P(),
              rtol=1e-10, atol=1e-14)
    a = ps.sensitivity(model, engine="jax", **kw)
    b = ps.sensitivity(model, engine="julia", **kw)
    _close(b["u0"], a["u0"], 1e-5)
    for name in ("k1", "k2", "k3"):
        _close(b["params"][name], a["params"][name], 1e-5)


def _decay_fit(engine):
    def decay(u, p, t, m):
        return [-p.k * u[0]]

    model = ps.ODEModel(decay, ["c"], {"k": ps.Param(2.0, bounds=(0.0, 10.0))})
    t = np.linspace(0.0, 2.0, 12)
    y = np.exp(-0.7 * t)[:, None]
    model.fit((t, y), engine=engine, verbose=0, u0=[1.0], fit_u0=False, strategy=ps.SingleShooting(),
              optimizers=[ps.Adam(0.05, steps=60, schedule="cosine"), ps.LBFGS(steps=30)], solver=ps.Tsit5(),
              rtol=1e-10, atol=1e-12)
    return model


def test_fit_matches_the_jax_engine():
    """Same number of history entries per phase (no extra callback entry), same Adam losses, same answer."""
    a, b = _decay_fit("jax"), _decay_fit("julia")
    assert a.status_ == b.status_ == ps.Status.SUCCESS
    assert b.params_["k"] == pytest.approx(0.7, rel=1e-4) and a.params_["k"] == pytest.approx(0.7, rel=1e-4)
    ha, hb = np.asarray(a.loss_history_), np.asarray(b.loss_history_)
    assert ha[:60].shape == hb[:60].shape == (60,)
    np.testing.assert_allclose(hb[:60], ha[:60], rtol=1e-4)
    assert 0 < len(hb) - 60 <= 30 and 0 < len(ha) - 60 <= 30  # L-BFGS: at most `steps` entries each


def test_fit_callback_sees_progress_and_can_stop():
    calls = []

    def decay(u, p, t, m):
        return [-p.k * u[0]]

    model = ps.ODEModel(decay, ["c"], {"k": ps.Param(2.0, bounds=(0.0, 10.0))})
    t = np.linspace(0.0, 2.0, 12)
    model.fit((t, np.exp(-0.7 * t)[:, None]), engine="julia", verbose=1, u0=[1.0], fit_u0=False,
              strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-3, steps=100_000)],
              callback=lambda info: bool(calls.append(info)) or len(calls) >= 2)
    assert model.status_ == ps.Status.INTERRUPTED and len(calls) == 2
    assert set(calls[-1]) >= {"phase", "step", "loss", "params"} and "k" in calls[-1]["params"]
