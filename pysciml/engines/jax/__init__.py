"""The embedded jax engine (imports jax; loaded only when the engine is used)."""

from .engine import JaxEngine

__all__ = ["JaxEngine"]
