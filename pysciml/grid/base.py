"""The grid interface shared by :class:`RegularGrid` and :class:`LatLonGrid`.

A grid holds, in numpy, every number the operators need (see ``docs/grid.md``):
cell areas, face lengths, face distances, which faces carry flux, and
interpolation weights.  Engines read them from :attr:`Grid.metrics`.
"""

from __future__ import annotations

import abc
import types
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from .axis import Axis

__all__ = ["Grid", "AxisOps", "GridOps", "as_mask"]


class AxisOps(NamedTuple):
    """Per-axis coefficient arrays in the form the kernels use (see :mod:`pysciml.grid.operators`)."""

    kind: str  # "periodic" | "neumann" | "dirichlet"
    value: float  # Dirichlet boundary value
    sign: int  # orientation (+1 / -1) applied to vector components
    length: np.ndarray  # face length x active, faces shape
    conductance: np.ndarray  # face length x active / face distance, faces shape
    inv_distance: np.ndarray  # active / face distance, faces shape
    face_weight: np.ndarray  # lower-cell interpolation weight, faces shape
    centre_weight: np.ndarray  # lower-face interpolation weight, cells shape
    pole: tuple = (False, False)  # (lower, upper) end is a pole face (gradient looks across it)
    pole_shift: int = 0  # columns to the antipodal meridian; 0: no across-pole values


class GridOps(NamedTuple):
    """Everything the kernels need: one :class:`AxisOps` per axis, 1/area and the mask."""

    y: AxisOps
    x: AxisOps
    inv_area: np.ndarray
    mask: np.ndarray | None


