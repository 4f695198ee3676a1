"""Start-up time: import, first solve and first fit step in fresh processes, with and without caches.

    python benchmarks/startup.py [--runs 5] [--quick] [--out DIR]

Every measurement is a new Python process (``--child`` mode of this script), run
``--runs`` times; medians are reported.  Scenarios:

* ``import``: ``import pysciml`` (and, from ``-X importtime``, that no engine loads);
* ``rober-rodas5p``: ROBER on [0, 1e5] with Rodas5P through ``ps.solve``;
* ``rober-kvaerno5``: the same with Kvaerno5, side by side with the same solve
  written directly in diffrax;
* ``ude-fit``: the first chunk of 50 Adam steps of the Lotka-Volterra UDE (MLP
  2-32-32-2), side by side with the same loop written in diffrax + optax.

Variants: ``pysciml-nocache`` (``PYSCIML_CACHE=0``), ``pysciml-cold`` (empty cache:
a model seen for the first time), ``pysciml-warm`` (cache filled by an earlier
process), ``diffrax`` (no cache), ``diffrax+xla-cache`` (JAX's persistent
compilation cache only, filled by an earlier process).

Columns: ``total``: process start to result (includes Python start-up, imports,
tracing/loading, compiling, running); ``import``: ``import pysciml`` and starting
the engine (``import jax``...); ``first call``: the solve or fit call itself;
``cpu``: user+system CPU seconds of the process up to the result (less sensitive
to other load on the machine than wall time).  The Julia engine is measured
where Julia is installed; otherwise the script says it is absent.

``--quick`` runs one of each kind of child once, on small problems, to check the
script and its output format; its numbers are not timings, and it writes to a
temporary directory unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import results_folder

T_START = time.perf_counter()
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _report(**values) -> None:
    values.setdefault("total_s", time.perf_counter() - T_START)
    values.setdefault("cpu_s", _cpu())
    print("RESULT " + json.dumps(values), flush=True)


# -- children: each runs in a fresh process -----------------------------------------------------------
ROBER_T1 = 1e5
#: heavy modules a warm solve should not need (scipy.linalg: jax loads it, see child_jax_parts)
WATCHED = ("equinox", "diffrax", "scipy.linalg")


def _rober_physics(u, p, t, m):
    y1, y2, y3 = u
    return [-p.k1 * y1 + p.k3 * y2 * y3, p.k1 * y1 - p.k2 * y2**2 - p.k3 * y2 * y3, p.k2 * y2**2]


def child_pysciml_solve(solver: str, t1: float) -> None:
    t0 = time.perf_counter()
    import pysciml as ps
    from pysciml.engines import get_engine

    get_engine("jax")
    t_import = time.perf_counter()
    loaded_at_import = sorted(m for m in WATCHED if m in sys.modules)
    model = ps.ODEModel(_rober_physics, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})
    sol = ps.solve(model, [1.0, 0.0, 0.0], (0.0, t1), solver=solver, rtol=1e-6, atol=1e-10)
    t_done = time.perf_counter()
    import pysciml.cache

    info = ps.cache.info()
    loaded = sorted(m for m in WATCHED if m in sys.modules)
    _report(import_s=t_import - t0, first_call_s=t_done - t_import, status=int(sol.status),
            loaded_at_import=loaded_at_import, loaded_by_call=[m for m in loaded if m not in loaded_at_import],
            y_end=[float(v) for v in sol.u[-1]], hits=info["hits"], misses=info["misses"])


def _configure_jax(jax, xla_cache: str | None) -> None:
    """float64, and JAX's persistent compilation cache in ``xla_cache`` (every entry kept) if given."""
    jax.config.update("jax_enable_x64", True)
    if xla_cache:
        jax.config.update("jax_compilation_cache_dir", xla_cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def child_diffrax_solve(t1: float, xla_cache: str | None) -> None:
    t0 = time.perf_counter()
    import diffrax as dfx
    import jax
    import jax.numpy as jnp
    import optimistix as optx

    _configure_jax(jax, xla_cache)
    t_import = time.perf_counter()

    def rober(t, y, k):
        y1, y2, y3 = y
        return jnp.stack([-k[0] * y1 + k[2] * y2 * y3, k[0] * y1 - k[1] * y2**2 - k[2] * y2 * y3, k[1] * y2**2])

    @jax.jit
    def solve(y0, k):
        rtol, atol = 1e-6, 1e-10
        sol = dfx.diffeqsolve(
            dfx.ODETerm(rober), dfx.Kvaerno5(root_finder=optx.Newton(rtol=rtol, atol=atol, norm=optx.rms_norm)),
            0.0, t1, None, y0, k, saveat=dfx.SaveAt(ts=jnp.linspace(0.0, t1, 101)),
            stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol), max_steps=100_000, throw=False)
        return sol.ys, sol.result

    ys, result = solve(jnp.array([1.0, 0.0, 0.0]), jnp.array([0.04, 3e7, 1e4]))
    ys = jax.block_until_ready(ys)
    _report(import_s=t_import - t0, first_call_s=time.perf_counter() - t_import,
            y_end=[float(v) for v in ys[-1]])


