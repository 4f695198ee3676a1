"""``pysciml demo``: the flagship demonstration, run on the jax engine by default.

It solves the stiff ROBER chemical kinetics problem with our Rodas5P and the
Lotka–Volterra predator–prey model, writes the solutions as CF NetCDF files
and draws a PNG figure.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo", "rober_model", "lotka_volterra_model"]


def rober_model():
    """Robertson's stiff chemical kinetics (Hairer & Wanner II, ROBER)."""
    from .model import ODEModel

    def rober(u, p, t, m):
        y1, y2, y3 = u
        return [
            -p.k1 * y1 + p.k3 * y2 * y3,
            p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2,
            p.k2 * y2**2,
        ]

    return ODEModel(rober, states=["y1", "y2", "y3"], params={"k1": 0.04, "k2": 3e7, "k3": 1e4},
                    name="rober", time_units="s")


def lotka_volterra_model():
    """Lotka–Volterra predator–prey dynamics."""
    from .model import ODEModel

    def lotka_volterra(u, p, t, m):
        prey, predator = u
        return [p.alpha * prey - p.beta * prey * predator, p.gamma * prey * predator - p.delta * predator]

    return ODEModel(lotka_volterra, states=["prey", "predator"],
                    params={"alpha": 1.3, "beta": 0.9, "gamma": 0.8, "delta": 1.8}, name="lotka_volterra")


def _say(msg: str) -> None:
    print(msg, flush=True)


def run_demo(out_dir: str = "pysciml_demo", engine: str | None = None, quick: bool = False) -> dict:
    """Run the demo; returns a summary dict and writes NetCDF + PNG files into ``out_dir``."""
    from . import solvers
    from .io.files import write_netcdf
    from .solve import solve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}

    _say("pysciml demo - 1/2: ROBER stiff chemical kinetics with Rodas5P (our Rosenbrock solver in JAX)")
    rober = rober_model()
    saveat = np.concatenate([[0.0], np.logspace(-5, 5, 60)])
    t0 = time.perf_counter()
    sol = solve(rober, [1.0, 0.0, 0.0], (0.0, 1e5), saveat=saveat, solver=solvers.Rodas5P(),
                rtol=1e-8, atol=1e-10, engine=engine)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol = solve(rober, [1.0, 0.0, 0.0], (0.0, 1e5), saveat=saveat, solver=solvers.Rodas5P(),
                rtol=1e-8, atol=1e-10, engine=engine)
    again = time.perf_counter() - t0
    _say(f"  {sol.message} first call {first:.2f} s (compile), then {again * 1e3:.2f} ms")
    _say(f"  y(1e5) = {np.array2string(sol.u[-1], precision=6)}; stats {sol.stats}")
    write_netcdf(sol.to_xarray(), out / "rober.nc")
    summary["rober"] = {"status": sol.status.name, "y_final": sol.u[-1].tolist(), "seconds": again}

    _say("pysciml demo - 2/2: Lotka-Volterra predator-prey, solver chosen automatically")
    lv = lotka_volterra_model()
    lv_sol = solve(lv, [0.44249296, 4.6280594], (0.0, 10.0), saveat=np.linspace(0, 10, 201), engine=engine)
    _say(f"  {lv_sol.message} ({lv_sol.stats.get('auto_reason', '')})")
    write_netcdf(lv_sol.to_xarray(), out / "lotka_volterra.nc")
    summary["lotka_volterra"] = {"status": lv_sol.status.name, "solver": lv_sol.stats.get("solver")}

    png = _plot(sol, lv_sol, out / "pysciml_demo.png")
    _say(f"wrote {out / 'rober.nc'}, {out / 'lotka_volterra.nc'}" + (f" and {png}" if png else ""))
    summary["files"] = sorted(str(p) for p in out.iterdir())
    return summary


def _plot(rober_sol, lv_sol, path: Path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _say('  (no PNG: matplotlib is not installed; pip install "pysciml[plot]")')
        return None
    from .io.atomic import atomic_path

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    t = rober_sol.t[1:]
    for name, scale in (("y1", 1.0), ("y2", 1e4), ("y3", 1.0)):
        ax.semilogx(t, rober_sol[name][1:] * scale, label=f"{name}" + (" x 1e4" if scale != 1 else ""))
    ax.set_xlabel("time (s)")
    ax.set_title("ROBER, Rodas5P")
    ax.legend()
    ax = axes[1]
    ax.plot(lv_sol.t, lv_sol["prey"], label="prey")
    ax.plot(lv_sol.t, lv_sol["predator"], label="predator")
    ax.set_xlabel("time")
    ax.set_title("Lotka-Volterra")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
