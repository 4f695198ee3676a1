"""The demos ``pysciml demo NAME`` runs: name -> (module, what it shows, what it needs).

The table names modules as strings so that ``pysciml demo --list`` loads no engine; a demo's
module is imported only when it runs (like the public names of ``pysciml/__init__.py``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["Demo", "DEMOS", "DEFAULT", "find_demo", "run_demo"]


@dataclass(frozen=True)
class Demo:
    """One demo: its module (with a ``run`` function), a line on what it shows, its full-size time."""

    module: str
    shows: str
    minutes: float
    needs: tuple[str, ...] = ()


#: the demo ``pysciml demo`` runs without a name
DEFAULT = "tour"

DEMOS: dict[str, Demo] = {
    "tour": Demo(
        "pysciml.demos.flagship",
        "UDE on Lotka-Volterra + equation discovery + forecast, stiff ROBER with exact sensitivities, "
        "and a gridded fit drawn as a map",
        2.0,
    ),
    "sst": Demo(
        "pysciml.demos.sst",
        "gridded fit: the damping rate of winter Pacific SST anomalies in every ocean cell (maps, a picked cell)",
        0.5,
        ("eofs (its example SST file; a synthetic field is used without it)",),
    ),
    "latent": Demo(
        "pysciml.demos.latent",
        "latent ODE: a family of damped oscillators learned from irregular, gappy series; samples vs data",
        1.5,
    ),
    "fluids": Demo(
        "pysciml.demos.fluids",
        "2-D Navier-Stokes turbulence driven by Kolmogorov forcing: vorticity snapshots and a GIF",
        0.5,
    ),
    "arm": Demo(
        "pysciml.demos.arm",
        "a two-link robot arm sent to a target by a PD controller, drawn as it moves",
        0.3,
    ),
    "climate": Demo(
        "pysciml.demos.climate",
        "a 1-D energy-balance climate model: equilibrium temperature and ice-albedo hysteresis",
        1.0,
    ),
    "repressilator": Demo(
        "pysciml.demos.repressilator",
        "the repressilator gene oscillator: protein oscillations, their period, the network as SBML",
        0.3,
    ),
}


def find_demo(name: str) -> Demo:
    """The demo called ``name``, or an InputError listing the demos."""
    if name not in DEMOS:
        raise InputError(f"no demo {name!r}; the demos are {sorted(DEMOS)} (pysciml demo --list).", argument="name")
    return DEMOS[name]


def run_demo(name: str = DEFAULT, out_dir: str = "pysciml_demo", engine: str | None = None, quick: bool = False):
    """Run the demo ``name`` (writing into ``out_dir``); returns its summary dict."""
    demo = find_demo(name)
    return importlib.import_module(demo.module).run(out_dir, engine=engine, quick=quick)
