"""The Python half of the Julia engine against a fake bridge (no Julia).

The fake (tests/fake_julia_bridge.py) checks the types and shapes of every
argument as the Julia methods would and returns values by documented rules,
so these tests check what the engine sends and how it unpacks the replies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from helpers.fake_julia_bridge import FakeJulia, FakeMain
from helpers.julia_models import example_models, lv_ude, rober

import pysciml as ps
from pysciml.engines.julia import mapping
from pysciml.engines.julia.bridge import JuliaBridge, report_wrapper
from pysciml.engines.julia.engine import JuliaEngine
from pysciml.engines.requests import FitHooks, SolveRequest
from pysciml.errors import EngineError, InputError, TraceError

MODELS, GRID_REASON = example_models()


@pytest.fixture
def fake():
    return FakeJulia()


@pytest.fixture
def engine(fake):
    return JuliaEngine(bridge=JuliaBridge(backend=fake, report_wrap=report_wrapper(FakeMain())))


def _rober():
    return ps.ODEModel(rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})


def _request(model, solver=ps.Rodas5P(), saveat=(0.0, 1.0, 10.0), **kw):
    return SolveRequest(model=model, u0=np.array([1.0, 0.0, 0.0])[: model.n_states] if model.n_states == 3
                        else np.ones(model.n_states), params=model.default_params(),
                        network_params=model.init_networks(), t0=0.0, t1=float(saveat[-1]),
                        saveat=np.array(saveat), solver=solver, **kw)


def test_solve_sends_flat_parameters_and_unpacks(engine, fake):
    model = _rober()
    sol = engine.solve(_request(model))
    sent = [c for c in fake.calls if c[0] == "bridge_solve"][-1][1]
    np.testing.assert_array_equal(sent["theta"], [0.04, 3e7, 1e4])
    assert sent["solver"] == "rodas5p" and sent["linsolve"] == "auto" and sent["stiff_hint"] == -1
    assert sol.u.shape == (3, 3) and sol.status == ps.Status.SUCCESS
    np.testing.assert_allclose(sol.u[:, 0], np.exp(-np.array([0.0, 1.0, 10.0])))
    assert [sol.stats[k] for k in mapping.STAT_NAMES] == list(range(1, 9))
    assert sol.stats["solver"] == "Rodas5P" and sol.stats["t_end"] == 10.0


def test_jax_tracers_are_refused_with_advice(engine):
    jax = pytest.importorskip("jax")
    model = _rober()

    def f(k1):
        req = _request(model)
        req = SolveRequest(**{**req.__dict__, "params": {**req.params, "k1": k1}})
        return engine.solve(req).u.sum()

    with pytest.raises(InputError, match="jax.grad"):
        jax.grad(f)(0.04)


def test_model_compiled_once(engine, fake):
    model = _rober()
    engine.solve(_request(model))
    engine.solve(_request(model, solver=ps.Tsit5()))
    assert sum(c[0] == "compile_model" for c in fake.calls) == 1


@pytest.mark.parametrize("solver,name", [(ps.Tsit5(), "tsit5"), (ps.Dopri5(), "dopri5"),
                                         (ps.Dopri8(), "dopri8"), (ps.Vern7(), "vern7"),
                                         (ps.Rosenbrock23(), "rosenbrock23"), (ps.Rodas4(), "rodas4"),
                                         (ps.Kvaerno5(), "kvaerno5"), (ps.KenCarp4(), "kencarp4"),
                                         (ps.FBDF(), "fbdf"), (ps.QNDF(), "qndf"), ("auto", "auto")])
def test_solver_mapping(engine, fake, solver, name):
    engine.solve(_request(_rober(), solver=solver))
    assert [c for c in fake.calls if c[0] == "bridge_solve"][-1][1]["solver"] == name


def test_auto_stiff_hint_and_linear_solvers(engine, fake):
    model = _rober()
    engine.solve(_request(model, solver=ps.Auto(stiff_hint=True)))
    assert fake.calls[-1][1]["stiff_hint"] == 1
    engine.solve(_request(model, solver=ps.Rodas5P(linsolve=ps.GMRES())))
    assert fake.calls[-1][1]["linsolve"] == "gmres"
    engine.solve(_request(model, solver=ps.Rodas5P(linsolve=ps.DenseLU())))
    assert fake.calls[-1][1]["linsolve"] == "dense"


def test_sparse_lu_pattern_is_exact_for_scalar_models(engine, fake):
    engine.solve(_request(_rober(), solver=ps.Rodas5P(linsolve=ps.SparseLU())))
    sent = fake.calls[-1][1]
    pattern = np.zeros((3, 3), bool)
    pattern[sent["rows"] - 1, sent["cols"] - 1] = True
    # ROBER: y1' depends on y1, y2, y3; y2' on all; y3' on y2 only (+ the diagonal of W)
    want = np.array([[1, 1, 1], [1, 1, 1], [0, 1, 1]], bool)
    np.testing.assert_array_equal(pattern, want)


def test_sparse_lu_given_pattern(engine, fake):
    pat = np.eye(3, dtype=bool)
    pat[0, 2] = True
    engine.solve(_request(_rober(), solver=ps.Rodas5P(linsolve=ps.SparseLU(sparsity=pat))))
    sent = fake.calls[-1][1]
    assert set(zip(sent["rows"], sent["cols"])) == {(1, 1), (2, 2), (3, 3), (1, 3)}


def test_banded_lu_runs_as_sparse_with_its_given_pattern(engine, fake):
    pat = np.eye(3, dtype=bool)
    pat[2, 1] = True  # not ROBER's detected pattern: the given one must be the one sent
    engine.solve(_request(_rober(), solver=ps.Rodas5P(linsolve=ps.BandedLU(sparsity=pat))))
    sent = fake.calls[-1][1]
    assert sent["linsolve"] == "sparse"
    assert set(zip(sent["rows"], sent["cols"])) == {(1, 1), (2, 2), (3, 3), (3, 2)}
    with pytest.raises(InputError, match=r"BandedLU\.sparsity"):
        engine.solve(_request(_rober(), solver=ps.Rodas5P(linsolve=ps.BandedLU(sparsity=np.eye(4, dtype=bool)))))


def test_solve_batch_per_cell_parameters(engine, fake):
    model = _rober()
    k1 = np.array([0.04, 0.05, 0.06, 0.07])
    u0 = np.tile([1.0, 0.0, 0.0], (4, 1))
    sol = engine.solve_batch(_request(model), u0=u0, params={"k1": k1})
    THETA = [c for c in fake.calls if c[0] == "bridge_solve_batch"][-1][1]["THETA"]
    np.testing.assert_array_equal(THETA[:, 0], k1)
    np.testing.assert_array_equal(THETA[:, 1:], np.tile([3e7, 1e4], (4, 1)))
    assert sol.u.shape == (4, 3, 3) and list(sol.status) == [0, 1, 0, 1]
    assert sol.stats["nfev"].shape == (4,)
    with pytest.raises(InputError, match="leading cell axis"):
        engine.solve_batch(_request(model), u0=u0, params={"k1": k1[:3]})


def test_solve_ensemble_goes_through_one_batch_solve(engine, fake):
    from pysciml.engines.requests import Batching

    model = _rober()
    k1 = np.array([0.04, 0.05, 0.06, 0.07])
    done = []
    raw = engine.solve_ensemble(_request(model), np.tile([1.0, 0.0, 0.0], (4, 1)), {"k1": k1},
                                Batching(max_memory=1), None, done.append)
    THETA = [c for c in fake.calls if c[0] == "bridge_solve_batch"][-1][1]["THETA"]
    np.testing.assert_array_equal(THETA[:, 0], k1)
    assert raw.u.shape == (4, 3, 3) and done == [4]
    ev = ps.Event(lambda u, p, t, m: u[0] - 0.5, lambda u, p, t, m: u)
    with pytest.raises(ps.EngineUnavailableError, match="solve_ensemble with events"):
        engine.solve_ensemble(_request(model, events=(ev,)), np.ones((2, 3)), {}, Batching())


def _data(model, n_traj=2, L=5):
    rng = np.random.default_rng(0)
    ts = np.tile(np.linspace(0.1, 1.0, L), (n_traj, 1))
    ys = rng.normal(size=(n_traj, L, model.n_states))
    mask = np.ones_like(ys, dtype=bool)
    mask[0, -1] = False
    ys[0, -1] = np.nan
    return dict(u0=np.ones((n_traj, model.n_states)), t0=0.0, ts=ts, ys=ys, mask=mask,
                scale=np.ones(model.n_states))


def _ude():
    return ps.ODEModel(lv_ude, ["prey", "predator"], {"alpha": ps.Param(1.3, bounds=(0, None)), "delta": 1.8},
                       networks={"nn": ps.MLP(2, 2, width=4, depth=1)})


def test_loss_and_grad_splits_gradient(engine, fake):
    model = _ude()
    nets = model.init_networks()
    res = engine.loss_and_grad(model, network_params=nets, **_data(model))
    theta = np.concatenate([[1.3, 1.8], nets["nn"]])
    assert res.loss == pytest.approx(0.5 * (theta @ theta + 4.0))
    assert res.grad_params["alpha"].shape == () and res.grad_params["alpha"] == pytest.approx(1.3)
    np.testing.assert_allclose(res.grad_networks["nn"], nets["nn"])
    assert res.grad_u0.shape == (2, 2) and res.status.shape == (2,)
    call = fake.calls[-1][1]
    assert (call["adjoint"], call["vjp"]) == ("auto", "auto")


@pytest.mark.parametrize("adjoint,want", [(None, ("auto", "auto")), ("gauss", ("gauss", "auto")),
                                          ("interpolating:zygote", ("interpolating", "zygote")),
                                          (ps.Gauss(vjp="enzyme"), ("gauss", "enzyme")),
                                          (ps.Interpolating(), ("interpolating", "zygote")),
                                          (ps.Quadrature(vjp="reversediff"), ("quadrature", "reversediff")),
                                          (ps.Checkpointed(), ("checkpointed", "auto")),
                                          (ps.Backsolve(), ("backsolve", "auto")),
                                          (ps.Direct(), ("forward", "auto")),
                                          (ps.ForwardDiffSensitivity(), ("forward", "auto")),
                                          ("checkpointed", ("checkpointed", "auto")),
                                          ("direct", ("forward", "auto")),
                                          ("quadrature:reversediff", ("quadrature", "reversediff"))])
def test_adjoint_mapping(engine, fake, adjoint, want):
    model = _ude()
    engine.loss_and_grad(model, adjoint=adjoint, **_data(model))
    call = fake.calls[-1][1]
    assert (call["adjoint"], call["vjp"]) == want


def test_bad_adjoint_and_data_shapes(engine):
    model = _ude()
    with pytest.raises(InputError, match="adjoint"):
        engine.loss_and_grad(model, adjoint="magic", **_data(model))
    d = _data(model)
    d["ys"] = d["ys"][:, :3]
    with pytest.raises(InputError, match="ys"):
        engine.loss_and_grad(model, **d)


def _problem(model, **kw):
    from pysciml.data import as_observations
    from pysciml.fitting.problem import build_fit_request

    t = np.linspace(0.0, 2.0, 9)
    y = np.column_stack([1.0 + 0.1 * t, 2.0 - 0.2 * t])
    y[3, 1] = np.nan
    obs = as_observations((t, y), states=model)
    return build_fit_request(model, obs, **kw)


def test_fit_sends_the_problem_and_builds_the_result(engine, fake):
    model = _ude()
    problem = _problem(model, fixed=["delta"], optimizers=[ps.Adam(0.01, steps=5, schedule="cosine"),
                                                           ps.LBFGS(steps=10, memory=7)],
                       strategy=ps.GrowingHorizon(stages=2, steps=3), adjoint=ps.Gauss(vjp="enzyme"))
    res = engine.fit(problem, FitHooks())
    call = [c for c in fake.calls if c[0] == "bridge_fit"][-1][1]
    nt = 2 + model.networks["nn"].n_params
    assert call["kind"][0] == 1 and call["lo"][0] == 0.0 and list(call["kind"][1:]) == [0] * (nt - 1)
    assert call["free"][0] and not call["free"][1] and call["free"][2:].all()
    np.testing.assert_allclose(call["theta0"][:2], [1.3, 1.8])
    np.testing.assert_allclose(call["z0"][0], problem.free[0].z0)  # the unconstrained start
    assert [st[3] for st in call["stages"]] == [1 / 3, 2 / 3, 1.0, 1.0]
    assert call["stages"][2][:3] == ("adam", 0.01, 5) and call["stages"][2][5] == "cosine"
    assert call["stages"][3][0] == "lbfgs" and call["stages"][3][9] == 7
    assert (call["adjoint"], call["vjp"]) == ("gauss", "enzyme")
    assert res.status == ps.Status.SUCCESS and len(res.loss_history) == 3 + 3 + 5 + 10
    assert [p["name"] for p in res.phases] == ["warm-up horizon 33%", "warm-up horizon 67%",
                                               "single shooting Adam", "single shooting LBFGS"]
    assert res.phases[2]["start"] == 6 and res.phases[2]["stop"] == 11
    assert res.params["alpha"] == pytest.approx(0.65) and res.params["delta"] == pytest.approx(1.8)
    assert res.network_params["nn"].shape == (model.networks["nn"].n_params,)
    assert res.u0.shape == (1, 2) and res.final_loss == pytest.approx(1 / 21)
    assert res.solver == problem.solver


def test_fit_hooks_progress_callback_and_stop(engine):
    from pysciml.engines.requests import FitHooks

    model = _ude()
    problem = _problem(model, strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.01, steps=20)])
    seen, steps = [], []
    hooks = FitHooks(progress=lambda n, loss: steps.append(n),
                     callback=lambda info: seen.append(info) or info["step"] >= 7)
    res = engine.fit(problem, hooks)
    assert res.status == ps.Status.INTERRUPTED and len(res.loss_history) == 7 and sum(steps) == 7
    assert seen[-1]["phase"] == "single shooting Adam" and set(seen[-1]["params"]) == {"alpha", "delta"}
    assert any(e["kind"] == "callback-stop" for e in res.events)


def test_fit_refuses_what_only_jax_does(engine):
    model = _ude()
    with pytest.raises(InputError, match="engine='jax'"):
        engine.fit(_problem(model, strategy=ps.MultipleShooting(segments=2)), FitHooks())
    with pytest.raises(InputError, match="engine='jax'"):
        engine.fit(_problem(model, loss=ps.GaussianNLL()), FitHooks())


def test_sensitivity_splits_columns(engine, fake):
    model = ps.ODEModel(rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4, "A": np.ones((2, 2))})
    out = engine.sensitivity(_request(model), ("u0", "k3", "A")).as_dict()
    call = fake.calls[-1][1]
    assert call["wrt_u0"] and list(call["param_index"]) == [3, 4, 5, 6, 7]
    assert out["u0"].shape == (3, 3, 3) and out["params"]["k3"].shape == (3, 3)
    assert out["params"]["A"].shape == (3, 3, 2, 2)
    # fake J[i, j, c] = i + j + c: u0 columns 0..2, k3 column 3, A columns 4..7
    assert out["params"]["k3"][1, 2] == 1 + 2 + 3 and out["params"]["A"][2, 1, 1, 0] == 2 + 1 + 6
    assert out["status"] == ps.Status.SUCCESS


def test_fixed_steps_and_per_state_atol_are_passed(engine, fake):
    engine.solve(_request(_rober(), solver=ps.Tsit5(), adaptive=False, dt0=0.01))
    assert fake.calls[-1][1]["adaptive"] is False
    sol = engine.solve(_request(_rober(), atol=np.array([1e-8, 1e-12, 1e-8])))
    assert sol.status == 0


def test_rhs_and_info(engine):
    model = _rober()
    a, b = engine.rhs(model, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a, [-1, -2, -3])
    info = engine.info()
    assert info["engine"] == "julia" and "bridge_package" in info and info["julia"] == "fake"
    assert "julia_executable" in JuliaEngine.static_info()


def test_untraceable_model_error_suggests_jax(engine):
    def bad(u, p, t, m):
        return [u[0] if u[0] > 0 else -u[0]]

    with pytest.raises(TraceError, match="engine='jax'"):
        engine.solve(SolveRequest(model=ps.ODEModel(bad, ["a"]), u0=np.ones(1), params={}, network_params={},
                                  t0=0.0, t1=1.0, saveat=np.array([1.0]), solver=ps.Tsit5()))


@pytest.mark.skipif(bool(GRID_REASON), reason=f"grid models unavailable: {GRID_REASON}")
def test_grid_models_send_grid_coefficients(engine, fake):
    model = dict(MODELS)["brusselator_grid"]
    engine.compile(model)
    assert [c[0] for c in fake.calls].count("make_axis") == 2
    assert ("make_grid",) in fake.calls


def test_calls_from_other_threads_are_refused(engine):
    model = _rober()
    errors = []

    def run():
        try:
            engine.solve(_request(model))
        except EngineError as exc:
            errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    th.join()
    assert errors and "main Python thread" in str(errors[0])


# -- availability and start-up ---------------------------------------------------------------
def test_availability_without_juliacall(monkeypatch):
    import importlib.util

    from pysciml.engines.julia import bridge

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "juliacall" else real(n, *a))
    ok, reason = bridge.availability()
    assert not ok and 'pip install "pysciml[julia]"' in reason


def test_availability_offline_without_julia(monkeypatch):
    from pysciml.engines.julia import bridge

    monkeypatch.setattr(bridge, "find_julia", lambda: None)
    monkeypatch.setattr(bridge.importlib.util, "find_spec", lambda n, *a: object())
    monkeypatch.setenv("PYTHON_JULIAPKG_OFFLINE", "yes")
    ok, reason = bridge.availability()
    assert not ok and "PYTHON_JULIAPKG_EXE" in reason and "PYTHON_JULIAPKG_OFFLINE" in reason
    monkeypatch.delenv("PYTHON_JULIAPKG_OFFLINE")
    ok, reason = bridge.availability()
    assert ok and "download" in reason


def _run(code, env_extra, timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.path.join(os.getcwd(), "tests")]))
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


def test_import_and_availability_load_no_juliacall():
    code = ("import sys, pysciml\n"
            "from pysciml.engines.julia import JuliaEngine\n"
            "JuliaEngine.availability(); JuliaEngine.static_info(); pysciml.info(print_it=False)\n"
            "print('juliacall' in sys.modules, 'sympy' in sys.modules)")
    res = _run(code, {})
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["False", "False"]


def test_start_failure_names_the_environment_variables(tmp_path):
    """A Julia that cannot be found or installed fails fast with the fix, no hang, no download."""
    import importlib.util

    from pysciml.engines.julia.bridge import find_julia

    if importlib.util.find_spec("juliacall") is None:  # never import it here: it would start Julia
        pytest.skip("juliacall is not installed")

    if find_julia() is not None:
        pytest.skip("a Julia is installed here; the failure path cannot be exercised")
    code = ("import numpy as np, pysciml as ps\n"
            "from pysciml.engines.julia import JuliaEngine\n"
            "from pysciml.errors import EngineUnavailableError\n"
            "from julia_models import rober\n"
            "m = ps.ODEModel(rober, ['a','b','c'], {'k1': 1.0, 'k2': 1.0, 'k3': 1.0})\n"
            "try:\n"
            "    JuliaEngine().rhs(m, [1.0, 0.0, 0.0])\n"
            "except EngineUnavailableError as e:\n"
            "    print('MSG', e)\n")
    res = _run(code, {"PYTHON_JULIAPKG_OFFLINE": "yes", "PYTHON_JULIAPKG_PROJECT": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert "MSG" in res.stdout and "PYTHON_JULIAPKG_EXE" in res.stdout and "PYTHON_JULIAPKG_OFFLINE" in res.stdout
    assert "installing and compiling Julia packages" in res.stderr


def test_estimator_fit_through_the_julia_engine(fake, monkeypatch):
    """model.fit(data, engine="julia") end to end (estimator -> FitRequest -> bridge -> FitResult)."""
    from pysciml.engines import registry

    monkeypatch.setitem(registry._instances, "julia", JuliaEngine(bridge=JuliaBridge(backend=fake, report_wrap=report_wrapper(FakeMain()))))
    model = ps.UDE(lv_ude, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    t = np.linspace(0.0, 2.0, 9)
    y = np.column_stack([1.0 + 0.1 * t, 2.0 - 0.2 * t])
    model.fit((t, y), engine="julia", verbose=0, optimizers=[ps.Adam(0.01, steps=4), ps.LBFGS(steps=3)])
    assert model.status_ == ps.Status.SUCCESS and model.engine_ == "julia"
    assert model.params_["alpha"] == pytest.approx(0.65)
    assert len(model.loss_history_) == 4 * 500 + 4 + 3  # default growing-horizon warm-up, then ours
    assert [c[0] for c in fake.calls].count("bridge_fit") == 1


# -- every public entry point with engine="julia": runs, or refuses naming the operation ------------------
@pytest.fixture
def julia_registered(monkeypatch, engine):
    """``get_engine("julia")`` returns the engine on the fake bridge."""
    from pysciml.engines import registry

    monkeypatch.setitem(registry._instances, "julia", engine)
    return engine


def _decay_data():
    t = np.linspace(0.0, 2.0, 9)
    return t, np.exp(-0.7 * t)[:, None]


def _decay_model():
    def decay(u, p, t, m):
        return [-p.k * u[0]]

    return ps.ODEModel(decay, ["c"], {"k": ps.Param(1.0, bounds=(0.0, 10.0))})


def _fitted_ude():
    from helpers.lv_data import lotka_volterra_ude, noisy_samples

    model = ps.UDE(lotka_volterra_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    model.fit(noisy_samples(n=12, seed=0), fixed=["alpha", "delta"], engine="jax", verbose=0,
              optimizers=[ps.Adam(1e-2, steps=3)], strategy=ps.SingleShooting())
    return model


ENTRY_POINTS = {
    "solve": lambda: ps.solve(_rober(), [1.0, 0.0, 0.0], (0.0, 1.0), engine="julia", solver=ps.Rodas5P()),
    "ensemble": lambda: ps.solve_ensemble(_rober(), [1.0, 0.0, 0.0], (0.0, 1.0), engine="julia",
                                          solver=ps.Rodas5P(), vary={"k1": [0.04, 0.05]}),
    "sensitivity": lambda: ps.sensitivity(_rober(), [1.0, 0.0, 0.0], (0.0, 1.0), engine="julia",
                                          solver=ps.Rodas5P()),
    "fit": lambda: _decay_model().fit(_decay_data(), engine="julia", verbose=0,
                                      optimizers=[ps.Adam(1e-2, steps=2)], strategy=ps.SingleShooting()),
    "discover-refit": lambda: _refit(_fitted_ude()),
    "gridded-fit": lambda: _gridded()[0].sciml.fit(_gridded()[1], engine="julia", verbose=0),
    "gridded-solve": lambda: _gridded()[0].sciml.solve(_gridded()[1], engine="julia",
                                                       params={"lam": 1.0, "forcing": 0.1}),
    "gridded-forecast": lambda: _gridded()[0].sciml.forecast(_gridded()[1], 2.0, engine="julia",
                                                             u0=0.1, params={"lam": 1.0, "forcing": 0.1}),
    "latent-fit": lambda: ps.LatentODE(engine="julia").fit(_series(), steps=2),
    "latent-predict": lambda: _julia_latent().predict(*_series()[0], np.linspace(0.0, 5.0, 4)),
    "latent-sample": lambda: _julia_latent().sample(np.linspace(0.0, 5.0, 4), n=2),
    "sde-fit": lambda: ps.fit_sde(_ou_sde(), np.zeros((2, 3, 1)), [0.0, 0.1, 0.2], engine="julia", verbose=0),
}


def _ou_sde():
    return ps.SDEModel(lambda u, p, t, m: [p.theta * (p.mu - u[0])], lambda u, p, t, m: [p.sigma + 0.0 * u[0]],
                       ["x"], {"theta": 2.0, "mu": 1.0, "sigma": 0.5}, noise="additive")


def _refit(model):
    from helpers.lv_data import noisy_samples

    return model.discover("nn", threshold=0.0).to_model().fit(
        noisy_samples(n=12, seed=0), engine="julia", verbose=0, optimizers=[ps.Adam(1e-2, steps=2)],
        strategy=ps.SingleShooting())


def _gridded():
    from helpers.gridded_data import gridded, relax_model

    da, _, _ = gridded(ny=2, nx=2, nt=8, land=False)
    return da, relax_model()


def _series():
    from helpers.latent_data import oscillators

    return [(d["t"], d["y"]) for d in oscillators(4, seed=0)]


def _julia_latent():
    lat = ps.LatentODE(n_latent=2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0).fit(_series(), steps=2)
    lat.engine = "julia"  # a model trained on jax, used through the julia engine
    return lat


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_public_entry_points_run_or_refuse_by_name_on_julia(julia_registered, entry):
    try:
        ENTRY_POINTS[entry]()
    except ps.EngineUnavailableError as exc:
        assert "julia engine cannot run" in str(exc) and "engine='jax'" in str(exc)
        assert entry.startswith(("gridded-fit", "latent", "sde")), f"{entry} should run on the julia engine"
    else:
        assert not entry.startswith(("gridded-fit", "latent", "sde")), f"{entry} should be refused"


# -- the seams between Python and Julia (issue 13) --------------------------------------------------
def test_progress_goes_through_the_real_wrapper_with_julias_arity(fake):
    """bridge_fit calls report(step, loss, stage, theta); a wrapper of another arity is a MethodError."""
    from helpers.fake_julia_bridge import JuliaMethodError

    from pysciml.engines.julia.bridge import REPORT_WRAPPER

    main = FakeMain()
    eng = JuliaEngine(bridge=JuliaBridge(backend=fake, report_wrap=report_wrapper(main)))
    problem = _problem(_ude(), strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.01, steps=3)])
    seen = []
    res = eng.fit(problem, FitHooks(progress=lambda n, loss: seen.append(n)))
    assert main.sources == [REPORT_WRAPPER] and sum(seen) == 3 and res.status == ps.Status.SUCCESS
    # negative control: the three-argument closure the bridge used to build
    old = FakeMain().seval("f -> (i, l, s) -> PythonCall.pytruth(f(i, l, s))")
    eng_old = JuliaEngine(bridge=JuliaBridge(backend=FakeJulia(), report_wrap=old))
    with pytest.raises(JuliaMethodError, match="called with 4 arguments"):
        eng_old.fit(problem, FitHooks(progress=lambda n, loss: None))


def test_should_stop_alone_stops_the_fit(engine, fake):
    """The estimator's graceful Ctrl-C (FitHooks.should_stop) is polled even without progress or callback."""
    problem = _problem(_ude(), strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.01, steps=20)])
    res = engine.fit(problem, FitHooks(should_stop=lambda: True))
    assert res.status == ps.Status.INTERRUPTED and len(res.loss_history) == 1
    assert [e["kind"] for e in res.events] == ["interrupted"]
    res = engine.fit(problem, FitHooks())  # nothing can stop it: no report is passed at all
    assert res.status == ps.Status.SUCCESS and len(res.loss_history) == 20
    assert [c[1] for c in fake.calls if c[0] == "bridge_fit"]


