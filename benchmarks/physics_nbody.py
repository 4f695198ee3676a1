"""N-body direct summation per step: pysciml (physics.NBody + ps.VelocityVerlet, jax) vs rebound.

Same run, same initial state (a Sun plus N-1 light bodies on near-circular orbits, G = 1,
gravity "basic" = direct O(N^2) summation in rebound).  Per-step times are wall clock
(headline) and process CPU time (XLA may use both cores; rebound one).  pysciml's compile
time (first call, cold cache) is measured apart from the steady-state steps.

Usage: python benchmarks/physics_nbody.py [--quick] [--out DIR]
Refuses to publish (exit 1, no files) when the 1-minute load average exceeds the core count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from timing import best_of, cold_compile_cache, first_call, results_folder, vmhwm_mib


def initial_state(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    masses = np.r_[1.0, np.full(n - 1, 1e-6)]
    r = rng.uniform(1.0, 10.0, n - 1)
    phi = rng.uniform(0, 2 * np.pi, n - 1)
    q = np.zeros((n, 3))
    v = np.zeros((n, 3))
    q[1:, 0], q[1:, 1] = r * np.cos(phi), r * np.sin(phi)
    q[1:, 2] = rng.normal(0, 0.01, n - 1)
    s = 1 / np.sqrt(r)
    v[1:, 0], v[1:, 1] = -s * np.sin(phi), s * np.cos(phi)
    return masses, q, v


def bench_pysciml(masses, q, v, dt, steps):
    import pysciml as ps
    from pysciml import physics as phys

    sky = phys.NBody(masses)
    model, u0 = sky.model(), sky.state(q, v)
    solver = ps.VelocityVerlet(dt=dt)

    def run():
        sol = ps.solve(model, u0, (0.0, steps * dt), saveat=[steps * dt], solver=solver)
        np.asarray(sol.u)
        return sol

    compile_wall, _, _ = first_call(run)  # first call: trace + compile + run
    wall, cpu, sol = best_of(run, 1)  # warm
    return {"wall_per_step_s": wall / steps, "cpu_per_step_s": cpu / steps, "first_call_s": compile_wall,
            "ok": bool(sol.ok)}


def bench_rebound(masses, q, v, dt, steps, integrator):
    try:
        import rebound
    except ImportError as exc:
        return {"failed": f"rebound not installed: {exc}"}
    sim = rebound.Simulation()
    sim.G = 1.0
    sim.gravity = "basic"
    for m, qi, vi in zip(masses, q, v):
        sim.add(m=float(m), x=qi[0], y=qi[1], z=qi[2], vx=vi[0], vy=vi[1], vz=vi[2])
    sim.integrator = integrator
    sim.dt = dt
    sim.steps(1)
    wall, cpu, _ = best_of(lambda: sim.steps(steps), 1)
    return {"wall_per_step_s": wall / steps, "cpu_per_step_s": cpu / steps}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (structure check, not a measurement)")
    ap.add_argument("--out", default=None, help="write the tables here instead of benchmarks/results")
    args = ap.parse_args(argv)
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    out = results_folder(args.out, args.quick)  # a loaded machine does not publish
    sizes = [50] if args.quick else [100, 1000]
    steps = 5 if args.quick else 50
    rows = []
    for n in sizes:
        masses, q, v = initial_state(n)
        dt = 1e-3
        row = {"n": n, "steps": steps, "pysciml_verlet": bench_pysciml(masses, q, v, dt, steps)}
        for integ in ("leapfrog", "whfast"):
            row[f"rebound_{integ}"] = bench_rebound(masses, q, v, dt, steps, integ)
        for integ in ("leapfrog", "whfast"):
            peer = row[f"rebound_{integ}"]
            if "wall_per_step_s" in peer:
                row[f"ratio_wall_vs_{integ}"] = row["pysciml_verlet"]["wall_per_step_s"] / peer["wall_per_step_s"]
        rows.append(row)
        print(f"N={n}: pysciml {row['pysciml_verlet']['wall_per_step_s'] * 1e3:.3f} ms/step (wall), "
              + ", ".join(f"rebound {k[8:]} {r['wall_per_step_s'] * 1e3:.3f} ms/step"
                          for k, r in row.items() if k.startswith("rebound_") and "wall_per_step_s" in r)
              + "; ratios (pysciml/peer, wall): "
              + ", ".join(f"{k[14:]} {r:.2f}" for k, r in row.items() if k.startswith("ratio_")))
    result = {"load_average_at_start": load, "cores": cores, "vmhwm_mib": vmhwm_mib(), "quick": args.quick,
              "headline": "wall time per step", "rows": rows}
    (out / "physics_nbody.json").write_text(json.dumps(result, indent=2))
    md = ["# N-body per step: pysciml vs rebound", "", f"load at start {load:.2f} on {cores} cores; "
          f"peak memory {result['vmhwm_mib']:.0f} MiB; headline: wall time per step", "",
          "| N | pysciml Verlet ms/step (wall / cpu) | rebound leapfrog | rebound WHFast | first call s |",
          "| --- | --- | --- | --- | --- |"]
    for r in rows:
        p = r["pysciml_verlet"]

        def fmt(x):
            return f"{x['wall_per_step_s'] * 1e3:.3f} / {x['cpu_per_step_s'] * 1e3:.3f}" if "wall_per_step_s" in x \
                else x.get("failed", "?")

        md.append(f"| {r['n']} | {fmt(p)} | {fmt(r['rebound_leapfrog'])} | {fmt(r['rebound_whfast'])} | "
                  f"{p['first_call_s']:.2f} |")
    (out / "physics_nbody.md").write_text("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
