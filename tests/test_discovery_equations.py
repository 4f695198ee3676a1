"""The Equations result: sympy output, printing, prediction, JSON round trip."""

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy

from pysciml.discovery import Custom, Equations, Fourier, Polynomial, discover
from pysciml.discovery.equations import format_number
from pysciml.errors import FileFormatError, InputError

NAMES = ["prey", "predator"]
RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 4.0, size=(200, 2))
P, Q = sympy.symbols("prey predator")


def make(coefs, library=None, output_name="nn"):
    """Equations with given coefficients {output: {feature: value}} on Polynomial(2) features."""
    library = library or Polynomial(2)
    feats = library.features(NAMES)
    names = [f.name for f in feats]
    C = np.zeros((len(feats), len(coefs)))
    for i, terms in enumerate(coefs):
        for name, v in terms.items():
            C[names.index(name), i] = v
    return Equations(feats, C, input_names=NAMES, output_name=output_name)


def test_sympy_expressions_equal_expected():
    eqs = make([{"prey*predator": -0.9}, {"1": 0.5, "prey": 1.3, "predator^2": -0.0123}])
    assert sympy.simplify(eqs[0] - (-0.9 * P * Q)) == 0
    assert sympy.simplify(eqs[1] - (0.5 + 1.3 * P - 0.0123 * Q**2)) == 0
    assert len(eqs) == 2 and [sympy.simplify(a - b) for a, b in zip(eqs, [eqs[0], eqs[1]])] == [0, 0]
    assert sympy.simplify(eqs[-1] - eqs[1]) == 0 and len(eqs[0:2]) == 2
    with pytest.raises(IndexError):
        eqs[2]
    # rounding for display
    eq = make([{"prey*predator": -0.8987654321}])
    assert sympy.simplify(eq.expression(0, digits=2) - (-0.9 * P * Q)) == 0


def test_discovered_sympy_matches_truth():
    x, y = X.T
    Y = np.c_[-0.9 * x * y, 1.3 * x - 0.25 * y**2 + 0.5]
    eqs = discover(X, Y, input_names=NAMES, library=Polynomial(2), threshold=0.01)
    rounded = [e.xreplace({n: sympy.Float(round(float(n), 10)) for n in e.atoms(sympy.Float)}) for e in eqs]
    assert sympy.simplify(rounded[0] - (-0.9 * P * Q)) == 0
    assert sympy.simplify(rounded[1] - (1.3 * P - 0.25 * Q**2 + 0.5)) == 0


def test_printing_format():
    eqs = make([{"prey*predator": -0.9}, {"1": 0.5, "prey": 1.3, "predator^2": -0.0123}, {}])
    assert str(eqs) == (
        "nn[0] = -0.900*prey*predator\n"
        "nn[1] = 0.500 + 1.30*prey - 0.0123*predator^2\n"
        "nn[2] = 0"
    )
    assert repr(eqs) == str(eqs)
    assert eqs.format(digits=2).splitlines()[0] == "nn[0] = -0.90*prey*predator"
    assert eqs.equation(1, digits=4) == "nn[1] = 0.5000 + 1.300*prey - 0.01230*predator^2"
    assert "R²" in eqs.summary() and "-0.9" in eqs.summary()
    # full precision stays available
    eq = make([{"prey": -0.123456789012345}])
    assert eq.coefficients[0]["prey"] == -0.123456789012345
    assert str(eq) == "nn[0] = -0.123*prey"
    # composite feature names are bracketed
    lib = Custom({"sat": "prey/(1 + prey)"})
    eq = make([{"sat": 2.0}], library=lib)
    assert str(eq) == "nn[0] = 2.00*sat"
    eq = Equations(Custom(["prey/(1 + prey)"]).features(NAMES), [[2.0]], input_names=NAMES, output_name="f")
    assert str(eq) == "f[0] = 2.00*(prey/(1 + prey))"


