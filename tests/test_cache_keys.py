"""Cache keys change whenever the computation can change (and only content, never identity, counts)."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

import pysciml as ps
from pysciml.cache.fingerprint import Unfingerprintable, fingerprint


# -- physics code, closures, globals ---------------------------------------------------------------
def _model(physics, **kw):
    return ps.ODEModel(physics, ["x", "y"], {"k": 0.5}, **kw)


def test_code_change_changes_key():
    def f(u, p, t, m):
        return [-p.k * u[0], u[0] - u[1]]

    def g(u, p, t, m):
        return [-p.k * u[0], u[0] - 2.0 * u[1]]

    def h(u, p, t, m):
        return [-p.k * u[0], u[0] + u[1]]

    keys = {fingerprint(_model(fn)) for fn in (f, g, h)}
    assert len(keys) == 3


def test_same_code_elsewhere_same_key():
    """Names, line numbers and comments do not change the computation, so not the key."""
    def f(u, p, t, m):
        return [-p.k * u[0], u[0] - u[1]]

    def other_name(u, p, t, m):
        # a comment
        return [-p.k * u[0], u[0] - u[1]]

    assert fingerprint(_model(f)) == fingerprint(_model(other_name))
    assert fingerprint(_model(f)) == fingerprint(_model(f, name="renamed", u0=[1.0, 2.0]))


def test_closure_values_change_key():
    def make(c, arr):
        def f(u, p, t, m):
            return [-c * u[0], arr @ u]

        return f

    base = fingerprint(make(1.0, np.array([1.0, 2.0])))
    assert fingerprint(make(1.0, np.array([1.0, 2.0]))) == base
    assert fingerprint(make(1.5, np.array([1.0, 2.0]))) != base
    assert fingerprint(make(1.0, np.array([1.0, 2.5]))) != base
    assert fingerprint(make(1.0, np.array([1.0, 2.0], dtype=np.float32))) != base
    assert fingerprint(make(1.0, np.array([[1.0, 2.0]]))) != base  # shape


RATES = {"a": 1.0}
TABLE = np.array([1.0, 2.0])


def _uses_globals(u, p, t, m):
    return [-RATES["a"] * u[0], TABLE[0] * u[1]]


def test_global_values_change_key():
    base = fingerprint(_uses_globals)
    RATES["a"] = 2.0
    try:
        assert fingerprint(_uses_globals) != base
    finally:
        RATES["a"] = 1.0
    TABLE[0] = 3.0
    try:
        assert fingerprint(_uses_globals) != base
    finally:
        TABLE[0] = 1.0
    assert fingerprint(_uses_globals) == base


def _helper(x):
    return 2.0 * x


def _calls_helper(u, p, t, m):
    return [_helper(u[0]), u[1]]


def test_called_functions_are_followed(monkeypatch):
    base = fingerprint(_calls_helper)
    monkeypatch.setitem(globals(), "_helper", lambda x: 3.0 * x)
    assert fingerprint(_calls_helper) != base


def test_defaults_and_nested_code_change_key():
    def f(u, p, t, m, scale=1.0):
        inner = lambda z: z * 2.0  # noqa: E731
        return [inner(u[0]) * scale, u[1]]

    def g(u, p, t, m, scale=2.0):
        inner = lambda z: z * 2.0  # noqa: E731
        return [inner(u[0]) * scale, u[1]]

    def h(u, p, t, m, scale=1.0):
        inner = lambda z: z * 3.0  # noqa: E731
        return [inner(u[0]) * scale, u[1]]

    assert len({fingerprint(f), fingerprint(g), fingerprint(h)}) == 3


def test_user_module_source_is_keyed(tmp_path, monkeypatch):
    """A physics that calls into a user module: editing that module changes the key."""
    (tmp_path / "my_rates.py").write_text("def rate(x):\n    return 0.5 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("my_rates")

    def f(u, p, t, m):
        return [-mod.rate(u[0]), u[1]]

    base = fingerprint(f)
    (tmp_path / "my_rates.py").write_text("def rate(x):\n    return 0.7 * x\n")
    assert fingerprint(f) != base
    sys.modules.pop("my_rates", None)


def test_declarations_change_key():
    def f(u, p, t, m):
        return [p.nn(u)[0], -p.k * u[1]]

    base = ps.ODEModel(f, ["x", "y"], {"k": 0.5}, networks={"nn": ps.MLP(2, 1, width=8)})
    variants = [
        ps.ODEModel(f, ["x", "y"], {"k": 0.5}, networks={"nn": ps.MLP(2, 1, width=9)}),
        ps.ODEModel(f, ["x", "y"], {"k": 0.5}, networks={"nn": ps.MLP(2, 1, width=8, activation="relu")}),
        ps.ODEModel(f, ["y", "x"], {"k": 0.5}, networks={"nn": ps.MLP(2, 1, width=8)}),
        ps.ODEModel(f, {"x": 1, "y": 1}, {"k": ps.Param(0.5, bounds=(0.0, 1.0))}, networks={"nn": ps.MLP(2, 1, width=8)}),
        ps.UDE(f, ["x", "y"], {"k": 0.5}, networks={"nn": ps.MLP(2, 1, width=8)}),
    ]
    keys = {fingerprint(base)} | {fingerprint(v) for v in variants}
    assert len(keys) == 1 + len(variants)


def test_unreliable_objects_are_refused():
    rng = np.random.default_rng(0)

    def f(u, p, t, m):
        return [rng.normal() * u[0], u[1]]

    with pytest.raises(Unfingerprintable):
        fingerprint(f)


def test_cycles_terminate():
    a = {"self": None}
    a["self"] = a
    lst = [1]
    lst.append(lst)
    assert fingerprint(a) == fingerprint(a) and fingerprint(lst)


# -- engine keys: options, shapes, solver configuration, versions -------------------------------------
@pytest.fixture(scope="module")
def solve_key(jax_engine):
    import jax

    from pysciml.engines.jax import cached_functions as export_cache
    from pysciml.engines.jax.compiled_solve import call_args
    from pysciml.engines.jax.plan import plan_solver
    from pysciml.ivp import build_request

    def key(model, **kw):
        kw.setdefault("solver", ps.Tsit5())
        request, _ = build_request(model, [1.0, 2.0], kw.pop("t", (0.0, 1.0)), **kw)
        plan = plan_solver(request)
        fn = jax_engine.solve_function(request, plan)
        assert isinstance(fn, export_cache.CachedFunction)
        leaves, treedef = jax.tree_util.tree_flatten(call_args(request))
        return fn._key(treedef, export_cache._signature(leaves))

    return key


def _decay(u, p, t, m):
    return [-p.k * u[0], -2.0 * p.k * u[1]]


def test_solve_key_covers_options(solve_key):
    model = _model(_decay)
    base = solve_key(model)
    assert solve_key(model) == base
    assert solve_key(_model(_decay)) == base  # another model object with the same content
    variants = [
        dict(max_steps=1000), dict(differentiation="forward"), dict(dt0=0.01),
        dict(adaptive=False, dt0=0.01), dict(saveat=np.linspace(0.0, 1.0, 7)),
        dict(solver=ps.Dopri5()), dict(solver=ps.Rodas5P()), dict(solver=ps.Rodas4()),
        dict(solver=ps.Rodas5P(linsolve=ps.GMRES())), dict(solver=ps.Kvaerno5()),
        dict(atol=[1e-8, 1e-9]),
    ]
    keys = [solve_key(model, **v) for v in variants]
    assert base not in keys and len(set(keys)) == len(keys), keys


def test_solve_key_ignores_values_but_not_dtypes(solve_key):
    """Parameter values, tolerances and times are arguments of the compiled solve: same key."""
    model = _model(_decay)
    base = solve_key(model)
    assert solve_key(model, params={"k": 0.9}, rtol=1e-8, t=(0.0, 3.0)) == base


def test_solve_key_covers_environment(solve_key, monkeypatch):
    """pysciml version and sources, Python, jax/jaxlib/diffrax... versions are all in the key."""
    from pysciml.engines.jax import cached_functions as export_cache

    base = solve_key(_model(_decay))
    env = export_cache.environment()
    assert env[0][0] == "pysciml" and len(env[0][2]) == 40  # version and source hash
    assert {"jax", "jaxlib", "diffrax", "equinox", "optax"} <= set(dict(env[2]))
    changes = [
        (0, ("pysciml", "9.9", env[0][2])),  # another pysciml version
        (0, ("pysciml", env[0][1], "0" * 40)),  # edited pysciml sources
        (1, ("python", "other")),
        (2, tuple((n, "0.0.0" if n == "jaxlib" else v) for n, v in env[2])),
        (2, tuple((n, "0.0.0" if n == "jax" else v) for n, v in env[2])),
        (4, ("EQX_ON_ERROR", "raise")),
    ]
    keys = set()
    for i, changed in changes:
        fake = list(env)
        fake[i] = changed
        monkeypatch.setattr(export_cache, "environment", lambda fake=tuple(fake): fake)
        keys.add(solve_key(_model(_decay)))  # a new model object: a new compiled function
    assert base not in keys and len(keys) == len(changes)


def test_source_hash_tracks_pysciml_files(tmp_path, monkeypatch):
    from pysciml.engines.jax import cached_functions as export_cache

    h1 = export_cache._source_hash()
    export_cache._source_hash.cache_clear()
    assert export_cache._source_hash() == h1
    export_cache._source_hash.cache_clear()


def test_prepared_linsolve_keyed_by_content(jax_engine):
    """Repeated solves with one plan share one compiled function (and one cache entry)."""
    model = _model(_decay)
    for _ in range(3):
        ps.solve(model, [1.0, 2.0], (0.0, 1.0), solver=ps.Rodas5P())
    assert len(jax_engine._jitted[model]) == 1


def test_library_lambdas_of_one_scope_with_other_operations_differ():
    """Regression (found by the SBML Test Suite: case 00197's ceiling ran with 00196's compiled floor):
    closures a library factory builds share a qualified name, so their code must be in the key."""
    from pysciml.cache.fingerprint import fingerprint

    def make(kind):
        if kind == "floor":
            return lambda x, m: m.floor(x)
        return lambda x, m: m.ceil(x)

    f, g = make("floor"), make("ceil")
    f.__module__ = g.__module__ = "pysciml.bio.sbml_math"  # a library function: keyed by name and version
    assert f.__qualname__ == g.__qualname__
    assert fingerprint(f) != fingerprint(g)
    h = make("floor")
    h.__module__ = f.__module__
    assert fingerprint(h) == fingerprint(f)  # the same computation still shares its key
