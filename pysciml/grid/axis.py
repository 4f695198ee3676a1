"""One grid axis: centres, faces and the 1-D metric numbers every operator uses.

Coordinates here are in *index orientation*: ``q = orientation * coordinate``
increases with the array index, so a descending latitude axis is handled by
the same formulas (``orientation = -1``).  Faces are numbered ``k = 0..n``;
face ``k`` lies between cells ``k-1`` and ``k`` (faces ``0`` and ``n`` are the
domain ends, the same physical face on a periodic axis).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["Axis", "BOUNDARY_KINDS", "build_axis", "pair", "check_coordinate"]

#: kinds of a non-periodic domain end
BOUNDARY_KINDS = ("neumann", "dirichlet")


@dataclasses.dataclass(frozen=True, eq=False)
class Axis:
    """1-D geometry of one axis, in index orientation (all arrays float64, read-only).

    Attributes:
        centres: cell centres ``q_j``, shape ``(n,)``, strictly increasing.
        edges: face positions ``e_k``, shape ``(n+1,)``; on a periodic axis ``e_n = e_0 + period``.
        face_distance: distance in ``q`` across face ``k``, shape ``(n+1,)``: ``q_k - q_{k-1}``
            inside; ``q_0 + period - q_{n-1}`` at both ends of a periodic axis; the
            centre-to-face distance ``q_0 - e_0`` / ``e_n - q_{n-1}`` at a domain end.
        face_weight: weight of the lower cell ``k-1`` when interpolating to face ``k``
            (``(q_k - e_k) / (q_k - q_{k-1})``); 1 at the lower domain end (the boundary
            value is the lower neighbour), 0 at the upper domain end.
        centre_weight: weight of the lower face ``j`` when interpolating face values to
            centre ``j``: ``(e_{j+1} - q_j) / (e_{j+1} - e_j)``, shape ``(n,)``.
        width: cell widths ``e_{j+1} - e_j``, shape ``(n,)``.
        periodic: whether the axis wraps.
        period: the wrap length (0 when not periodic).
        kind: ``"periodic"``, ``"neumann"`` or ``"dirichlet"``.
        value: the Dirichlet boundary value (0 unless ``kind == "dirichlet"``).
        orientation: +1 when the user's coordinate increases with index, -1 when it decreases.
    """

    centres: np.ndarray
    edges: np.ndarray
    face_distance: np.ndarray
    face_weight: np.ndarray
    centre_weight: np.ndarray
    width: np.ndarray
    periodic: bool
    period: float
    kind: str
    value: float
    orientation: int


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def build_axis(centres, edges, *, periodic: bool, period: float, kind: str, value: float, orientation: int) -> Axis:
    """Face distances and interpolation weights of one axis (see :class:`Axis`).

    Args:
        centres: increasing cell centres ``q``, shape ``(n,)``.
        edges: increasing faces ``e``, shape ``(n+1,)``, each centre strictly inside its cell.
        periodic, period: wrap flag and wrap length (``e_n - e_0`` when periodic).
        kind, value: boundary kind of the ends (ignored when periodic) and Dirichlet value.
        orientation: +1 or -1 (see :class:`Axis`).
    """
    q = np.asarray(centres, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    n = q.size
    dist = np.empty(n + 1)
    wl = np.empty(n + 1)
    dist[1:n] = q[1:] - q[:-1]
    wl[1:n] = (q[1:] - e[1:n]) / dist[1:n]
    if periodic:
        wrap = q[0] + period - q[-1]
        dist[0] = dist[n] = wrap
        wl[0] = wl[n] = (q[0] + period - e[n]) / wrap
        kind, value = "periodic", 0.0
    else:
        dist[0], dist[n] = q[0] - e[0], e[n] - q[-1]
        wl[0], wl[n] = 1.0, 0.0
        if kind != "dirichlet":
            value = 0.0
    cw = (e[1:] - q) / (e[1:] - e[:-1])
    return Axis(
        _frozen(q),
        _frozen(e),
        _frozen(dist),
        _frozen(wl),
        _frozen(cw),
        _frozen(e[1:] - e[:-1]),
        bool(periodic),
        float(period) if periodic else 0.0,
        kind,
        float(value),
        int(orientation),
    )


def pair(value, argument: str, what: str) -> tuple[Any, Any]:
    """``value`` as a ``(y, x)`` pair: a scalar is used for both axes."""
    if isinstance(value, (str, bool, int, float, np.number, np.bool_)) or value is None:
        return (value, value)
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) != 2:
        raise InputError(
            f"expected one {what} for both axes or a pair (for axis 0 / y, axis 1 / x); got {value!r}.",
            argument=argument,
        )
    return items


def check_coordinate(values, argument: str, *, unit: str) -> np.ndarray:
    """A 1-D, finite, strictly monotonic float64 coordinate (numpy, xarray or list)."""
    try:
        c = np.asarray(getattr(values, "values", values), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"must be a 1-D array of numbers ({unit}); got {type(values).__name__}.", argument=argument
        ) from None
    if c.ndim != 1:
        raise InputError(
            f"must be 1-D (one value per row or column, {unit}); got shape {c.shape}. "
            "Curvilinear (2-D coordinate) grids are not supported.",
            argument=argument,
        )
    if c.size < 2:
        raise InputError(f"needs at least 2 values; got {c.size}.", argument=argument)
    if not np.all(np.isfinite(c)):
        raise InputError("contains NaN or infinite values.", argument=argument)
    d = np.diff(c)
    if not (np.all(d > 0) or np.all(d < 0)):
        direction = np.sign(c[-1] - c[0]) or 1.0
        bad = int(np.argmax(d * direction <= 0))
        raise InputError(
            f"must be strictly increasing or strictly decreasing (cell centres); it is not "
            f"at indices {bad} and {bad + 1} ({c[bad]:g}, {c[bad + 1]:g}). Sort the data along "
            "this dimension (e.g. ds.sortby(...)) and drop duplicated values.",
            argument=argument,
        )
    return c