def _ro(a, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.setflags(write=False)
    return a


def as_mask(mask, shape, *, dims=None, coords=None) -> np.ndarray | None:
    """Validate a mask (True = active cell) given as numpy, a list or an xarray DataArray.

    Args:
        mask: ``None`` or boolean (or 0/1) values of shape ``shape``.
        shape: the grid shape ``(ny, nx)``.
        dims: the grid's dimension names, used to transpose a DataArray mask.
        coords: ``{dim: values}`` the grid was built from; a DataArray mask with
            these coordinates must match them.
    """
    if mask is None:
        return None
    if hasattr(mask, "dims") and hasattr(mask, "transpose"):
        if dims is not None and set(mask.dims) == set(dims):
            mask = mask.transpose(*dims)
        for d, values in (coords or {}).items():
            if d in getattr(mask, "coords", {}):
                mv = np.asarray(mask.coords[d].values, dtype=np.float64)
                if mv.shape != np.shape(values) or not np.allclose(mv, values, rtol=0, atol=1e-6):
                    raise InputError(
                        f"its {d!r} coordinate does not match the grid's (different values or "
                        "order); align it first, e.g. mask = mask.reindex_like(data, method='nearest').",
                        argument="mask",
                    )
        mask = mask.values
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise InputError(
            f"has shape {m.shape} but the grid has shape {tuple(shape)}; give one boolean per "
            "cell in (rows, columns) order, True for active cells (e.g. ds.land == 0).",
            argument="mask",
        )
    if m.dtype != bool:
        ok = np.issubdtype(m.dtype, np.number) and np.all(np.isin(m, (0, 1)))
        if not ok:
            raise InputError(
                "must be boolean (True = active cell, e.g. ds.land == 0) or 0/1 values; "
                f"got dtype {m.dtype} with other values (NaN?).",
                argument="mask",
            )
        m = m.astype(bool)
    if not m.any():
        raise InputError("has no active (True) cell; True marks the cells to model.", argument="mask")
    return _ro(m, bool)


class Grid(abc.ABC):
    """Abstract grid: subclasses call :meth:`_finish` from ``__post_init__``.

    Attributes:
        shape: ``(ny, nx)``: rows (y / latitude) and columns (x / longitude).
    """

    shape: tuple[int, int]
    # set in _finish (and LatLonGrid's _dims in __post_init__) with object.__setattr__, the
    # subclasses being frozen dataclasses; declared here so they are not dataclass fields
    coefficients: GridOps
    _metrics: types.SimpleNamespace
    _weights: np.ndarray
    _y: Axis
    _x: Axis
    _dims: tuple[str, str]

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def area(self) -> np.ndarray:
        """Cell areas, shape ``(ny, nx)`` (m^2 on the sphere, spacing units^2 otherwise)."""
        return self._metrics.area

    @property
    def active(self) -> np.ndarray:
        """Boolean ``(ny, nx)``: True for modelled cells (all True without a mask)."""
        return self._metrics.active

    @property
    def metrics(self) -> types.MappingProxyType:
        """The discretisation's numbers (read-only numpy arrays), as documented in docs/grid.md.

        Keys: ``area`` (ny, nx); ``active`` (ny, nx) bool; ``face_length_y`` /
        ``face_distance_y`` / ``face_active_y`` / ``face_weight_y`` (ny+1, nx);
        ``face_length_x`` / ``face_distance_x`` / ``face_active_x`` / ``face_weight_x``
        (ny, nx+1); ``centre_weight_y`` / ``centre_weight_x`` (ny, nx);
        ``gradient_inv_distance_y`` / ``_x`` (faces; what the gradient divides by, with
        the across-pole rule); ``kind_y``, ``kind_x``, ``value_y``, ``value_x``,
        ``orientation_y``, ``orientation_x``, ``pole_y`` (lower, upper end is a pole),
        ``pole_shift`` (columns to the antipodal meridian, 0 if none).
        """
        return types.MappingProxyType(vars(self._metrics))

    def _finish(
        self,
        shape: tuple[int, int],
        y: Axis,
        x: Axis,
        *,
        area,
        length_y,
        distance_y,
        length_x,
        distance_x,
        open_y=None,
        open_x=None,
        mask=None,
        pole=(False, False),
        pole_shift=0,
    ):
        """Derive face activity and the kernel coefficients; store them (frozen).

        ``pole`` flags y-axis ends that are pole faces.  There the gradient uses the cell
        across the pole (``pole_shift`` columns away, the antipodal meridian) at twice the
        centre-to-pole distance; with ``pole_shift == 0`` it is one-sided instead.
        """
        ny, nx = shape
        act = np.ones(shape, bool) if mask is None else mask
        fa = {}
        for name, ax, axis_act, op, n in (("y", y, act, open_y, ny), ("x", x, act.T, open_x, nx)):
            # work with the axis first: rows = faces/cells along the axis
            f = np.zeros((n + 1, axis_act.shape[1]), bool)
            f[1:n] = axis_act[1:] & axis_act[:-1]
            if ax.periodic:
                f[0] = f[n] = axis_act[0] & axis_act[-1]
            elif ax.kind == "dirichlet":
                f[0], f[n] = axis_act[0], axis_act[-1]
            if op is not None:
                f &= op if name == "y" else op.T
            fa[name] = f if name == "y" else f.T
        ops, md = [], {}
        for name, ax, length, dist in (("y", y, length_y, distance_y), ("x", x, length_x, distance_x)):
            active = fa[name]
            length_eff = np.where(active, length, 0.0)
            wl = ax.face_weight[:, None] if name == "y" else ax.face_weight[None, :]
            cw = ax.centre_weight[:, None] if name == "y" else ax.centre_weight[None, :]
            wl = np.broadcast_to(wl, active.shape)
            cw = np.broadcast_to(cw, shape)
            inv_dist = active / dist
            if name == "y" and any(pole):
                cw = cw.copy()
                inv_dist = inv_dist.copy()
                anti = np.roll(act, pole_shift, axis=1)
                for k, row, is_pole in ((0, 0, pole[0]), (ny, ny - 1, pole[1])):
                    if not is_pole:
                        continue
                    if pole_shift:
                        inv_dist[k] = (act[row] & anti[row]) / (2.0 * dist[k])
                    else:
                        cw[row] = 0.0 if k == 0 else 1.0
            ops.append(
                AxisOps(
                    ax.kind,
                    ax.value,
                    ax.orientation,
                    _ro(length_eff),
                    _ro(length_eff / dist),
                    _ro(inv_dist),
                    _ro(wl),
                    _ro(cw),
                    tuple(pole) if name == "y" else (False, False),
                    int(pole_shift) if name == "y" else 0,
                )
            )
            md.update(
                {
                    f"face_length_{name}": _ro(length),
                    f"face_distance_{name}": _ro(dist),
                    f"face_active_{name}": _ro(active, bool),
                    f"face_weight_{name}": _ro(wl),
                    f"centre_weight_{name}": _ro(cw),
                    f"gradient_inv_distance_{name}": _ro(inv_dist),
                    f"kind_{name}": ax.kind,
                    f"value_{name}": ax.value,
                    f"orientation_{name}": ax.orientation,
                }
            )
        area = _ro(area)
        md.update(area=area, active=_ro(act, bool), pole_y=tuple(pole), pole_shift=int(pole_shift))
        wsum = np.where(act, area, 0.0)
        object.__setattr__(self, "shape", (int(ny), int(nx)))
        object.__setattr__(self, "_y", y)
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_metrics", types.SimpleNamespace(**md))
        object.__setattr__(self, "_weights", _ro(wsum / wsum.sum()))
        object.__setattr__(self, "coefficients", GridOps(ops[0], ops[1], _ro(1.0 / area), mask))

    # -- field helpers ---------------------------------------------------------------

    def check_field(self, f, argument: str = "f"):
        """Raise :class:`InputError` unless ``f`` has shape ``(..., ny, nx)``."""
        shape = tuple(np.shape(f))
        if len(shape) < 2 or shape[-2:] != self.shape:
            raise InputError(
                f"has shape {shape} but the grid has shape {self.shape}; fields on this grid "
                f"are arrays of shape (..., {self.shape[0]}, {self.shape[1]}) "
                "(rows = y / latitude, columns = x / longitude).",
                argument=argument,
            )

    def integral(self, f):
        """Area integral over active cells: sum of ``area * f``; shape ``f.shape[:-2]``.

        Works on numpy and jax arrays (it uses the array's own namespace).
        """
        return self.mean(f) * float(np.where(self.active, self.area, 0.0).sum())

    def mean(self, f):
        """Area-weighted mean over active cells (masked cells ignored, NaN there is fine).

        Args:
            f: field of shape ``(..., ny, nx)`` (numpy or jax array).
        Returns:
            array of shape ``f.shape[:-2]``.
        """
        xp = _namespace(f)
        f = xp.asarray(f)
        self.check_field(f)
        if self.coefficients.mask is not None:
            f = xp.where(xp.asarray(self.coefficients.mask), f, 0.0)
        return xp.sum(f * xp.asarray(self._weights), axis=(-2, -1))

    @property
    @abc.abstractmethod
    def dims(self) -> tuple[str, str]:
        """Dimension names ``(y_name, x_name)`` used when building xarray objects."""

    @property
    @abc.abstractmethod
    def coords(self) -> dict:
        """``{dim: 1-D centre coordinates}`` in the user's order and units."""

    def to_xarray(self, f, name: str | None = None, attrs: dict | None = None):
        """Wrap a field of shape ``(ny, nx)`` (or ``(..., ny, nx)``) as an ``xarray.DataArray``."""
        import xarray as xr

        f = np.asarray(f)
        self.check_field(f)
        dims = tuple(f"dim_{i}" for i in range(f.ndim - 2)) + self.dims
        return xr.DataArray(f, dims=dims, coords=self.coords, name=name, attrs=attrs or {})


def _namespace(f):
    ns = getattr(f, "__array_namespace__", None)
    return ns() if ns is not None else np
