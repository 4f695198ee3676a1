"""``benchmarks/stiff.py``: the one-thread mode really is one thread, and the tables give CPU
and wall time with the headline ratio named (structure only, no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


@pytest.fixture
def stiff(monkeypatch):
    # loaded from its file; it puts benchmarks/ on sys.path and imports timing: both undone after
    monkeypatch.setattr(sys, "path", list(sys.path))
    had_timing = "timing" in sys.modules
    spec = importlib.util.spec_from_file_location("bench_stiff", BENCH / "stiff.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    if not had_timing:
        sys.modules.pop("timing", None)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_one_thread_mode_leaves_xla_one_thread_on_one_core():
    code = (
        f"import os, sys; os.environ.pop('XLA_FLAGS', None); sys.path.insert(0, {str(BENCH)!r}); "
        "import timing; timing.pin_one_thread();"
        "import jax, jax.numpy as jnp; x = jnp.ones((200, 200)); (x @ x).block_until_ready();"
        "import json; print(json.dumps(timing.thread_mode()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    mode = json.loads(out.stdout.strip().splitlines()[-1])
    assert mode["n_cores"] == 1 and len(mode["affinity"]) == 1
    assert mode["xla_pool_threads"] in (1, None)  # None: no /proc to count threads in
    assert mode["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert mode["XLA_FLAGS"] == ""  # left alone: pysciml's engine sets its own defaults when unset


def test_pinning_refuses_after_numpy_loaded():
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import numpy, timing; timing.pin_one_thread()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "must run before numpy" in out.stderr


def _rows(times):
    """Sweep rows from ``(err, cpu, wall)``."""
    return [{"rtol": 10.0**-k, "err": e, "cpu_s": c, "time_s": w, "wait_s": 0.0} for k, (e, c, w) in enumerate(times)]


def _result(stiff, threads: str):
    tools = {
        "pysciml_rodas5p": {"rows": _rows([(1e-3, 2e-3, 1e-3), (1e-5, 4e-3, 2e-3)]), "compile_s": 1.0},
        "scipy_bdf": {"rows": _rows([(1e-3, 6e-3, 6e-3)])},  # never reaches 1e-4
        "scipy_radau": {"rows": _rows([(1e-3, 9e-3, 9e-3), (1e-5, 8e-2, 8e-2)])},
    }
    case = {"n": 3, "tools": tools, "ours": "pysciml_rodas5p",
            "matched": stiff.matched(tools, [1e-2, 1e-4, 1e-6], "pysciml_rodas5p",
                                     "cpu_s" if threads == "1" else "time_s")}  # fmt: skip
    mode = {"threads": threads, "affinity": [0], "n_cores": 1, "env": {"OPENBLAS_NUM_THREADS": "1"},
            "XLA_FLAGS": "--xla_cpu_use_fusion_emitters=false", "xla_pool_threads": 1}  # fmt: skip
    runs = [{"load": [0.1, 0.1, 0.1], "versions": {"scipy": "1.0"}, "cases": ["rober"]}]
    return {"machine": "test", "runs": runs, "quick": True, "mode": mode, "cases": {"rober": case}}


def test_matched_ratios_in_cpu_and_wall_and_only_where_both_reach(stiff):
    first, second, third = _result(stiff, "1")["cases"]["rober"]["matched"]
    assert first["ratios"]["cpu_s"] == {"best_scipy": "scipy_bdf", "vs_best_scipy": pytest.approx(3.0)}
    assert first["ratios"]["time_s"]["vs_best_scipy"] == pytest.approx(6.0)
    assert second["scipy_bdf"] is None  # BDF never reached 1e-4: Radau is the best scipy there
    assert second["ratios"]["cpu_s"] == {"best_scipy": "scipy_radau", "vs_best_scipy": pytest.approx(20.0)}
    assert third["pysciml_rodas5p"] is None and third["ratios"] == {"cpu_s": {}, "time_s": {}}


def test_one_thread_tables_headline_cpu_time_and_show_both(stiff):
    md = stiff.to_markdown(_result(stiff, "1"))
    assert "headline ratios are CPU time" in md and "XLA_FLAGS=`--xla_cpu_use_fusion_emitters=false`" in md
    assert "| pysciml_rodas5p CPU / wall |" in md and "best scipy / pysciml, CPU |" in md
    assert "| 1e-02 | 2.00 / 1.00 ms | 6.00 / 6.00 ms | 9.00 / 9.00 ms | 3.0x (bdf) | - |" in md
    assert "| 1e-06 | - | - | - | - | - |" in md
    assert "Ratios in CPU time, both sides on one thread." in md


def test_all_core_tables_give_wall_and_cpu_ratios(stiff):
    res = _result(stiff, "all")
    md = stiff.to_markdown(res)
    assert "best scipy / pysciml, wall | best scipy / pysciml, CPU |" in md
    assert "| 1e-02 | 2.00 / 1.00 ms | 6.00 / 6.00 ms | 9.00 / 9.00 ms | 6.0x (bdf) | 3.0x (bdf) | - | - |" in md
    one = _result(stiff, "1")
    one["two_cores"] = {"mode": res["mode"], "runs": [{"load": [0.1], "cases": ["rober"]}], "cases": res["cases"]}
    md = stiff.to_markdown(one)
    assert "## On all cores" in md and "| 1e-02 | 2.00 / 1.00 ms | 6.0x (bdf) | 3.0x (bdf) | - | - |" in md


def test_a_partial_rerun_replaces_its_cases_in_the_run_record(stiff):
    # each case's table names the load and versions of the run that measured it: a rerun of some
    # cases takes them out of the earlier runs' records, and a run left with none is dropped
    timing = sys.modules["timing"]
    first = timing.record_run([], ["rober", "hires", "bruss1d"], {"load": [0.5], "versions": {"scipy": "1.16"}})
    second = timing.record_run(first, ["bruss1d"], {"load": [0.7], "versions": {"scipy": "1.17"}})
    assert [r["cases"] for r in second] == [["rober", "hires"], ["bruss1d"]]
    third = timing.record_run(second, ["bruss1d"], {"load": [0.9]})
    assert [r["cases"] for r in third] == [["rober", "hires"], ["bruss1d"]] and third[-1]["load"] == [0.9]
    line = timing.runs_line(third)
    assert line == "[0.5] (rober,hires; scipy 1.16); [0.9] (bruss1d; versions not recorded)"
    assert "[0.7]" not in line  # the superseded run is gone
    md = stiff.to_markdown(_result(stiff, "1"))
    assert "Runs (load average at start; cases; versions): [0.1, 0.1, 0.1] (rober; scipy 1.0)." in md
    assert timing.package_versions("numpy", "no-such-distribution-xyz")["no-such-distribution-xyz"] == "absent"


def test_brusselator_1d_case_is_the_same_problem_for_every_tool(monkeypatch):
    # the banded case is fair only if scipy's analytic Jacobians are right: compared with central
    # differences, the packed (LSODA) one with the sparse (BDF, Radau) one, and pysciml's physics
    # with scipy's right-hand side; a wrong band (negative control) is caught
    import numpy as np

    monkeypatch.setattr(sys, "path", [str(BENCH)] + list(sys.path))
    spec = importlib.util.spec_from_file_location("bench_stiff_cases", BENCH / "stiff_cases.py")
    SC = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_stiff_cases", SC)  # its dataclass looks itself up there
    spec.loader.exec_module(SC)
    import jax.numpy as jnp

    from pysciml.engines.jax.rhs import vector_field

    n_points = 12
    case = SC.brusselator1d_case(n_points)
    y = case.u0 + 0.1 * np.random.default_rng(0).standard_normal(case.n)
    f = vector_field(case.model)
    np.testing.assert_allclose(np.asarray(f(0.0, jnp.asarray(y), (case.params, {}))), case.scipy_fun(0.0, y),
                               rtol=1e-14, atol=1e-12)
    J = case.scipy_jac(0.0, y).toarray()
    eps = 1e-6
    fd = np.stack([(case.scipy_fun(0.0, y + eps * e) - case.scipy_fun(0.0, y - eps * e)) / (2 * eps)
                   for e in np.eye(case.n)], axis=1)
    assert np.max(np.abs(J - fd)) < 1e-6 * np.max(np.abs(J))
    opts = case.scipy_options["LSODA"]
    packed, lo, up = opts["jac"](0.0, y), opts["lband"], opts["uband"]
    unpacked = np.zeros_like(J)
    for i, j in np.ndindex(J.shape):
        if -lo <= j - i <= up:
            unpacked[i, j] = packed[up + i - j, j]
    np.testing.assert_array_equal(unpacked, J)
    wrong = J.copy()
    wrong[np.arange(1, case.n, 2) - 1, np.arange(1, case.n, 2)] *= 1.01  # one band off by 1 %
    assert np.max(np.abs(wrong - fd)) > 1e-3 * np.max(np.abs(J))
