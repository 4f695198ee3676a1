"""Latitude-longitude grids on the sphere, and :func:`from_xarray`.

Cell ``(j, i)`` is bounded by latitudes ``phi_{j-1/2}, phi_{j+1/2}`` and longitudes
``lambda_{i-1/2}, lambda_{i+1/2}`` (default: midway between centres; the outermost
latitude faces half a spacing beyond the last centres, clipped to +-90 degrees, which
makes them pole faces).  Metric numbers (radius ``R``, angles in radians)::

    area_{j,i}         = R^2 dlambda_i (sin phi_{j+1/2} - sin phi_{j-1/2})
    y-face length      = R cos(phi_{j+1/2}) dlambda_i        (0 at a pole face)
    y-face distance    = R (phi_{j+1} - phi_j)
    x-face length      = R (phi_{j+1/2} - phi_{j-1/2})
    x-face distance    = R cos(phi_j) (lambda_{i+1} - lambda_i)

with angle differences taken in index orientation (positive).  See docs/grid.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import InputError
from .axis import BOUNDARY_KINDS, build_axis, check_coordinate, pair
from .base import Grid, as_mask

__all__ = ["LatLonGrid", "EARTH_RADIUS", "from_xarray"]

#: mean Earth radius in metres (IUGG mean radius R1, 6371.0 km, rounded as in most climate models)
EARTH_RADIUS = 6.371e6

_LAT_NAMES = ("lat", "latitude", "nav_lat", "y_lat")
_LON_NAMES = ("lon", "longitude", "nav_lon", "x_lon")


def _edges(values, n, orientation, argument, *, wrap=False):
    """User edges as ``(n+1,)`` in index orientation; accepts ``(n+1,)`` or CF bounds ``(n, 2)``."""
    e = np.asarray(getattr(values, "values", values), dtype=np.float64)
    if e.ndim == 2 and e.shape == (n, 2):
        lo, hi = (e.min(axis=1), e.max(axis=1)) if orientation > 0 else (e.max(axis=1), e.min(axis=1))
        if not np.allclose(lo[1:], hi[:-1], rtol=0, atol=1e-9):
            raise InputError(
                "CF bounds must be contiguous (each cell's upper bound is the next cell's lower bound).",
                argument=argument,
            )
        e = np.concatenate([lo, hi[-1:]])
    if e.shape != (n + 1,):
        raise InputError(
            f"must have n+1 = {n + 1} face values (or CF bounds of shape ({n}, 2)); got shape {e.shape}.",
            argument=argument,
        )
    if wrap:
        e = np.unwrap(e, period=360.0)
    q = orientation * e
    if not np.all(np.diff(q) > 0):
        raise InputError("must be monotonic in the same direction as the cell centres.", argument=argument)
    return q


def _antipodal_shift(qx, periodic) -> int:
    """``n/2`` when column ``i + n/2`` is the meridian opposite column ``i`` for every ``i``, else 0."""
    n = qx.size
    if not periodic or n % 2:
        return 0
    d = np.mod(qx[n // 2 :] - qx[: n // 2], 360.0)
    return n // 2 if np.allclose(d, 180.0, rtol=0, atol=1e-6) else 0


def _dim(coord, default):
    d = getattr(coord, "dims", None)
    return d[0] if d is not None and len(d) == 1 else default


def _check_inside(qc, qe, argument):
    if not (np.all(qe[:-1] < qc) and np.all(qc < qe[1:])):
        raise InputError("each cell centre must lie strictly between its two faces.", argument=argument)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class LatLonGrid(Grid):
    """A latitude-longitude grid on a sphere (finite volumes with exact spherical cell areas).

    Fields on it have shape ``(..., n_lat, n_lon)``.

    Args:
        lat: cell-centre latitudes in degrees north, 1-D, strictly increasing or
            decreasing, strictly inside (-90, 90) (numpy array, list or xarray coordinate).
        lon: cell-centre longitudes in degrees east, 1-D, monotonic (a jump across the
            dateline such as 350, 355, 0, 5 is unwrapped).
        radius: sphere radius in metres (default :data:`EARTH_RADIUS`).
        mask: boolean ``(n_lat, n_lon)`` (numpy or a DataArray on the same lat/lon),
            True for active cells, e.g. ``ds.land == 0``.
        periodic_lon: ``"auto"`` (periodic when the longitudes cover the globe with no
            gap larger than 1.5 spacings), ``True`` or ``False`` (a regional grid with
            walls at the western and eastern edges).
        boundary: condition at non-periodic edges that are not poles: ``"neumann"``
            (zero flux) or ``"dirichlet"``; a string or a ``(lat, lon)`` pair.
            Pole faces always carry zero flux.
        boundary_value: Dirichlet value(s), one number or a ``(lat, lon)`` pair.
        lat_edges, lon_edges: optional cell faces in degrees, shape ``(n+1,)`` or CF
            bounds ``(n, 2)`` (e.g. for Gaussian grids, whose polar cells reach the pole).
    """

    lat: Any
    lon: Any
    radius: float = EARTH_RADIUS
    mask: Any = None
    periodic_lon: Any = "auto"
    boundary: Any = "neumann"
    boundary_value: Any = 0.0
    lat_edges: Any = None
    lon_edges: Any = None

    def __post_init__(self):
        dims = (_dim(self.lat, "lat"), _dim(self.lon, "lon"))
        lat = check_coordinate(self.lat, "lat", unit="degrees north")
        if np.any(np.abs(lat) > 90):
            raise InputError(
                f"has values outside [-90, 90] (min {lat.min()}, max {lat.max()}); latitudes are in degrees north.",
                argument="lat",
            )
        if np.any(np.abs(lat) == 90):
            raise InputError(
                "contains a pole point (+-90); cell centres must lie strictly inside "
                "(-90, 90). Drop the pole rows, e.g. ds.isel(lat=slice(1, -1)).",
                argument="lat",
            )
        lon_raw = np.asarray(getattr(self.lon, "values", self.lon), dtype=np.float64)
        lon = check_coordinate(
            np.unwrap(lon_raw, period=360.0) if lon_raw.ndim == 1 and np.all(np.isfinite(lon_raw)) else lon_raw,
            "lon",
            unit="degrees east",
        )
        try:
            radius = float(self.radius)
        except (TypeError, ValueError):
            radius = float("nan")
        if not np.isfinite(radius) or radius <= 0:
            raise InputError(f"must be a positive number of metres; got {self.radius!r}.", argument="radius")
        ny, nx = lat.size, lon.size
        s_lat = 1 if lat[1] > lat[0] else -1
        s_lon = 1 if lon[1] > lon[0] else -1
        qy, qx = s_lat * lat, s_lon * lon
        # -- longitude: periodic or regional
        span = qx[-1] - qx[0]
        if span >= 360.0 - 1e-9 * 360:
            raise InputError(
                f"spans {span} degrees: the first and last longitudes describe the same meridian "
                "or overlap. Drop the repeated (cyclic) column, e.g. ds.isel(lon=slice(0, -1)).",
                argument="lon",
            )
        gap, d = qx[0] + 360.0 - qx[-1], np.diff(qx)
        if isinstance(self.periodic_lon, str):
            if self.periodic_lon != "auto":
                raise InputError(f"must be 'auto', True or False; got {self.periodic_lon!r}.", argument="periodic_lon")
            if self.lon_edges is not None:
                e = _edges(self.lon_edges, nx, s_lon, "lon_edges", wrap=True)
                periodic = bool(abs(e[-1] - e[0] - 360.0) < 1e-6)
            else:
                periodic = bool(0.5 * d.min() <= gap <= 1.5 * d.max())
        else:
            periodic = bool(self.periodic_lon)
        # -- faces (index orientation, degrees)
        if self.lat_edges is not None:
            ey = _edges(self.lat_edges, ny, s_lat, "lat_edges")
            if np.any(np.abs(ey) > 90):
                raise InputError("has values outside [-90, 90].", argument="lat_edges")
        else:
            mid = 0.5 * (qy[1:] + qy[:-1])
            ey = np.clip(
                np.concatenate([[qy[0] - 0.5 * (qy[1] - qy[0])], mid, [qy[-1] + 0.5 * (qy[-1] - qy[-2])]]), -90.0, 90.0
            )
        _check_inside(qy, ey, "lat_edges")
        if self.lon_edges is not None:
            ex = _edges(self.lon_edges, nx, s_lon, "lon_edges", wrap=True)
            if periodic and abs(ex[-1] - ex[0] - 360.0) > 1e-6:
                raise InputError("must span 360 degrees on a periodic grid.", argument="lon_edges")
        else:
            mid = 0.5 * (qx[1:] + qx[:-1])
            if periodic:
                e0 = 0.5 * (qx[-1] - 360.0 + qx[0])
                ex = np.concatenate([[e0], mid, [e0 + 360.0]])
            else:
                ex = np.concatenate([[qx[0] - 0.5 * (qx[1] - qx[0])], mid, [qx[-1] + 0.5 * (qx[-1] - qx[-2])]])
        _check_inside(qx, ex, "lon_edges")
        kinds = pair(self.boundary, "boundary", "boundary kind")
        for b in kinds:
            if b not in BOUNDARY_KINDS:
                raise InputError(
                    f"unknown boundary kind {b!r}; choose 'neumann' (zero flux) or "
                    "'dirichlet' (with boundary_value=...).",
                    argument="boundary",
                )
        values = tuple(float(v) for v in pair(self.boundary_value, "boundary_value", "number"))
        mask = as_mask(self.mask, (ny, nx), dims=dims, coords={dims[0]: lat, dims[1]: lon_raw})
        rad = np.deg2rad
        y = build_axis(rad(qy), rad(ey), periodic=False, period=0.0, kind=kinds[0], value=values[0], orientation=s_lat)
        x = build_axis(
            rad(qx), rad(ex), periodic=periodic, period=2 * np.pi, kind=kinds[1], value=values[1], orientation=s_lon
        )
        pole = np.abs(ey) == 90.0
        cos_e = np.where(pole, 0.0, np.cos(rad(ey)))
        sin_e = np.sin(rad(ey))
        R = radius
        area = R * R * (sin_e[1:] - sin_e[:-1])[:, None] * x.width[None, :]
        for name, value in (
            ("lat", lat),
            ("lon", lon_raw),
            ("radius", radius),
            ("mask", mask),
            ("periodic_lon", periodic),
            ("boundary", kinds),
            ("boundary_value", values),
        ):
            if isinstance(value, np.ndarray):
                value = value.copy()
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_dims", dims)
        object.__setattr__(self, "lat_edges", s_lat * ey)
        object.__setattr__(self, "lon_edges", s_lon * ex)
        self._finish(
            (ny, nx),
            y,
            x,
            area=area,
            length_y=R * cos_e[:, None] * x.width[None, :],
            distance_y=np.broadcast_to(R * y.face_distance[:, None], (ny + 1, nx)),
            length_x=np.broadcast_to(R * y.width[:, None], (ny, nx + 1)),
            distance_x=R * np.cos(y.centres)[:, None] * x.face_distance[None, :],
            open_y=np.broadcast_to(~pole[:, None], (ny + 1, nx)),
            mask=mask,
            pole=(bool(pole[0]), bool(pole[-1])),
            pole_shift=_antipodal_shift(qx, periodic),
        )

    @property
    def dims(self):
        return self._dims

    @property
    def coords(self):
        return {self._dims[0]: np.array(self.lat), self._dims[1]: np.array(self.lon)}

    def __repr__(self):
        m = "None" if self.mask is None else f"{int(self.mask.sum())} of {self.size} active"
        return (
            f"LatLonGrid(n_lat={self.shape[0]}, n_lon={self.shape[1]}, lat=[{self.lat[0]:g}..."
            f"{self.lat[-1]:g}], lon=[{self.lon[0]:g}...{self.lon[-1]:g}], "
            f"periodic_lon={self.periodic_lon}, radius={self.radius:g}, mask={m})"
        )


def _find(obj, names, standard_name, units, what):
    for name, c in obj.coords.items():
        if c.ndim == 1 and (
            c.attrs.get("standard_name") == standard_name or str(c.attrs.get("units", "")).lower() in units
        ):
            return name
    for name in list(obj.coords) + list(obj.dims):
        if str(name).lower() in names:
            return name
    raise InputError(
        f"has no 1-D {what} coordinate (looked for CF standard_name={standard_name!r}, units "
        f"{sorted(units)[0]!r}, or a name in {list(names)}); coordinates are {list(obj.coords)}. "
        f"Pass its name, e.g. from_xarray(da, {what}='y').",
        argument="da",
    )


def from_xarray(da, mask=None, *, lat: str | None = None, lon: str | None = None, **kwargs) -> LatLonGrid:
    """A :class:`LatLonGrid` from an xarray DataArray or Dataset's latitude/longitude coordinates.

    Args:
        da: ``xarray.DataArray`` or ``Dataset`` with 1-D latitude and longitude
            coordinates (degrees, cell centres); found by CF ``standard_name`` /
            ``units``, else by name (lat, latitude, lon, longitude...). CF ``bounds``
            variables of a Dataset are used as cell faces.
        mask: ``None``; a boolean DataArray / array on the same grid (True = active);
            the name of a variable in ``da`` (a Dataset); or ``"notnull"``: active where
            ``da`` (a DataArray) has no NaN along its other dimensions.
        lat, lon: coordinate names, when they cannot be found automatically.
        **kwargs: passed to :class:`LatLonGrid` (``radius``, ``periodic_lon``, ``boundary``...).
    Returns:
        the grid; fields from ``da`` must be ordered ``(..., lat, lon)``
        (``da.transpose(..., lat_name, lon_name)``).
    """
    if not (hasattr(da, "coords") and hasattr(da, "dims")):
        raise InputError(f"must be an xarray DataArray or Dataset; got {type(da).__name__}.", argument="da")
    lat = lat or _find(da, _LAT_NAMES, "latitude", {"degrees_north", "degree_north", "degrees_n", "degree_n"}, "lat")
    lon = lon or _find(da, _LON_NAMES, "longitude", {"degrees_east", "degree_east", "degrees_e", "degree_e"}, "lon")
    for arg, name in (("lat", lat), ("lon", lon)):
        if name not in da.coords or da.coords[name].ndim != 1:
            raise InputError(
                f"{name!r} is not a 1-D coordinate of da; coordinates are {list(da.coords)}.", argument=arg
            )
    clat, clon = da.coords[lat], da.coords[lon]
    data_vars = getattr(da, "data_vars", {})
    for key, c in (("lat_edges", clat), ("lon_edges", clon)):
        bnds = c.attrs.get("bounds")
        if key not in kwargs and bnds in data_vars:
            kwargs[key] = da[bnds].values
    if isinstance(mask, str):
        if mask == "notnull":
            if data_vars:
                raise InputError(
                    "mask='notnull' needs a DataArray; pass ds['var'] or an explicit mask.", argument="mask"
                )
            other = [d for d in da.dims if d not in (clat.dims[0], clon.dims[0])]
            mask = da.notnull().all(other) if other else da.notnull()
        elif mask in data_vars:
            mask = da[mask]
        else:
            raise InputError(f"{mask!r} is neither 'notnull' nor a variable of da.", argument="mask")
    return LatLonGrid(clat, clon, mask=mask, **kwargs)
