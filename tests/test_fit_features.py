"""Fitting features: trajectories, losses, bounds, strategies, guards, callbacks, uncertainty, persistence."""

import json

import numpy as np
import pytest
from helpers.lv_data import lotka_volterra, noisy_samples
from scipy.optimize import curve_fit

import pysciml as ps
from pysciml.errors import DataError, FileFormatError, InputError, PySciMLError


def _decay(u, p, t, m):
    return -p.k * u


@pytest.fixture
def decay_model():
    return ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.3, bounds=(0.0, None), units="1/day")})


def test_laplace_std_matches_curve_fit(decay_model, jax_engine):
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 4, 30))
    t[0] = 0.0
    y = 2.0 * np.exp(-0.7 * t) + 0.02 * rng.standard_normal(t.size)
    decay_model.fit((t, y), u0=[2.0], optimizers=[ps.LBFGS(steps=100)], strategy=ps.SingleShooting(),
                    rtol=1e-10, atol=1e-12, verbose=0)
    popt, pcov = curve_fit(lambda tt, k: 2.0 * np.exp(-k * tt), t, y, p0=[0.5])
    assert decay_model.params_["k"] == pytest.approx(popt[0], rel=1e-6)
    assert decay_model.param_std_["k"] == pytest.approx(np.sqrt(pcov[0, 0]), rel=1e-3)


def test_several_irregular_trajectories_with_gaps(jax_engine):
    model = ps.ODEModel(lotka_volterra, ["prey", "predator"],
                        {"alpha": 1.0, "beta": 0.5, "gamma": 0.5, "delta": 1.0})
    data = []
    for seed in (1, 2, 3):
        t, y = noisy_samples(n=25 + seed, noise=0.005, seed=seed)
        y[seed::5, seed % 2] = np.nan  # missing values, different per trajectory
        data.append((t, y))
    model.fit(data, strategy=ps.SingleShooting(), optimizers=[ps.Adam(2e-2, steps=200), ps.LBFGS(steps=200)],
              verbose=0)
    assert model.u0_.shape == (3, 2)
    for k, v in {"alpha": 1.3, "beta": 0.9, "gamma": 0.8, "delta": 1.8}.items():
        assert model.params_[k] == pytest.approx(v, rel=0.02)
    assert model.score() > 0.99


@pytest.mark.parametrize("strategy", [ps.MultipleShooting(segments=4), ps.Collocation(steps=300)],
                         ids=["multiple-shooting", "collocation"])
def test_strategies_recover_physics_from_a_poor_start(strategy, jax_engine):
    t, y = noisy_samples(n=60, noise=0.005, t_end=10.0, seed=4)
    model = ps.ODEModel(lotka_volterra, ["prey", "predator"],
                        {"alpha": ps.Param(0.6, bounds=(0, None)), "beta": ps.Param(0.3, bounds=(0, None)),
                         "gamma": ps.Param(0.3, bounds=(0, None)), "delta": ps.Param(0.6, bounds=(0, None))})
    model.fit((t, y), strategy=strategy, optimizers=[ps.Adam(2e-2, steps=400), ps.LBFGS(steps=200)], verbose=0)
    assert model.status_ is ps.Status.SUCCESS
    for k, v in {"alpha": 1.3, "beta": 0.9, "gamma": 0.8, "delta": 1.8}.items():
        assert model.params_[k] == pytest.approx(v, rel=0.03), (k, model.params_)
    names = [p["name"] for p in model.phases_]
    assert names[0].startswith("multiple shooting" if isinstance(strategy, ps.MultipleShooting) else "collocation")


def test_bounds_keep_parameters_inside(jax_engine):
    model = ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.3, bounds=(0.1, 0.4))})
    t = np.linspace(0, 3, 20)
    model.fit((t, np.exp(-0.9 * t)), strategy=ps.SingleShooting(), optimizers=[ps.Adam(5e-2, steps=200)], verbose=0)
    assert 0.1 < model.params_["k"] < 0.4
    assert model.params_["k"] == pytest.approx(0.4, abs=0.01)  # pushed against the bound