def test_ctrl_c_in_the_report_keeps_the_best_parameters(engine):
    """KeyboardInterrupt raised in Python while Julia calls back stops the fit gracefully, as on jax."""
    problem = _problem(_ude(), strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.01, steps=20)])
    calls = []

    def progress(n, loss):
        calls.append(n)
        if len(calls) == 4:
            raise KeyboardInterrupt

    res = engine.fit(problem, FitHooks(progress=progress))
    assert res.status == ps.Status.INTERRUPTED and len(res.loss_history) == 4
    assert res.events[-1]["kind"] == "interrupted" and res.params["alpha"] == pytest.approx(0.65)


def test_rejected_steps_become_events(engine, fake):
    fake.failing_steps = {2, 5}
    problem = _problem(_ude(), strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.01, steps=6)])
    res = engine.fit(problem, FitHooks())
    rejected = [e for e in res.events if e["kind"] == "rejected-step"]
    assert [e["step"] for e in rejected] == [1, 4]  # 0-based steps, as the jax engine numbers them
    assert np.isinf(res.loss_history[[1, 4]]).all() and len(res.loss_history) == 6


class _FakeJuliaError(Exception):
    def __init__(self, exception, backtrace=None):
        super().__init__(exception, backtrace)

    @property
    def exception(self):
        return self.args[0]

    def __str__(self):
        return f"{self.args[0]}\nStacktrace:\n [1] InterruptException mentioned in a frame"


