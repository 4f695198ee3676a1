"""Candidate libraries and the feature expression language of pysciml.discovery."""

import dataclasses
import math

import numpy as np
import pytest
import sympy

from pysciml.discovery import ConcatLibrary, Custom, Fourier, Polynomial
from pysciml.discovery.expressions import compile_expression, expression_to_sympy, sympy_to_text
from pysciml.errors import InputError
from pysciml.numerics import numpy_math

NAMES = ["prey", "predator"]
RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 3.0, size=(50, 2))


def sym_equal(a, b):
    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0


# -- Polynomial ---------------------------------------------------------------------------
def test_polynomial_names_and_order():
    assert Polynomial(2).feature_names(NAMES) == [
        "1", "prey", "predator", "prey^2", "prey*predator", "predator^2"]
    assert Polynomial(2, include_bias=False).feature_names(NAMES)[0] == "prey"
    assert Polynomial(3, include_bias=False, interactions=False).feature_names(NAMES) == [
        "prey", "predator", "prey^2", "predator^2", "prey^3", "predator^3"]


@pytest.mark.parametrize("n,d", [(1, 4), (2, 2), (3, 2), (3, 3), (4, 3)])
def test_polynomial_counts(n, d):
    names = [f"s{i}" for i in range(n)]
    assert len(Polynomial(d).feature_names(names)) == math.comb(n + d, d)
    assert len(Polynomial(d, include_bias=False).feature_names(names)) == math.comb(n + d, d) - 1


def test_polynomial_values_and_sympy():
    x, y = X.T
    theta = Polynomial(2).evaluate(X, NAMES)
    np.testing.assert_array_equal(theta, np.c_[np.ones_like(x), x, y, x * x, x * y, y * y])
    p, q = sympy.symbols("prey predator")
    expected = [1, p, q, p**2, p * q, q**2]
    got = Polynomial(2).sympy_features(NAMES)
    assert all(sym_equal(a, b) for a, b in zip(got, expected))


def test_default_names():
    assert Polynomial(1, include_bias=False).feature_names(["x0", "x1"]) == ["x0", "x1"]
    np.testing.assert_array_equal(Polynomial(1, include_bias=False).evaluate(X), X)


def test_evaluate_math_matches_evaluate_numpy():
    lib = Polynomial(3) + Fourier(2) + Custom({"sat": "prey/(1 + prey)"})
    theta = lib.evaluate(X, NAMES)
    for row in (0, 7, 31):
        vals = lib.evaluate_math(X[row], numpy_math, NAMES)
        np.testing.assert_allclose(np.broadcast_to(np.array(vals, dtype=float), theta[row].shape), theta[row],
                                   rtol=1e-14)
    # batched inputs, input axis last
    vals = lib.evaluate_math(X, numpy_math, NAMES)
    np.testing.assert_allclose(np.stack([np.broadcast_to(v, (50,)) for v in vals], 1), theta, rtol=1e-14)


def test_evaluate_math_under_jax_jit():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    lib = Polynomial(2) * Fourier(1) + Custom({"e": (lambda v: np.exp(-v), "exp(-{x})")})
    theta = lib.evaluate(X, NAMES)
    f = jax.jit(lambda x: jnp.stack([jnp.broadcast_to(v, x.shape[:-1]) for v in lib.evaluate_math(x, jnp, NAMES)],
                                    -1))
    np.testing.assert_allclose(np.asarray(f(jnp.asarray(X))), theta, rtol=1e-13)


# -- Fourier ------------------------------------------------------------------------------
def test_fourier_names_values():
    lib = Fourier(2)
    assert lib.feature_names(["a"]) == ["sin(a)", "cos(a)", "sin(2*a)", "cos(2*a)"]
    a = X[:, :1]
    np.testing.assert_allclose(lib.evaluate(a, ["a"]),
                               np.c_[np.sin(a), np.cos(a), np.sin(2 * a), np.cos(2 * a)], rtol=1e-15)
    half = Fourier(1, base_frequency=0.5)
    assert half.feature_names(["a"]) == ["sin(0.5*a)", "cos(0.5*a)"]
    assert sym_equal(half.sympy_features(["a"])[0], sympy.sin(0.5 * sympy.Symbol("a")))