def _fit_data(path: str):
    import numpy as np

    d = np.load(path)
    return d["t"], d["y"]


class _FirstChunk(Exception):
    pass


def child_pysciml_fit(data: str, width: int) -> None:
    t0 = time.perf_counter()
    import pysciml as ps
    from pysciml.engines import get_engine

    get_engine("jax")
    t_import = time.perf_counter()
    t, y = _fit_data(data)

    def lotka_volterra_ude(u, p, t, m):
        x, yy = u
        f = p.nn(u)
        return [p.alpha * x + f[0], -p.delta * yy + f[1]]

    model = ps.UDE(lotka_volterra_ude, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=width, depth=2, activation="tanh")})

    def first_chunk(info):

        done = time.perf_counter()
        cache = ps.cache.info()
        _report(import_s=t_import - t0, first_call_s=done - t_import, loss=info["loss"], step=info["step"],
                hits=cache["hits"], misses=cache["misses"])
        os._exit(0)  # the measurement ends at the first chunk; skip the rest of the fit

    model.fit((t, y), fixed=["alpha", "delta"], fit_u0=False, strategy=ps.SingleShooting(),
              optimizers=[ps.Adam(1e-2, steps=100)], solver=ps.Tsit5(), seed=0, verbose=0, callback=first_chunk)


def child_diffrax_fit(data: str, width: int, xla_cache: str | None) -> None:
    t0 = time.perf_counter()
    import diffrax as dfx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    _configure_jax(jax, xla_cache)
    t_import = time.perf_counter()
    t, y = _fit_data(data)
    t, y = jnp.asarray(t), jnp.asarray(y)
    scale = jnp.asarray(np.std(np.asarray(y), axis=0))
    sizes = [2, width, width, 2]
    rng = np.random.default_rng(0)
    theta = [(jnp.asarray(rng.normal(0, 1 / np.sqrt(a), (b, a))), jnp.zeros(b)) for a, b in zip(sizes, sizes[1:])]

    def nn(theta, u):
        for i, (w, b) in enumerate(theta):
            u = w @ u + b
            u = jnp.tanh(u) if i < len(theta) - 1 else u
        return u

    def rhs(t_, u, theta):
        f = nn(theta, u)
        return jnp.stack([1.3 * u[0] + f[0], -1.8 * u[1] + f[1]])

    def loss(theta):
        sol = dfx.diffeqsolve(dfx.ODETerm(rhs), dfx.Tsit5(), t[0], t[-1], None, y[0], theta,
                              saveat=dfx.SaveAt(ts=t), stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8),
                              max_steps=10_000, throw=False)
        return jnp.mean(((sol.ys - y) / scale) ** 2)

    opt = optax.adam(1e-2)

    @jax.jit
    def chunk(theta, state):
        def step(carry, _):
            th, st = carry
            value, grads = jax.value_and_grad(loss)(th)
            updates, st = opt.update(grads, st, th)
            return (optax.apply_updates(th, updates), st), value
        return jax.lax.scan(step, (theta, state), None, length=50)

    (theta, _), losses = chunk(theta, opt.init(theta))
    losses = jax.block_until_ready(losses)
    _report(import_s=t_import - t0, first_call_s=time.perf_counter() - t_import, loss=float(losses[-1]))


