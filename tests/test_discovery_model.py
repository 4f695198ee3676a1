"""Equations.to_model: the network replaced by the discovered terms, coefficients as parameters."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import pysciml as ps
from pysciml.discovery import Custom, Equations, Fourier, Polynomial, discover
from pysciml.errors import InputError, ModelError
from pysciml.model_spec import ParamView
from pysciml.numerics import numpy_math

NAMES = ["prey", "predator"]


def lv_true(t, u):
    x, y = u
    return [1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y]


def lotka_volterra(u, p, t, m):
    x, y = u
    f = p.nn(u)
    return [p.alpha * x + f[0], -p.delta * y + f[1]]


def ude():
    return ps.ODEModel(lotka_volterra, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                       networks={"nn": ps.MLP(2, 2, width=8, depth=1)}, time_units="days",
                       u0=[0.44249296, 4.6280594])


def lv_data(noise=0.0, n=120, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 5.0, n))
    X = solve_ivp(lv_true, (0.0, 5.0), [0.44249296, 4.6280594], t_eval=t, rtol=1e-11, atol=1e-12).y.T
    Y = np.c_[-0.9 * X[:, 0] * X[:, 1], 0.8 * X[:, 0] * X[:, 1]]
    return X, Y + noise * np.sqrt(np.mean(Y**2, axis=0)) * rng.standard_normal(Y.shape)


def test_to_model_rhs_equals_true_rhs():
    X, Y = lv_data()
    model = ude()
    eqs = discover(X, Y, input_names=NAMES, library=Polynomial(2), model=model, network="nn")
    refit = eqs.to_model()
    assert isinstance(refit, ps.ODEModel) and refit.networks == {}
    assert refit.param_names == ("alpha", "delta", "nn_0__prey_predator", "nn_1__prey_predator")
    defaults = refit.default_params()
    assert float(defaults["nn_0__prey_predator"]) == eqs.coefficients[0]["prey*predator"]
    assert float(defaults["nn_1__prey_predator"]) == eqs.coefficients[1]["prey*predator"]
    assert eqs.parameters == {k: float(defaults[k]) for k in ("nn_0__prey_predator", "nn_1__prey_predator")}
    for u in X[::10]:
        np.testing.assert_allclose(refit.rhs_numpy(u), lv_true(0.0, u), rtol=1e-11, atol=1e-12)
    # states, units, time units and the default initial state carry over
    assert refit.state_names == model.state_names and refit.time_units == "days"
    np.testing.assert_array_equal(refit.u0, model.u0)
    # coefficients are real parameters: overriding one changes the physics
    u = np.array([1.0, 2.0])
    np.testing.assert_allclose(refit.rhs_numpy(u, params={"nn_0__prey_predator": 0.0}), [1.3, 0.8 * 2 - 3.6],
                               rtol=1e-11)


def test_refit_model_forecasts_the_true_system():
    X, Y = lv_data(noise=0.01)
    eqs = discover(X, Y, input_names=NAMES, model=ude())
    refit = eqs.to_model()
    t = np.linspace(0.0, 10.0, 201)
    u0 = [0.44249296, 4.6280594]
    truth = solve_ivp(lv_true, (0, 10), u0, t_eval=t, rtol=1e-10, atol=1e-12).y
    pred = solve_ivp(lambda t, u: refit.rhs_numpy(u, t), (0, 10), u0, t_eval=t, rtol=1e-10, atol=1e-12).y
    assert np.max(np.abs(pred - truth)) / np.max(np.abs(truth)) < 0.05


def test_attaching_the_model_later_and_naming_it_explicitly():
    X, Y = lv_data()
    eqs = discover(X, Y, input_names=NAMES)
    with pytest.raises(InputError) as err:
        eqs.to_model()
    assert err.value.argument == "model"
    a = eqs.to_model(ude(), "nn", name="lv_refit")
    b = eqs.with_model(ude()).to_model()
    assert a.name == "lv_refit" and b.name == "lotka_volterra_discovered"
    u = np.array([0.7, 1.9])
    np.testing.assert_array_equal(a.rhs_numpy(u), b.rhs_numpy(u))
    # a round trip through JSON keeps everything to_model needs
    c = Equations.from_dict(eqs.to_dict(), model=ude(), network="nn").to_model()
    np.testing.assert_array_equal(c.rhs_numpy(u), a.rhs_numpy(u))


def test_to_model_errors():
    X, Y = lv_data()
    eqs = discover(X, Y, input_names=NAMES)
    with pytest.raises(ModelError) as err:
        eqs.to_model(ude(), "other")
    assert err.value.argument == "network"
    wrong = ps.ODEModel(lotka_volterra, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                        {"nn": ps.MLP(2, 3)})
    with pytest.raises(ModelError) as err:
        eqs.to_model(wrong)
    assert err.value.argument == "network"
    with pytest.raises(InputError) as err:
        eqs.to_model(object())
    assert err.value.argument == "model"


def test_name_clashes_get_a_suffix_and_other_networks_stay():
    def physics(u, p, t, m):
        x, y = u
        f, g = p.nn(u), p.g(u)
        return [p.nn_0__prey_predator * x + f[0] + 0 * g[0], -y + f[1]]

    model = ps.ODEModel(physics, ["prey", "predator"], {"nn_0__prey_predator": 1.3},
                        {"nn": ps.MLP(2, 2), "g": ps.MLP(2, 1)})
    X, Y = lv_data()
    eqs = discover(X, Y, input_names=NAMES)
    refit = eqs.to_model(model)
    assert refit.param_names == ("nn_0__prey_predator", "nn_0__prey_predator_2", "nn_1__prey_predator")
    assert list(refit.networks) == ["g"]
    u = np.array([1.0, 2.0])
    np.testing.assert_allclose(refit.rhs_numpy(u), [1.3 - 0.9 * 2, -2 + 0.8 * 2], rtol=1e-11)


def test_parameter_name_scheme():
    lib = Polynomial(2) + Fourier(1, base_frequency=0.5) + Custom({"sat": "prey/(1 + prey)"})
    feats = lib.features(NAMES)
    C = np.ones((len(feats), 1))
    eqs = Equations(feats, C, input_names=NAMES, output_name="nn")
    names = list(eqs.parameters)
    assert names[:6] == ["nn_0__const", "nn_0__prey", "nn_0__predator", "nn_0__prey_pow2",
                         "nn_0__prey_predator", "nn_0__predator_pow2"]
    assert "nn_0__sin_0_5_prey" in names and "nn_0__sat" in names
    assert all(n.isidentifier() for n in names) and len(set(names)) == len(names)


def test_replacement_network_shapes_constants_and_batches():
    # output 0: a constant only; output 1: nothing kept; output 2: a varying term
    feats = Polynomial(1).features(NAMES)
    C = np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    eqs = Equations(feats, C, input_names=NAMES)

    def physics(u, p, t, m):
        f = p.nn(u)
        return [f[0] + f[1], f[2]]

    model = ps.ODEModel(physics, ["prey", "predator"], networks={"nn": ps.MLP(2, 3)})
    refit = eqs.to_model(model)
    np.testing.assert_allclose(refit.rhs_numpy([3.0, 4.0]), [0.5, 6.0])
    # called on a batch (input axis last) the stand-in gives (batch, n_out), like the MLP
    p = ParamView(refit.default_params())
    captured = {}

    def spy(u, p, t, m):
        captured["net"] = p.nn
        return physics(u, p, t, m)

    spied = eqs.to_model(ps.ODEModel(spy, ["prey", "predator"], networks={"nn": ps.MLP(2, 3)}))
    spied.physics(np.array([1.0, 1.0]), p, 0.0, numpy_math)
    batch = np.random.default_rng(0).uniform(0, 2, (7, 2))
    np.testing.assert_allclose(captured["net"](batch), eqs.predict(batch), rtol=1e-14)
    with pytest.raises(ModelError):
        captured["net"](np.ones(3))


def test_refit_physics_traces_under_jax_with_exact_gradients():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    X, Y = lv_data()
    refit = discover(X, Y, input_names=NAMES, library=Polynomial(2) + Fourier(1)).to_model(ude())
    names = refit.param_names

    @jax.jit
    def rhs(theta, u):
        p = ParamView(dict(zip(names, theta)))
        return refit.layout.pack(refit.physics(u, p, 0.0, jnp), jnp)

    theta = jnp.asarray([float(refit.default_params()[k]) for k in names])
    u = jnp.asarray([1.5, 0.7])
    np.testing.assert_allclose(np.asarray(rhs(theta, u)), refit.rhs_numpy(np.asarray(u)), rtol=1e-13)
    J = np.asarray(jax.jacfwd(rhs)(theta, u))  # d rhs / d parameters
    # d(prey')/d alpha = prey, d(prey')/d nn_0__prey_predator = prey*predator, d(predator')/d delta = -predator
    assert J[0, names.index("alpha")] == pytest.approx(1.5)
    assert J[0, names.index("nn_0__prey_predator")] == pytest.approx(1.5 * 0.7)
    assert J[1, names.index("nn_1__prey_predator")] == pytest.approx(1.5 * 0.7)
    assert J[1, names.index("delta")] == pytest.approx(-0.7)


class SympyMath:
    """A symbolic ``m`` like the one the Julia engine traces with (values are sympy expressions)."""

    def __getattr__(self, name):
        import sympy

        return {"sin": sympy.sin, "cos": sympy.cos, "exp": sympy.exp, "sqrt": sympy.sqrt}[name]

    @staticmethod
    def stack(xs, axis=0):
        return np.array(xs, dtype=object)

    @staticmethod
    def zeros_like(x):
        return 0


def test_refit_physics_traces_symbolically():
    sympy = pytest.importorskip("sympy")
    X, Y = lv_data()
    lib = Polynomial(2) + Fourier(1)
    x, y = X.T
    Y = np.c_[Y[:, 0] + 0.4 * np.sin(y), Y[:, 1]]
    refit = discover(X, Y, input_names=NAMES, library=lib, threshold=0.02).to_model(ude())
    syms = {k: sympy.Symbol(k) for k in refit.param_names}
    prey, predator = sympy.symbols("prey predator")
    u = np.array([prey, predator], dtype=object)
    out = refit.physics(u, ParamView(syms), sympy.Symbol("t"), SympyMath())
    expected = [syms["alpha"] * prey + syms["nn_0__prey_predator"] * prey * predator
                + syms["nn_0__sin_predator"] * sympy.sin(predator),
                -syms["delta"] * predator + syms["nn_1__prey_predator"] * prey * predator]
    assert [sympy.simplify(a - b) for a, b in zip(out, expected)] == [0, 0]
