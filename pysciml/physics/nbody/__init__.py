"""Celestial N-body gravitation by direct summation (optional Plummer softening)."""

from .system import NBody

__all__ = ["NBody"]
