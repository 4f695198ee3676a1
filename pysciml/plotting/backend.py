"""matplotlib on demand: a clear error without it, new figures, atomic saves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError, PySciMLError
from ..io.atomic import atomic_path, check_target

__all__ = ["PlotExtraMissing", "pyplot", "new_figure", "save_figure", "axes_grid"]


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
