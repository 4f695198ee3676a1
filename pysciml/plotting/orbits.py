"""Trajectories of bodies in space: one orbit per body, projected on a plane or drawn in 3-D."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from .backend import label_space_axes, space_axes

__all__ = ["plot_orbits"]


def plot_orbits(
    positions,
    *,
    projection: str = "xy",
    names: Sequence[str] | None = None,
    bodies: Sequence[int] | None = None,
    length_units: str | None = None,
    title: str | None = None,
    ax=None,
):
    """Draw the path of each body; returns ``(fig, [ax])``.

    One line per body (labelled with its name), a hollow circle where it starts and a
    filled dot where it ends; equal scales on both axes so orbits keep their shape.

    Args:
        positions: ``(n_t, n_bodies, dim)`` positions, ``dim`` 2 or 3.
        projection: ``"xy"``, ``"xz"``, ``"yz"`` (a plane) or ``"3d"`` (needs ``dim`` 3).
        names: a name per body (default ``"body 0"``, ``"body 1"``, ...).
        bodies: indices of the bodies to draw (default all).
        length_units: units for the axis labels.
        title: figure title.
        ax: an Axes to draw into (a 3-D one for ``"3d"``).
    """
    q = np.asarray(positions, dtype=float)
    if q.ndim != 3 or q.shape[2] not in (2, 3):
        raise InputError(f"must be (n_times, n_bodies, 2 or 3), got shape {q.shape}.", argument="positions")
    n_bodies = q.shape[1]
    names = [f"body {i}" for i in range(n_bodies)] if names is None else [str(n) for n in names]
    if len(names) != n_bodies:
        raise InputError(f"must give one name per body ({n_bodies}), got {len(names)}.", argument="names")
    if bodies is None:
        bodies = list(range(n_bodies))
    bad = [b for b in bodies if not (isinstance(b, (int, np.integer)) and 0 <= b < n_bodies)]
    if bad:
        raise InputError(f"must be body indices in [0, {n_bodies}), got {bad}.", argument="bodies")
    fig, axis, comps = space_axes(projection, q.shape[2], ax=ax)
    for b in bodies:
        path = [q[:, b, c] for c in comps]
        (line,) = axis.plot(*path, lw=1.2, label=names[b])
        start = [[p[0]] for p in path]
        end = [[p[-1]] for p in path]
        axis.plot(*start, "o", mfc="none", color=line.get_color(), label=f"_{names[b]} start")
        axis.plot(*end, "o", color=line.get_color(), label=f"_{names[b]} end")
    label_space_axes(axis, comps, length_units)
    if len(bodies) <= 12:
        axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig, [axis]
