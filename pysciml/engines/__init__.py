"""Engines: the jax engine (embedded default) and the Julia engine (optional).

``get_engine(name)`` returns an engine instance; the name comes from the
call's ``engine=`` argument, else the ``PYSCIML_ENGINE`` environment
variable, else ``"jax"``.  Engines are imported only when first used.
"""

from __future__ import annotations

import importlib
import os
import threading

from ..errors import EngineUnavailableError, InputError

__all__ = ["ENGINES", "get_engine", "engine_name", "available_engines"]

#: engine name -> "module:Class"
ENGINES = {
    "jax": "pysciml.engines.jax:JaxEngine",
    "julia": "pysciml.engines.julia:JuliaEngine",
}

_instances: dict = {}
_lock = threading.Lock()


def engine_name(engine: str | None = None) -> str:
    """Resolve the engine name: argument, else ``PYSCIML_ENGINE``, else ``"jax"``."""
    source = "engine"
    if engine is None:
        engine = os.environ.get("PYSCIML_ENGINE") or "jax"
        source = "PYSCIML_ENGINE"
    if not isinstance(engine, str) or engine.lower() not in ENGINES:
        raise InputError(
            f"unknown engine {engine!r}; choose one of {sorted(ENGINES)} "
            "(e.g. engine='jax', the embedded default).",
            argument=source,
        )
    return engine.lower()


def _load_class(name: str):
    mod_name, cls_name = ENGINES[name].split(":")
    module = importlib.import_module(mod_name)
    return getattr(module, cls_name)


def get_engine(engine: str | None = None):
    """The engine instance for ``engine`` (loaded on first use)."""
    name = engine_name(engine)
    with _lock:
        if name in _instances:
            return _instances[name]
        cls = _load_class(name)
        ok, reason = cls.availability()
        if not ok:
            raise EngineUnavailableError(reason, argument="engine")
        inst = cls()
        _instances[name] = inst
        return inst


def available_engines() -> dict[str, tuple[bool, str]]:
    """``{name: (available, reason)}`` for every engine, without starting any."""
    out = {}
    for name in ENGINES:
        try:
            cls = _load_class(name)
            out[name] = cls.availability()
        except ImportError as exc:
            out[name] = (False, str(exc))
    return out
