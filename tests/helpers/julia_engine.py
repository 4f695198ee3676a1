"""Julia-engine pieces of the test configuration (the lead wires them into tests/conftest.py).

* :func:`julia_status` says whether Julia tests can run here, without importing
  juliacall (which would try to install Julia).
* :func:`require_julia` skips a test with the reason, or fails it when
  ``PYSCIML_TEST_JULIA=1`` (CI with Julia), where a missing Julia is an error.
* ``engine`` fixture: runs a test once per engine, ``"jax"`` and ``"julia"``.
* ``pytest_runtest_setup``: applies :func:`require_julia` to tests marked ``julia``.

Wiring (tests/conftest.py)::

    from helpers.julia_engine import engine, pytest_runtest_setup  # noqa: F401
"""

from __future__ import annotations

import importlib.util
import os

import pytest

__all__ = ["julia_status", "require_julia", "engine", "pytest_runtest_setup"]


def julia_status() -> tuple[bool, str]:
    """``(True, path to julia)`` if the Julia engine can run here, else ``(False, reason)``."""
    if importlib.util.find_spec("juliacall") is None:
        return False, 'juliacall is not installed (pip install "pysciml[julia]")'
    from pysciml.engines.julia.bridge import find_julia

    exe = find_julia()
    if exe is None:
        return False, "no Julia executable found (install Julia or set PYTHON_JULIAPKG_EXE)"
    return True, exe


def require_julia():
    """Skip (or, with PYSCIML_TEST_JULIA=1, fail) the current test when Julia is unavailable."""
    ok, reason = julia_status()
    if ok:
        return
    if os.environ.get("PYSCIML_TEST_JULIA") == "1":
        pytest.fail(f"PYSCIML_TEST_JULIA=1 but the julia engine cannot run: {reason}", pytrace=False)
    pytest.skip(f"julia engine unavailable: {reason}")


@pytest.fixture(params=["jax", pytest.param("julia", marks=pytest.mark.julia)])
def engine(request):
    """The engine name, once per engine; julia cases skip (with the reason) without Julia."""
    if request.param == "julia":
        require_julia()
    return request.param


def pytest_runtest_setup(item):
    if item.get_closest_marker("julia") is not None:
        require_julia()