def test_gaussian_nll_learns_the_noise_level(decay_model, jax_engine):
    rng = np.random.default_rng(5)
    t = np.linspace(0, 5, 200)
    y = 3.0 * np.exp(-0.4 * t) + 0.05 * rng.standard_normal(t.size)
    decay_model.fit((t, y), loss=ps.GaussianNLL(sigma="fit"), strategy=ps.SingleShooting(),
                    optimizers=[ps.Adam(5e-2, steps=600), ps.LBFGS(steps=200)], verbose=0)
    assert decay_model.params_["k"] == pytest.approx(0.4, rel=0.02)
    assert decay_model.sigma_[0] == pytest.approx(0.05, rel=0.15)


def test_nan_blowup_is_rejected_and_recorded(jax_engine):
    def fragile(u, p, t, m):  # NaN whenever the optimiser pushes a below zero
        return -m.sqrt(p.a) * u

    model = ps.ODEModel(fragile, ["y"], {"a": 0.05})
    t = np.linspace(0, 2, 20)
    model.fit((t, np.exp(-0.1 * t)), strategy=ps.SingleShooting(), optimizers=[ps.Adam(0.2, steps=150, clip=None)],
              u0=[1.0], verbose=0)
    rejected = [e for e in model.events_ if e["kind"] == "rejected-step"]
    assert rejected and all("learning rate halved" in e["detail"] for e in rejected)
    h = model.loss_history_
    assert np.isnan(h[[e["step"] for e in rejected]]).all()  # the history records the rejected steps
    assert np.isfinite(model.loss_) and 0 < model.params_["a"] < 0.05
    assert model.loss_ < 1e-6 * h[0]  # training resumed from the last good parameters and converged
    assert model.params_["a"] == pytest.approx(0.01, rel=1e-3)


def test_callback_can_stop_and_sees_progress(decay_model, jax_engine):
    seen = []

    def callback(info):
        seen.append(info)
        return info["step"] >= 100

    t = np.linspace(0, 3, 20)
    decay_model.fit((t, np.exp(-0.7 * t)), strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=1000)],
                    callback=callback, verbose=0)
    assert decay_model.status_ is ps.Status.INTERRUPTED
    assert 100 <= decay_model.n_iter_ < 1000
    assert {"phase", "step", "loss", "params"} <= set(seen[0]) and "k" in seen[0]["params"]


def test_progress_bar_and_silence(decay_model, jax_engine, capsys):
    t = np.linspace(0, 3, 20)
    decay_model.fit((t, np.exp(-0.7 * t)), strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=60)],
                    verbose=0)
    assert capsys.readouterr().err == ""
    decay_model.fit((t, np.exp(-0.7 * t)), strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=60)],
                    verbose=1)
    err = capsys.readouterr().err
    assert "loss" in err and "60/60" in err


def test_early_stopping(decay_model, jax_engine):
    t = np.linspace(0, 3, 20)
    decay_model.fit((t, np.exp(-0.3 * t)), u0=[1.0], strategy=ps.SingleShooting(),
                    optimizers=[ps.Adam(1e-2, steps=5000, patience=100)], verbose=0)
    assert decay_model.n_iter_ < 5000
    assert any(e["kind"] == "stop" and "early stop" in e["detail"] for e in decay_model.events_)


