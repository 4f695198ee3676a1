"""Where dense LU stops paying: the measurement behind ``pysciml.solvers.linear.DENSE_MAX``.

Rodas5P on the 2-D Brusselator (``tests/helpers/brusselator.py``; ``2 N^2`` states, a
5-point-stencil Jacobian) over a range of grid sizes, with each linear-solve strategy a
user can pick: ``ps.DenseLU()`` (dense Jacobian by forward mode, LU), ``ps.GMRES()``
(its default preconditioner is the lagged sparse LU that ``linsolve="auto"`` picks for
large sparse systems) and ``ps.SparseLU()`` (coloured Jacobian, multifrontal LU every
step).  Each solve is timed after its compile (best of several calls), in CPU time of
this process, with XLA and BLAS on one thread and the process pinned to one core, so
the figure does not depend on how many cores the machine has.

    python benchmarks/linsolve_crossover.py            # writes results/linsolve_crossover.{json,md}
    python benchmarks/linsolve_crossover.py --quick    # a smoke run (few sizes, no files)

The crossover is the smallest state count from which the best sparse strategy is faster
than dense LU at every larger size measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# no XLA_FLAGS: the pinning below gives XLA one thread (benchmarks/timing.pin_one_thread), and pysciml sets
# its own compile-time flag when the variable is unset
if hasattr(os, "sched_setaffinity"):
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core: CPU time == wall time
    except OSError:
        pass
sys.path.insert(0, str(HERE.parent / "tests"))  # the Brusselator of tests/helpers

import numpy as np  # noqa: E402

from helpers import brusselator as bz  # noqa: E402

SIZES = (4, 5, 6, 7, 8, 9, 10, 12, 14, 16)
RTOL, ATOL = 1e-5, 1e-7


def model(n: int):
    import pysciml as ps

    mask = bz.forcing_mask(n)

    def physics(u, p, t, m):
        a, b = u.u, u.v

        def lap(w):
            return (m.roll(w, 1, 0) + m.roll(w, -1, 0) + m.roll(w, 1, 1) + m.roll(w, -1, 1) - 4.0 * w) * p.alpha

        forcing = m.where(t >= 1.1, 5.0, 0.0) * mask
        aab = a * a * b
        return {"u": 1.0 + aab - 4.4 * a + lap(a) + forcing, "v": 3.4 * a - aab + lap(b)}

    return ps.ODEModel(physics, states={"u": (n, n), "v": (n, n)}, params={"alpha": bz.ALPHA * n * n},
                       name=f"brusselator{n}")


def strategies():
    import pysciml as ps

    return {"dense LU": ps.DenseLU(), "lagged sparse LU + GMRES": ps.GMRES(), "sparse LU": ps.SparseLU()}


def time_solve(mod, n: int, linsolve, repeats: int) -> dict:
    import pysciml as ps

    u0 = bz.initial_state(n)
    kw = dict(saveat=[bz.T_SPAN[1]], solver=ps.Rodas5P(linsolve=linsolve), rtol=RTOL, atol=ATOL)
    c0, w0 = time.process_time(), time.perf_counter()
    sol = ps.solve(mod, u0, bz.T_SPAN, **kw)
    first = (time.process_time() - c0, time.perf_counter() - w0)
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        sol = ps.solve(mod, u0, bz.T_SPAN, **kw)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"ok": bool(sol.ok), "status": sol.status.name, "steps": int(sol.stats.get("steps", -1)),
            "cpu_s": min(cpu), "wall_s": min(wall), "first_call_s": first[1], "u_end": np.asarray(sol.u[-1])}


def crossover(rows: list[dict]) -> int | None:
    """Smallest state count from which the best sparse strategy beats dense LU at every larger size."""
    best = None
    for r in sorted(rows, key=lambda r: r["states"], reverse=True):
        sparse = min(v["cpu_s"] for k, v in r["tools"].items() if k != "dense LU" and v["ok"])
        if sparse < r["tools"]["dense LU"]["cpu_s"]:
            best = r["states"]
        else:
            break
    return best


def markdown(report: dict) -> str:
    names = list(report["rows"][0]["tools"])
    lines = [f"# Dense vs sparse linear algebra in Rodas5P (2-D Brusselator, rtol {RTOL:g}, atol {ATOL:g})", "",
             f"CPU seconds per solve after compile, one core (XLA and BLAS single-threaded), best of "
             f"{report['repeats']}; load average at start {report['load_start']}.", "",
             "| states | " + " | ".join(names) + " | fastest |", "|---|" + "---|" * (len(names) + 1)]
    for r in report["rows"]:
        cells = [f"{v['cpu_s']:.4f}" if v["ok"] else f"failed ({v['status']})" for v in r["tools"].values()]
        fastest = min((k for k in names if r["tools"][k]["ok"]), key=lambda k: r["tools"][k]["cpu_s"])
        lines.append(f"| {r['states']} | " + " | ".join(cells) + f" | {fastest} |")
    below = max((r["states"] for r in report["rows"] if r["states"] < (report["crossover"] or 0)), default=None)
    lines += ["", f"**Crossover: between {below} and {report['crossover']} states**: dense LU is fastest at {below} "
              f"states, the best sparse strategy at {report['crossover']} and every larger size. "
              f"`pysciml.solvers.linear.DENSE_MAX` = {report['dense_max']} (dense up to there, then the Jacobian's "
              "sparsity decides).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="three sizes, one repeat, no files")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    from pysciml.solvers.linear import DENSE_MAX

    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    sizes = (4, 8, 12) if args.quick else SIZES
    repeats = 1 if args.quick else args.repeats
    rows = []
    for n in sizes:
        mod = model(n)
        tools = {}
        for name, ls in strategies().items():
            tools[name] = time_solve(mod, n, ls, repeats)
        ref = tools["dense LU"]["u_end"]
        for v in tools.values():
            v["rel_diff_to_dense"] = float(np.max(np.abs(v.pop("u_end") - ref) / (np.abs(ref) + 1e-3)))
        rows.append({"n": n, "states": 2 * n * n, "tools": tools})
        print(f"{2 * n * n:5d} states: " + "  ".join(f"{k} {v['cpu_s'] * 1e3:8.1f} ms" for k, v in tools.items()),
              flush=True)
    report = {"rows": rows, "repeats": repeats, "rtol": RTOL, "atol": ATOL, "crossover": crossover(rows),
              "dense_max": DENSE_MAX, "load_start": round(load, 2), "load_end": round(os.getloadavg()[0], 2),
              "cores_visible": cores, "python": sys.version.split()[0]}
    print(f"crossover: {report['crossover']} states (DENSE_MAX = {DENSE_MAX})")
    if args.quick:
        return 0
    if load > (os.cpu_count() or 1):
        print(f"load average {load:.2f} exceeds the {os.cpu_count()} cores: not publishing; run again on a quiet "
              "machine.", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "linsolve_crossover.json").write_text(json.dumps(report, indent=1))
    (out / "linsolve_crossover.md").write_text(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
