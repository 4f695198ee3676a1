"""The Julia engine: DifferentialEquations.jl through juliacall (optional).

Importing this package is cheap: it imports neither juliacall nor sympy's
printers until the engine is used.  See ``docs/julia.md``.
"""

from __future__ import annotations

__all__ = ["JuliaEngine", "build_sysimage"]


def __getattr__(name):
    if name == "JuliaEngine":
        from .engine import JuliaEngine

        return JuliaEngine
    if name == "build_sysimage":
        from .sysimage import build_sysimage

        return build_sysimage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
