"""Work-precision comparison on stiff problems, all tools in one process.

    python benchmarks/stiff.py [--quick] [--only rober,hires,...] [--threads 1|all]
                               [--two-cores bruss16,...] [--out DIR]

Problems: ROBER, HIRES, Van der Pol (mu = 1e3), the 1-D Brusselator (1000 states, banded)
and the 2-D Brusselator (N = 16, 32, 64; 2 N^2 states).  Tools: pysciml (public
``ps.solve``; Rodas5P, and for the small problems also Rosenbrock23), scipy ``solve_ivp``
(LSODA, BDF, Radau with the analytic Jacobian, sparse for the Brusselators, banded for LSODA
on the 1-D one) and raw diffrax ``Kvaerno5``.  Each tool sweeps
its tolerance; at every error level the cheapest run of each tool whose error (against a
tight Radau reference, the largest over several save times for the small problems, at the
final time for the Brusselators) is at most that level is compared — "matched
error"; a level a tool never reaches is marked "-" and gives no ratio.  Compile time
(first call minus a warm call) is reported apart, as is the start time of a second
process that finds the compiled solve in the caches.

Every run is timed in wall time and in CPU time of this process, over the same repeated
calls.  XLA spreads a solve over every core it may use, while SuperLU, LSODA and the rest
of scipy use one, so the two tell different stories on a multi-core machine:

* ``--threads 1`` (default): before numpy or jax load, the process is pinned to one core
  and its thread pools to one thread (``timing.pin_one_thread``; XLA's intra-op pool
  follows the affinity mask), so both sides run on one thread.  The headline ratios are
  CPU time; wall time is CPU time plus the run-queue wait that other processes cause
  (recorded beside it, so a loaded run shows).
* ``--threads all``: XLA may use every core of the affinity mask (``--cores``); BLAS stays
  on one thread (``timing.one_thread_blas``), as pysciml's engine asks.  Tables give wall
  and CPU ratios side by side.

A default run is single-thread and then runs the ``--two-cores`` cases (default all but the
second-process start) again in a second process with ``--threads all`` on the cores it
started with, for a smaller table per case: pysciml's CPU and wall time and the wall and CPU
ratios at the same error levels.

Writes ``benchmarks/results/stiff.json`` and ``stiff.md`` (``--quick``: a smoke run,
written to ``--out`` if given, else a temporary folder).  Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# numpy, scipy and jax load only after the thread mode is set (``main``): stiff_cases and
# stiff_runners are imported there
from timing import (  # noqa: E402
    one_thread_blas,
    package_versions,
    pin_one_thread,
    record_run,
    results_folder,
    runs_line,
    thread_mode,
)

SMALL_RTOLS = [10.0**-k for k in range(3, 11)]
BRUSS_RTOLS = [10.0**-k for k in range(3, 8)]
LEVELS_SMALL = [10.0**-k for k in range(2, 10)]
LEVELS_BRUSS = [10.0**-k for k in range(2, 7)]
#: raw diffrax factorises a dense Jacobian: measured 20 s per solve at 512 states already, so
#: larger systems are left out (reported as not run)
DIFFRAX_MAX_STATES = 600
#: the distributions whose versions each run records (pysciml's own stack and every contestant)
PEERS = ("pysciml", "jax", "jaxlib", "diffrax", "numpy", "scipy")
TARGETS = {"rober": 10.0, "hires": 5.0, "bruss32": 2.0, "bruss64": 2.0, "bruss1d_1000": 3.0}
CASES = ["rober", "hires", "vdp", "bruss1d", "bruss16", "bruss32", "bruss64", "batch", "process"]
QUICK_CASES = ["rober", "bruss16", "batch", "process"]
#: cases run again on all cores after a one-thread run (every case but the second-process start)
TWO_CORE_CASES = "rober,hires,vdp,bruss1d,bruss16,bruss32,bruss64,batch"
TWO_CORE_QUICK = "rober,batch"
#: the two times of every run: key in a row, name in the tables
METRICS = {"cpu_s": "CPU", "time_s": "wall"}


def cheapest(rows, level, key="cpu_s"):
    """Row with the least ``key`` time among successful rows whose error is at most ``level`` (None if none)."""
    ok = [r for r in rows if r.get(key) is not None and r.get("err") is not None and r["err"] <= level]
    return min(ok, key=lambda r: r[key]) if ok else None


def _ratios(tools: dict, level, ours: str, key: str) -> dict:
    """At one error level, in one time (``key``): best scipy / ours and diffrax / ours, each tool's
    cheapest run that reaches the level; absent where either side never reaches it."""
    picks = {name: cheapest(res["rows"], level, key) for name, res in tools.items()}
    mine, out = picks.get(ours), {}
    scipy = {k: r for k, r in picks.items() if k.startswith("scipy") and r}
    if mine and scipy:
        best = min(scipy, key=lambda k: scipy[k][key])
        out.update(best_scipy=best, vs_best_scipy=scipy[best][key] / mine[key])
    if mine and picks.get("diffrax_kvaerno5"):
        out["vs_diffrax"] = picks["diffrax_kvaerno5"][key] / mine[key]
    return out


def matched(tools: dict, levels, ours: str, headline: str):
    """Per error level: each tool's cheapest run in the ``headline`` time (its CPU and wall time,
    tolerance and error), and the ratios against ours in both times."""
    out = []
    for level in levels:
        entry = {"level": level}
        for name, res in tools.items():
            row = cheapest(res["rows"], level, headline)
            entry[name] = None if row is None else {k: row.get(k) for k in ("cpu_s", "time_s", "wait_s", "rtol", "err")}
        entry["ratios"] = {key: _ratios(tools, level, ours, key) for key in METRICS}
        out.append(entry)
    return out


def run_case(case, rtols, levels, solvers, mkw, headline):
    import stiff_cases as SC
    import stiff_runners as SR

    import pysciml as ps

    ref = SC.reference_path(case)  # (n_save, n): the error is the largest over the save times
    tools = {}
    for sname in solvers:
        print(f"  pysciml {sname} ...", flush=True)
        tools[f"pysciml_{sname.lower()}"] = SR.run_pysciml(case, getattr(ps, sname)(), rtols, ref, **mkw)
    for method in case.scipy_methods:
        print(f"  scipy {method} ...", flush=True)
        tools[f"scipy_{method.lower()}"] = SR.run_scipy(case, method, rtols, ref, **mkw)
    if case.n <= DIFFRAX_MAX_STATES:
        print("  diffrax Kvaerno5 ...", flush=True)
        tools["diffrax_kvaerno5"] = SR.run_diffrax(case, rtols, ref, **mkw)
    ours = f"pysciml_{solvers[0].lower()}"
    return {"n": case.n, "tools": tools, "matched": matched(tools, levels, ours, headline), "ours": ours}


def second_process_start(cache_dir: str) -> dict:
    """Wall and CPU time of two fresh processes solving ROBER with Rodas5P: the first compiles
    and fills the caches, the second reuses them.  They inherit this process's thread mode."""
    code = (
        f"import time; t0 = time.perf_counter(); import sys; sys.path.insert(0, {str(HERE)!r}); "
        "import stiff_cases as SC;"
        "import pysciml as ps; c = SC.small_case('rober');"
        "t1 = time.perf_counter(); s = ps.solve(c.model, c.u0, (c.t0, c.t1), saveat=[c.t1], solver=ps.Rodas5P(),"
        " rtol=1e-6, atol=1e-10); t2 = time.perf_counter(); print(t1 - t0, t2 - t1, float(s.u[-1][2]))"
    )
    env = dict(os.environ, PYSCIML_CACHE_DIR=cache_dir)
    runs = []
    for _ in range(2):
        w0, c0 = time.perf_counter(), os.times()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        w1, c1 = time.perf_counter(), os.times()
        imp, first, y3 = out.stdout.split()
        runs.append(
            {
                "process_s": w1 - w0,
                "process_cpu_s": c1.children_user + c1.children_system - c0.children_user - c0.children_system,
                "import_s": float(imp),
                "first_solve_s": float(first),
                "y3": float(y3),
            }
        )
    return {"first_process": runs[0], "second_process": runs[1]}