def child_import() -> None:
    t0 = time.perf_counter()
    import pysciml  # noqa: F401

    t1 = time.perf_counter()
    heavy = sorted(m for m in ("jax", "diffrax", "equinox", "juliacall", "xarray", "scipy") if m in sys.modules)
    _report(import_s=t1 - t0, first_call_s=0.0, heavy_modules=heavy)


def child_jax_parts() -> None:
    """``import jax`` alone, then ``import scipy.linalg``: jax loads the latter when it first lowers a
    call of an exported (cached) function on CPU, to register LAPACK (``initialize_lapack``)."""
    t0 = time.perf_counter()
    import jax  # noqa: F401

    t1 = time.perf_counter()
    import scipy.linalg  # noqa: F401

    _report(import_s=t1 - t0, first_call_s=time.perf_counter() - t1)


def child_julia_solve(t1: float) -> None:  # pragma: no cover - needs Julia
    t0 = time.perf_counter()
    import pysciml as ps
    from pysciml.engines import get_engine

    get_engine("julia")
    t_import = time.perf_counter()
    model = ps.ODEModel(_rober_physics, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})
    sol = ps.solve(model, [1.0, 0.0, 0.0], (0.0, t1), solver="rodas5p", rtol=1e-6, atol=1e-10, engine="julia")
    _report(import_s=t_import - t0, first_call_s=time.perf_counter() - t_import, status=int(sol.status),
            y_end=[float(v) for v in sol.u[-1]])


CHILDREN = {
    "import": lambda a: child_import(),
    "jax-parts": lambda a: child_jax_parts(),
    "pysciml-solve": lambda a: child_pysciml_solve(a[0], float(a[1])),
    "diffrax-solve": lambda a: child_diffrax_solve(float(a[0]), a[1] or None),
    "pysciml-fit": lambda a: child_pysciml_fit(a[0], int(a[1])),
    "diffrax-fit": lambda a: child_diffrax_fit(a[0], int(a[1]), a[2] or None),
    "julia-solve": lambda a: child_julia_solve(float(a[0])),
}


# -- the parent: runs children, takes medians, writes results -------------------------------------------
def _spawn(kind: str, args: list[str], env: dict) -> dict:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, *args],
                         capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - start
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"child {kind} {args} failed:\n{out.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["process_s"] = wall
    return result


