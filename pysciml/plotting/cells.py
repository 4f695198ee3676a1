"""Maps of gridded fits (optional coastlines with cartopy) and one cell's series."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from .backend import new_figure, pyplot

__all__ = ["plot_maps", "plot_cell_series", "has_cartopy", "LON_NAMES", "LAT_NAMES"]

LON_NAMES = ("lon", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")


def has_cartopy() -> bool:
    """True when cartopy (coastlines) can be imported."""
    try:
        import cartopy  # noqa: F401
    except ImportError:
        return False
    return True


def _lat_lon(da) -> tuple[str, str] | None:
    lon = next((d for d in da.dims if str(d).lower() in LON_NAMES[:2]), None)
    lat = next((d for d in da.dims if str(d).lower() in LAT_NAMES[:2]), None)
    return (lat, lon) if lat and lon else None


def plot_maps(fields: Sequence, *, coastlines: bool | None = None, titles: Sequence[str] | None = None, ax=None):
    """One map per 2-D DataArray in ``fields`` (colour bar with the units); ``(fig, axes)``.

    Args:
        fields: DataArrays over two grid dimensions (a flag variable such as ``status`` is
            drawn with one colour per flag).
        coastlines: draw coastlines (needs cartopy and lat/lon dimensions); ``None``: when
            cartopy is installed and the grid is lat/lon.
        titles: one title per map (default: the variable's ``long_name`` or name).
        ax: an Axes (or one per map) to draw into.
    """
    fields = list(fields)
    for da in fields:
        if da.ndim != 2:
            raise InputError(f"{da.name!r} has dimensions {da.dims}; a map needs two grid dimensions.", argument="name")
    geo = _lat_lon(fields[0])
    if coastlines and not has_cartopy():
        raise InputError(
            'coastlines need cartopy: pip install cartopy (or pass coastlines=False).', argument="coastlines"
        )
    if coastlines and geo is None:
        raise InputError(f"coastlines need lat/lon dimensions, got {fields[0].dims}.", argument="coastlines")
    use_cartopy = bool(geo) and has_cartopy() and coastlines is not False and ax is None
    if use_cartopy:
        import cartopy.crs as ccrs

        plt = pyplot()
        ncols = min(len(fields), 2)
        fig = plt.figure(figsize=(6.0 * ncols, 3.4 * -(-len(fields) // ncols)), layout="constrained")
        axes = [
            fig.add_subplot(-(-len(fields) // ncols), ncols, i + 1, projection=ccrs.PlateCarree())
            for i in range(len(fields))
        ]
    else:
        fig, axes = new_figure(len(fields), ax=ax, height=3.4)
    for i, (da, axis) in enumerate(zip(fields, axes)):
        kwargs = {"ax": axis, "x": geo[1], "y": geo[0]} if geo else {"ax": axis}
        if use_cartopy:
            import cartopy.crs as ccrs

            kwargs["transform"] = ccrs.PlateCarree()
        flags = da.attrs.get("flag_values")
        if flags is not None:
            meanings = str(da.attrs.get("flag_meanings", "")).split()
            present = [int(v) for v in np.unique(da.values[np.isfinite(da.values)])]
            levels = np.array(present + [present[-1] + 1], dtype=float) - 0.5 if present else None
            da.plot.pcolormesh(levels=levels, cmap="tab10", add_colorbar=True, **kwargs)
            if present:
                names = {int(v): m for v, m in zip(np.asarray(flags).tolist(), meanings)}
                bar = axis.collections[-1].colorbar
                if bar is not None:
                    bar.set_ticks(present, labels=[names.get(v, str(v)) for v in present])
        else:
            da.plot.pcolormesh(**kwargs)
        if use_cartopy:
            axis.coastlines(lw=0.6)  # pyright: ignore[reportAttributeAccessIssue] (a cartopy GeoAxes)
        axis.set_title((titles[i] if titles else None) or da.attrs.get("long_name") or str(da.name), fontsize=9)
    return fig, axes


def plot_cell_series(
    state_names: Sequence[str],
    t_data: np.ndarray,
    y_data: np.ndarray,
    t_model: np.ndarray,
    y_model: np.ndarray,
    *,
    where: str,
    time_label: str = "time",
    ax=None,
):
    """One cell: observations (points) and the fitted model (line), a panel per state; ``(fig, axes)``.

    Args:
        state_names: the states (columns of ``y_data`` and ``y_model``).
        t_data, y_data: times ``(n,)`` and observations ``(n, n_states)``.
        t_model, y_model: times ``(m,)`` and the model's trajectory ``(m, n_states)``.
        where: the cell, for the title (``lat=10, lon=200``).
        time_label: the time axis label.
        ax: an Axes (or one per state) to draw into.
    """
    fig, axes = new_figure(len(state_names), ax=ax, height=2.8)
    for j, (name, axis) in enumerate(zip(state_names, axes)):
        axis.plot(t_data, y_data[:, j], "o", ms=3.5, color="tab:blue", label="data")
        axis.plot(t_model, y_model[:, j], "-", color="tab:orange", lw=1.6, label="fitted model")
        axis.set_xlabel(time_label)
        axis.set_ylabel(name)
        axis.set_title(f"{name} at {where}", fontsize=9)
    axes[0].legend(fontsize=8)
    return fig, axes
