"""Airfoil panel method: pysciml's (jax, compiled) against aerosandbox's inviscid panel code, same run.

    python benchmarks/aero.py            # NACA 0012 and 2412, 15 angles; writes benchmarks/results/aero.*
    python benchmarks/aero.py --quick    # fewer repeats, writes nothing

Both codes run the linear-strength vortex panel method with the Kutta condition on about 200 panels
(pysciml: 200 panels of its NACA geometry; aerosandbox: its own NACA geometry repanelled to 100
points a side, 198 panels), over the issue's polar, -4..10 degrees in 1-degree steps (15 angles).
The process is pinned to one core, so CPU time (given beside wall time) is comparable across codes
and robust to other load on the machine; the load average is recorded.

Rows:
* pysciml polar: ``panel_coefficients`` (jax arrays), one compiled call for the 15 angles (one LU
  factorisation, 15 right-hand sides); ``panel_method`` the same with the xarray Dataset built.
* pysciml vmapped: ``jax.vmap`` over 64 NACA 4-digit sections (m, p, t), per section.
* pysciml gradient: value and gradient of Cl at 4 degrees with respect to (m, p, t), per call.
* aerosandbox as its docs use it: ``AirfoilInviscid`` per angle (builds and solves a CasADi/IPOPT
  problem each time), timed on 2 angles and scaled to 15.
* aerosandbox compiled: the angle as an ``Opti`` parameter and ``opti.to_function`` built once
  (build time apart), then one solve per angle: the fastest way we found to run it.
Compile/build times are measured apart (first call).  Cl of the two codes are compared as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import warnings

import numpy as np
from timing import best_of, cold_compile_cache, first_call, results_folder

ALPHAS = np.arange(-4.0, 11.0)
SECTIONS = ("0012", "2412")


def pysciml_rows(repeats):
    import jax
    import jax.numpy as jnp

    from pysciml import physics as phys

    rows = {}
    for code in SECTIONS:
        foil = phys.Airfoil.naca(code, 200)
        run = lambda f=foil: jax.block_until_ready(phys.panel_coefficients(f, ALPHAS))  # noqa: E731
        cw, cc, (cl, _) = first_call(run)
        wall, cpu = best_of(run, repeats)[:2]
        xwall, xcpu = best_of(lambda f=foil: phys.panel_method(f, ALPHAS), repeats)[:2]
        rows[code] = {"cl": np.asarray(cl).tolist(), "first_call_s": cw, "first_call_cpu_s": cc,
                      "polar_s": wall, "polar_cpu_s": cpu, "polar_xarray_s": xwall, "polar_xarray_cpu_s": xcpu}  # fmt: skip

    rng = np.random.default_rng(0)
    shapes = jnp.asarray(
        np.column_stack([rng.uniform(0, 0.06, 64), rng.uniform(0.2, 0.6, 64), rng.uniform(0.08, 0.18, 64)])
    )
    batched = jax.jit(jax.vmap(lambda s: phys.panel_coefficients(phys.Airfoil.naca4(s[0], s[1], s[2], 200), ALPHAS)))
    bw, bc, _ = first_call(lambda: jax.block_until_ready(batched(shapes)))
    wall, cpu = best_of(lambda: jax.block_until_ready(batched(shapes)), repeats)[:2]
    vmapped = {"sections": 64, "first_call_s": bw, "first_call_cpu_s": bc, "per_section_s": wall / 64,
               "per_section_cpu_s": cpu / 64}  # fmt: skip

    grad = jax.jit(
        jax.value_and_grad(lambda q: phys.panel_coefficients(phys.Airfoil.naca4(q[0], q[1], q[2], 200), 4.0)[0][0])
    )
    q = jnp.array([0.02, 0.4, 0.12])
    gw, gc, _ = first_call(lambda: jax.block_until_ready(grad(q)))
    wall, cpu = best_of(lambda: jax.block_until_ready(grad(q)), repeats)[:2]
    gradient = {"first_call_s": gw, "first_call_cpu_s": gc, "call_s": wall, "call_cpu_s": cpu}
    return rows, vmapped, gradient


def aerosandbox_rows(repeats):
    import aerosandbox as asb

    rows = {}
    for code in SECTIONS:
        foil = asb.Airfoil(f"naca{code}").repanel(n_points_per_side=100)

        def naive(alpha, foil=foil):
            return float(asb.AirfoilInviscid(airfoil=foil, op_point=asb.OperatingPoint(velocity=1, alpha=alpha)).Cl)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            devnull = os.open(os.devnull, os.O_WRONLY)
            saved = os.dup(1)
            os.dup2(devnull, 1)  # IPOPT prints its banner and iterations on the C stdout
            try:
                naive_wall, naive_cpu = best_of(lambda: [naive(a) for a in ALPHAS[:2]], 1)[:2]

                def build(foil=foil):
                    opti = asb.Opti()
                    opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "sb": "yes"})
                    alpha = opti.parameter(0.0)
                    run = asb.AirfoilInviscid(airfoil=foil, op_point=asb.OperatingPoint(velocity=1, alpha=alpha),
                                              opti=opti)  # fmt: skip
                    return opti.to_function("cl", [alpha], [run.Cl])

                bw, bc, fn = first_call(build)
                cl = np.array([float(fn(a)) for a in ALPHAS])
                wall, cpu = best_of(lambda fn=fn: [float(fn(a)) for a in ALPHAS], repeats)[:2]
            finally:
                os.dup2(saved, 1)
                os.close(devnull)
        rows[code] = {"cl": cl.tolist(), "naive_polar_s": naive_wall / 2 * ALPHAS.size,
                      "naive_polar_cpu_s": naive_cpu / 2 * ALPHAS.size, "build_s": bw, "build_cpu_s": bc,
                      "polar_s": wall, "polar_cpu_s": cpu}  # fmt: skip
    return rows, asb.__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    repeats = 2 if args.quick else 5
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    load = os.getloadavg()[0]
    out = results_folder(None, args.quick)  # a loaded machine does not publish

    import jax

    ours, vmapped, gradient = pysciml_rows(repeats)
    theirs, asb_version = aerosandbox_rows(repeats)
    table = []
    for code in SECTIONS:
        o, t = ours[code], theirs[code]
        cl_o, cl_t = np.array(o["cl"]), np.array(t["cl"])
        big = np.abs(cl_t) > 0.05
        row = {"section": f"NACA {code}", **{f"pysciml_{k}": v for k, v in o.items() if k != "cl"},
               **{f"asb_{k}": v for k, v in t.items() if k != "cl"},
               "cl_max_rel_diff": float(np.max(np.abs(cl_o[big] / cl_t[big] - 1))),
               "cl_max_abs_diff": float(np.max(np.abs(cl_o - cl_t))),
               "asb_compiled_over_pysciml_cpu": t["polar_cpu_s"] / o["polar_cpu_s"],
               "asb_naive_over_pysciml_cpu": t["naive_polar_cpu_s"] / o["polar_cpu_s"],
               "asb_compiled_over_pysciml_wall": t["polar_s"] / o["polar_s"]}  # fmt: skip
        table.append(row)
        print(json.dumps(row))
    print(json.dumps({"vmapped": vmapped, "gradient": gradient}))
    result = {"load_average_start": load, "cores_used": 1, "device": str(jax.devices()[0]),
              "python": platform.python_version(), "jax": jax.__version__, "aerosandbox": asb_version,
              "alphas_deg": ALPHAS.tolist(), "rows": table, "vmapped": vmapped, "gradient": gradient}  # fmt: skip
    if args.quick:
        return 0
    (out / "aero.json").write_text(json.dumps(result, indent=2))
    ms = lambda s: f"{1e3 * s:.2f}"  # noqa: E731
    lines = [
        "# Airfoil panel method",
        "",
        f"One core (pinned), load average {load:.1f} at start, {result['device']}, Python {result['python']}, "
        f"jax {result['jax']}, aerosandbox {asb_version}. 15 angles (-4..10 deg), ~200 panels; best of {repeats}. "
        "Times in ms, CPU time in brackets; ratios of CPU time. pysciml's first call compiles, once per panel "
        "count (the second section reuses it); aerosandbox's build makes its CasADi function.",
        "",
        "| section | pysciml polar | pysciml polar + xarray | pysciml first call | aerosandbox compiled polar "
        "| its build | aerosandbox per-angle use (15 angles) | compiled asb / pysciml | per-angle asb / pysciml "
        "| Cl max rel. diff |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        lines.append(
            f"| {r['section']} | {ms(r['pysciml_polar_s'])} ({ms(r['pysciml_polar_cpu_s'])}) "
            f"| {ms(r['pysciml_polar_xarray_s'])} ({ms(r['pysciml_polar_xarray_cpu_s'])}) "
            f"| {ms(r['pysciml_first_call_s'])} ({ms(r['pysciml_first_call_cpu_s'])}) "
            f"| {ms(r['asb_polar_s'])} ({ms(r['asb_polar_cpu_s'])}) | {ms(r['asb_build_s'])} ({ms(r['asb_build_cpu_s'])}) "
            f"| {ms(r['asb_naive_polar_s'])} ({ms(r['asb_naive_polar_cpu_s'])}) "
            f"| {r['asb_compiled_over_pysciml_cpu']:.1f}x | {r['asb_naive_over_pysciml_cpu']:.0f}x "
            f"| {100 * r['cl_max_rel_diff']:.3f}% |"
        )
    lines += [
        "",
        f"vmapped over {vmapped['sections']} sections (15 angles each): {ms(vmapped['per_section_s'])} "
        f"({ms(vmapped['per_section_cpu_s'])}) per section; first call {vmapped['first_call_s']:.2f} s.",
        "",
        f"value and gradient of Cl w.r.t. (m, p, t): {ms(gradient['call_s'])} ({ms(gradient['call_cpu_s'])}) per call; "
        f"first call {gradient['first_call_s']:.2f} s.",
    ]
    (out / "aero.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
