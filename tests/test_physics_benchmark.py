"""``benchmarks/physics_nbody.py --quick`` runs end to end and writes its results (structure only, no timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_nbody_benchmark_quick(tmp_path):
    pytest.importorskip("rebound", reason="the benchmark compares with rebound (test extra)")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "physics_nbody.py"), "--quick", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads((tmp_path / "physics_nbody.json").read_text())
    row = result["rows"][0]
    assert row["pysciml_verlet"]["ok"] and "wall_per_step_s" in row["rebound_leapfrog"]
    assert {"ratio_wall_vs_leapfrog", "ratio_wall_vs_whfast"} <= set(row)
    assert (tmp_path / "physics_nbody.md").read_text().startswith("# N-body")
