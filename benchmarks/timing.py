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


def timed(fn: Callable[[], Any]) -> tuple[float, float, float | None, Any]:
    """One call of ``fn()``: wall seconds, CPU seconds of this process, run-queue wait seconds
    (``run_queue_wait_s``: time its threads were ready but other processes held the cores), result."""
    q0 = run_queue_wait_s()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    q1 = run_queue_wait_s()
    return wall, cpu, None if q0 is None or q1 is None else max(q1 - q0, 0.0), out


def run_queue_wait_s() -> float | None:
    """Seconds this process's threads have spent runnable but waiting for a core (Linux
    ``/proc/self/task/*/schedstat``; None elsewhere).

    On one pinned core, wall time = CPU time + this wait (+ any time blocked on I/O): a loaded
    machine shows up here instead of hiding in the wall time.
    """
    total = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total / 1e9


#: thread-count variables read by BLAS / OpenMP when they load
ONE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_thread_blas() -> None:
    """One thread for the BLAS / OpenMP pools (OpenBLAS, MKL, OpenMP), set before they load.

    pysciml's engine asks for the same (``OPENBLAS_NUM_THREADS=1``, see
    ``pysciml/engines/jax/_setup.py``) but only when it starts, after ``import jax`` has loaded
    numpy's OpenBLAS: set here first, the import order cannot undo it.  Call it before numpy,
    scipy or jax load.
    """
    _refuse_after_numpy("one_thread_blas")
    os.environ.update(ONE_THREAD_ENV)


def pin_one_thread() -> dict:
    """Pin this process to one core and its BLAS / OpenMP / XLA thread pools to one thread.

    Call it before numpy, scipy or jax load.  ``os.sched_setaffinity`` binds the calling thread
    and every thread it starts later; XLA sizes its intra-op pool (``tf_XLAEigen`` threads) from
    the affinity mask when its CPU backend starts, so pinned it has one thread.  No XLA flag does
    this in jax 0.10.2 (measured): the often-quoted ``intra_op_parallelism_threads=1`` is no XLA
    flag (ignored without ``--``, fatal with it) and ``--xla_cpu_multi_thread_eigen=false``
    leaves the pool at one thread per core; setting ``XLA_FLAGS`` at all would also drop
    pysciml's own default flags, so it is left alone.  Child processes inherit the mask and
    the environment.  Returns ``thread_mode()``.
    """
    _refuse_after_numpy("pin_one_thread")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    one_thread_blas()
    return thread_mode()


def _refuse_after_numpy(name: str) -> None:
    loaded = [m for m in ("numpy", "scipy", "jax", "jaxlib") if m in sys.modules]
    if loaded:
        raise RuntimeError(f"{name}() must run before {', '.join(loaded)} load(s)")


def thread_mode() -> dict:
    """What this process may run on: the cores of its affinity mask, the thread-count variables,
    ``XLA_FLAGS`` and (once jax has run something on the CPU) the threads of XLA's intra-op pool."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    names = []
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/comm") as f:
                    names.append(f.read().strip())
            except OSError:
                continue
    except OSError:
        names = None
    return {
        "affinity": cores,
        "n_cores": len(cores) if cores is not None else os.cpu_count(),
        "env": {k: os.environ.get(k) for k in ONE_THREAD_ENV},
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "xla_pool_threads": None if names is None else names.count("tf_XLAEigen"),
    }


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


def package_versions(*names: str) -> dict:
    """Installed versions of the named distributions (``"absent"`` for one not installed): a run's
    timings depend on them (a newer numpy or scipy can move a peer's time as much as a code change)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def record_run(runs: list, cases: list, entry: dict) -> list:
    """The list of runs behind a results file after a run of ``cases``: earlier runs keep only the
    cases not measured again (a run left with none is dropped), then ``{**entry, "cases": cases}``."""
    kept = []
    for run in runs:
        left = [c for c in run.get("cases", []) if c not in cases]
        if left:
            kept.append({**run, "cases": left})
    return [*kept, {**entry, "cases": list(cases)}]


def runs_line(runs: list) -> str:
    """One line naming each run's load average at start, its cases and the versions it used."""
    parts = []
    for run in runs:
        vers = run.get("versions")
        v = ", ".join(f"{k} {x}" for k, x in vers.items()) if vers else "versions not recorded"
        parts.append(f"{run['load']} ({','.join(run['cases'])}; {v})")
    return "; ".join(parts)
