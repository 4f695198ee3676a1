"""Regular Cartesian grids: uniform spacing, cell-centred, optional periodic axes and mask."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import InputError
from ..options import positive_float
from .axis import BOUNDARY_KINDS, build_axis, pair
from .base import Grid, as_mask

__all__ = ["RegularGrid"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RegularGrid(Grid):
    """A uniform Cartesian grid of ``ny x nx`` cells (cell-centred finite volumes).

    Cell ``(j, i)`` has centre ``(y0 + (j + 1/2) dy, x0 + (i + 1/2) dx)``; rows are y
    (array axis 0, or -2 with leading batch axes), columns are x (axis 1 / -1).

    Args:
        shape: ``(ny, nx)`` number of cells (``ny = 1`` gives a 1-D problem along x).
        spacing: ``dy, dx`` (or one number for both), length units of your choice.
        extent: domain lengths ``Ly, Lx`` instead of ``spacing`` (``dy = Ly / ny``).
        periodic: per axis ``(y, x)`` or one bool for both; a periodic axis wraps
            (its end faces are one face between the last and the first cell).
        boundary: condition at the ends of each non-periodic axis, ``"neumann"``
            (zero flux: a closed wall) or ``"dirichlet"`` (the field equals
            ``boundary_value`` on the boundary face); one string or a ``(y, x)`` pair.
        boundary_value: Dirichlet value (units of the field), one number or a pair.
        mask: boolean ``(ny, nx)``, True for active cells; faces between an active
            and a masked cell carry no flux, and operators return 0 in masked cells.
        origin: ``(y0, x0)``, the position of the lower-left corner (for :attr:`coords`).
    """

    shape: tuple[int, int]
    spacing: Any = None
    extent: Any = None
    periodic: Any = False
    boundary: Any = "neumann"
    boundary_value: Any = 0.0
    mask: Any = None
    origin: Any = (0.0, 0.0)

    def __post_init__(self):
        try:
            ny, nx = (int(s) for s in self.shape)
            if (ny, nx) != tuple(self.shape):
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(f"must be a pair of ints (ny, nx); got {self.shape!r}.", argument="shape") from None
        if ny < 1 or nx < 1:
            raise InputError(f"must be positive; got {(ny, nx)}.", argument="shape")
        if (self.spacing is None) == (self.extent is None):
            raise InputError(
                "give exactly one of spacing=(dy, dx) or extent=(Ly, Lx), e.g. "
                "RegularGrid((64, 64), extent=(1.0, 1.0)).",
                argument="spacing" if self.spacing is not None else "extent",
            )
        if self.spacing is not None:
            spacing = tuple(positive_float(v, "spacing") for v in pair(self.spacing, "spacing", "spacing"))
        else:
            ext = tuple(positive_float(v, "extent") for v in pair(self.extent, "extent", "length"))
            spacing = (ext[0] / ny, ext[1] / nx)
        periodic = tuple(bool(p) for p in pair(self.periodic, "periodic", "bool"))
        boundary = pair(self.boundary, "boundary", "boundary kind")
        for b in boundary:
            if b not in BOUNDARY_KINDS:
                raise InputError(
                    f"unknown boundary kind {b!r}; choose 'neumann' (zero flux) or 'dirichlet' "
                    "(with boundary_value=...). For a wrapping axis use periodic=True.",
                    argument="boundary",
                )
        values = tuple(float(v) for v in pair(self.boundary_value, "boundary_value", "number"))
        origin = tuple(float(v) for v in pair(self.origin, "origin", "number"))
        mask = as_mask(self.mask, (ny, nx))
        for name, value in (
            ("shape", (ny, nx)),
            ("spacing", spacing),
            ("periodic", periodic),
            ("boundary", boundary),
            ("boundary_value", values),
            ("origin", origin),
            ("mask", mask),
        ):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "extent", (spacing[0] * ny, spacing[1] * nx))
        axes = []
        for n, h, p, b, v, o in zip((ny, nx), spacing, periodic, boundary, values, origin):
            e = o + h * np.arange(n + 1)
            axes.append(build_axis(0.5 * (e[1:] + e[:-1]), e, periodic=p, period=n * h, kind=b, value=v, orientation=1))
        y, x = axes
        dy = np.broadcast_to(y.width[:, None], (ny, nx))
        dx = np.broadcast_to(x.width[None, :], (ny, nx))
        self._finish(
            (ny, nx),
            y,
            x,
            area=dy * dx,
            length_y=np.broadcast_to(x.width[None, :], (ny + 1, nx)),
            distance_y=np.broadcast_to(y.face_distance[:, None], (ny + 1, nx)),
            length_x=np.broadcast_to(y.width[:, None], (ny, nx + 1)),
            distance_x=np.broadcast_to(x.face_distance[None, :], (ny, nx + 1)),
            mask=mask,
        )

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates, shape ``(ny,)``."""
        return self._y.centres

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates, shape ``(nx,)``."""
        return self._x.centres

    @property
    def dims(self):
        return ("y", "x")

    @property
    def coords(self):
        return {"y": np.array(self.y), "x": np.array(self.x)}

    def __repr__(self):
        m = "None" if self.mask is None else f"{int(self.mask.sum())} of {self.size} active"
        return (
            f"RegularGrid(shape={self.shape}, spacing={self.spacing}, periodic={self.periodic}, "
            f"boundary={self.boundary}, boundary_value={self.boundary_value}, mask={m})"
        )
