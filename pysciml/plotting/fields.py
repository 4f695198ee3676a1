"""Snapshots of a 2-D field over time (vorticity of a periodic flow): a row of images."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from .backend import new_figure

__all__ = ["plot_snapshots", "field_frames", "periodic_ticks", "box_extent"]


def field_frames(field, *, variable: str | None = None, t=None) -> dict[str, Any]:
    """The frames of a ``(time, y, x)`` field in plain numpy, with what labels them.

    Args:
        field: an ``xarray.DataArray`` ``(time, y, x)`` (e.g. ``NavierStokes2D.simulate``'s
            result), a Dataset (its ``variable``, default ``"vorticity"``), or an array
            ``(time, ny, nx)``.
        variable: the Dataset variable to draw.
        t: times of the frames of a plain array (default 0, 1, ...).

    Returns ``{"data", "t", "x", "y", "name", "units", "x_label", "y_label", "time_units"}``.
    """
    if hasattr(field, "data_vars"):  # an xarray Dataset
        names = list(field.data_vars)
        variable = variable or ("vorticity" if "vorticity" in names else None)
        if variable not in names:
            raise InputError(f"names no variable of the Dataset {names}; pass variable=...", argument="variable")
        field = field[variable]
    if hasattr(field, "dims"):  # an xarray DataArray
        if field.ndim != 3:
            extra = [d for d in field.dims if d not in ("time", "y", "x")]
            hint = f": select one {extra[0]!r}, e.g. field.isel({extra[0]}=0)" if extra else ""
            raise InputError(f"must have dims (time, y, x), got {field.dims}{hint}.", argument="field")
        tdim, ydim, xdim = field.dims
        coords = {d: (np.asarray(field[d].values, dtype=float) if d in field.coords else None) for d in field.dims}

        def label(dim):
            if dim not in field.coords:
                return dim
            attrs = field[dim].attrs
            units = attrs.get("units")
            return f"{dim} ({units}, periodic)" if units and "periodic" in attrs.get("long_name", "") else (
                f"{dim} ({units})" if units else dim)  # fmt: skip

        return {
            "data": np.asarray(field.values, dtype=float),
            "t": coords[tdim] if coords[tdim] is not None else np.arange(field.shape[0], dtype=float),
            "x": coords[xdim] if coords[xdim] is not None else np.arange(field.shape[2], dtype=float),
            "y": coords[ydim] if coords[ydim] is not None else np.arange(field.shape[1], dtype=float),
            "name": field.attrs.get("long_name") or field.name or "field",
            "units": field.attrs.get("units"),
            "x_label": label(xdim),
            "y_label": label(ydim),
            "time_units": field[tdim].attrs.get("units") if tdim in field.coords else None,
        }
    data = np.asarray(field, dtype=float)
    if data.ndim != 3:
        raise InputError(f"must be (time, ny, nx) frames, got shape {data.shape}.", argument="field")
    t = np.arange(data.shape[0], dtype=float) if t is None else np.asarray(t, dtype=float)
    if t.shape != data.shape[:1]:
        raise InputError(f"must give one time per frame ({data.shape[0]}), got shape {t.shape}.", argument="t")
    return {
        "data": data, "t": t, "x": np.arange(data.shape[2], dtype=float), "y": np.arange(data.shape[1], dtype=float),
        "name": "field", "units": None, "x_label": "x index", "y_label": "y index", "time_units": None,
    }  # fmt: skip


def box_extent(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """The whole periodic box: ``n`` nodes ``x_0 + i dx`` span ``[x_0, x_0 + n dx)``, node ``i`` drawn as
    the cell ``[x_i, x_i + dx)``."""
    dx = float(x[1] - x[0]) if x.size > 1 else 1.0
    dy = float(y[1] - y[0]) if y.size > 1 else 1.0
    return float(x[0]), float(x[0] + x.size * dx), float(y[0]), float(y[0] + y.size * dy)


def periodic_ticks(start: float, length: float) -> tuple[list[float], list[str]]:
    """Ticks at the start, middle and end of a periodic side; multiples of pi written as such."""
    ticks = [start, start + length / 2, start + length]
    if start == 0 and math.isclose(length / math.pi, round(length / math.pi), rel_tol=1e-9) and length > 0:
        k = round(length / math.pi)
        half = "π/2" if k == 1 else ("π" if k == 2 else f"{k / 2:g}π")
        return ticks, ["0", half, "π" if k == 1 else f"{k}π"]
    return ticks, [f"{v:.3g}" for v in ticks]


def _pick(t: np.ndarray, times, n: int) -> list[int]:
    if times is None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"must be a whole number of snapshots >= 1, got {n!r}.", argument="n")
        return sorted({int(round(i)) for i in np.linspace(0, t.size - 1, min(int(n), t.size))})
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise InputError(f"must be a list of finite times, got {times!r}.", argument="times")
    span = (t.min(), t.max())
    outside = times[(times < span[0] - 1e-9 * abs(span[1])) | (times > span[1] + 1e-9 * abs(span[1]))]
    if outside.size:
        raise InputError(f"{outside.tolist()} lie outside the saved times [{span[0]:.4g}, {span[1]:.4g}].",
                         argument="times")  # fmt: skip
    return [int(np.argmin(np.abs(t - s))) for s in times]


def plot_snapshots(
    field,
    times: Sequence[float] | None = None,
    *,
    n: int = 4,
    variable: str | None = None,
    cmap: str = "RdBu_r",
    symmetric: bool = True,
    t=None,
    ax=None,
):
    """A row of images of a 2-D field at chosen times, one shared colour scale; returns ``(fig, axes)``.

    The colour scale is symmetric about zero by default (vorticity: ``[-m, m]`` with ``m`` the
    largest ``|value|`` in the drawn snapshots); each image spans its whole periodic box (node
    ``i`` drawn as the cell ``[x_i, x_i + dx)``), with ticks at the box's start, middle and end (``0, π, 2π`` for a
    ``2π`` box).  Each panel's title gives its time.

    Args:
        field: an ``xarray.DataArray`` ``(time, y, x)`` (``NavierStokes2D.simulate``), a Dataset
            (``variable``, default ``"vorticity"``), or an array ``(time, ny, nx)``.
        times: the times to draw (the nearest saved ones are used); default ``n`` times evenly
            spread from the first to the last.
        n: how many snapshots when ``times`` is not given.
        variable: the Dataset variable to draw.
        cmap: matplotlib colour map.
        symmetric: a colour scale symmetric about zero (else from the minimum to the maximum).
        t: times of a plain array's frames.
        ax: an Axes per snapshot to draw into.
    """
    if not isinstance(symmetric, bool):
        raise InputError(f"must be True or False, got {symmetric!r}.", argument="symmetric")
    f = field_frames(field, variable=variable, t=t)
    picks = _pick(f["t"], times, n)
    shown = f["data"][picks]
    if symmetric:
        vmax = float(np.nanmax(np.abs(shown))) or 1.0
        vmin = -vmax
    else:
        vmin, vmax = float(np.nanmin(shown)), float(np.nanmax(shown))
    fig, axes = new_figure(len(picks), ax=ax, width=3.0, height=3.0, ncols=len(picks) if ax is None else None)
    extent = box_extent(f["x"], f["y"])
    x_ticks = periodic_ticks(extent[0], extent[1] - extent[0])
    y_ticks = periodic_ticks(extent[2], extent[3] - extent[2])
    images = []
    t_units = f" {f['time_units']}" if f["time_units"] else ""
    for i, (axis, k) in enumerate(zip(axes, picks)):
        images.append(axis.imshow(shown[i], origin="lower", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax,
                                  interpolation="nearest"))  # fmt: skip
        axis.set_title(f"t = {f['t'][k]:.4g}{t_units}", fontsize=9)
        axis.set_xticks(*x_ticks)
        axis.set_yticks(*y_ticks)
        axis.set_xlabel(f["x_label"])
        if i == 0:
            axis.set_ylabel(f["y_label"])
    units = f" ({f['units']})" if f["units"] else ""
    fig.colorbar(images[0], ax=axes, label=f"{f['name']}{units}", shrink=0.85)
    return fig, axes