def two_core_run(names, cores, quick: bool) -> dict:
    """The cases ``names`` again in a second process with ``--threads all`` on ``cores``, started
    from the environment this process began with; its result (``stiff.json``)."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--threads",
            "all",
            "--cores",
            ",".join(map(str, cores)),
            "--only",
            ",".join(names),
            "--two-cores",
            "",
            "--out",
            d,
        ]
        subprocess.run(cmd + (["--quick"] if quick else []), env=_START_ENV, check=True)
        return json.loads((Path(d) / "stiff.json").read_text())


_START_ENV = dict(os.environ)  # before pin_one_thread changes it: the second process's environment


def _fmt_t(s):
    return "-" if s is None else (f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s")


def _fmt_pair(cpu, wall):
    """``CPU / wall`` in one unit: ``0.30 / 0.31 ms``."""
    if cpu is None or wall is None:
        return "-"
    scale, unit = (1e3, "ms") if max(cpu, wall) < 1 else (1.0, "s")
    return f"{cpu * scale:.2f} / {wall * scale:.2f} {unit}"


def _fmt_ratio(r: dict, with_best: bool = True):
    if r.get("vs_best_scipy") is None:
        return "-"
    return f"{r['vs_best_scipy']:.1f}x" + (f" ({r['best_scipy'].removeprefix('scipy_')})" if with_best else "")


def _ratio_columns(keys, tag: str = ""):
    return [f"best scipy / pysciml, {METRICS[k]}{tag}" for k in keys] + [
        f"diffrax / pysciml, {METRICS[k]}{tag}" for k in keys
    ]


def _ratio_cells(e, keys):
    rs = [e["ratios"][k] for k in keys]
    return [_fmt_ratio(r) for r in rs] + ["-" if r.get("vs_diffrax") is None else f"{r['vs_diffrax']:.1f}x" for r in rs]


def _mode_line(mode: dict) -> str:
    cores = "?" if mode.get("affinity") is None else ",".join(map(str, mode["affinity"]))
    env = ", ".join(f"{k}={v}" for k, v in mode["env"].items() if v is not None) or "no thread-count variables"
    pinned = "one thread" if mode["threads"] == "1" else "all cores"
    return (
        f"{pinned}: affinity {{{cores}}}, {env}, XLA_FLAGS=`{mode['XLA_FLAGS'] or '(none)'}`; "
        f"XLA intra-op pool {mode.get('xla_pool_threads')} thread(s) at the end of the run"
    )


def _cpu_share(cases: dict):
    """Over every timed run: total CPU / total wall, and total run-queue wait / total wall."""
    rows = [r for c in cases.values() for t in c["tools"].values() for r in t["rows"] if r.get("time_s")]
    wall = sum(r["time_s"] for r in rows)
    if not wall:
        return None, None
    waits = [r["wait_s"] for r in rows if r.get("wait_s") is not None]
    return sum(r["cpu_s"] for r in rows) / wall, (sum(waits) / wall if len(waits) == len(rows) else None)


def _headline_key(res):
    return "cpu_s" if res["mode"]["threads"] == "1" else "time_s"


def to_markdown(res: dict) -> str:
    mode, head = res["mode"], _headline_key(res)
    one = mode["threads"] == "1"
    keys = [head] if one else ["time_s", "cpu_s"]
    share, wait = _cpu_share(res["cases"])
    lines = [
        "# Stiff work-precision benchmark (`benchmarks/stiff.py`)",
        "",
        f"Machine: {res['machine']}. Runs (load average at start; cases; versions): {runs_line(res['runs'])}.",
        "",
        f"Mode: {_mode_line(mode)}.",
        "",
    ]
    if one:
        lines += [
            "Both sides run on one thread, so the **headline ratios are CPU time**. Each tool's cell is "
            "*CPU time / wall time* (medians over the same warm calls) of its cheapest run, in CPU time, "
            "that reaches the error level. On one core, wall = CPU + the time other processes held the core"
            + (
                ""
                if share is None
                else f": over all timed calls here CPU is {share:.0%} of wall"
                + ("" if wait is None else f" and that wait {wait:.0%}")
            )
            + ".",
            "",
        ]
    else:
        lines += [
            "XLA may use every core, scipy uses one (BLAS on one thread on both sides). Each tool's cell is *CPU time / wall "
            "time* (medians over the same warm calls) of its cheapest run, in wall time, that reaches the "
            "error level; the ratio columns pick each tool's cheapest run in that column's time.",
            "",
        ]
    lines += [
        "\"Matched error\": at each error level, each tool's cheapest run whose error is at most that level; "
        "\"-\": the tool never reached it, and no ratio is formed there. The error is the largest relative "
        "error over the save times every tool uses (ROBER t = 1, 10, ..., 1e5; HIRES 20, 60, 120, 200, 321.8; "
        "Van der Pol 500, 1000, ..., 3000; the Brusselators at the final time only).",
        "",
    ]
    for name, case in res["cases"].items():
        tools = list(case["tools"])
        lines += [
            f"## {name} ({case['n']} states)",
            "",
            "| error <= | "
            + " | ".join(f"{t} CPU / wall" for t in tools)
            + " | "
            + " | ".join(_ratio_columns(keys))
            + " |",
            "|---" * (len(tools) + 1 + 2 * len(keys)) + "|",
        ]
        for e in case["matched"]:
            cells = [_fmt_pair(e[t]["cpu_s"], e[t]["time_s"]) if e.get(t) else "-" for t in tools]
            lines.append(f"| {e['level']:.0e} | " + " | ".join(cells + _ratio_cells(e, keys)) + " |")
        if "diffrax_kvaerno5" not in case["tools"]:
            lines += [
                "",
                f"Raw diffrax Kvaerno5 not run: it factorises the dense {case['n']} x {case['n']} Jacobian "
                f"(left out above {DIFFRAX_MAX_STATES} states).",
            ]
        comp = [
            f"{t}: {case['tools'][t]['compile_s']:.2f} s"
            for t in tools
            if case["tools"][t].get("compile_s") is not None
        ]
        lines += ["", "Compile (first call minus warm call, wall): " + ", ".join(comp), ""]
    if res.get("batch"):
        lines += _batch_lines(res["batch"], one)
    if res.get("two_cores"):
        lines += _two_core_lines(res["two_cores"])
    if res.get("second_process"):
        sp = res["second_process"]
        f, s = sp["first_process"], sp["second_process"]
        lines += [
            "## A second process",
            "",
            f"ROBER + Rodas5P in a fresh process ({'one thread, like this one' if one else 'all cores'}): first "
            f"process {f['process_s']:.2f} s wall, {f.get('process_cpu_s', float('nan')):.2f} s CPU (first solve "
            f"{f['first_solve_s']:.2f} s); second process {s['process_s']:.2f} s wall, "
            f"{s.get('process_cpu_s', float('nan')):.2f} s CPU (first solve {s['first_solve_s']:.3f} s, "
            "served from the compiled-model and JAX persistent caches).",
            "",
        ]
    lines += ["## Targets", "", f"Ratios in {METRICS[head]} time" + (", both sides on one thread." if one else "."), ""]
    for key, tgt in TARGETS.items():
        case = res["cases"].get(key)
        if not case:
            continue
        ratios = [e["ratios"][head]["vs_best_scipy"] for e in case["matched"] if e["ratios"][head].get("vs_best_scipy")]
        lines.append(
            f"* {key}: target {tgt:g}x vs best scipy; measured {min(ratios):.1f}x to {max(ratios):.1f}x "
            "over the error levels both reach"
            if ratios
            else f"* {key}: no common error level"
        )
    if res.get("batch"):
        b = res["batch"]
        lines.append(
            f"* {b['n_batch']}-instance batch: target 20x vs LSODA loop; measured "
            f"{b['ratio_cpu' if one else 'ratio_wall']:.0f}x"
        )
    return "\n".join(lines) + "\n"


def _batch_lines(b: dict, one: bool) -> list:
    head, other = ("ratio_cpu", "ratio_wall") if one else ("ratio_wall", "ratio_cpu")
    return [
        "## Batch: vmapped ROBER with different rate constants",
        "",
        f"{b['n_batch']} instances in one `jax.jit(jax.vmap(ps.solve ...))` call: "
        f"{_fmt_pair(b['batch_cpu_s'], b['batch_time_s'])} CPU / wall ({b['per_instance_cpu_s'] * 1e6:.0f} / "
        f"{b['per_instance_s'] * 1e6:.0f} us per instance); scipy LSODA loop over {b['n_scipy_loop']}: "
        f"{b['scipy_lsoda_per_instance_cpu_s'] * 1e3:.2f} / {b['scipy_lsoda_per_instance_s'] * 1e3:.2f} ms per "
        f"instance -> **{b[head]:.0f}x** per instance in {'CPU' if one else 'wall'} time ({b[other]:.0f}x in "
        f"{'wall' if one else 'CPU'} time; rtol {b['rtol']:g}; largest error pysciml {b['max_err_pysciml']:.1e}, "
        f"scipy {b['max_err_scipy']:.1e}; compile {b['compile_s']:.2f} s).",
        "",
    ]


def _two_core_lines(tc: dict) -> list:
    lines = [
        "## On all cores (a second process, `--threads all`)",
        "",
        f"Mode: {_mode_line(tc['mode'])}. Runs (load average at start; cases): {runs_line(tc['runs'])}. "
        "The same sweeps again, XLA "
        "free to spread a solve over the cores, scipy on one (BLAS on one thread on both sides). pysciml's cell is *CPU / "
        "wall* of its cheapest run in wall time; each ratio picks both sides' cheapest run in that column's "
        "time.",
        "",
    ]
    keys = ["time_s", "cpu_s"]
    for name, case in tc["cases"].items():
        ours = case["ours"]
        lines += [
            f"### {name}, all cores",
            "",
            f"| error <= | {ours} CPU / wall | " + " | ".join(_ratio_columns(keys)) + " |",
            "|---" * (2 + 2 * len(keys)) + "|",
        ]
        for e in case["matched"]:
            mine = e.get(ours)
            cell = _fmt_pair(mine["cpu_s"], mine["time_s"]) if mine else "-"
            lines.append(f"| {e['level']:.0e} | {cell} | " + " | ".join(_ratio_cells(e, keys)) + " |")
        lines.append("")
    if tc.get("batch"):
        lines += _batch_lines(tc["batch"], one=False)[2:]
    return lines


def save(res: dict, out: Path) -> str:
    """Write ``stiff.json`` and ``stiff.md`` into ``out``; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "stiff.json").write_text(json.dumps(res, indent=1, default=float))
    md = to_markdown(res)
    (out / "stiff.md").write_text(md)
    return md


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: two problems, few tolerances")
    ap.add_argument("--only", default="", help=f"comma list of cases ({','.join(CASES)})")
    ap.add_argument(
        "--threads",
        choices=["1", "all"],
        default="1",
        help="1: pinned to one core, one thread each side (headline: CPU time); all: no limits",
    )
    ap.add_argument(
        "--two-cores",
        default=None,
        help=f"with --threads 1: these cases (of those run) again in a second process on all cores ('' for none; "
        f"default {TWO_CORE_CASES}, with --quick {TWO_CORE_QUICK})",
    )
    ap.add_argument("--cores", default="", help="with --threads all: the cores to run on (default: as started)")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args(argv)
    start_cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if args.threads == "1":
        pin_one_thread()
    else:
        if args.cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
        one_thread_blas()  # XLA free to use every core; BLAS on one thread, as pysciml asks
    from pysciml.engines import get_engine

    # pysciml's process settings (XLA flags, float64, dispatch, caches) before any case starts
    # XLA, as a user's first solve does: it sets its XLA flags only while the backend is not started
    get_engine("jax")
    import jax
    import stiff_cases as SC
    import stiff_runners as SR

    jax.config.update("jax_enable_x64", True)
    names = QUICK_CASES if args.quick else CASES
    if args.only:
        names = [n for n in args.only.split(",") if n]
    two_cores = args.two_cores if args.two_cores is not None else TWO_CORE_QUICK if args.quick else TWO_CORE_CASES
    two = [n for n in two_cores.split(",") if n in names] if args.threads == "1" else []
    mkw = {"min_time": 0.05, "max_reps": 3, "min_reps": 1} if args.quick else {}
    headline = "cpu_s" if args.threads == "1" else "time_s"
    out = results_folder(args.out, args.quick)
    this_run = {"load": [round(x, 2) for x in os.getloadavg()], "versions": package_versions(*PEERS)}
    res = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": record_run([], names, this_run),
        "quick": args.quick,
        "mode": {"threads": args.threads, **thread_mode()},
        "cases": {},
    }
    old = json.loads((out / "stiff.json").read_text()) if args.only and (out / "stiff.json").exists() else None
    if old and not args.quick and old.get("mode", {}).get("threads") != args.threads:
        print(f"{out / 'stiff.json'} is from another thread mode: its cases are not kept", flush=True)
    elif old and not args.quick:
        # update the cases run, keep the others (of a run in the same thread mode)
        res["cases"] = old.get("cases", {})
        res.update({k: old[k] for k in ("batch", "second_process", "two_cores") if k in old})
        res["runs"] = record_run(old.get("runs", []), names, this_run)
    for name in names:
        if name in ("rober", "hires", "vdp"):
            print(f"{name}", flush=True)
            rtols = SMALL_RTOLS[:3] if args.quick else SMALL_RTOLS
            res["cases"][name] = run_case(
                SC.small_case(name), rtols, LEVELS_SMALL, ["Rodas5P", "Rosenbrock23"], mkw, headline
            )
        elif name == "bruss1d":  # method of lines, 500 points, 1000 states, banded Jacobian
            print(f"{name}", flush=True)
            rtols = BRUSS_RTOLS[:2] if args.quick else BRUSS_RTOLS
            res["cases"]["bruss1d_1000"] = run_case(
                SC.brusselator1d_case(500), rtols, LEVELS_BRUSS, ["Rodas5P"], mkw, headline
            )
        elif name.startswith("bruss"):
            n = int(name[5:])
            print(f"{name}", flush=True)
            rtols = BRUSS_RTOLS[:2] if args.quick else BRUSS_RTOLS
            res["cases"][name] = run_case(SC.brusselator_case(n), rtols, LEVELS_BRUSS, ["Rodas5P"], mkw, headline)
        elif name == "batch":
            print("batch of 540 ROBER", flush=True)
            rober = SC.small_case("rober")
            res["batch"] = SR.run_batch(
                rober, 540, 20 if args.quick else 100, 1e-6, 1e-10, lambda p, rober=rober: SC.reference(rober, p), **mkw
            )
        elif name == "process":
            with tempfile.TemporaryDirectory() as d:
                res["second_process"] = second_process_start(d)
        res["mode"] = {"threads": args.threads, **thread_mode()}  # XLA's pool exists once jax has run
        save(res, out)  # after every case: a long run interrupted keeps what it measured
    if two:
        print(f"all cores, second process: {','.join(two)}", flush=True)
        tc = two_core_run(two, start_cores or [], args.quick)
        kept = res.get("two_cores") or {}
        tc["cases"] = {**kept.get("cases", {}), **tc["cases"]}
        if "batch" not in tc and kept.get("batch"):
            tc["batch"] = kept["batch"]
        child = tc["runs"][-1]  # the second process's own record: its load at start and versions
        tc["runs"] = record_run(kept.get("runs", []), two, {k: v for k, v in child.items() if k != "cases"})
        res["two_cores"] = {k: tc[k] for k in ("mode", "runs", "cases", "batch") if k in tc}
    md = save(res, out)
    print(md)
    print(f"wrote {out / 'stiff.json'} and {out / 'stiff.md'}")


if __name__ == "__main__":
    main()
