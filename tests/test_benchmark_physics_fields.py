"""benchmarks/physics_fields.py runs in --quick mode (structure only; no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_physics_fields_benchmark_quick_runs():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "physics_fields.py"), "--quick"],
                         capture_output=True, text=True, timeout=300, check=True).stdout  # fmt: skip
    rows = [json.loads(line) for line in out.strip().splitlines() if line.startswith("{")]
    row = next(r for r in rows if "n" in r)
    assert row["n"] == 32 and row["pysciml_step_ms"] > 0 and row["numpy_step_ms"] > 0
    ebm = next(r for r in rows if "ebm" in r)
    assert ebm["ebm"] == "EBM()" and ebm["pysciml_equilibrium_s"] > 0 and ebm["climlab_s"] > 0
    assert ebm["ice_edge_pysciml"] == 70.0
