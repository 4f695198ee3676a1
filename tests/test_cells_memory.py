"""Memory budgets of gridded fits: batch sizes chosen from max_memory, warnings, measured peak RSS."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from pysciml.memory import parse_memory


@pytest.mark.parametrize("text, value", [("4GiB", 4 * 2**30), ("500 MB", 500_000_000), ("1.5kib", 1536),
                                         (2e9, 2_000_000_000), ("64MiB", 64 * 2**20)])
def test_memory_strings(text, value):
    assert parse_memory(text) == value


def test_batch_size_follows_the_budget_and_warns_when_one_cell_is_too_big():
    from pysciml.engines.jax.cells.batch import MemoryBudgetWarning, choose_batch

    class Bundle:
        def __init__(self, B):
            self.bytes = 1000 + 2000 * B  # a fixed part and 2 kB per cell

    built = []

    def build(B):
        built.append(B)
        return Bundle(B)

    B, bundle = choose_batch(10_000, build, max_memory=100_000, cells_per_batch=None)
    assert built[0] == 128 and built[-1] == B and B < 128 and bundle.bytes <= 100_000
    assert B >= 40  # close to the largest batch that fits: (100000 - 1000) / 2000 = 49
    B, _ = choose_batch(10_000, build, max_memory=None, cells_per_batch=None)
    assert B == 128
    with pytest.warns(MemoryBudgetWarning, match="one cell's computation alone exceeds it"):
        B, _ = choose_batch(10, build, max_memory=500, cells_per_batch=None)
    assert B == 1 and built[-1] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        choose_batch(10, build, max_memory=10**9, cells_per_batch=64)


_SCRIPT = r"""
import json, sys
import numpy as np, xarray as xr
import pysciml as ps, pysciml.cells
from pysciml.memory import peak_bytes, reset_peak
from helpers.gridded_data import relax_model
n, nt, budget = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
t = np.linspace(0, 100, nt)
Y = rng.normal(size=n) * np.exp(-rng.uniform(0.03, 0.1, n) * t[:, None])
da = xr.DataArray(Y, dims=("time", "cell"), coords={"time": t}, name="sst")
model = relax_model()
opts = dict(optimizers=[ps.Adam(1e-2, steps=2), ps.LevenbergMarquardt(steps=2)], verbose=0,
            max_memory=budget, workers=1)
da.isel(cell=slice(0, 64)).sciml.fit(model, **opts)   # compile at the batch size the budget gives
assert reset_peak(), "cannot reset the peak (no /proc/self/clear_refs)"
base = peak_bytes()
res = da.sciml.fit(model, **opts)
peak = peak_bytes()
print(json.dumps({"growth": peak - base, "batch": res.attrs["cells_per_batch"],
                  "predicted": res.attrs["predicted_batch_bytes"], "data": Y.nbytes,
                  "ok": int((res["status"] == 0).sum())}))
"""


def _fit_growth(budget: int) -> dict:
    """Peak RSS growth of a gridded fit of 2048 cells, measured by the fitting process itself (VmHWM
    reset after warm-up: not ``ru_maxrss``, which a child inherits from its parent)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _SCRIPT, "2048", "300", str(budget)],
                         capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0 and "cannot reset the peak" in out.stderr:
        pytest.skip("this system cannot reset a process's peak RSS (/proc/self/clear_refs)")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _within(got: dict, budget: int) -> bool:
    # the fit's peak RSS above the warmed-up process stays within the budget plus the host copies of
    # the data (the block's float64 copy, the result arrays) and allocator slack
    return got["growth"] <= budget + 3 * got["data"] + 16 * 2**20


def test_peak_memory_stays_within_a_small_budget():
    budget = 2 * 2**20
    got = _fit_growth(budget)
    assert got["ok"] == 2048
    assert got["batch"] < 128 and got["predicted"] <= budget  # the budget decided the batch size
    assert got["growth"] > 0 and _within(got, budget), got


_BALLAST = r"""
import json, resource, sys
import numpy as np
from pysciml.memory import peak_bytes, reset_peak
reset_peak()
base, ru_base = peak_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ballast = np.ones(int(sys.argv[1]) // 8)
print(json.dumps({"growth": peak_bytes() - base,
                  "ru_growth": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - ru_base}))
"""


def test_peak_measurement_sees_a_child_s_own_growth_under_a_large_parent():
    """Negative control for the budget check: 64 MiB held by a fresh child is measured (and would fail the
    check above), while ``ru_maxrss`` -- inherited from this large test process -- reads no growth."""
    ballast = np.ones(200 * 2**20 // 8)  # make this parent larger than the child will ever be
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _BALLAST, str(64 * 2**20)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["growth"] >= 60 * 2**20
    assert not _within({"growth": got["growth"], "data": 0}, 2 * 2**20)
    assert got["ru_growth"] < 8 * 2**20  # the old measurement: blind to the child's 64 MiB
    del ballast