def _env(**extra) -> dict:
    env = dict(os.environ)
    for var in ("PYSCIML_CACHE", "PYSCIML_CACHE_DIR", "XLA_FLAGS", "EQX_ON_ERROR"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def _warm_up(kind, args, *, mode, tmp: Path, label: str, cache_arg: int | None = None) -> None:
    """Fill the cache of a warm row with one unmeasured run (other modes need none)."""
    if mode in ("warm", "xla-warm"):
        warm_dir = tmp / f"{label}-warm"
        shutil.rmtree(warm_dir, ignore_errors=True)
        _run_mode(kind, args, mode, warm_dir, cache_arg)


def _sample(kind, args, i, *, mode, tmp: Path, label: str, cache_arg: int | None = None) -> dict:
    """Run ``i`` of a child in one cache mode: nocache, cold (a new empty cache), warm, xla-warm, plain."""
    cache_dir = tmp / f"{label}-warm" if mode in ("warm", "xla-warm") else tmp / f"{label}-{mode}-{i}"
    return _run_mode(kind, args, mode, cache_dir, cache_arg)


def _summary(samples: list[dict]) -> dict:
    keys = ("total_s", "process_s", "import_s", "first_call_s", "cpu_s")
    summary = {k: statistics.median(s[k] for s in samples) for k in keys}
    summary["samples"] = samples
    return summary


def _run_mode(kind, args, mode, cache_dir: Path, cache_arg):
    args = list(args)
    if mode == "nocache":
        return _spawn(kind, args, _env(PYSCIML_CACHE="0"))
    if mode in ("cold", "warm"):
        return _spawn(kind, args, _env(PYSCIML_CACHE_DIR=str(cache_dir)))
    if mode == "xla-warm":
        args[cache_arg] = str(cache_dir)
    return _spawn(kind, args, _env())


def _julia_status() -> tuple[bool, str]:
    if shutil.which("julia") is None:
        return False, "no julia executable on PATH"
    try:
        out = subprocess.run([sys.executable, "-c", "import pysciml.engines as e; print(e.available_engines()['julia'])"],
                             capture_output=True, text=True, env=_env(), timeout=600)
        ok = out.stdout.strip().startswith("(True")
        return ok, out.stdout.strip() or out.stderr[-300:]
    except Exception as exc:  # noqa: BLE001
        return False, str(exc)


def _machine() -> dict:
    info = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        info["loadavg_1min_at_start"] = os.getloadavg()[0]
    except OSError:
        pass
    out = subprocess.run([sys.executable, "-c", "import jax, jaxlib, diffrax, equinox; "
                          "print(jax.__version__, jaxlib.__version__, diffrax.__version__, equinox.__version__)"],
                         capture_output=True, text=True, env=_env())
    info["jax jaxlib diffrax equinox"] = out.stdout.strip()
    return info


def run(runs: int, quick: bool, out_dir: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="pysciml-startup-"))
    t1 = 1.0 if quick else ROBER_T1
    width = 8 if quick else 32
    results: dict = {"runs": runs, "quick": quick, "machine": _machine(), "scenarios": {}}
    try:
        import numpy as np
        from scipy.integrate import solve_ivp

        ts = np.sort(np.random.default_rng(0).uniform(0.0, 5.0, 40))
        ts[0] = 0.0
        sol = solve_ivp(lambda t, u: [1.3 * u[0] - 0.9 * u[0] * u[1], 0.8 * u[0] * u[1] - 1.8 * u[1]],
                        (0.0, 5.0), [0.44249296, 4.6280594], t_eval=ts, rtol=1e-11, atol=1e-12)
        data = tmp / "lv.npz"
        np.savez(data, t=ts, y=sol.y.T * (1.0 + 0.01 * np.random.default_rng(1).standard_normal(sol.y.T.shape)))

        solve, fit = [str(t1)], [str(data), str(width)]
        # (work, variant, child, args, cache mode, index of the XLA-cache argument, also in --quick)
        plan = [
            ("import", "pysciml", "import", [], "plain", None, True),
            ("import", "jax", "jax-parts", [], "plain", None, True),
            ("rober-rodas5p", "pysciml-nocache", "pysciml-solve", ["rodas5p", *solve], "nocache", None, False),
            ("rober-rodas5p", "pysciml-cold", "pysciml-solve", ["rodas5p", *solve], "cold", None, True),
            ("rober-rodas5p", "pysciml-warm", "pysciml-solve", ["rodas5p", *solve], "warm", None, True),
            ("rober-kvaerno5", "diffrax", "diffrax-solve", [*solve, ""], "plain", None, True),
            ("rober-kvaerno5", "diffrax+xla-cache", "diffrax-solve", [*solve, ""], "xla-warm", 1, False),
            ("rober-kvaerno5", "pysciml-nocache", "pysciml-solve", ["kvaerno5", *solve], "nocache", None, False),
            ("rober-kvaerno5", "pysciml-cold", "pysciml-solve", ["kvaerno5", *solve], "cold", None, False),
            ("rober-kvaerno5", "pysciml-warm", "pysciml-solve", ["kvaerno5", *solve], "warm", None, False),
            ("ude-fit", "diffrax", "diffrax-fit", [*fit, ""], "plain", None, False),
            ("ude-fit", "diffrax+xla-cache", "diffrax-fit", [*fit, ""], "xla-warm", 2, False),
            ("ude-fit", "pysciml-nocache", "pysciml-fit", fit, "nocache", None, False),
            ("ude-fit", "pysciml-cold", "pysciml-fit", fit, "cold", None, True),
            ("ude-fit", "pysciml-warm", "pysciml-fit", fit, "warm", None, False),
        ]
        plan = [p[:6] for p in plan if p[6] or not quick]
        julia_ok, julia_why = _julia_status()
        results["julia"] = {"available": julia_ok, "detail": julia_why}
        if julia_ok:  # pragma: no cover - needs Julia
            plan.append(("rober-rodas5p", "julia", "julia-solve", solve, "plain", None))
        else:
            print(f"Julia engine: absent here ({julia_why}); not measured.")
        for work, variant, kind, args, mode, cache_arg in plan:
            _warm_up(kind, args, mode=mode, tmp=tmp, label=f"{work}-{variant}", cache_arg=cache_arg)
        # the rows take turns (run i of every row, then run i + 1): a machine whose speed drifts
        # during the run then moves every row alike, and the ratios to raw diffrax stay meaningful
        samples: dict = {}
        for i in range(runs):
            print(f"round {i + 1} of {runs}:", flush=True)
            for work, variant, kind, args, mode, cache_arg in plan:
                s = _sample(kind, args, i, mode=mode, tmp=tmp, label=f"{work}-{variant}", cache_arg=cache_arg)
                samples.setdefault((work, variant), []).append(s)
                print(f"  {work:<15} {variant:<18} total {s['total_s']:.3f} s, first call {s['first_call_s']:.3f} s, "
                      f"cpu {s['cpu_s']:.2f} s", flush=True)
        for (work, variant), rows in samples.items():
            results["scenarios"].setdefault(work, {})[variant] = _summary(rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "startup.json").write_text(json.dumps(results, indent=1))
    (out_dir / "startup.md").write_text(markdown(results))
    print(f"wrote {out_dir / 'startup.json'} and {out_dir / 'startup.md'}")
    return results


