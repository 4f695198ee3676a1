"""Development timings: Rodas5P + sparse linear-solve strategies on the 2D Brusselator vs scipy BDF.

Run ``python benchmarks/dev/brusselator_strategies.py N [N ...] [--strategies sparse,gmres]``.
For each grid size it prints, per tolerance, wall time (median of repeats,
after compile), steps, Jacobian / factorisation / solve counts and the final-
state error against a tight scipy reference, then the speed-up at matched
error (scipy's time interpolated log-log at our error).  Needs the Rosenbrock
machine (``pysciml.engines.jax.rosenbrock``).  Timings on a shared machine are
noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))  # tests/helpers

import numpy as np  # noqa: E402
from helpers import brusselator as bz  # noqa: E402


def reference(n):
    path = pathlib.Path(f"/tmp/brusselator_ref_{n}.npy")
    if path.exists():
        return np.load(path)
    y, _ = bz.scipy_solve(n, 1e-10, 1e-12)
    np.save(path, y)
    return y


def rel_err(y, ref):
    return float(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))


def run_scipy(n, ref, tols, repeats):
    rows = []
    for rtol in tols:
        ts, cpu, st, y = [], [], None, None
        for _ in range(repeats):
            c0 = time.process_time()
            y, st = bz.scipy_solve(n, rtol, rtol * 1e-2)
            cpu.append(time.process_time() - c0)
            ts.append(st["wall_s"])
        rows.append(dict(rtol=rtol, time=float(np.median(ts)), cpu=float(np.median(cpu)), steps=st["steps"],
                         njev=st["njev"], nlu=st["nlu"], err=rel_err(y, ref)))
    return rows


def make_strategy(name):
    from pysciml.engines.jax.linsolve.krylov import GMRESSolver
    from pysciml.engines.jax.linsolve.sparse import SparseLU

    if name == "sparse":
        return SparseLU()
    if name == "gmres":
        return GMRESSolver(preconditioner="jacobi", restart=30, maxiter=20)
    if name == "dense":
        from pysciml.engines.jax.linsolve.dense import DenseLU

        return DenseLU()
    raise SystemExit(f"unknown strategy {name}")


def run_jax(n, ref, tols, repeats, strategy):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve
    from pysciml.solvers.rosenbrock.rodas5p import RODAS5P

    f = bz.make_rhs(n, jnp)
    y0 = jnp.asarray(bz.initial_state(n))
    t0 = time.perf_counter()
    ls = make_strategy(strategy).prepare(f, 0.0, y0, None)
    prep = time.perf_counter() - t0
    ts_save = jnp.asarray([bz.T_SPAN[1]])
    rows = []
    for rtol in tols:
        run = jax.jit(lambda y0, rtol=rtol: rosenbrock_solve(
            f, 0.0, bz.T_SPAN[1], y0, None, ts_save, tableau=RODAS5P, rtol=rtol, atol=rtol * 1e-2,
            linsolve=ls, differentiation="forward", max_steps=20_000))
        t0 = time.perf_counter()
        res = run(y0)
        jax.block_until_ready(res.ys)
        compile_s = time.perf_counter() - t0
        ts, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            res = run(y0)
            jax.block_until_ready(res.ys)
            ts.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        stats = {k: int(v) for k, v in res.stats.items() if k != "t_end"}
        rows.append(dict(rtol=rtol, time=float(np.median(ts)), cpu=float(np.median(cpu)),
                         compile=compile_s - float(np.median(ts)),
                         status=int(res.status), err=rel_err(np.asarray(res.ys[-1]), ref), **stats))
    return prep, rows


def matched_ratio(ours, theirs):
    """scipy time interpolated (log-log) at our error, divided by our time."""
    e = np.log([r["err"] for r in theirs])
    t = np.log([r["time"] for r in theirs])
    order = np.argsort(e)
    out = []
    for r in ours:
        le = np.log(r["err"])
        if le < e.min() or le > e.max():
            out.append(None)
            continue
        out.append(float(np.exp(np.interp(le, e[order], t[order])) / r["time"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[16, 32])
    ap.add_argument("--strategies", default="sparse")
    ap.add_argument("--tols", default="1e-3,1e-4,1e-5,1e-6")
    ap.add_argument("--scipy-tols", default="1e-4,1e-5,1e-6,1e-7,1e-8")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    tols = [float(x) for x in a.tols.split(",")]
    stols = [float(x) for x in a.scipy_tols.split(",")]
    for n in a.sizes:
        ref = reference(n)
        sc = run_scipy(n, ref, stols, a.repeats)
        print(f"\n== Brusselator N={n} ({2 * n * n} states) ==")
        for r in sc:
            print(f"scipy BDF sparse-jac rtol={r['rtol']:.0e}: {r['time']:.3f} s (cpu {r['cpu']:.3f} s) steps={r['steps']} "
                  f"njev={r['njev']} nlu={r['nlu']} err={r['err']:.2e}")
        for s in a.strategies.split(","):
            prep, rows = run_jax(n, ref, tols, a.repeats, s)
            ratios = matched_ratio(rows, sc)
            print(f"-- Rodas5P + {s} (prepare {prep:.2f} s)")
            for r, q in zip(rows, ratios):
                qs = "n/a" if q is None else f"{q:.2f}x"
                print(f"rtol={r['rtol']:.0e}: {r['time']:.3f} s (cpu {r['cpu']:.3f} s, compile {r['compile']:.1f} s) status={r['status']} "
                      f"steps={r['steps']} rej={r['rejected']} njev={r['njev']} nlu={r['nlu']} "
                      f"nsolve={r['nsolve']} err={r['err']:.2e}  speed-up vs scipy at matched error: {qs}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