class _FakeJuliaCall:
    """juliacall with just what the bridge's error mapping uses."""

    JuliaError = _FakeJuliaError

    class Main:
        InterruptException = type("InterruptException", (), {})

        @staticmethod
        def isa(x, t):
            return isinstance(x, t)

        @staticmethod
        def showerror(x):
            return f"DomainError: {x}"

        @staticmethod
        def sprint(f, x):
            return f(x)


def test_julia_errors_map_to_engine_errors_without_backtrace():
    from pysciml.engines.julia.bridge import julia_error

    jc = _FakeJuliaCall()
    err = julia_error(jc, _FakeJuliaError("sqrt of -1"), "bridge_solve")
    assert isinstance(err, EngineError) and str(err).endswith("DomainError: sqrt of -1")
    assert "Stacktrace" not in str(err) and "Stacktrace" in err.julia_backtrace
    assert isinstance(julia_error(jc, _FakeJuliaError(jc.Main.InterruptException()), "bridge_fit"), KeyboardInterrupt)


def test_method_errors_on_bridge_arguments_are_engine_errors():
    """PythonCall raises TypeError('Julia: MethodError...') for a bridge function called with wrong types."""

    class Backend:
        @staticmethod
        def bridge_info():
            raise TypeError("Julia: MethodError: no method matching bridge_info(::Int64)")

    bridge = JuliaBridge(backend=Backend())
    bridge._juliacall = _FakeJuliaCall()
    with pytest.raises(EngineError, match="no method for"):
        bridge.call("bridge_info")


