"""Bad input to ps.solve: each case raises a PySciMLError naming the argument."""

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import InputError, ModelError, PySciMLError


def _lv(u, p, t, m):
    x, y = u
    return [p.a * x - p.b * x * y, p.b * x * y - p.d * y]


def _wrong_len(u, p, t, m):
    return [u[0], u[1], u[0]]


def _missing_param(u, p, t, m):
    return [p.a * u[0], p.zeta * u[1]]


def _branching(u, p, t, m):
    if u[0] > 1.0:
        return [u[0], u[1]]
    return [-u[0], u[1]]


LV = ps.ODEModel(_lv, ["x", "y"], {"a": 1.0, "b": 0.5, "d": 1.0})
GOOD = dict(u0=[1.0, 1.0], t=(0.0, 1.0))

# (id, model, kwargs overriding GOOD, exception class, argument named in the message)
CASES = [
    ("u0-too-short", LV, dict(u0=[1.0]), InputError, "u0"),
    ("u0-too-long", LV, dict(u0=[1.0, 2.0, 3.0]), InputError, "u0"),
    ("u0-nan", LV, dict(u0=[np.nan, 1.0]), InputError, "u0"),
    ("u0-inf", LV, dict(u0=[np.inf, 1.0]), InputError, "u0"),
    ("u0-text", LV, dict(u0="abc"), InputError, "u0"),
    ("u0-missing", LV, dict(u0=None), InputError, "u0"),
    ("u0-mapping-unknown", LV, dict(u0={"x": 1.0, "z": 2.0}), InputError, "u0"),
    ("t-end-before-start", LV, dict(t=(1.0, 0.0)), InputError, "t"),
    ("t-equal", LV, dict(t=(1.0, 1.0)), InputError, "t"),
    ("t-missing", LV, dict(t=None), InputError, "t"),
    ("t-nan", LV, dict(t=(0.0, np.nan)), InputError, "t"),
    ("t-array-unsorted", LV, dict(t=[0.0, 2.0, 1.0]), InputError, "t"),
    ("t-scalar", LV, dict(t=5.0), InputError, "t"),
    ("saveat-decreasing", LV, dict(saveat=[0.5, 0.2]), InputError, "saveat"),
    ("saveat-duplicate", LV, dict(saveat=[0.2, 0.2]), InputError, "saveat"),
    ("saveat-outside", LV, dict(saveat=[0.5, 2.0]), InputError, "saveat"),
    ("saveat-empty", LV, dict(saveat=[]), InputError, "saveat"),
    ("param-unknown", LV, dict(params={"alpha": 1.0}), InputError, "params"),
    ("param-nan", LV, dict(params={"a": np.nan}), InputError, "params.a"),
    ("param-inf", LV, dict(params={"b": np.inf}), InputError, "params.b"),
    ("param-wrong-shape", LV, dict(params={"a": [1.0, 2.0]}), InputError, "params.a"),
    ("params-not-mapping", LV, dict(params=[1.0]), InputError, "params"),
    ("rtol-negative", LV, dict(rtol=-1e-6), InputError, "rtol"),
    ("atol-negative", LV, dict(atol=-1e-8), InputError, "atol"),
    ("atol-zero", LV, dict(atol=0.0), InputError, "atol"),
    ("rtol-nan", LV, dict(rtol=np.nan), InputError, "rtol"),
    ("solver-unknown", LV, dict(solver="rk99"), InputError, "solver"),
    ("solver-julia-only", LV, dict(solver="fbdf"), InputError, "solver"),
    ("max-steps-zero", LV, dict(max_steps=0), InputError, "max_steps"),
    ("dt0-negative", LV, dict(dt0=-0.1), InputError, "dt0"),
    ("fixed-step-without-dt0", LV, dict(adaptive=False), InputError, "dt0"),
    ("engine-unknown", LV, dict(engine="fortran"), InputError, "engine"),
    ("physics-wrong-length", ps.ODEModel(_wrong_len, ["x", "y"], {}), {}, ModelError, "physics"),
    ("physics-missing-param", ps.ODEModel(_missing_param, ["x", "y"], {"a": 1.0}), {}, ModelError, "params"),
    ("physics-branches-on-values", ps.ODEModel(_branching, ["x", "y"], {}), {}, ModelError, "physics"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, jax_engine):
    _id, model, overrides, exc, argument = case
    kwargs = {**GOOD, "solver": ps.Tsit5(), **overrides}
    with pytest.raises(exc) as info:
        ps.solve(model, **kwargs)
    assert isinstance(info.value, PySciMLError)
    assert info.value.argument == argument
    assert str(info.value).startswith(argument)


def test_model_not_a_model():
    with pytest.raises(InputError, match="model"):
        ps.solve(lambda u, p, t, m: u, [1.0], (0, 1))


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(physics=3, states=["x"]), "physics"),
        (dict(physics=lambda u, p: u, states=["x"]), "physics"),
        (dict(physics=_lv, states=[]), "states"),
        (dict(physics=_lv, states=["x", "x"]), "states"),
        (dict(physics=_lv, states=["x y"]), "states"),
        (dict(physics=_lv, states={"u": -3}), "states"),
        (dict(physics=_lv, states=["x"], params={"k": "fast"}), "params.k"),
        (dict(physics=_lv, states=["x"], params={"k": ps.Param(1.0, bounds=(2.0, 3.0))}), "params.k"),
        (dict(physics=_lv, states=["x"], params={"k": ps.Param(1.0, bounds=(3.0, 2.0))}), "params.k"),
        (dict(physics=_lv, states=["x"], networks={"nn": "mlp"}), "networks.nn"),
        (dict(physics=_lv, states=["x"], params={"nn": 1.0}, networks={"nn": ps.MLP(1, 1)}), "networks"),
    ],
)
def test_bad_model_declaration(kwargs, argument):
    with pytest.raises(ModelError) as info:
        ps.ODEModel(**kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(n_in=0, n_out=1), "MLP.n_in"),
        (dict(n_in=2, n_out=1, depth=-1), "MLP.depth"),
        (dict(n_in=2, n_out=1, activation="cosine"), "MLP.activation"),
        (dict(n_in=2, n_out=1, inputs=["a"]), "MLP.inputs"),
    ],
)
def test_bad_network(kwargs, argument):
    with pytest.raises(ModelError) as info:
        ps.MLP(**kwargs)
    assert info.value.argument == argument


def test_network_weights_wrong_size(jax_engine):
    def f(u, p, t, m):
        return p.nn(u)

    model = ps.ODEModel(f, ["x", "y"], networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    with pytest.raises(InputError) as info:
        ps.solve(model, [1.0, 1.0], (0, 1), params={"nn": np.zeros(3)}, solver="tsit5")
    assert info.value.argument == "params.nn"


def test_network_called_with_wrong_size(jax_engine):
    def f(u, p, t, m):
        return p.nn(u[:1])

    model = ps.ODEModel(f, ["x", "y"], networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    with pytest.raises(ModelError) as info:
        ps.solve(model, [1.0, 1.0], (0, 1), solver="tsit5")
    assert info.value.argument == "networks.nn"
