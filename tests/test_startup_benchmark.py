"""``benchmarks/startup.py --quick`` runs end to end and writes its results (structure only, no timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_quick_run_writes_results(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "startup.py"), "--quick", "--out",
                          str(tmp_path)], capture_output=True, text=True, env=env, timeout=3000)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads((tmp_path / "startup.json").read_text())
    assert results["quick"] is True and results["runs"] == 1
    assert "available" in results["julia"]
    scenarios = results["scenarios"]
    assert scenarios["import"]["pysciml"]["samples"][0]["heavy_modules"] == []
    assert {"pysciml-cold", "pysciml-warm"} <= set(scenarios["rober-rodas5p"])
    assert "diffrax" in scenarios["rober-kvaerno5"] and "pysciml-cold" in scenarios["ude-fit"]
    for variants in scenarios.values():
        for summary in variants.values():
            assert {"total_s", "process_s", "import_s", "first_call_s", "cpu_s", "samples"} <= set(summary)
    cold = scenarios["rober-rodas5p"]["pysciml-cold"]["samples"][0]
    warm = scenarios["rober-rodas5p"]["pysciml-warm"]["samples"][0]
    assert (cold["misses"], warm["hits"], warm["misses"]) == (1, 1, 0)  # the warm run really used the cache
    assert cold["y_end"] == warm["y_end"]
    assert scenarios["ude-fit"]["pysciml-cold"]["samples"][0]["step"] == 50  # one chunk of Adam steps
    md = (tmp_path / "startup.md").read_text()
    assert "not timings" in md and "## rober-rodas5p" in md and "Julia engine" in md
