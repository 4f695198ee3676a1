"""``benchmarks/overhead.py --quick`` runs end to end and writes its tables (structure only, no timings)."""

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
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "overhead.py"), "--quick", "--out",
                          str(tmp_path)], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads((tmp_path / "overhead.json").read_text())
    assert res["quick"] is True and [r["rtol"] for r in res["rows"]] == [1e-2, 1e-3, 1e-4]
    for row in res["rows"]:
        assert row["status"] == "SUCCESS" and row["handle_minus_solve_max_abs"] == 0.0
        for tool in ("raw", "handle", "handle_raw", "solve"):
            assert row[tool]["wall_s"] > 0 and row[tool]["cpu_s"] >= 0
    assert [e["level"] for e in res["matched"]] == [1e-2, 1e-3, 1e-4]
    assert any("lsoda_odeint_over_handle" in e for e in res["matched"])
    md = (tmp_path / "overhead.md").read_text()
    assert "## Matched error against scipy LSODA" in md and "handle / raw" in md