def markdown(results: dict) -> str:
    lines = ["# Start-up benchmark", ""]
    if results["quick"]:
        lines += ["**--quick run: a smoke test of the script; these numbers are not timings.**", ""]
    m = results["machine"]
    lines += [f"Medians of {results['runs']} fresh processes per row, the rows taking turns; {m.get('cpus')} CPUs, "
              f"Python {m.get('python')}, "
              f"jax/jaxlib/diffrax/equinox {m.get('jax jaxlib diffrax equinox')}; load average at start "
              f"{m.get('loadavg_1min_at_start', float('nan')):.1f}.", "",
              "total = process start to result; import = `import pysciml` + engine start (or `import jax, diffrax`); "
              "first call = the solve / first 50 fit steps; cpu = CPU seconds of the process up to the result.", ""]
    for work, variants in results["scenarios"].items():
        base = variants.get("diffrax", {}).get("total_s")
        if work == "import":
            s = variants["pysciml"]
            heavy = s["samples"][0].get("heavy_modules", [])
            lines += ["## import", "", "| | median |", "|---|---:|",
                      f"| `import pysciml` | {1e3 * s['import_s']:.1f} ms |",
                      f"| `python -c 'import pysciml'` (whole process) | {s['process_s']:.2f} s |",
                      f"| engines or heavy modules loaded | {', '.join(heavy) or 'none'} |"]
            if "jax" in variants:
                j = variants["jax"]
                lines += [f"| `import jax` alone (fresh process) | {j['import_s']:.2f} s |",
                          f"| then `import scipy.linalg` (jax loads it at the first call of a cached, exported "
                          f"function on CPU) | {j['first_call_s']:.2f} s |"]
            lines.append("")
            continue
        lines += [f"## {work}", "", "| variant | total (s) | process (s) | import (s) | first call (s) | cpu (s) | "
                  "total vs raw diffrax |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name, s in variants.items():
            ratio = f"{s['total_s'] / base:.2f}x" if base else ""
            lines.append(f"| {name} | {s['total_s']:.2f} | {s['process_s']:.2f} | {s['import_s']:.2f} | "
                         f"{s['first_call_s']:.2f} | {s['cpu_s']:.2f} | {ratio} |")
        lines.append("")
        warm = variants.get("pysciml-warm", {}).get("samples", [{}])[0]
        if "loaded_by_call" in warm:
            lines += [f"Warm run: loaded by the engine start: {', '.join(warm['loaded_at_import']) or 'none'} "
                      f"(of {', '.join(WATCHED)}); loaded by the first call: "
                      f"{', '.join(warm['loaded_by_call']) or 'none'}.", ""]
    j = results.get("julia", {})
    lines += ["## Julia engine", "", ("measured above (variant `julia`)." if j.get("available")
                                      else f"Not measured: {j.get('detail', 'absent')}."), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per row (median reported)")
    parser.add_argument("--quick", action="store_true", help="smoke test: one run of small problems, no timings")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: benchmarks/results)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        CHILDREN[args.child[0]](args.child[1:])
        return 0
    runs = 1 if args.quick else args.runs
    out = results_folder(args.out, args.quick)
    run(runs, args.quick, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
