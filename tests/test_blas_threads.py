"""BLAS on one thread once the jax engine starts, also when the user imported numpy and scipy first
(jaxlib's dense LU calls scipy's OpenBLAS; its spinning threads cost far more than they save on the
small LUs of implicit steps), unless the user chose the threads."""

import json
import os
import subprocess
import sys

SCRIPT = """
import json, numpy, scipy.linalg  # loaded first, as users do: their BLAS threads are set already
from threadpoolctl import threadpool_info
before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
from pysciml.engines import get_engine
get_engine("jax")
after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
print(json.dumps({"before": before, "after": after}))
"""


def _threads(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_blas_limited_to_one_thread_after_numpy_and_scipy_loaded():
    got = _threads({})
    assert got["after"] and all(n == 1 for n in got["after"]), got


def test_threads_the_user_chose_are_kept_negative_control():
    """With OPENBLAS_NUM_THREADS=2 set by the user, BLAS keeps 2 threads: the check above can fail."""
    got = _threads({"OPENBLAS_NUM_THREADS": "2"})
    assert any(n == 2 for n in got["after"]), got
