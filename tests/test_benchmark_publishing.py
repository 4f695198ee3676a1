"""The benchmarks' one rule for where results go (``benchmarks/timing.py: results_folder``): a
loaded machine never writes the published tables; ``--quick`` never touches them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def timing():
    # loaded from its file: tests do not put benchmarks/ on sys.path
    spec = importlib.util.spec_from_file_location("bench_timing", ROOT / "benchmarks" / "timing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_loaded_machine_does_not_publish(timing, monkeypatch):
    monkeypatch.setattr(timing.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(timing.os, "cpu_count", lambda: 2)
    with pytest.raises(SystemExit, match="not publishing"):
        timing.results_folder(None, quick=False)


def test_a_quiet_machine_publishes_to_results(timing, monkeypatch):
    monkeypatch.setattr(timing.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    monkeypatch.setattr(timing.os, "cpu_count", lambda: 2)
    assert timing.results_folder(None, quick=False) == ROOT / "benchmarks" / "results"


def test_quick_runs_and_named_folders_never_write_the_published_tables(timing, monkeypatch, tmp_path):
    monkeypatch.setattr(timing.os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # even when loaded
    quick = timing.results_folder(None, quick=True)
    assert quick.is_dir() and quick != ROOT / "benchmarks" / "results"
    assert timing.results_folder(tmp_path / "mine", quick=False) == tmp_path / "mine"
    assert (tmp_path / "mine").is_dir()


def test_cold_compile_cache_refuses_after_the_engine_loaded(timing, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pysciml.engines.jax._setup", object())
    with pytest.raises(RuntimeError, match="before pysciml's jax engine loads"):
        timing.cold_compile_cache()
