"""Development timings of the raw Rosenbrock machine against scipy's stiff solvers.

Work-precision in one process: for each problem, every method runs over a sweep of
tolerances; the error of a run is the largest relative error of the final state
against a tight Radau reference; for each error level the cheapest run of each
method that reaches it is compared (time after compile, median of repeats).

    python benchmarks/dev/rosenbrock_variants.py [--quick] [--single-thread]
        [--xla-flags "..."] [--sync-dispatch] [--json out.json]

``--single-thread`` adds ``--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1`` and ``--xla-flags`` any other flags to
``XLA_FLAGS`` before jax is imported (``--xla_cpu_use_fusion_emitters=false``
halves compile time here); ``--sync-dispatch`` turns off jax's asynchronous CPU
dispatch (saves ~35 µs of thread hand-off per call); see docs/rosenbrock.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the standard test problems (tests/helpers)


def _median_time(fn, repeats, min_time=0.2):
    fn()
    ts = []
    t_start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
        if time.perf_counter() - t_start > min_time and len(ts) >= 3:
            break
    return float(np.median(ts))


def _rel_err(y, ref):
    return float(np.max(np.abs(np.asarray(y) - ref) / np.abs(ref)))


def scipy_sweep(prob, ref, rtols, atol_ratio, methods=("LSODA", "BDF", "Radau"), repeats=3):
    from helpers import problems as P
    from scipy.integrate import solve_ivp

    fun, jac = P.for_scipy(prob)
    out = {}
    for m in methods:
        rows = []
        for rtol in rtols:
            def run():
                return solve_ivp(fun, (prob.t0, prob.t1), np.array(prob.y0, float), method=m, jac=jac,
                                 rtol=rtol, atol=rtol * atol_ratio)
            sol = run()
            if not sol.success:
                continue
            t = _median_time(run, repeats, min_time=1.0)
            rows.append({"rtol": rtol, "time": t, "err": _rel_err(sol.y[:, -1], ref), "nfev": int(sol.nfev)})
        out[m] = rows
    return out


def jax_sweep(prob, ref, rtols, atol_ratio, tableaus, repeats=50, linsolve=None):
    import jax
    import jax.numpy as jnp
    from helpers import problems as P

    from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve

    f = P.for_jax(prob)
    out, compile_times = {}, {}
    for tab in tableaus:
        def solve(y0, p, rtol, atol):
            r = rosenbrock_solve(f, prob.t0, prob.t1, y0, p, jnp.array([prob.t1]), tableau=tab,
                                 rtol=rtol, atol=atol, linsolve=linsolve)
            return r.ys[-1], r.status, r.stats["steps"]
        y0, p = jnp.array(prob.y0), jnp.array(prob.p)
        t = time.perf_counter()
        c = jax.jit(solve).lower(y0, p, 1e-6, 1e-10).compile()
        compile_times[tab.name] = time.perf_counter() - t
        rows = []
        for rtol in rtols:
            args = (y0, p, jnp.float64(rtol), jnp.float64(rtol * atol_ratio))
            y, st, steps = c(*args)
            if int(st) != 0:
                continue
            tm = _median_time(lambda: jax.block_until_ready(c(*args)), repeats)
            rows.append({"rtol": rtol, "time": tm, "err": _rel_err(y, ref), "steps": int(steps),
                         "us_per_step": tm / int(steps) * 1e6})
        out[tab.name] = rows
    return out, compile_times


def matched(results, levels):
    """For each error level: the cheapest time of each method reaching it."""
    table = {}
    for lev in levels:
        row = {}
        for m, rows in results.items():
            ok = [r["time"] for r in rows if r["err"] <= lev]
            row[m] = min(ok) if ok else None
        table[lev] = row
    return table


def batch_rober(n_batch, n_scipy, rtol, atol, tab_name="Rodas5P", repeats=5):
    import jax
    import jax.numpy as jnp
    from helpers import problems as P
    from scipy.integrate import solve_ivp

    from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve
    from pysciml.solvers.rosenbrock.rodas4 import RODAS4 as _R4
    from pysciml.solvers.rosenbrock.rodas5p import RODAS5P as _R5P
    from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23 as _R23
    TABLEAUS = {'rodas5p': _R5P, 'rodas4': _R4, 'rosenbrock23': _R23}

    prob = P.PROBLEMS["rober"]
    rng = np.random.default_rng(0)
    ps = np.array(prob.p) * np.exp(rng.uniform(-0.5, 0.5, size=(n_batch, 3)))
    f = P.for_jax(prob)
    tab = TABLEAUS[tab_name.lower()]

    def one(p):
        r = rosenbrock_solve(f, 0.0, prob.t1, jnp.array(prob.y0), p, jnp.array([prob.t1]), tableau=tab,
                             rtol=rtol, atol=atol)
        return r.ys[-1], r.status
    t = time.perf_counter()
    c = jax.jit(jax.vmap(one)).lower(ps).compile()
    tc = time.perf_counter() - t
    ys, st = c(ps)
    t_jax = _median_time(lambda: jax.block_until_ready(c(ps)), repeats) / n_batch
    idx = np.arange(n_scipy)

    def loop():
        outs = []
        for i in idx:
            fun, jac = P.for_scipy(prob, ps[i])
            outs.append(solve_ivp(fun, (prob.t0, prob.t1), np.array(prob.y0), method="LSODA", jac=jac,
                                  rtol=rtol, atol=atol).y[:, -1])
        return outs
    t0 = time.perf_counter()
    outs = loop()
    t_scipy = (time.perf_counter() - t0) / n_scipy
    refs = [P.reference("rober", p=ps[i]) for i in idx[:5]]
    err_jax = max(_rel_err(np.asarray(ys[i]), refs[i][0]) for i in range(5))
    err_scipy = max(_rel_err(outs[i], refs[i][0]) for i in range(5))
    return {"n_batch": n_batch, "jax_per_instance": t_jax, "scipy_lsoda_per_instance": t_scipy,
            "ratio": t_scipy / t_jax, "compile": tc, "all_success": bool(np.all(np.asarray(st) == 0)),
            "err_jax": err_jax, "err_scipy": err_scipy}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--single-thread", action="store_true")
    ap.add_argument("--problems", default="rober,hires")
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--small-max", type=int, default=None)
    ap.add_argument("--xla-flags", default="")
    ap.add_argument("--sync-dispatch", action="store_true",
                    help="jax_cpu_enable_async_dispatch=False: run on the calling thread")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    if a.single_thread:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    if a.xla_flags:
        os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " " + a.xla_flags
    import jax

    jax.config.update("jax_enable_x64", True)
    if a.sync_dispatch:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    from helpers import problems as P

    from pysciml.engines.jax.linsolve.dense import DenseLU
    from pysciml.solvers.rosenbrock.rodas4 import RODAS4
    from pysciml.solvers.rosenbrock.rodas5p import RODAS5P
    from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23

    linsolve = DenseLU() if a.small_max is None else DenseLU(small_max=a.small_max)
    rtols = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
    if a.quick:
        rtols = [1e-5, 1e-7, 1e-9]
    levels = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
    atol_ratio = {"rober": 1e-4, "hires": 1e-4}
    report = {"xla_flags": os.environ.get("XLA_FLAGS", ""), "load_average": os.getloadavg(),
              "async_dispatch": not a.sync_dispatch,
              "problems": {}}
    for name in a.problems.split(","):
        prob = P.PROBLEMS[name]
        ref = P.reference(name, rtol=1e-13, atol=1e-16 if name == "rober" else 1e-15)[0]
        sc = scipy_sweep(prob, ref, rtols, atol_ratio[name], repeats=3)
        jx, comp = jax_sweep(prob, ref, rtols, atol_ratio[name], [RODAS5P, RODAS4, ROSENBROCK23],
                             linsolve=linsolve)
        allres = {**{f"scipy-{k}": v for k, v in sc.items()}, **jx}
        table = matched(allres, levels)
        print(f"\n== {name}: time (ms) of the cheapest run reaching each final-state relative error")
        methods = list(allres)
        print("error   " + " ".join(f"{m:>14s}" for m in methods) + "   best-scipy/Rodas5P")
        ratios = {}
        for lev, row in table.items():
            best_scipy = min([v for k, v in row.items() if k.startswith("scipy") and v is not None],
                             default=None)
            ours = row.get("Rodas5P")
            ratio = best_scipy / ours if (best_scipy and ours) else None
            ratios[lev] = ratio
            cells = " ".join(f"{(v * 1e3 if v else float('nan')):14.3f}" for v in row.values())
            print(f"{lev:7.0e} {cells}   {ratio if ratio is None else round(ratio, 1)}")
        print("compile (s):", {k: round(v, 2) for k, v in comp.items()})
        print("Rodas5P us/step:", [round(r["us_per_step"], 2) for r in jx["Rodas5P"]])
        report["problems"][name] = {"runs": allres, "ratios": {str(k): v for k, v in ratios.items()},
                                    "compile_s": comp}
    if not a.no_batch:
        b = batch_rober(540, 20 if a.quick else 54, 1e-6, 1e-10)
        print("\n== 540 ROBER instances (rate constants varied +-50%), rtol 1e-6 atol 1e-10:")
        print(json.dumps(b, indent=1))
        report["batch"] = b
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
