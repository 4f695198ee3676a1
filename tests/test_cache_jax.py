"""The compiled-model cache on the jax engine: later processes reuse exported functions.

Every test that needs "a new process" runs ``cache_worker.py`` in a subprocess with
its own ``PYSCIML_CACHE_DIR`` and reads the counters of ``ps.cache.info()`` it prints.
No test asserts on wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pysciml as ps
import pysciml.cache  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "helpers", "cache_worker.py")

MODEL_SRC = textwrap.dedent("""
    import pysciml as ps

    RATE = {rate}

    def damped(u, p, t, m):
        x, v = u
        return [v, -p.omega**2 * x - RATE * v]

    model = ps.ODEModel(damped, ["x", "v"], {{"omega": 2.0}})
""")


def _env(cache_dir, **extra):
    env = dict(os.environ)
    env.pop("PYSCIML_CACHE", None)
    env.update(PYSCIML_CACHE_DIR=str(cache_dir), PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    env.update(extra)
    return env


def _run(*args, cache_dir, **extra):
    out = subprocess.run([sys.executable, WORKER, *map(str, args)], capture_output=True, text=True,
                         env=_env(cache_dir, **extra), timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "user_model.py"
    path.write_text(MODEL_SRC.format(rate=0.1))
    return path


def test_second_process_uses_the_cache_and_matches_exactly(tmp_path, model_file):
    cache = tmp_path / "cache"
    first = _run("solve", model_file, "tsit5", tmp_path / "a.npy", cache_dir=cache)
    assert (first["hits"], first["misses"], first["writes"]) == (0, 1, 1), first
    second = _run("solve", model_file, "tsit5", tmp_path / "b.npy", cache_dir=cache)
    assert (second["hits"], second["misses"], second["writes"]) == (1, 0, 0), second
    assert second["modules"] == []  # a cached solve needs neither diffrax nor equinox
    off = _run("solve", model_file, "tsit5", tmp_path / "c.npy", cache_dir=tmp_path / "unused", PYSCIML_CACHE="0")
    assert not off["enabled"] and off["hits"] == off["misses"] == 0
    assert not (tmp_path / "unused").exists()  # PYSCIML_CACHE=0 writes nothing at all
    a, b, c = (np.load(tmp_path / f"{x}.npy") for x in "abc")
    assert np.array_equal(a, b) and np.array_equal(a, c)  # bit for bit, cached or not
    # and the answer is right: the damped oscillator against scipy at tight tolerance
    from scipy.integrate import solve_ivp

    ref = solve_ivp(lambda t, u: [u[1], -4.0 * u[0] - 0.1 * u[1]], (0, 2), [1.0, 0.5],
                    t_eval=np.linspace(0, 2, 101), rtol=1e-11, atol=1e-12).y.T
    assert np.max(np.abs(a - ref)) < 1e-6


def test_cached_rosenbrock_solve_loads_neither_diffrax_nor_equinox(tmp_path, model_file):
    # the dense linear solver of a Rosenbrock method is equinox-free: a cached Rodas5P solve in a
    # new process skips the ~0.25 s import (benchmarks/results/startup.md)
    cache = tmp_path / "cache"
    first = _run("solve", model_file, "rodas5p", tmp_path / "a.npy", cache_dir=cache)
    assert first["misses"] == 1
    second = _run("solve", model_file, "rodas5p", tmp_path / "b.npy", cache_dir=cache)
    assert (second["hits"], second["misses"]) == (1, 0), second
    assert second["modules"] == []
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    # the check sees equinox when a solve does need it: a sparse linear solver (negative control)
    sparse = _run("solve", model_file, "rodas5p-sparse", tmp_path / "c.npy", cache_dir=cache)
    assert "equinox" in sparse["modules"], sparse


def test_edited_model_gets_a_fresh_compile(tmp_path, model_file):
    cache = tmp_path / "cache"
    first = _run("solve", model_file, "tsit5", tmp_path / "a.npy", cache_dir=cache)
    assert first["misses"] == 1
    model_file.write_text(MODEL_SRC.format(rate=0.3))  # the physics changed: a constant
    edited = _run("solve", model_file, "tsit5", tmp_path / "b.npy", cache_dir=cache)
    assert (edited["hits"], edited["misses"]) == (0, 1), edited
    assert not np.allclose(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    model_file.write_text(MODEL_SRC.format(rate=0.3).replace("- RATE * v", "- RATE * v * v"))
    edited2 = _run("solve", model_file, "tsit5", tmp_path / "c.npy", cache_dir=cache)
    assert edited2["misses"] == 1  # the code changed
    model_file.write_text(MODEL_SRC.format(rate=0.1))  # back to the first version: its entry is still there
    again = _run("solve", model_file, "tsit5", tmp_path / "d.npy", cache_dir=cache)
    assert (again["hits"], again["misses"]) == (1, 0)
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "d.npy"))


def test_corrupt_and_foreign_entries_are_rebuilt(tmp_path, model_file):
    from pysciml.cache import store

    cache = tmp_path / "cache"
    _run("solve", model_file, "rodas5p", tmp_path / "a.npy", cache_dir=cache)
    (entry,) = (cache / "export").glob("*.pxc")
    key = entry.stem
    # 1. flipped bytes in the payload: the checksum catches it
    data = bytearray(entry.read_bytes())
    data[-100] ^= 0xFF
    entry.write_bytes(bytes(data))
    r = _run("solve", model_file, "rodas5p", tmp_path / "b.npy", cache_dir=cache)
    assert (r["rejected"], r["misses"], r["writes"]) == (1, 1, 1), r
    # 2. a well-formed entry whose payload is not an exported function
    os.environ["PYSCIML_CACHE_DIR"], old = str(cache), os.environ.get("PYSCIML_CACHE_DIR")
    try:
        header, _ = store.read(key)
        store.write(key, b"\x00" * 4096, kind="solve", meta=header["meta"])
    finally:
        if old is None:
            del os.environ["PYSCIML_CACHE_DIR"]
        else:
            os.environ["PYSCIML_CACHE_DIR"] = old
    r = _run("solve", model_file, "rodas5p", tmp_path / "c.npy", cache_dir=cache)
    assert (r["rejected"], r["misses"]) == (1, 1), r
    # 3. another model's entry copied under this key's name
    other = tmp_path / "other.py"
    other.write_text(MODEL_SRC.format(rate=0.5))
    _run("solve", other, "rodas5p", tmp_path / "o.npy", cache_dir=cache)
    (foreign,) = [p for p in (cache / "export").glob("*.pxc") if p.stem != key]
    entry.write_bytes(foreign.read_bytes())
    r = _run("solve", model_file, "rodas5p", tmp_path / "d.npy", cache_dir=cache)
    assert (r["rejected"], r["misses"]) == (1, 1), r
    for x in "bcd":  # every rebuilt result is the right one
        assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / f"{x}.npy"))
    r = _run("solve", model_file, "rodas5p", tmp_path / "e.npy", cache_dir=cache)
    assert (r["hits"], r["rejected"]) == (1, 0)


def test_concurrent_first_runs(tmp_path, model_file):
    """Two processes compiling the same model at once both succeed; a third finds one entry."""
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, WORKER, "solve", str(model_file), "kvaerno5", str(tmp_path / f"{i}.npy")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(cache))
             for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    assert len(list((cache / "export").glob("*.pxc"))) == 1
    assert not list((cache / "export").glob("*.partial"))
    third = _run("solve", model_file, "kvaerno5", tmp_path / "2.npy", cache_dir=cache)
    assert (third["hits"], third["rejected"]) == (1, 0)
    assert np.array_equal(np.load(tmp_path / "0.npy"), np.load(tmp_path / "2.npy"))


@pytest.mark.parametrize("trajectories", [2])  # two trajectories: the vmapped chunks (the one-trajectory path is the same code)
def test_fit_steps_are_cached(tmp_path, trajectories):
    """Adam and L-BFGS chunks (vmapped over trajectories when there are several) load in a new process."""
    cache = tmp_path / "cache"
    first = _run("fit", tmp_path / "a.npz", trajectories, cache_dir=cache)
    assert first["misses"] >= 2 and first["skipped"] == 0, first  # one Adam and one L-BFGS chunk
    kinds = {e["kind"] for e in _entries(cache)}
    assert {"fit-adam", "fit-lbfgs"} <= kinds
    second = _run("fit", tmp_path / "b.npz", trajectories, cache_dir=cache)
    assert second["hits"] >= 2 and second["misses"] == 0, second
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert np.array_equal(a["history"], b["history"]) and np.array_equal(a["nn"], b["nn"])
    assert a["history"][-1] < 0.5 * a["history"][0]  # it trained


def _entries(cache_dir):
    old = os.environ.get("PYSCIML_CACHE_DIR")
    os.environ["PYSCIML_CACHE_DIR"] = str(cache_dir)
    try:
        return ps.cache.entries()
    finally:
        if old is None:
            del os.environ["PYSCIML_CACHE_DIR"]
        else:
            os.environ["PYSCIML_CACHE_DIR"] = old


# -- in-process behaviour ------------------------------------------------------------------------------
@pytest.fixture
def fresh_cache(tmp_path, monkeypatch, jax_engine):
    from pysciml.cache import store
    from pysciml.engines.jax import cached_functions as export_cache

    monkeypatch.setenv("PYSCIML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PYSCIML_CACHE", raising=False)
    export_cache._LOADED.clear()
    before = dict(store.stats)
    yield lambda name: store.stats[name] - before[name]
    export_cache._LOADED.clear()


def _osc(u, p, t, m):
    return [u[1], -p.omega**2 * u[0]]


def test_traced_calls_bypass_the_cache(fresh_cache):
    import jax

    model = ps.ODEModel(_osc, ["x", "v"], {"omega": 2.0})

    def loss(omega):
        return ps.solve(model, [1.0, 0.0], (0.0, 1.0), params={"omega": omega}, solver=ps.Tsit5(),
                        rtol=1e-10, atol=1e-12).u[-1, 0]

    g = jax.grad(loss)(2.0)
    # x(t) = cos(omega t): d x(1) / d omega = -sin(omega)
    assert abs(float(g) + np.sin(2.0)) < 1e-6
    assert fresh_cache("misses") == 0 and fresh_cache("hits") == 0  # traced: plain jit
    sol = ps.solve(model, [1.0, 0.0], (0.0, 1.0), solver=ps.Tsit5(), rtol=1e-10, atol=1e-12)
    assert fresh_cache("misses") == 1
    assert abs(sol.u[-1, 0] - np.cos(2.0)) < 1e-8


def test_uncacheable_closure_runs_uncached(fresh_cache):
    rng = np.random.default_rng(0)
    kick = rng.normal()

    def noisy(u, p, t, m, _rng=rng):
        return [u[1], -p.omega**2 * u[0] + 0.0 * kick]

    model = ps.ODEModel(noisy, ["x", "v"], {"omega": 2.0})
    sol = ps.solve(model, [1.0, 0.0], (0.0, 1.0), solver=ps.Tsit5(), rtol=1e-10, atol=1e-12)
    assert sol.ok and abs(sol.u[-1, 0] - np.cos(2.0)) < 1e-8
    assert fresh_cache("skipped") == 1 and fresh_cache("misses") == 0
    assert any("Generator" in r for r in ps.cache.info()["reasons"])


def test_host_callback_runs_uncached(fresh_cache):
    import jax

    seen = []

    def watched(u, p, t, m):
        jax.debug.callback(lambda x: seen.append(1), t)
        return [u[1], -p.omega**2 * u[0]]

    model = ps.ODEModel(watched, ["x", "v"], {"omega": 2.0})
    sol = ps.solve(model, [1.0, 0.0], (0.0, 1.0), solver=ps.Tsit5(), rtol=1e-10, atol=1e-12)
    assert sol.ok and abs(sol.u[-1, 0] - np.cos(2.0)) < 1e-8 and seen
    assert fresh_cache("skipped") == 1 and fresh_cache("misses") == 0


def test_jit_helper_round_trip_vmapped(fresh_cache):
    """``export_cache.jit`` on a batched (vmapped) function: exported once, reloaded, same numbers."""
    import jax
    import jax.numpy as jnp

    from pysciml.engines.jax import cached_functions as export_cache

    scale = np.array([1.0, 2.0, 3.0])

    def cells(y0, rate):
        return jax.vmap(lambda y, r: y * jnp.exp(-r * scale))(y0, rate)

    f = export_cache.jit(cells, kind="cells")
    y0 = np.ones((4, 3))
    rate = np.linspace(0.1, 0.4, 4)
    out1 = f(y0, rate)
    assert fresh_cache("misses") == 1
    export_cache._LOADED.clear()
    g = export_cache.jit(cells, kind="cells")  # as in a new process: same content, new object
    out2 = g(y0, rate)
    assert fresh_cache("hits") == 1
    assert np.array_equal(np.asarray(out1), np.asarray(out2))
    assert np.allclose(np.asarray(out1), y0 * np.exp(-rate[:, None] * scale))
    g(np.ones((5, 3)), np.linspace(0.1, 0.4, 5))  # another batch size: another entry
    assert fresh_cache("misses") == 2