def test_save_load_round_trip(tmp_path, jax_engine):
    from helpers.lv_data import lotka_volterra_ude

    t, y = noisy_samples(n=20, seed=6)
    model = ps.UDE(lotka_volterra_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=8, depth=1)})
    model.fit((t, y), strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=50)], verbose=0)
    model.save(tmp_path / "lv_fit")
    loaded = ps.load(tmp_path / "lv_fit", physics=lotka_volterra_ude)
    for k, v in model.params_.items():
        assert loaded.params_[k] == v
    np.testing.assert_array_equal(loaded.network_params_["nn"], model.network_params_["nn"])
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)
    assert loaded.status_ is model.status_ and loaded.events_ == model.events_
    np.testing.assert_array_equal(loaded.predict()["prey"].values, model.predict()["prey"].values)
    # the physics is found without passing it, when its module is loaded (never imported by load)
    assert ps.load(tmp_path / "lv_fit").physics is lotka_volterra_ude
    # files are JSON + npz only; unknown versions are refused
    doc = json.loads((tmp_path / "lv_fit.json").read_text())
    doc["version"] = 99
    (tmp_path / "lv_fit.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="version"):
        ps.load(tmp_path / "lv_fit", physics=lotka_volterra_ude)


def test_xarray_input_with_a_noleap_calendar(jax_engine):
    xr = pytest.importorskip("xarray")
    cftime = pytest.importorskip("cftime")
    times = [cftime.DatetimeNoLeap(2001, 1, 1) + __import__("datetime").timedelta(days=int(d))
             for d in np.arange(0, 730, 10)]
    days = np.arange(0, 730, 10, dtype=float)
    ds = xr.Dataset({"y": ("time", 5.0 * np.exp(-0.002 * days), {"units": "K"})}, coords={"time": times})
    model = ps.ODEModel(_decay, ["y"], {"k": 0.01})
    model.fit(ds, time_units="days", strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=100)], verbose=0)
    assert model.params_["k"] == pytest.approx(0.002, rel=1e-4)
    pred = model.predict()
    assert isinstance(pred["time"].values[0], cftime.DatetimeNoLeap)
    assert pred["y"].attrs.get("units") == "K"
    assert "pysciml" in pred.attrs["history"]


def _lv_net_model(n_in=2):
    from helpers.lv_data import lotka_volterra_ude

    return ps.UDE(lotka_volterra_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                  networks={"nn": ps.MLP(n_in, 2, width=4, depth=1)})


@pytest.mark.parametrize(
    "data, kwargs, exc, argument",
    [
        (np.ones((5, 2)), {}, DataError, "data"),  # no time axis
        ((np.array([0.0, 2.0, 1.0]), np.ones((3, 2))), {}, DataError, "data"),  # unsorted times
        ((np.array([0.0, 1.0, 1.0]), np.ones((3, 2))), {}, DataError, "data"),  # duplicate times
        ([(np.arange(3.0), np.ones((3, 2))), (np.arange(3.0), np.full((3, 2), np.nan))], {}, DataError, "data[1]"),
        ((np.arange(3.0), np.ones((3, 2))), {"optimizers": [ps.LBFGS(steps=1), "sgd"]}, InputError, "optimizers"),
        ((np.arange(3.0), np.ones((3, 2))), {"strategy": "annealing"}, InputError, "strategy"),
        ((np.arange(3.0), np.ones((3, 2))), {"fit": ["alpha", "omega"]}, InputError, "fit"),
        ((np.arange(3.0), np.ones((3, 2))), {"l2": -1.0}, InputError, "l2"),
        ((np.arange(3.0), np.ones((3, 2))), {"seed": 1.5}, InputError, "seed"),
        ((np.arange(3.0), np.ones((3, 2))), {"callback": 3}, InputError, "callback"),
        ((np.arange(3.0), np.ones((3, 2))), {"fit_u0": "maybe"}, InputError, "fit_u0"),
        ((np.arange(3.0), np.ones((3, 2))), {"u0": [1.0]}, InputError, "u0"),
    ],
)
def test_fit_bad_input(data, kwargs, exc, argument, jax_engine):
    with pytest.raises(exc) as info:
        _lv_net_model().fit(data, verbose=0, **kwargs)
    assert info.value.argument == argument


def test_unknown_optimizer_option_names_the_optimizer():
    with pytest.raises(InputError) as info:
        ps.Adam(lr=0.1)
    assert info.value.argument == "Adam" and "learning_rate" in str(info.value)
    with pytest.raises(InputError, match="LBFGS.steps"):
        ps.LBFGS(steps=0)


def test_network_size_mismatch_is_a_clear_error(jax_engine):
    model = _lv_net_model(n_in=3)
    with pytest.raises(PySciMLError) as info:
        model.fit((np.arange(4.0), np.ones((4, 2))), verbose=0, optimizers=[ps.Adam(steps=1)])
    assert info.value.argument == "networks.nn"


def test_predict_before_fit():
    with pytest.raises(InputError, match="fit"):
        _lv_net_model().predict()
