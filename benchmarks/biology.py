"""Reaction networks: pysciml against libRoadRunner, same process, same SBML, same tolerances.

    python benchmarks/biology.py                 # writes benchmarks/results/biology.json and .md
    python benchmarks/biology.py --quick         # small ensembles, few repeats, writes nothing
    python benchmarks/biology.py --ensemble 2000 # another ensemble size

Models: the repressilator (6 species) and ``ps.bio.gene_cascade`` (60 species, Hill kinetics),
``kinase_cascade`` (60, mass action) and ``metabolic_pathway`` (60, stiff), each exported with
``net.to_sbml()``; libRoadRunner loads that SBML text and pysciml imports it with
``ps.bio.from_sbml``.  Both sides solve to rtol 1e-8, atol 1e-10, 101 output times.

* pysciml: Dopri5 for the non-stiff models, Rodas5P for the stiff pathway (jax engine, float64).
* libRoadRunner: CVODE, its default integrator; for each model it runs with ``stiff=True`` (BDF,
  the default) and ``stiff=False`` (Adams) and the faster is kept ("best settings").  Between
  runs ``rr.reset()`` restores the initial state; an ensemble sets the parameter set with
  ``rr.setValues`` and loops (libRoadRunner has no vectorised parameter ensembles).

Rows:
* single simulation: one ``ps.solve`` call (public API: checks, cache lookup, Solution), best of
  ``--repeats``; compile time (first call minus a warm call) apart; and the same solve under
  ``jax.jit`` (no Python around the call).  libRoadRunner: ``reset`` + ``simulate``.
* ensemble: ``--ensemble`` parameter sets (a tenth of that for the gene cascade and the stiff
  pathway, whose runs take minutes on a shared two-core machine; every kinetic parameter scaled by a factor drawn
  from U(0.8, 1.2)), pysciml ``jax.jit(jax.vmap(solve))`` in one call, libRoadRunner a loop;
  per-simulation times.  The first 20 trajectories of each are compared (max relative
  difference where |value| > 1e-6).
* memory: growth of this process's peak resident size over each tool's warm ensemble run
  (``pysciml.memory``: peak reset before, resident size before subtracted), so a tool's
  memory is what its run adds to the process (both tools share the process).

The process is pinned to one core, so CPU time (given beside wall time) is comparable across
tools and less sensitive to other load; the load average is recorded and the results are
marked unpublished when it exceeded the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
from timing import best_of, cold_compile_cache, first_call

HERE = Path(__file__).resolve().parent
RTOL, ATOL = 1e-8, 1e-10
N_SAVE = 101
MODELS = {  # name: (builder, end time, pysciml solver name, ensemble size factor)
    "repressilator": ("repressilator", 30.0, "Dopri5", 1.0),
    "gene_cascade": ("gene_cascade", 40.0, "Dopri5", 0.1),  # 1,000 sets: ~1 min of CPU per tool here
    "kinase_cascade": ("kinase_cascade", 40.0, "Dopri5", 1.0),
    "metabolic_pathway": ("metabolic_pathway", 40.0, "Rodas5P", 0.1),  # 1,000 sets
}


def parameter_sets(names, defaults, n, seed=0):
    factors = np.random.default_rng(seed).uniform(0.8, 1.2, (n, len(names)))
    return factors * np.asarray(defaults)[None, :]


def run_model(name, n_ensemble, repeats):
    import jax
    import jax.numpy as jnp
    import roadrunner

    import pysciml as ps
    from pysciml import memory

    builder, t_end, solver_name, factor = MODELS[name]
    net = getattr(ps.bio, builder)()
    text = net.to_sbml()
    model = ps.bio.from_sbml(text)
    solver = getattr(ps, solver_name)()
    t = np.linspace(0.0, t_end, N_SAVE)
    states = list(model.sbml.states)
    varied = [p for p in model.param_names if p != "compartment" and p not in net.species_names]
    defaults = [float(model.param_specs[p].default) for p in varied]
    n = max(10, int(round(n_ensemble * factor)))
    sets = parameter_sets(varied, defaults, n)
    print(f"{name}: {len(states)} species, {len(varied)} varied parameters, ensemble {n}", flush=True)

    # -- pysciml, single simulation ------------------------------------------------------------
    def public():
        return ps.solve(model, t=t, solver=solver, rtol=RTOL, atol=ATOL)

    first_w, first_c, sol = first_call(public)
    assert sol.ok, sol.message
    warm_w, warm_c, _ = best_of(public, repeats)

    def one(p):
        return ps.solve(model, t=t, params=dict(zip(varied, p, strict=True)), solver=solver, rtol=RTOL, atol=ATOL).u

    jitted = jax.jit(one)
    p0 = jnp.asarray(defaults)
    jit_first_w, jit_first_c, _ = first_call(lambda: jitted(p0).block_until_ready())
    jit_w, jit_c, _ = best_of(lambda: jitted(p0).block_until_ready(), repeats)

    # -- pysciml, ensemble ----------------------------------------------------------------------
    batched = jax.jit(jax.vmap(one))
    sets_j = jnp.asarray(sets)
    ens_first_w, ens_first_c, _ = first_call(lambda: batched(sets_j).block_until_ready())
    base = memory.resident_bytes() or 0
    memory.reset_peak()
    ens_w, ens_c, ours = first_call(lambda: batched(sets_j).block_until_ready())  # warm: compiled above
    ours_peak = memory.peak_bytes() - base
    ours = np.asarray(ours)

    # -- libRoadRunner --------------------------------------------------------------------------
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    rr.timeCourseSelections = ["time", *states]  # amounts (compartment size 1: = concentrations)
    rr_rows = {}
    for stiff in (True, False):
        rr.integrator.stiff = stiff

        def rr_single():
            rr.reset()
            return rr.simulate(0.0, t_end, N_SAVE)

        rr_single()
        w, c, _ = best_of(rr_single, repeats)
        rr_rows[stiff] = (w, c)
    stiff = min(rr_rows, key=lambda s: rr_rows[s][0])
    rr.integrator.stiff = stiff
    rr_w, rr_c = rr_rows[stiff]

    def rr_ensemble(count):
        out = []
        for p in sets[:count]:
            rr.reset()
            rr.setValues(varied, list(p))
            out.append(np.asarray(rr.simulate(0.0, t_end, N_SAVE))[:, 1:])
        rr.reset()
        rr.setValues(varied, defaults)
        return out

    base = memory.resident_bytes() or 0
    memory.reset_peak()
    rr_ens_w, rr_ens_c, theirs = first_call(lambda: rr_ensemble(n))
    rr_peak = memory.peak_bytes() - base

    # -- agreement ------------------------------------------------------------------------------
    k = min(20, n)
    a, b = ours[:k], np.stack(theirs[:k])
    big = np.abs(b) > 1e-6
    rel = float(np.max(np.abs(a - b)[big] / np.abs(b)[big]))
    single_diff = np.abs(np.asarray(sol.u) - np.asarray(rr_single_default(rr, t_end)))
    return {
        "model": name,
        "species": len(states),
        "reactions": len(net.reaction_names),
        "varied_parameters": len(varied),
        "pysciml_solver": solver_name,
        "roadrunner_integrator": f"cvode stiff={stiff}",
        "roadrunner_single_stiff_true_s": rr_rows[True][0],
        "roadrunner_single_stiff_false_s": rr_rows[False][0],
        "single": {
            "pysciml_solve_s": warm_w,
            "pysciml_solve_cpu_s": warm_c,
            "pysciml_compile_s": first_w - warm_w,
            "pysciml_compile_cpu_s": first_c - warm_c,
            "pysciml_jit_s": jit_w,
            "pysciml_jit_cpu_s": jit_c,
            "pysciml_jit_compile_s": jit_first_w - jit_w,
            "roadrunner_s": rr_w,
            "roadrunner_cpu_s": rr_c,
            "ratio_roadrunner_over_solve": rr_w / warm_w,
            "ratio_roadrunner_over_jit": rr_w / jit_w,
            "max_abs_diff_default_parameters": float(single_diff.max()),
        },
        "ensemble": {
            "size": n,
            "pysciml_per_sim_s": ens_w / n,
            "pysciml_per_sim_cpu_s": ens_c / n,
            "pysciml_total_s": ens_w,
            "pysciml_compile_s": ens_first_w - ens_w,
            "pysciml_peak_bytes": ours_peak,
            "roadrunner_per_sim_s": rr_ens_w / n,
            "roadrunner_per_sim_cpu_s": rr_ens_c / n,
            "roadrunner_total_s": rr_ens_w,
            "roadrunner_peak_bytes": rr_peak,
            "ratio_roadrunner_over_pysciml": rr_ens_w / ens_w,
            "ratio_cpu": rr_ens_c / ens_c,
            "max_rel_diff_first_20": rel,
        },
    }


def rr_single_default(rr, t_end):
    rr.reset()
    return np.asarray(rr.simulate(0.0, t_end, N_SAVE))[:, 1:]


def write_md(result, path):
    lines = [
        "# Reaction networks: pysciml vs libRoadRunner",
        "",
        f"{'**Unpublished**: ' if not result['published'] else ''}one core (pinned), load average "
        f"{result['load_average_start']:.1f} at start and {result['load_average_end']:.1f} at end on a "
        f"{result['cores']}-core machine{' shared with other jobs' if not result['published'] else ''}; "
        f"Python {result['python']}, jax {result['jax']}, libroadrunner {result['roadrunner']}. "
        f"rtol {RTOL:g}, atol {ATOL:g}, {N_SAVE} output times; same SBML text on both sides. "
        "Times are best of repeats, wall with CPU in brackets; ratios are libRoadRunner time / pysciml time "
        "(above 1: pysciml faster).",
        "",
        "## Single simulation",
        "",
        "| model | species | pysciml ps.solve ms | under jax.jit ms | compile s | libRoadRunner ms (CVODE) "
        "| rr / ps.solve | rr / jit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        s = r["single"]
        lines.append(
            f"| {r['model']} | {r['species']} | {1e3 * s['pysciml_solve_s']:.2f} ({1e3 * s['pysciml_solve_cpu_s']:.2f}) "
            f"| {1e3 * s['pysciml_jit_s']:.2f} ({1e3 * s['pysciml_jit_cpu_s']:.2f}) | {s['pysciml_compile_s']:.1f} "
            f"| {1e3 * s['roadrunner_s']:.2f} ({1e3 * s['roadrunner_cpu_s']:.2f}, {r['roadrunner_integrator']}) "
            f"| {s['ratio_roadrunner_over_solve']:.2f}x | {s['ratio_roadrunner_over_jit']:.2f}x |"
        )
    lines += [
        "",
        "## Ensembles (every kinetic parameter scaled by U(0.8, 1.2))",
        "",
        "| model | parameter sets | pysciml vmapped ms/sim | its compile s | libRoadRunner loop ms/sim "
        "| rr / pysciml (wall) | (CPU) | peak RSS growth pysciml / rr MiB | max rel. diff (20 sets) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        e = r["ensemble"]
        lines.append(
            f"| {r['model']} | {e['size']} | {1e3 * e['pysciml_per_sim_s']:.3f} ({1e3 * e['pysciml_per_sim_cpu_s']:.3f}) "
            f"| {e['pysciml_compile_s']:.1f} | {1e3 * e['roadrunner_per_sim_s']:.3f} "
            f"({1e3 * e['roadrunner_per_sim_cpu_s']:.3f}) | {e['ratio_roadrunner_over_pysciml']:.2f}x "
            f"| {e['ratio_cpu']:.2f}x | {e['pysciml_peak_bytes'] / 2**20:.0f} / {e['roadrunner_peak_bytes'] / 2**20:.0f} "
            f"| {e['max_rel_diff_first_20']:.1e} |"
        )
    lines += [
        "",
        "Targets (issue 16): ensembles >= 10x faster per simulation; single simulations at least as fast "
        "once compiled.",
        "",
        "Notes: compile times are the first call minus a warm call in this process, from an empty compile "
        "cache (a new folder for the run; with --quick, the user's cache).  Peak RSS growth is "
        "dominated by the stored trajectories (10,000 x 101 x 60 float64 = 485 MB on both sides for the "
        "kinase cascade).  The max rel. diff is taken over values above 1e-6 at rtol 1e-8 on both sides.",
        "",
    ]
    path.write_text("\n".join(lines))


def rewrite_md(path_json):
    """Re-render the .md table from a results .json (no rerun)."""
    result = json.loads(Path(path_json).read_text())
    write_md(result, Path(path_json).with_suffix(".md"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--ensemble", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--only", default=",".join(MODELS))
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    # no XLA_FLAGS: pinning is what gives XLA one thread (benchmarks/timing.pin_one_thread), and setting the
    # variable would drop pysciml's own compile-time flag (engines/jax/_setup.py)
    import jax

    jax.config.update("jax_enable_x64", True)
    import roadrunner

    n = 200 if args.quick else args.ensemble
    repeats = 3 if args.quick else args.repeats
    load0 = os.getloadavg()[0]
    rows = [run_model(name, n, repeats) for name in args.only.split(",")]
    load1 = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    result = {
        "load_average_start": load0,
        "load_average_end": load1,
        "cores": cores,
        "published": max(load0, load1) <= cores,
        "cores_used": 1,
        "python": platform.python_version(),
        "jax": jax.__version__,
        "roadrunner": roadrunner.__version__,
        "rtol": RTOL,
        "atol": ATOL,
        "n_save": N_SAVE,
        "rows": rows,
    }
    print(json.dumps(result, indent=1))
    out = Path(args.out) if args.out else (None if args.quick else HERE / "results")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "biology.json").write_text(json.dumps(result, indent=1) + "\n")
        write_md(result, out / "biology.md")
        print("wrote", out / "biology.json", out / "biology.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
