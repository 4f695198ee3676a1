"""Timing and memory helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``).

Wall time and CPU time are taken together for every call: XLA uses every core while most peers
use one, so a table shows both and says which its headline ratio uses.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the published tables
RESULTS = Path(__file__).resolve().parent / "results"


def best_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds over ``repeats`` calls of ``fn()``, and the last call's result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(max(int(repeats), 1)):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def first_call(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call (the first: tracing and compiling included), and its result."""
    return best_of(fn, 1)


def vmhwm_mib() -> float:
    """Peak resident memory of this process (``VmHWM``), MiB."""
    from pysciml.memory import peak_bytes

    return peak_bytes() / 2**20


def cold_compile_cache() -> str:
    """Point pysciml's cache (and JAX's compilation cache under it) at a new empty folder.

    Call it before pysciml's jax engine loads (``import pysciml`` alone loads no engine), so that
    a benchmark's first call measures tracing and compiling from nothing, not a load from an
    earlier run's cache.  Returns the folder.
    """
    if "pysciml.engines.jax._setup" in sys.modules:
        raise RuntimeError("cold_compile_cache() must run before pysciml's jax engine loads")
    path = tempfile.mkdtemp(prefix="pysciml-bench-cold-")
    os.environ["PYSCIML_CACHE_DIR"] = path
    return path


def results_folder(out: str | Path | None, quick: bool) -> Path:
    """Where a run writes its tables: ``--out`` if given, a new temporary folder for ``--quick``,
    else ``benchmarks/results`` -- and that only when the 1-minute load average at start is within
    the core count (a loaded machine's timings are not published: the process exits with status 1).
    """
    if out is not None:
        path = Path(out)
    elif quick:
        path = Path(tempfile.mkdtemp(prefix="pysciml-bench-quick-"))
    else:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if load > cores:
            sys.exit(f"load average {load:.2f} > {cores} cores: not publishing (rerun on a quiet machine, "
                     "or pass --out DIR to keep the numbers elsewhere)")  # fmt: skip
        path = RESULTS
    path.mkdir(parents=True, exist_ok=True)
    return path
