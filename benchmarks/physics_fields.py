"""Navier–Stokes 2-D: pysciml's IFRK4 (jax) per step and per gradient, against the same scheme in
numpy FFTs and against jax-cfd's CN-RK4 spectral solver, in the same run.

    python benchmarks/physics_fields.py            # 128^2 and 256^2, writes benchmarks/results/physics_fields.*
    python benchmarks/physics_fields.py --quick    # 32^2, structure only, writes nothing

Headline: wall time per step (best of 3, after a warm-up call that compiles); CPU time beside it
(XLA uses every core, numpy's FFT one).  Compile time is the first call, measured apart.  Memory is
the process's VmHWM.  Refuses to publish when the load average exceeds the core count.
EBM part: the equilibrium of the energy-balance model with climlab's default parameters, pysciml's
``EnergyBalance1D.equilibrium()`` (Rodas5P spin-up plus a Newton polish; compile measured apart) against
climlab integrating 10 model years (its own stepping: forward Euler radiation, implicit diffusion,
yr/90 steps; within 1e-5 K of its converged state), with the two answers compared.
The panel-method part of the issue's benchmark is `benchmarks/aero.py` (against aerosandbox).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from timing import best_of, cold_compile_cache, results_folder, vmhwm_mib


def numpy_ifrk4(n, nu, dt):
    """The same IFRK4 scheme with numpy's pocketfft (the reference implementation of the ratio)."""
    k = np.fft.fftfreq(n, 1 / n)
    kr = np.fft.rfftfreq(n, 1 / n)
    KY, KX = np.meshgrid(k, kr, indexing="ij")
    k2 = KX**2 + KY**2
    inv = np.where(k2 == 0, 0, 1 / np.where(k2 == 0, 1, k2))
    mask = ((np.abs(KX) < 2 / 3 * (n // 2)) & (np.abs(KY) < 2 / 3 * (n // 2))).astype(float)
    E = np.exp(-nu * k2 * dt / 2)
    E2 = E * E

    def N(wh):
        psi = wh * inv
        u = np.fft.irfft2(1j * KY * psi, s=(n, n))
        v = np.fft.irfft2(-1j * KX * psi, s=(n, n))
        wx = np.fft.irfft2(1j * KX * wh, s=(n, n))
        wy = np.fft.irfft2(1j * KY * wh, s=(n, n))
        return -mask * np.fft.rfft2(u * wx + v * wy)

    def step(wh):
        k1 = N(wh)
        k2_ = N(E * (wh + dt / 2 * k1))
        k3 = N(E * wh + dt / 2 * k2_)
        k4 = N(E2 * wh + dt * E * k3)
        return E2 * wh + dt / 6 * (E2 * k1 + 2 * E * (k2_ + k3) + k4)

    return step


def ebm_rows(quick: bool) -> list[dict]:
    """Equilibrium of climlab's EBM() and EBM_annual(ai=0.62) configurations, both codes, same run."""
    import warnings

    from pysciml import physics as phys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # climlab warns about its (unused) Fortran radiation modules
        try:
            import climlab
        except ImportError as exc:
            return [{"ebm": "EBM()", "climlab_error": str(exc)}]
    configs = [("EBM()", phys.EnergyBalance1D(), climlab.EBM, {})]
    if not quick:
        configs.append(
            ("EBM_annual(ai=0.62)", phys.EnergyBalance1D(insolation="orbital", a0=0.33, a2=0.25, ai=0.62),
             climlab.EBM_annual, {"ai": 0.62})
        )  # fmt: skip
    years = 2.0 if quick else 10.0
    repeats = 1 if quick else 3
    rows = []
    for name, ours, make, kw in configs:
        c0 = time.perf_counter()
        eq = ours.equilibrium()
        compile_s = time.perf_counter() - c0
        wall, cpu = best_of(ours.equilibrium, repeats)[:2]
        models = []

        def run_climlab(make=make, kw=kw, models=models):
            m = make(**kw)
            m.integrate_years(years, verbose=False)
            models.append(m)

        cwall, ccpu = best_of(run_climlab, repeats)[:2]
        m = models[-1]
        row = {"ebm": name, "pysciml_equilibrium_s": wall, "pysciml_equilibrium_cpu_s": cpu,
               "pysciml_first_call_s": compile_s, "climlab_years": years, "climlab_s": cwall, "climlab_cpu_s": ccpu,
               "climlab_over_pysciml": cwall / wall,
               "global_mean_pysciml": float(eq.global_mean), "global_mean_climlab": float(climlab.global_mean(m.Ts)),
               "ice_edge_pysciml": float(eq.ice_edge_north), "ice_edge_climlab": float(np.asarray(m.icelat)[1])}  # fmt: skip
        rows.append(row)
        print(json.dumps(row))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    out = results_folder(None, args.quick)  # a loaded machine does not publish
    import jax
    import jax.numpy as jnp

    from pysciml import physics as phys

    sizes = [32] if args.quick else [128, 256]
    steps = 5 if args.quick else 100
    nu, dt = 1e-3, 1e-3
    rows = []
    for n in sizes:
        x = np.arange(n) * 2 * np.pi / n
        X, Y = np.meshgrid(x, x, indexing="xy")
        w0 = np.sin(2 * X) * np.cos(Y) + 0.5 * np.cos(3 * X + Y) + 0.3 * np.sin(X - 2 * Y)
        t = np.array([0.0, steps * dt])
        flow = phys.NavierStokes2D(n=n, viscosity=nu)
        run = lambda: flow.trajectory(w0, t, dt=dt).block_until_ready()  # noqa: E731
        c0 = time.perf_counter()
        run()
        compile_s = time.perf_counter() - c0
        wall, cpu = best_of(run)[:2]
        loss = jax.jit(jax.grad(lambda v: jnp.mean(flow.replace(viscosity=v).trajectory(w0, t, dt=dt)[-1] ** 2)))
        loss(nu).block_until_ready()
        gwall, gcpu = best_of(lambda: loss(nu).block_until_ready())[:2]
        step = numpy_ifrk4(n, nu, dt)
        wh0 = np.fft.rfft2(w0)

        def np_run():
            wh = wh0
            for _ in range(steps):
                wh = step(wh)
            return wh

        nwall, ncpu = best_of(np_run)[:2]
        row = {"n": n, "steps": steps, "compile_s": compile_s,
               "pysciml_step_ms": 1e3 * wall / steps, "pysciml_step_cpu_ms": 1e3 * cpu / steps,
               "pysciml_grad_step_ms": 1e3 * gwall / steps, "pysciml_grad_step_cpu_ms": 1e3 * gcpu / steps,
               "numpy_step_ms": 1e3 * nwall / steps, "numpy_step_cpu_ms": 1e3 * ncpu / steps}  # fmt: skip
        try:
            from jax_cfd.base import grids
            from jax_cfd.spectral import equations, time_stepping

            grid = grids.Grid((n, n), domain=((0, 2 * np.pi), (0, 2 * np.pi)))
            cstep = time_stepping.crank_nicolson_rk4(equations.NavierStokes2D(nu, grid, smooth=True), dt)
            crun = jax.jit(lambda wh: jax.lax.fori_loop(0, steps, lambda i, w: cstep(w), wh))
            wc = jnp.fft.rfftn(jnp.asarray(w0.T))
            crun(wc).block_until_ready()
            cwall, ccpu = best_of(lambda: crun(wc).block_until_ready())[:2]
            row |= {"jaxcfd_step_ms": 1e3 * cwall / steps, "jaxcfd_step_cpu_ms": 1e3 * ccpu / steps}
        except ImportError as exc:
            row |= {"jaxcfd_step_ms": None, "jaxcfd_error": str(exc)}
        row["numpy_over_pysciml"] = row["numpy_step_ms"] / row["pysciml_step_ms"]
        if row.get("jaxcfd_step_ms"):
            row["jaxcfd_over_pysciml"] = row["jaxcfd_step_ms"] / row["pysciml_step_ms"]
        rows.append(row)
        print(json.dumps(row))
    ebm = ebm_rows(args.quick)
    result = {"load_average_start": load, "cores": cores, "device": str(jax.devices()[0]),
              "vmhwm_mib": vmhwm_mib(), "headline": "wall ms per step, best of 3, float64", "rows": rows,
              "ebm_headline": "wall s to the equilibrium, best of 3", "ebm_rows": ebm}  # fmt: skip
    if args.quick:
        return 0
    (out / "physics_fields.json").write_text(json.dumps(result, indent=2))
    lines = ["# 2-D Navier-Stokes per step, and the energy-balance equilibrium: pysciml vs numpy, jax-cfd, climlab",
             "",
             f"load at start {load:.2f} on {cores} cores, {result['device']}; peak memory {result['vmhwm_mib']:.0f} MiB; "
             "headline: wall ms per step (best of 3, float64), CPU ms in brackets (XLA uses both cores, numpy one); "
             "first call = trace + compile from an empty cache. Same scheme (IFRK4, 2/3 de-aliasing) in numpy; "
             "jax-cfd runs its own CN-RK4 spectral stepper with the same step.",
             "",
             "| n | pysciml ms/step | gradient ms/step | numpy ms/step | jax-cfd ms/step | numpy/pysciml "
             "| jax-cfd/pysciml | pysciml first call s |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip

    def pair(wall, cpu):
        return "failed" if wall is None else f"{wall:.2f} ({cpu:.2f})"

    for r in rows:
        cfd_wall, cfd_cpu = r.get("jaxcfd_step_ms"), r.get("jaxcfd_step_cpu_ms")
        lines.append(
            f"| {r['n']}² | {pair(r['pysciml_step_ms'], r['pysciml_step_cpu_ms'])} "
            f"| {pair(r['pysciml_grad_step_ms'], r['pysciml_grad_step_cpu_ms'])} "
            f"| {pair(r['numpy_step_ms'], r['numpy_step_cpu_ms'])} | {pair(cfd_wall, cfd_cpu)} "
            f"| {pair(r['numpy_step_ms'] / r['pysciml_step_ms'], r['numpy_step_cpu_ms'] / r['pysciml_step_cpu_ms'])} "
            f"| {pair(None if cfd_wall is None else cfd_wall / r['pysciml_step_ms'], None if cfd_cpu is None else cfd_cpu / r['pysciml_step_cpu_ms'])} "
            f"| {r['compile_s']:.2f} |"
        )  # fmt: skip
    lines += ["", "| EBM | pysciml equilibrium s (cpu) | first call s | climlab s (cpu), years | climlab/pysciml "
              "| global mean pysciml / climlab (degC) | ice edge pysciml / climlab |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in ebm:
        if "climlab_error" in r:
            lines.append(f"| {r['ebm']} | climlab not installed: {r['climlab_error']} |")
            continue
        lines.append(
            f"| {r['ebm']} | {r['pysciml_equilibrium_s']:.3f} ({r['pysciml_equilibrium_cpu_s']:.3f}) "
            f"| {r['pysciml_first_call_s']:.2f} | {r['climlab_s']:.2f} ({r['climlab_cpu_s']:.2f}), {r['climlab_years']:g} "
            f"| {r['climlab_over_pysciml']:.1f} | {r['global_mean_pysciml']:.6f} / {r['global_mean_climlab']:.6f} "
            f"| {r['ice_edge_pysciml']:g} / {r['ice_edge_climlab']:g} |"
        )
    (out / "physics_fields.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
