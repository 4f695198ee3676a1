"""The UDE workflow of issue 4 on Lotka-Volterra: fit, discover, refit, forecast."""

import numpy as np
import pytest
import sympy
from helpers.lv_data import lotka_volterra_ude, noisy_samples, truth

import pysciml as ps


@pytest.fixture(scope="module")
def lv_fit(jax_engine):
    t, y = noisy_samples(n=40, noise=0.01, seed=0)
    model = ps.UDE(lotka_volterra_ude, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=32, depth=2, activation="tanh")})
    model.fit((t, y), fixed=["alpha", "delta"], seed=0, verbose=0)
    return model, t, y


def test_ude_reaches_noise_floor(lv_fit):
    model, t, y = lv_fit
    assert model.status_ is ps.Status.SUCCESS, model.message_
    floor = np.mean(((y - truth(t)) / y.std(0)) ** 2)  # loss of the true model
    assert model.loss_ < 2.0 * floor, (model.loss_, floor)
    assert model.loss_history_.size == model.n_iter_ > 0
    assert [p["name"] for p in model.phases_][-1].endswith("LBFGS")


def test_discovery_finds_the_interaction(lv_fit):
    model, _, _ = lv_fit
    eqs = model.discover("nn", library=ps.Polynomial(degree=2), threshold=0.05)
    prey, predator = sympy.symbols("prey predator")
    for i, coef in ((0, -0.9), (1, 0.8)):
        terms = eqs.terms(i)
        assert [f.name for f, _ in terms] == ["prey*predator"], str(eqs)
        assert abs(terms[0][1] - coef) < 0.05 * abs(coef)
        assert sympy.simplify(eqs[i] - terms[0][1] * prey * predator) == 0
    assert "nn[0] =" in str(eqs) and "prey*predator" in str(eqs)


def test_refit_forecast_beats_neural_ode(lv_fit):
    model, t, y = lv_fit
    refit = model.discover("nn", threshold=0.05).to_model()
    assert not refit.networks
    refit.fit((t, y), strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=200)], verbose=0)
    for name, true in (("nn_0__prey_predator", -0.9), ("nn_1__prey_predator", 0.8), ("alpha", 1.3), ("delta", 1.8)):
        assert abs(refit.params_[name] - true) < 0.03 * abs(true), (name, refit.params_[name])
        # the Laplace standard error is small and consistent with the truth
        assert abs(refit.params_[name] - true) < 5 * refit.param_std_[name] + 1e-3
    node = ps.NeuralODE(["prey", "predator"])
    node.fit((t, y), seed=0, verbose=0)
    mse = {}
    for name, m in (("refit", refit), ("node", node)):
        fc = m.forecast(5.0, n=101)  # from the last observation (t ~ 5) to t ~ 10
        ts = fc["time"].values
        assert ts[0] == t[-1] and ts[-1] == pytest.approx(t[-1] + 5.0)
        exact = truth(np.concatenate([[0.0], ts]))[1:]
        mse[name] = np.mean((np.stack([fc["prey"].values, fc["predator"].values], 1) - exact) ** 2)
    assert mse["node"] > 10 * mse["refit"], mse