# -- the sysimage is keyed on everything it bakes in (issue 13 item 8) -----------------------------
def test_sysimage_is_stale_when_the_bridge_or_julia_changes(tmp_path, monkeypatch):
    import shutil

    from pysciml.engines.julia import package, sysimage

    env = tmp_path / "julia_env"
    shutil.copytree(package.julia_env_path(), env)
    project = tmp_path / "project"
    project.mkdir()
    (project / "Manifest.toml").write_text("# manifest\n")
    image = project / f"pysciml_sysimage.{sysimage._ext()}"
    image.write_bytes(b"image")
    monkeypatch.setattr(sysimage, "_project_dir", lambda: project)
    monkeypatch.setattr(sysimage, "bridge_digest", lambda: package.bridge_digest(env))
    julia = tmp_path / "julia"
    julia.write_text("")

    def record():
        image.with_suffix(".json").write_text(__import__("json").dumps(sysimage._stamp(project, str(julia))))

    record()
    assert sysimage.usable_sysimage(str(julia)) == image
    assert sysimage.usable_sysimage(str(tmp_path / "other-julia")) is None  # another Julia
    assert sysimage.usable_sysimage(None) is None
    with open(env / "src" / "fit.jl", "a") as fp:  # a pysciml upgrade changes the bridge source
        fp.write("\n# changed\n")
    assert sysimage.usable_sysimage(str(julia)) is None
    record()
    (env / "Project.toml").write_text((env / "Project.toml").read_text() + "\n")
    assert sysimage.usable_sysimage(str(julia)) is None
    record()
    (project / "Manifest.toml").write_text("# updated\n")
    assert sysimage.usable_sysimage(str(julia)) is None
    record()
    assert sysimage.usable_sysimage(str(julia)) == image
    # a record of the old format (Manifest only) is stale
    image.with_suffix(".json").write_text('{"manifest_sha256": "x", "julia": "julia"}')
    assert sysimage.usable_sysimage(str(julia)) is None


def test_bridge_precompile_failure_is_named():
    from pysciml.engines.julia.bridge import _explain_start_failure

    msg = _explain_start_failure(Exception("Failed to precompile PySciMLBridge [97cd4065-...] to ..."))
    assert "failed to precompile" in msg and "precompile_workload = false" in msg
    assert "PYTHON_JULIAPKG_EXE" in _explain_start_failure(Exception("could not find julia"))
