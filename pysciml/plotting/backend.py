"""matplotlib on demand: a clear error without it, new figures, atomic saves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError, PySciMLError
from ..io.atomic import atomic_path, check_target

__all__ = [
    "PlotExtraMissing",
    "pyplot",
    "new_figure",
    "save_figure",
    "axes_grid",
    "PROJECTIONS",
    "space_axes",
    "label_space_axes",
]

#: projection name -> the components drawn (indices into x, y, z)
PROJECTIONS = {"xy": (0, 1), "xz": (0, 2), "yz": (1, 2), "3d": (0, 1, 2)}


class PlotExtraMissing(PySciMLError, ImportError):
    """matplotlib is not installed: ``pip install "pysciml[plot]"``."""


def pyplot():
    """``matplotlib.pyplot``, or :class:`PlotExtraMissing` naming the ``plot`` extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotExtraMissing(
            'pictures need matplotlib, the optional "plot" extra: pip install "pysciml[plot]".'
        ) from None
    return plt


def new_figure(n_panels: int, *, ax=None, width: float = 6.0, height: float = 3.2, ncols: int | None = None):
    """``(fig, axes)``: ``n_panels`` axes in a grid (``axes`` a flat list), or the caller's ``ax``.

    Args:
        n_panels: how many panels.
        ax: an existing Axes (one panel) or a sequence of ``n_panels`` Axes to draw into.
        width, height: size of one panel in inches.
        ncols: panels per row (default: up to 2).
    """
    plt = pyplot()
    if ax is not None:
        axes = list(ax) if isinstance(ax, (list, tuple)) else list(getattr(ax, "flat", [ax]))
        if len(axes) != n_panels:
            raise InputError(f"needs {n_panels} axes for this picture, got {len(axes)}.", argument="ax")
        return axes[0].figure, axes
    ncols = ncols or min(n_panels, 2)
    nrows = -(-n_panels // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    axes = list(grid.flat)
    for extra in axes[n_panels:]:
        extra.remove()
    fig.set_layout_engine("constrained")
    return fig, axes[:n_panels]


def space_axes(projection: str, dim: int, *, ax=None, width: float = 5.5, height: float = 5.0):
    """``(fig, axis, components)`` for drawing points of ``dim``-D space on a plane or in 3-D.

    Args:
        projection: ``"xy"``, ``"xz"``, ``"yz"`` (a plane) or ``"3d"`` (needs ``dim`` 3).
        dim: the dimension of the positions (2 or 3).
        ax: an Axes to draw into (a 3-D one for ``"3d"``).
        width, height: figure size in inches when a new figure is made.
    """
    if projection not in PROJECTIONS:
        raise InputError(f"must be one of {list(PROJECTIONS)}, got {projection!r}.", argument="projection")
    comps = PROJECTIONS[projection]
    if max(comps) >= dim:
        raise InputError(f"{projection!r} needs 3-D positions; these are {dim}-D: use 'xy'.", argument="projection")
    if projection != "3d":
        fig, (axis,) = new_figure(1, ax=ax, width=width, height=height)
        return fig, axis, comps
    if ax is None:
        fig = pyplot().figure(figsize=(width + 0.5, height + 0.5))
        return fig, fig.add_subplot(projection="3d"), comps
    if getattr(ax, "name", "") != "3d":
        raise InputError("must be a 3-D Axes (add_subplot(projection='3d')) for projection='3d'.", argument="ax")
    return ax.figure, ax, comps


def label_space_axes(axis, comps: tuple[int, ...], length_units: str | None) -> None:
    """Name the axes of a :func:`space_axes` plot after the components, with units; equal scales."""
    unit = f" ({length_units})" if length_units and length_units != "1" else ""
    names = "xyz"
    axis.set_xlabel(f"{names[comps[0]]}{unit}")
    axis.set_ylabel(f"{names[comps[1]]}{unit}")
    if len(comps) == 3:
        axis.set_zlabel(f"z{unit}")
    axis.set_aspect("equal", adjustable="datalim")


def axes_grid(fig) -> list[Any]:
    """The axes of ``fig`` that hold data (colour bars excluded)."""
    return [a for a in fig.axes if a.get_label() != "<colorbar>"]


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110, **kwargs) -> Path:
    """Write ``fig`` to ``path`` atomically with the user's file permissions; returns the path.

    Args:
        fig: a matplotlib Figure.
        path: target file; the format follows its suffix (``.png``, ``.pdf``, ``.svg``).
        dpi: resolution of raster formats.
        **kwargs: passed to ``Figure.savefig``.
    """
    path = check_target(path, argument="path")
    fmt = kwargs.pop("format", None) or (path.suffix.lstrip(".").lower() or "png")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, **kwargs)
    return path
