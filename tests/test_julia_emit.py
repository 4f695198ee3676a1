"""Julia engine, no Julia needed: tracing, emitted source and its numeric meaning.

For every example model:
* the emitted Julia parses with tree-sitter-julia (no ERROR node) and lints clean
  with ``fatou lint``;
* the traced program evaluated with numpy (``sympy.lambdify``) equals the physics
  evaluated with ``jax.numpy`` as ``m``, on random inputs, to 1e-12.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import sympy
from helpers.julia_models import example_models

import pysciml as ps
from pysciml.engines.julia.emit import build_program, julia_code, julia_source, program_for
from pysciml.engines.julia.evaluate import evaluate_program
from pysciml.engines.julia.symbolic import Maximum, Where
from pysciml.engines.julia.trace import trace_model
from pysciml.errors import ModelError, TraceError
from pysciml.model_spec import ParamView

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

MODELS, GRID_REASON = example_models()
IDS = [name for name, _ in MODELS]


# -- the jax engine's math namespace (or a tiny jax.numpy-backed stand-in) ----------------
class JnpMath:
    name = "jnp-test"
    pi = np.pi
    e = np.e

    def __getattr__(self, name):
        if name in ("laplacian", "advect", "gradient", "divergence"):
            from pysciml.engines.jax import gridops

            return getattr(gridops, name)
        return getattr(jnp, name)

    @staticmethod
    def heaviside(x, h0=0.5):
        return jnp.heaviside(x, h0)


_ACT = {
    "tanh": jnp.tanh, "relu": lambda x: jnp.maximum(x, 0.0), "identity": lambda x: x,
    "softplus": lambda x: jnp.logaddexp(x, 0.0), "sigmoid": lambda x: 1 / (1 + jnp.exp(-x)),
    "swish": lambda x: x / (1 + jnp.exp(-x)), "rbf": lambda x: jnp.exp(-x**2),
    "gelu": lambda x: 0.5 * x * (1 + jnp.tanh(jnp.sqrt(2 / jnp.pi) * (x + 0.044715 * x**3))),
    "elu": lambda x: jnp.where(x > 0, x, jnp.expm1(jnp.minimum(x, 0.0))),
}


def _jnp_net(mlp, theta):
    layers = mlp.unflatten(jnp.asarray(theta))

    def f(x):
        x = jnp.stack([jnp.asarray(v) for v in x], axis=-1) if isinstance(x, (list, tuple)) else jnp.asarray(x)
        for i, (w, b) in enumerate(layers):
            x = x @ w.T + b
            x = _ACT[mlp.final_activation if i == len(layers) - 1 else mlp.activation](x)
        return x

    return f


def _random_inputs(model, rng):
    u = rng.uniform(0.2, 1.5, model.n_states)
    phys, values = [], {}
    for name, spec in model.param_specs.items():
        v = spec.default * rng.uniform(0.5, 1.5, spec.shape) if spec.size else spec.default
        values[name] = np.asarray(v, dtype=float)
        phys.append(np.asarray(v, dtype=float).reshape(-1))
    phys = np.concatenate(phys) if phys else np.zeros(0)
    nets = {k: net.init(3) * 5.0 for k, net in model.networks.items()}  # not near zero
    return u, phys, values, nets, float(rng.uniform(0, 2))


def _jax_math():
    try:
        from pysciml.engines.jax.numerics import jax_math
    except ImportError:
        return JnpMath()
    return jax_math


def _jnp_rhs(model, u, values, nets, t):
    view = ParamView({k: jnp.asarray(v) for k, v in values.items()},
                     {k: _jnp_net(model.networks[k], w) for k, w in nets.items()})
    out = model.physics(model.layout.view(jnp.asarray(u)), view, t, _jax_math())
    return np.asarray(model.layout.pack(out, jnp))


def test_grid_models_present_or_reason():
    if GRID_REASON:
        pytest.skip(f"grid example models not built: {GRID_REASON}")
    assert any(name.startswith("brusselator") for name in IDS)


@pytest.mark.parametrize("name,model", MODELS, ids=IDS)
def test_traced_program_matches_jax_rhs(name, model):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    prog = program_for(model).program
    for _ in range(3):
        u, phys, values, nets, t = _random_inputs(model, rng)
        got = evaluate_program(prog, u, phys, t, nets)
        want = _jnp_rhs(model, u, values, nets, t)
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)


def _parser():
    ts = pytest.importorskip("tree_sitter")
    tsj = pytest.importorskip("tree_sitter_julia")
    return ts.Parser(ts.Language(tsj.language()))


def _error_nodes(node):
    out = []
    if node.type == "ERROR" or node.is_missing:
        out.append(node)
    for c in node.children:
        out += _error_nodes(c)
    return out


@pytest.mark.parametrize("name,model", MODELS, ids=IDS)
def test_emitted_source_parses(name, model):
    src = program_for(model).source
    tree = _parser().parse(src.encode())
    bad = _error_nodes(tree.root_node)
    assert not bad, [src.encode()[n.start_byte:n.end_byte + 20] for n in bad]
    assert "function rhs!(du, u, p, t, K)" in src and "function rhs(u, p, t, K)" in src


@pytest.mark.parametrize("name,model", MODELS, ids=IDS)
def test_emitted_source_lints_clean(name, model, tmp_path):
    fatou = shutil.which("fatou")
    if fatou is None:
        pytest.skip("fatou is not installed (pip install fatou)")
    f = tmp_path / f"{name}.jl"
    f.write_text(program_for(model).source)
    res = subprocess.run([fatou, "lint", "--no-config", "--color", "never", str(f)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_shaped_states_are_traced_once():
    """A 2,048-value grid state is one symbol, not 2,048."""
    def decay(u, p, t, m):
        return -p.k * u + m.exp(-u)

    model = ps.ODEModel(decay, states={"c": (32, 64)}, params={"k": 0.5})
    tr = trace_model(model)
    assert tr.mode == "broadcast" and len(tr.state_leaves) == 1 and tr.n_states == 2048
    src = program_for(model).source
    assert src.count("u[") == 0 and "reshape(view(u, 1:2048), 64, 32)" in src
    u = np.random.default_rng(0).uniform(size=2048)
    np.testing.assert_allclose(evaluate_program(build_program(tr), u, [0.5], 0.0),
                               model.rhs_numpy(u), rtol=1e-14)


def test_outputs_and_cse():
    model = dict(MODELS)["rober"]
    src = program_for(model).source
    # the shared subexpression k2*y2^2 is computed once per function
    assert src.count("p_k2 * u_y2 ^ 2") == 2
    assert "du[3] = x2" in src


# -- untraceable physics ------------------------------------------------------------------
def _raises(physics, states=("a", "b"), params=None, match=None):
    model = ps.ODEModel(physics, list(states) if not isinstance(states, dict) else states,
                        params or {"k": 1.0})
    with pytest.raises(TraceError, match=match) as info:
        program_for(model)
    return str(info.value)


def test_python_branch_on_value_is_a_trace_error_with_line_and_fix():
    def bad(u, p, t, m):
        a, b = u
        if a > 0:  # value-dependent control flow
            return [a, b]
        return [b, a]

    msg = _raises(bad, match="m.where")
    assert "line" in msg and "if a > 0" in msg and "engine='jax'" in msg


def test_python_branch_on_array_state():
    def bad(u, p, t, m):
        return [-u.c] if (u.c > 0.5).sum() else [u.c]

    def bad2(u, p, t, m):
        c = u
        while c > 0:
            c = c - 1
        return c

    with pytest.raises(TraceError, match="m.where"):
        program_for(ps.ODEModel(bad2, states={"c": 4}))
    _ = bad


def test_numpy_function_and_float_conversion_are_trace_errors():
    import math

    def np_call(u, p, t, m):
        return [np.exp(u[0]), u[1]]

    def to_float(u, p, t, m):
        return [math.exp(u[0]), u[1]]

    assert "m.*" in _raises(np_call) or "m.exp" in _raises(np_call)
    assert "Python number" in _raises(to_float)


def test_unknown_math_function_names_itself_and_jax():
    def fft(u, p, t, m):
        return m.fft.fft(u)

    msg = _raises(fft, match="m.fft")
    assert "engine='jax'" in msg and "MATH_CONTRACT" in msg


def test_unsupported_array_operations():
    def mm(u, p, t, m):
        return [m.matmul(u.a, u.b), u.b]

    def fancy(u, p, t, m):
        return u[[0, 2, 1]] * 0 + u

    with pytest.raises(TraceError, match="matmul"):
        program_for(ps.ODEModel(mm, {"a": 3, "b": 3}))
    with pytest.raises(TraceError, match="fancy indexing"):
        program_for(ps.ODEModel(fancy, {"c": 3}))


def test_network_input_size_is_checked():
    def wrong(u, p, t, m):
        x, y = u
        f = p.nn([x])
        return [f[0], f[1]]

    model = ps.ODEModel(wrong, ["x", "y"], networks={"nn": ps.MLP(2, 2, width=4, depth=1)})
    with pytest.raises(ModelError, match="takes 2 inputs"):
        program_for(model)


def test_missing_parameter_is_a_model_error():
    def uses_q(u, p, t, m):
        return [p.q * u[0], u[1]]

    with pytest.raises(ModelError, match="p.q"):
        program_for(ps.ODEModel(uses_q, ["a", "b"], {"k": 1.0}))


# -- printer details -----------------------------------------------------------------------
def test_floats_are_printed_exactly():
    x = sympy.Symbol("x", real=True)
    for v in (0.1, 1 / 3, 3e7, 1e-300, 2.0**-52, 6.02214076e23):
        code = julia_code(sympy.Float(v) * x)
        lit = code.split(" ")[0]
        assert float(lit) == v, (code, v)


def test_broadcast_safe_functions():
    x, y = sympy.symbols("x y", real=True)
    assert julia_code(Maximum(x, y)) == "max(x, y)"
    assert julia_code(Where(x > 0, x, 0)) == "ifelse(x > 0, x, 0.0)"
    assert julia_code(sympy.atan2(y, x)) == "atan(y, x)"
    assert julia_code(sympy.sqrt(x)) == "B.nan_sqrt(x)"
    assert julia_code(x ** sympy.Rational(3, 2)) == "B.nan_pow(x, (3 / 2))"
    assert julia_code(sympy.log(x)) == "B.nan_log(x)"
    assert julia_code(sympy.E * x) == "Base.MathConstants.e * x"
    assert julia_code(sympy.And(x > 0, y < 1)) == "(x > 0) & (y < 1)"


def test_array_code_is_broadcast_and_scalar_code_is_not():
    model = dict(MODELS)["sir_patches"]
    src = program_for(model).source
    assert "@. " in src and "u_S = view(u, 1:20)" in src
    rober = program_for(dict(MODELS)["rober"]).source
    assert "@." not in rober and ".*" not in rober


def test_branches_flag():
    assert not program_for(dict(MODELS)["rober"]).has_branches
    assert program_for(dict(MODELS)["contract_zoo"]).has_branches


def test_source_is_deterministic():
    a = julia_source(build_program(trace_model(dict(MODELS)["hires"])))
    b = julia_source(build_program(trace_model(dict(MODELS)["hires"])))
    assert a == b


# -- the reversed-layout translation, emulated with numpy ------------------------------------
# A numpy array X (C order) is the Julia array XJ = X.T (all axes reversed) over the same
# memory. These tests apply the index / cat / stack / reshape code that emit.py writes to
# XJ with Julia's rules (1-based, inclusive ranges, column-major) and compare with numpy.
from pysciml.engines.julia import emit as _emit  # noqa: E402
from pysciml.engines.julia.symbolic import _index_key  # noqa: E402


def _julia_index(XJ, code: str):
    idx = []
    for part in code.split(", "):
        nums = [int(v) for v in part.split(":")]
        if len(nums) == 1:
            idx.append(nums[0] - 1)
        else:
            start, step, stop = (nums[0], 1, nums[1]) if len(nums) == 2 else nums
            idx.append(np.arange(start - 1, stop - 1 + np.sign(step), step))
    # outer indexing (Julia semantics) with numpy: apply one axis at a time
    out, axis = XJ, 0
    for k in idx:
        if isinstance(k, np.ndarray):
            out = np.take(out, k, axis=axis)
            axis += 1
        else:
            out = np.take(out, k, axis=axis)
    return out


@pytest.mark.parametrize("shape,key", [((5,), slice(1, None)), ((5,), slice(None, None, -1)),
                                       ((4, 6), (1, slice(0, 5, 2))), ((4, 6), (Ellipsis, 3)),
                                       ((3, 4, 5), (slice(None), -1, slice(4, 0, -2))),
                                       ((3, 4, 5), (2,)), ((6,), -2)])
def test_index_translation(shape, key):
    X = np.arange(np.prod(shape), dtype=float).reshape(shape)
    code = _emit._jl_index(_index_key(key, shape))
    got = _julia_index(X.T, code)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(X[key]).T)


def test_view_and_reshape_translation():
    u = np.arange(30.0)
    code = _emit._view("u", 6, 12, (3, 4))
    assert code == "reshape(view(u, 7:18), 4, 3)"
    XJ = np.reshape(u[6:18], (4, 3), order="F")   # Julia's column-major reshape
    np.testing.assert_array_equal(XJ, u[6:18].reshape(3, 4).T)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_and_stack_translation(axis):
    rng = np.random.default_rng(0)
    A, B_ = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    nd = 2
    d = nd - (axis % nd)  # the dims emit.py writes for cat
    np.testing.assert_array_equal(np.concatenate([A.T, B_.T], axis=d - 1), np.concatenate([A, B_], axis=axis).T)
    # stack_along(d, item, xs...) = cat of xs with a singleton inserted at d (networks.jl helpers)
    ax = axis % (nd + 1)
    d = nd + 1 - ax
    parts = [np.expand_dims(X.T, d - 1) for X in (A, B_)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=d - 1), np.stack([A, B_], axis=axis).T)


def test_batched_network_translation():
    """net_apply on Julia (n_in, batch...) == apply_numpy on numpy (batch..., n_in)."""
    mlp = ps.MLP(2, 3, width=5, depth=1)
    theta = mlp.init(1) * 3
    X = np.random.default_rng(1).normal(size=(4, 6, 2))        # numpy: features last
    XJ = X.T                                                    # Julia: (2, 6, 4)
    flat = np.reshape(XJ, (2, -1), order="F")                  # reshape(x, n_in, :)
    Y = mlp.apply_numpy(theta, flat.T).T                        # Lux: columns are samples
    YJ = np.reshape(Y, (3,) + XJ.shape[1:], order="F")          # reshape(y, n_out, batch...)
    np.testing.assert_allclose(YJ, mlp.apply_numpy(theta, X).T, rtol=1e-14)


# -- powers: the emitted semantics, checked without Julia (issue 13 item 5) -------------------
def _powers(u, p, t, m):
    a, b, c = u
    return [a**2.0 + m.power(b, 3.0), a**p.n, c**-2.0 + b ** (-1.0)]


def test_whole_number_float_exponents_are_integer_powers():
    x = sympy.Symbol("x", real=True)
    assert julia_code(x ** sympy.Float(2.0)) == julia_code(x**2) == "x .^ 2"
    assert julia_code(x ** sympy.Float(-3.0)) == "x .^ (-3)"
    assert julia_code(x ** sympy.Float(2.5)) == "B.nan_pow(x, 2.5)"
    src = program_for(ps.ODEModel(_powers, ["a", "b", "c"], {"n": 2.0})).source
    assert "u_a ^ 2" in src and "u_b ^ 3" in src and "B.nan_pow(u_a, p_n)" in src
    whole = ps.ODEModel(lambda u, p, t, m: [u[0] ** 2.0, m.power(u[1], 3.0)], ["a", "b"])
    assert not program_for(whole).has_branches  # integer powers are smooth for every adjoint


@pytest.mark.parametrize("n", [2.0, 3.0, -1.0, 2.5])
def test_negative_bases_follow_numpy(n):
    """Negative bases with whole-number exponents (also symbolic ones) are real, as in numpy and jax."""
    model = ps.ODEModel(_powers, ["a", "b", "c"], {"n": n})
    prog = program_for(model).program
    for u in ([-2.0, -1.5, 0.5], [-0.3, 2.0, -4.0], [1.2, -0.7, 3.0]):
        with np.errstate(invalid="ignore"):
            want = model.rhs_numpy(np.array(u))
        got = evaluate_program(prog, np.array(u), [n], 0.0)
        np.testing.assert_allclose(got, want, rtol=1e-14, equal_nan=True)
        if n == 2.5 and u[0] < 0:
            assert np.isnan(got[1])  # a non-integral power of a negative base stays NaN


def test_checker_follows_the_emitted_power_choice(monkeypatch):
    """Negative control: with the old emission (every non-Integer exponent through a nan_pow that is
    NaN for any negative base) the checker disagrees with numpy, so the test above guards both."""
    from pysciml.engines.julia import evaluate

    old = lambda e: "integer" if e.is_Integer else "sqrt" if e == sympy.Rational(1, 2) else "pow"
    monkeypatch.setattr(evaluate, "power_kind", old)
    monkeypatch.setitem(evaluate._MODULES[0], "nan_pow", lambda x, y: np.where(x < 0, np.nan, np.abs(x) ** y))
    model = ps.ODEModel(_powers, ["a", "b", "c"], {"n": 2.0})
    got = evaluate_program(build_program(trace_model(model)), np.array([-2.0, -1.5, 0.5]), [2.0], 0.0)
    assert np.isnan(got[0]) and np.isnan(got[1])


def test_nan_helper_ports_match_numpy():
    """The numpy ports of helpers.jl's nan_* (used by the checker) give numpy's real-valued results."""
    from pysciml.engines.julia.evaluate import NAN_HELPERS

    x = np.linspace(-3.0, 3.0, 25)[:, None]
    y = np.array([-3.0, -2.5, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])[None, :]
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(NAN_HELPERS["nan_pow"](x, y), np.power(x, y))
        for name, f in (("nan_sqrt", np.sqrt), ("nan_log", np.log), ("nan_log1p", np.log1p),
                        ("nan_asin", np.arcsin), ("nan_acos", np.arccos)):
            np.testing.assert_array_equal(NAN_HELPERS[name](x[:, 0]), f(x[:, 0]), err_msg=name)