@pytest.mark.parametrize("value,digits,text", [
    (-0.9, 3, "-0.900"), (0.9, 2, "0.90"), (1.3, 3, "1.30"), (12345.6, 3, "12346"), (0.0123, 3, "0.0123"),
    (1.5e-5, 3, "1.50e-05"), (2e6, 3, "2.00e+06"), (0.0, 3, "0"), (99.96, 3, "100"), (0.99996, 3, "1.00"), (-7.0, 4, "-7.000"),
])
def test_format_number(value, digits, text):
    assert format_number(value, digits) == text


def test_predict_matches_lambdified_sympy_and_data():
    x, y = X.T
    lib = Polynomial(2) + Fourier(1) + Custom({"decay": (lambda v: np.exp(-v), "exp(-{x})")})
    Y = np.c_[-0.9 * x * y + 0.7 * np.sin(y), 0.4 * np.exp(-x) - 1.1]
    eqs = discover(X, Y, input_names=NAMES, library=lib, threshold=0.02)
    np.testing.assert_allclose(eqs.predict(X), Y, rtol=1e-9, atol=1e-12)
    for i, expr in enumerate(eqs):
        f = sympy.lambdify([P, Q], expr, "numpy")
        np.testing.assert_allclose(np.broadcast_to(f(x, y), (len(x),)), eqs.predict(X)[:, i], rtol=1e-12)
    np.testing.assert_allclose(eqs.r2, 1.0, rtol=1e-12)
    with pytest.raises(InputError) as err:
        eqs.predict(X[:, :1])
    assert err.value.argument == "X"


def test_json_round_trip_is_exact():
    x, y = X.T
    Y = np.c_[-0.9 * x * y, 0.8 * x * y] + 0.01 * RNG.standard_normal((200, 2))
    lib = Polynomial(2) + Fourier(1, base_frequency=0.3) + Custom({"sat": "prey/(1 + prey)",
                                                                  "th": (np.tanh, sympy.tanh)})
    for threshold in (0.05, "auto"):
        eqs = discover(X, Y, input_names=NAMES, library=lib, threshold=threshold)
        d = eqs.to_dict()
        text = json.dumps(d, allow_nan=False)
        back = Equations.from_dict(json.loads(text))
        assert back.to_dict() == d
        np.testing.assert_array_equal(back.coefficient_matrix, eqs.coefficient_matrix)
        np.testing.assert_array_equal(back.predict(X), eqs.predict(X))
        assert str(back) == str(eqs) and back.coefficients == eqs.coefficients
        assert [sympy.simplify(a - b) for a, b in zip(back, eqs)] == [0, 0]
        np.testing.assert_array_equal(back.r2, eqs.r2)


def test_from_dict_rejects_bad_records_without_evaluating_them(tmp_path):
    eqs = make([{"prey": 1.0}])
    d = eqs.to_dict()
    with pytest.raises(FileFormatError):
        Equations.from_dict({**d, "format": "something"})
    with pytest.raises(FileFormatError):
        Equations.from_dict({**d, "version": 99})
    with pytest.raises(FileFormatError):
        Equations.from_dict({k: v for k, v in d.items() if k != "coefficients"})
    marker = tmp_path / "pwned"
    evil = dict(d, features=[dict(f) for f in d["features"]])
    evil["features"][0]["expression"] = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(FileFormatError):
        Equations.from_dict(evil)
    assert not marker.exists()


def test_bad_construction():
    feats = Polynomial(1).features(NAMES)
    with pytest.raises(InputError):
        Equations(feats, np.zeros((2, 1)), input_names=NAMES)
    with pytest.raises(InputError):
        Equations(feats, np.zeros((3, 1)), input_names=["prey", "prey"])


def test_import_and_discover_need_no_sympy_or_engine():
    code = (
        "import sys, numpy as np\n"
        "import pysciml.discovery as d\n"
        "X = np.random.default_rng(0).uniform(0.1, 2, (50, 2))\n"
        "e = d.discover(X, X[:, :1] * X[:, 1:], input_names=['a', 'b'])\n"
        "print(e); e.predict(X); e.to_dict()\n"
        "bad = [m for m in ('sympy', 'jax', 'juliacall', 'pysindy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "nn[0] = 1.00*a*b"
