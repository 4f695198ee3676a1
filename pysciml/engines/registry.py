"""The engine registry: ``get_engine(name)`` returns an engine instance; the name comes from the
call's ``engine=`` argument, else the ``PYSCIML_ENGINE`` environment
variable, else ``"jax"``.  Engines are imported only when first used.  What an
engine must do is declared in :mod:`.contract`; what crosses the line, in
:mod:`.requests`.
"""

from __future__ import annotations

import importlib
import os
import threading

from ..errors import EngineUnavailableError, InputError

__all__ = ["ENGINES", "get_engine", "engine_name", "available_engines", "load_engine_class"]

#: engine name -> "module:Class"
ENGINES = {
    "jax": "pysciml.engines.jax.engine:JaxEngine",
    "julia": "pysciml.engines.julia.engine:JuliaEngine",
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
            f"unknown engine {engine!r}; choose one of {sorted(ENGINES)} (e.g. engine='jax', the embedded default).",
            argument=source,
        )
    return engine.lower()


def load_engine_class(name: str):
    """The engine class registered as ``name`` (imports its module, not the engine's dependencies)."""
    mod_name, cls_name = ENGINES[name].split(":")
    module = importlib.import_module(mod_name)
    return getattr(module, cls_name)


def get_engine(engine: str | None = None, *, operation: str | None = None):
    """The engine instance for ``engine`` (loaded on first use).

    Args:
        engine: ``"jax"``, ``"julia"`` or None (``PYSCIML_ENGINE``, else jax).
        operation: an operation of :data:`pysciml.engines.contract.OPERATIONS` the caller
            needs; an engine that cannot run it raises :class:`EngineUnavailableError` now.
    """
    name = engine_name(engine)
    with _lock:
        inst = _instances.get(name)
        if inst is None:
            cls = load_engine_class(name)
            ok, reason = cls.availability()
            if not ok:
                raise EngineUnavailableError(reason, argument="engine")
            inst = cls()
            _instances[name] = inst
    if operation is not None:
        inst.require(operation)
    return inst


def available_engines() -> dict[str, tuple[bool, str]]:
    """``{name: (available, reason)}`` for every engine, without starting any."""
    out = {}
    for name in ENGINES:
        try:
            cls = load_engine_class(name)
            out[name] = cls.availability()
        except ImportError as exc:
            out[name] = (False, str(exc))
    return out
