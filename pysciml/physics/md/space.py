"""Periodic boxes: checking a box against a cut-off, minimum-image displacements, wrapping.

A box is an orthorhombic periodic cell given by its three edge lengths ``(Lx, Ly, Lz)``;
positions are Cartesian and may lie outside ``[0, L)`` (they are wrapped where it matters).
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError

__all__ = ["check_box", "check_positions", "minimum_image", "wrap"]


def check_box(box, *, cutoff: float | None = None) -> np.ndarray:
    """The box as a float ``(3,)`` array; ``InputError`` naming ``box`` when it is not one.

    With ``cutoff``, also requires ``cutoff <= min(box) / 2`` (the minimum-image convention
    sees each pair once only within half the shortest edge).
    """
    try:
        arr = np.asarray(box, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"must be three positive edge lengths, got {box!r}.", argument="box") from None
    if arr.shape != (3,):
        raise InputError(f"must be three periodic edge lengths (Lx, Ly, Lz), got shape {arr.shape}.", argument="box")
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise InputError(f"edge lengths must be positive and finite, got {arr.tolist()}.", argument="box")
    if cutoff is not None and cutoff > arr.min() / 2:
        raise InputError(
            f"is too small for the cut-off: r_cut = {cutoff:g} exceeds half the shortest edge "
            f"({arr.min() / 2:g}); use a larger box (more atoms) or a shorter r_cut.",
            argument="box",
        )
    return arr


def check_positions(positions, argument: str = "positions") -> np.ndarray:
    """Positions as a finite float ``(n, 3)`` array, or ``InputError`` naming ``argument``."""
    try:
        arr = np.asarray(positions, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"must be an (n_atoms, 3) array of numbers, got {type(positions).__name__}.", argument=argument
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] < 1:
        raise InputError(f"must have shape (n_atoms, 3), got {arr.shape}.", argument=argument)
    if not np.all(np.isfinite(arr)):
        raise InputError("contains NaN or infinite values.", argument=argument)
    return arr


def minimum_image(dr, box):
    """The periodic image of displacements ``dr (..., 3)`` nearest the origin (works on numpy and jax)."""
    return dr - box * (dr / box).round()


def wrap(positions, box):
    """Positions folded into ``[0, L)`` (numpy or jax arrays)."""
    return positions - box * (positions // box)
