"""Lennard-Jones MD per step, 4,000 atoms: pysciml (physics.run_md, jax) vs jax-md and ASE.

Same run, same start (fcc at density 0.8442, T = 0.722, seed 0), the same potential in all three:
LJ sigma = epsilon = 1 with the C^1 switch from r_onset = 2.0 to r_cut = 2.5 (pysciml
``LennardJones(r_onset=2.0)``, jax-md ``lennard_jones_neighbor_list(r_onset=2.0, r_cutoff=2.5)``,
ASE ``LennardJones(smooth=True, ro=2.0, rc=2.5)``), NVE velocity Verlet, dt = 0.005, neighbour
lists with skin 0.3 in pysciml and jax-md (ASE's calculator keeps its own list, skin 0.3).
Per-step times are wall clock (headline) and process CPU time; compile time (first call) apart.

Usage: python benchmarks/physics_md.py [--quick] [--out DIR]
Refuses to publish (exit 1, no files) when the 1-minute load average exceeds the core count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from timing import best_of, cold_compile_cache, first_call, results_folder, vmhwm_mib

DT, RC, RO, SKIN = float(np.float32(0.005)), 2.5, 2.0, 0.3  # jax-md casts dt to float32: the same dt in all


def bench_pysciml(atoms, steps):
    from pysciml import physics as phys

    lj = phys.LennardJones(r_cut=RC, r_onset=RO)

    def run():
        return phys.run_md(lj, atoms, steps=steps, dt=DT, save_every=steps, skin=SKIN)

    first, _, _ = first_call(run)  # trace + compile + run
    wall, cpu, ds = best_of(run, 1)  # warm
    e = ds["total_energy"].values
    return {
        "wall_per_step_s": wall / steps,
        "cpu_per_step_s": cpu / steps,
        "first_call_s": first,
        "neighbour_method": ds.attrs["neighbour_method"],
        "rebuilds": ds.attrs["neighbour_rebuilds"],
        "rel_energy_change": float(abs(e[-1] - e[0]) / abs(e[0])),
        "final_position": ds["position"].values[-1],
    }


def bench_jax_md(atoms, steps):
    try:
        import jax
        import jax.numpy as jnp
        from jax_md import energy, simulate, space
    except ImportError as exc:
        return {"failed": f"jax-md not installed: {exc}"}
    box = jnp.asarray(atoms.box)
    disp, shift = space.periodic(box)
    nbr_fn, e_fn = energy.lennard_jones_neighbor_list(
        disp, box, sigma=1.0, epsilon=1.0, r_onset=RO, r_cutoff=RC, dr_threshold=SKIN
    )
    init, apply = simulate.nve(e_fn, shift, DT)
    q0 = jnp.asarray(atoms.positions)

    def run():
        nbrs = nbr_fn.allocate(q0)
        state = init(jax.random.PRNGKey(0), q0, 0.0, mass=1.0, momenta=jnp.asarray(atoms.velocities), neighbor=nbrs)

        @jax.jit
        def loop(state, nbrs):
            def body(i, sn):
                s, nb = sn
                s = apply(s, neighbor=nb)
                return s, nb.update(s.position)

            return jax.lax.fori_loop(0, steps, body, (state, nbrs))

        state, nbrs = loop(state, nbrs)
        state.position.block_until_ready()
        return state, nbrs

    first, _, _ = first_call(run)  # allocate + compile + run
    wall, cpu, (state, nbrs) = best_of(run, 1)  # warm
    return {
        "wall_per_step_s": wall / steps,
        "cpu_per_step_s": cpu / steps,
        "first_call_s": first,
        "overflowed": bool(nbrs.did_buffer_overflow),
        "final_position": np.asarray(state.position),
    }


def bench_ase(atoms, steps):
    try:
        from ase import Atoms
        from ase.calculators.lj import LennardJones
        from ase.md.verlet import VelocityVerlet
    except ImportError as exc:
        return {"failed": f"ase not installed: {exc}"}
    at = Atoms(f"Ar{atoms.n}", positions=atoms.positions, cell=atoms.box, pbc=True)
    at.set_velocities(atoms.velocities)  # (a perfect lattice at rest has zero forces: nothing would be computed)
    at.calc = LennardJones(sigma=1.0, epsilon=1.0, rc=RC, ro=RO, smooth=True)
    calls = [0]
    calculate = at.calc.calculate

    def counted(*a, **k):
        calls[0] += 1
        return calculate(*a, **k)

    at.calc.calculate = counted
    dyn = VelocityVerlet(at, timestep=DT)
    first, _, _ = first_call(lambda: dyn.run(1))
    before = calls[0]
    wall, cpu, _ = best_of(lambda: dyn.run(steps), 1)
    return {
        "wall_per_step_s": wall / steps,
        "cpu_per_step_s": cpu / steps,
        "first_call_s": first,
        "force_evaluations": calls[0] - before,  # one per step, checked below
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="864 atoms, few steps (structure check, not a measurement)")
    ap.add_argument("--out", default=None, help="write the tables here instead of benchmarks/results")
    args = ap.parse_args(argv)
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    out = results_folder(args.out, args.quick)  # a loaded machine does not publish
    from pysciml import physics as phys

    n = 864 if args.quick else 4000  # 864: the smallest fcc box with 3 cells per edge (cell list)
    steps, ase_steps = (20, 2) if args.quick else (200, 5)
    atoms = phys.fcc_lattice(n, 0.8442, 0.722, seed=0)
    row = {
        "n": n,
        "steps": steps,
        "ase_steps": ase_steps,
        "pysciml": bench_pysciml(atoms, steps),
        "jax_md": bench_jax_md(atoms, steps),
        "ase": bench_ase(atoms, ase_steps),
    }
    p, j = row["pysciml"], row["jax_md"]
    if row["ase"].get("force_evaluations", ase_steps) != ase_steps:
        print(f"ASE computed forces {row['ase']['force_evaluations']} times in {ase_steps} steps", file=sys.stderr)
        return 1
    if "final_position" in j:  # the same trajectory (up to jax-md's wrapping into the box)
        d = p["final_position"] - j["final_position"]
        d -= atoms.box * np.round(d / atoms.box)
        row["max_position_difference_vs_jax_md"] = float(np.max(np.abs(d)))
    for r in (p, j):
        r.pop("final_position", None)
    for peer in ("jax_md", "ase"):
        if "wall_per_step_s" in row[peer]:
            row[f"ratio_wall_vs_{peer}"] = p["wall_per_step_s"] / row[peer]["wall_per_step_s"]
    print(
        f"N={n}: pysciml {p['wall_per_step_s'] * 1e3:.3f} ms/step (wall), "
        + ", ".join(
            f"{k} {row[k]['wall_per_step_s'] * 1e3:.3f} ms/step"
            for k in ("jax_md", "ase")
            if "wall_per_step_s" in row[k]
        )
        + "; ratios (pysciml/peer, wall): "
        + ", ".join(f"{k[14:]} {v:.2f}" for k, v in row.items() if k.startswith("ratio_"))
    )
    result = {
        "load_average_at_start": load,
        "cores": cores,
        "vmhwm_mib": vmhwm_mib(),
        "quick": args.quick,
        "headline": "wall time per step",
        "rows": [row],
    }
    print(json.dumps(result, indent=2))
    (out / "physics_md.json").write_text(json.dumps(result, indent=2))

    def fmt(x):
        return (
            f"{x['wall_per_step_s'] * 1e3:.3f} / {x['cpu_per_step_s'] * 1e3:.3f}"
            if "wall_per_step_s" in x
            else x.get("failed", "?")
        )

    md = [
        "# Lennard-Jones MD per step: pysciml vs jax-md and ASE",
        "",
        f"load at start {load:.2f} on {cores} cores; peak memory {result['vmhwm_mib']:.0f} MiB; "
        "headline: wall time per step",
        "",
        "| N | pysciml ms/step (wall / cpu) | jax-md | ASE | pysciml first call s |",
        "| --- | --- | --- | --- | --- |",
        f"| {n} | {fmt(p)} | {fmt(j)} | {fmt(row['ase'])} | {p['first_call_s']:.2f} |",
    ]
    (out / "physics_md.md").write_text("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
