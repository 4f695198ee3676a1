"""Rigid multibody robot arms: serial chains from code or URDF, RNEA / CRBA / ABA in jax."""

from __future__ import annotations

from .chain import SerialArm as SerialArm

__all__ = ["SerialArm"]
