"""The suite's crash policy (pyproject addopts): a test whose worker process dies runs once more; a test that
fails in the ordinary way is never rerun. Checked on a toy suite run the way CI runs ours (``-n 2``)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

TOY = '''
import ctypes, pathlib

def test_crashes_once(tmp_path_factory):
    flag = pathlib.Path(__file__).with_name("crashed_once")
    if not flag.exists():
        flag.write_text("1")
        ctypes.string_at(0)  # SIGSEGV: the worker dies

def test_fails():
    assert 1 == 2

def test_passes():
    pass
'''


def test_a_crashed_test_reruns_and_a_failed_one_does_not(tmp_path):
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "--only-rerun" in addopts
    (tmp_path / "test_toy.py").write_text(TOY)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the toy's own rootdir: only the options below
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", *shlex.split(addopts), "test_toy.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    summary = out.stdout.strip().splitlines()[-1]
    # the crash is rerun (and passes); the plain failure is reported once, not rerun
    assert "1 failed, 2 passed, 1 rerun" in summary, out.stdout[-3000:]
    assert "FAILED test_toy.py::test_fails" in out.stdout
