"""Shared fixtures: models with exact solutions, engine selection; one compile cache per test worker."""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers.julia_engine import engine, pytest_runtest_setup  # noqa: E402,F401  (engine fixture, julia marker)

# Each pytest-xdist worker (and the processes it starts) gets its own compile cache under the
# user's one, so no worker reads an entry another is still writing.  This did not stop the rare
# jaxlib segfaults seen in cold full runs (jax 0.10.2; about two per 2000-test run, locally and in
# CI, inside XLA compile, cache write or cache read; cause not found): the guard against those is
# the rerun-once-if-crashed policy in pyproject (tests/test_crash_rerun.py).  A PYSCIML_CACHE_DIR
# set by the caller is left alone.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and "PYSCIML_CACHE_DIR" not in os.environ:
    from pysciml.cache.store import cache_root

    os.environ["PYSCIML_CACHE_DIR"] = str(cache_root() / f"pytest-{_WORKER}")


@pytest.fixture(scope="session")
def jax_engine():
    """Loads the jax engine (x64 on) and returns it."""
    from pysciml.engines import get_engine

    return get_engine("jax")


@pytest.fixture(scope="session")
def decay_model():
    import pysciml as ps

    def decay(u, p, t, m):
        return -p.k * u

    return ps.ODEModel(decay, states=["y"], params={"k": 0.7})


@pytest.fixture(scope="session")
def oscillator_model():
    import pysciml as ps

    def oscillator(u, p, t, m):
        x, v = u
        return [v, -p.omega**2 * x]

    return ps.ODEModel(oscillator, states=["x", "v"], params={"omega": 2.0})


@pytest.fixture(scope="session")
def linear_model():
    """du/dt = A u with A a 3x3 parameter (exact solution expm(A t) u0)."""
    import pysciml as ps

    A = np.array([[-1.0, 0.5, 0.0], [0.2, -2.0, 0.3], [0.0, 0.4, -0.5]])

    def linear(u, p, t, m):
        return p.A @ u

    return ps.ODEModel(linear, states=["a", "b", "c"], params={"A": A})