def test_product_and_sum_libraries():
    lib = Polynomial(1, include_bias=False) * Fourier(1)
    assert lib.feature_names(["a", "b"])[:3] == ["a*sin(a)", "a*cos(a)", "a*sin(b)"]
    a, b = X.T
    np.testing.assert_allclose(lib.evaluate(X, ["a", "b"])[:, 2], a * np.sin(b), rtol=1e-15)
    # the bias of a product is dropped in names: 1*sin(a) -> sin(a)
    assert (Polynomial(1) * Fourier(1)).feature_names(["a"]) == ["sin(a)", "cos(a)", "a*sin(a)", "a*cos(a)"]
    # sums concatenate and drop duplicates
    assert (Polynomial(2) + Polynomial(1)).feature_names(NAMES) == Polynomial(2).feature_names(NAMES)
    assert (Polynomial(1) + Fourier(1) + Polynomial(2)).feature_names(["a"]) == [
        "1", "a", "sin(a)", "cos(a)", "a^2"]


def test_libraries_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Polynomial(2).degree = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        Fourier(1).n_frequencies = 2


# -- Custom -------------------------------------------------------------------------------
def test_custom_forms():
    lib = Custom({
        "sat": "prey/(1 + prey)",
        "decay": "exp(-{x})",
        "th": (np.tanh, sympy.tanh),
        "sq": (np.sqrt, "sqrt({x})"),
    })
    assert lib.feature_names(NAMES) == [
        "sat", "decay(prey)", "decay(predator)", "th(prey)", "th(predator)", "sq(prey)", "sq(predator)"]
    x, y = X.T
    np.testing.assert_allclose(
        lib.evaluate(X, NAMES),
        np.c_[x / (1 + x), np.exp(-x), np.exp(-y), np.tanh(x), np.tanh(y), np.sqrt(x), np.sqrt(y)], rtol=1e-14)
    p, q = sympy.symbols("prey predator")
    exp = [p / (1 + p), sympy.exp(-p), sympy.exp(-q), sympy.tanh(p), sympy.tanh(q), sympy.sqrt(p), sympy.sqrt(q)]
    assert all(sym_equal(a, b) for a, b in zip(lib.sympy_features(NAMES), exp))
    # a list of expressions names each feature by its text
    assert Custom(["prey*exp(-predator)"]).feature_names(NAMES) == ["prey*exp(-predator)"]


def test_custom_numpy_and_symbolic_forms_must_agree():
    lib = Custom({"bad": (np.sin, "cos({x})")})
    with pytest.raises(InputError, match="disagree") as err:
        lib.evaluate(X, NAMES)
    assert err.value.argument == "library"


@pytest.mark.parametrize("spec", [{}, [], 3, {"a": 5}, {"a": (np.exp,)}, {"a": ("exp", "exp({x})")}])
def test_custom_bad_specs(spec):
    with pytest.raises(InputError) as err:
        Custom(spec)
    assert err.value.argument == "Custom.functions"


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "prey.real", "prey[0]", "lambda: 1", "open('f')",
    "prey if predator else 1", "unknown_name * prey", "exp(prey, 2)", "'a'", "prey // 2", "prey @ prey",
])
def test_expression_language_rejects_unsafe_or_unknown(text):
    with pytest.raises(InputError):
        compile_expression(text, NAMES)


def test_expression_language_values_and_sympy_round_trip():
    text = "arctan2(prey, predator) + maximum(prey, 1.5) - abs(log1p(prey)) + expm1(predator)**2 / pi"
    f = compile_expression(text, NAMES)
    x, y = X.T
    expected = np.arctan2(x, y) + np.maximum(x, 1.5) - np.abs(np.log1p(x)) + np.expm1(y) ** 2 / np.pi
    np.testing.assert_allclose(f([x, y], numpy_math), expected, rtol=1e-14)
    syms = {n: sympy.Symbol(n) for n in NAMES}
    expr = expression_to_sympy(text, syms)
    back = sympy.lambdify(list(syms.values()), expr, "numpy")(x, y)
    np.testing.assert_allclose(back, expected, rtol=1e-13)
    # sympy -> text -> sympy is the identity (sympy spellings asin, Abs, Max are accepted)
    e2 = expression_to_sympy(sympy_to_text(expr), syms)
    assert sym_equal(expr, e2)
    assert sympy_to_text(sympy.Float(0.1) * syms["prey"]) in ("0.1*prey", "prey*0.1")


def test_bad_input_names():
    with pytest.raises(InputError) as err:
        Polynomial(2).feature_names(["prey", "prey"])
    assert err.value.argument == "input_names"
    with pytest.raises(InputError):
        Polynomial(2).feature_names(["a b", "c"])
    with pytest.raises(InputError):
        Polynomial(0)
    with pytest.raises(InputError):
        Fourier(1, base_frequency=-1.0)


def test_empty_library_raises_on_evaluate():
    with pytest.raises(InputError) as err:
        ConcatLibrary(()).evaluate(X, NAMES)
    assert err.value.argument == "library"
