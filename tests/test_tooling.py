"""The code passes the tools configured in pyproject.toml: ruff (lint + format) and pyright (basic)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (it is in the test extras: pip install '.[test]')")
    return [exe]


def _run(cmd: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_ruff_lint_is_clean():
    out = _run(_tool("ruff") + ["check", "pysciml"])
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_clean():
    out = _run(_tool("ruff") + ["format", "--check", "pysciml"])
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_pyright_basic_is_clean():
    # --pythonpath: check against this interpreter's packages, not whichever python is first on PATH
    out = _run(_tool("pyright") + ["--outputjson", "--pythonpath", sys.executable], timeout=900)
    import json

    report = json.loads(out.stdout)
    errors = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
              for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert errors == [], "\n".join(errors[:30])
