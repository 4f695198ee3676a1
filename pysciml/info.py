"""``ps.info()``: what pysciml runs on here (engines, versions, paths, threads)."""

from __future__ import annotations

import platform
import sys
from typing import Any

from ._version import __version__
from .engines.registry import ENGINES, get_engine, load_engine_class

__all__ = ["info"]


def info(*, start_engines: bool = False, print_it: bool = True) -> dict[str, Any]:
    """Report engines and versions.

    Args:
        start_engines: also start each available engine and include its own
            report (jax: devices, flags; julia: Julia path, depot, threads).
            Starting the Julia engine can take minutes the first time.
        print_it: print a readable summary as well as returning the dict.

    Returns:
        ``{"pysciml": version, "python": ..., "engines": {name: {...}}}``.
    """

    out: dict[str, Any] = {
        "pysciml": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "engines": {},
    }
    for name in ENGINES:
        entry: dict[str, Any] = {}
        try:
            cls = load_engine_class(name)
            ok, reason = cls.availability()
            static = getattr(cls, "static_info", None)
            if static is not None:
                entry.update(static())
        except ImportError as exc:
            ok, reason = False, str(exc)
        entry["available"] = ok
        if reason:
            entry["reason"] = reason
        if ok and (start_engines or name == "jax"):
            try:
                entry.update(get_engine(name).info())
            except Exception as exc:  # report, never crash an info call
                entry["error"] = str(exc)
        out["engines"][name] = entry
    if print_it:
        print(f"pysciml {out['pysciml']} on Python {out['python']} ({out['platform']})")
        for name, entry in out["engines"].items():
            state = "available" if entry.get("available") else "not available"
            print(f"  engine {name}: {state}")
            for k, v in entry.items():
                if k != "available":
                    print(f"    {k}: {v}")
    return out
