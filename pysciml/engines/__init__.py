"""Engines: the jax engine (embedded default) and the Julia engine (optional).

:mod:`.registry` picks an engine by name; :mod:`.contract` declares what every engine
does; :mod:`.requests` holds what crosses the line.  Engines are imported only when
first used.
"""

from .registry import (
    ENGINES,
    available_engines,
    engine_name,
    get_engine,
    load_engine_class,
)

__all__ = ["ENGINES", "get_engine", "engine_name", "available_engines", "load_engine_class"]
