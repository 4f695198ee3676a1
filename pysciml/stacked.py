"""Solutions of one model stacked along a first axis: SDE sample paths, ensemble members.

:class:`StackedSolution` holds what both have: states ``(n, n_save, n_states)``, a status per
row and the worst of them, one state by name, a quantile plot over the rows and the xarray
variables over ``(axis, time, ...)``.  :class:`pysciml.SDESolution` and
:class:`pysciml.EnsembleSolution` add their own names, metadata and coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .errors import SolverFailure
from .plotting.paths import plot_paths
from .solution import is_concrete
from .status import Status

__all__ = ["StackedSolution"]


class StackedSolution:
    """Solutions of one model along a first axis (abstract: subclasses name the axis)."""

    #: the name of the first axis (an xarray dimension) and of its rows in messages
    axis: ClassVar[str] = ""
    noun: ClassVar[str] = ""

    def __init__(self, model, t, u, status, stats: Mapping[str, Any], *, params=None, u0=None):
        self.model = model
        self.params = params
        self.u0 = u0
        self._concrete = is_concrete(u) and is_concrete(status)
        if self._concrete:
            self.t = np.asarray(t, dtype=float)
            self.u = np.asarray(u, dtype=float)
            self._codes = np.asarray(status, dtype=int)
            failed = self._codes[self._codes != 0]
            self.status = Status(int(failed[0])) if failed.size else Status.SUCCESS
            self.stats = {k: (np.asarray(v) if not isinstance(v, (str, int, float)) else v) for k, v in stats.items()}
        else:
            self.t, self.u, self._codes, self.stats = t, u, status, dict(stats)
            self.status = status

    def __len__(self) -> int:
        return int(self.u.shape[0])

    @property
    def ok(self) -> bool:
        """True when every row reached the end time."""
        return self._concrete and self.status is Status.SUCCESS

    @property
    def message(self) -> str:
        if not self._concrete:
            return "traced solution (inside a jax transformation): status not known yet."
        if self.ok:
            return f"solved {len(self)} {self.noun} with {self.stats.get('solver')}."
        bad = int(np.sum(self._codes != 0))
        return f"{bad} of {len(self)} {self.noun} failed ({self.status.name}): {self.status.advice}"

    def __getitem__(self, name: str):
        """One state over the rows and time, ``(n, n_save, *state_shape)``."""
        return self.model.layout.state_values(self.u, name)

    def plot(self, states=None, *, band=(0.05, 0.95), samples: int = 3, log_time: bool = False, ax=None):
        """Draw the rows as quantiles (matplotlib, the ``plot`` extra); returns ``(fig, axes)``.

        One panel per state: the median over the rows, a shaded ``band`` between two
        quantiles and the first ``samples`` rows as thin lines.  Failed rows are left out and
        counted in the title; when every row failed :class:`pysciml.SolverFailure` says why.

        Args:
            states: a state name or list of names (default: all).
            band: quantiles ``(lo, hi)`` of the band, default the 5 % and 95 % ones; None for none.
            samples: individual rows drawn over the band (0 for none).
            log_time: logarithmic time axis.
            ax: an Axes (or one per panel) to draw into.
        """
        if not self._concrete:
            raise TypeError("plot() needs concrete values; call it outside jax transformations.")
        ok = self._codes == 0
        if not ok.any():
            raise SolverFailure(f"nothing to draw: {self.message}", solution=self)
        title = f"{self.model.name}: {len(self)} {self.noun}"
        if not ok.all():
            title = (
                f"{self.model.name}: {int(ok.sum())} of {len(self)} {self.noun} ({int((~ok).sum())} failed, left out)"
            )
        units = getattr(self.model, "time_units", None)
        return plot_paths(
            self.t,
            {name: self[name][ok] for name in self.model.state_names},
            states=states,
            band=band,
            samples=samples,
            log_time=log_time,
            time_label=f"time ({units})" if units else "time",
            title=title,
            ax=ax,
        )

    def _dataset(self, coords: dict, attrs: dict, time_units: str | None, user_attrs: Mapping[str, Any] | None):
        """The xarray Dataset: one variable per state over ``(axis, time, ...)``, ``coords`` for
        the axis, CF time attributes; ``attrs``, then the status, the solver's scalar stats and
        scalar parameters, then ``user_attrs`` in the Dataset's attributes."""
        if not self._concrete:
            raise TypeError("to_xarray() needs concrete values; call it outside jax transformations.")
        import xarray as xr

        model = self.model
        time_units = time_units or model.time_units
        data_vars = {}
        for spec in model.layout.specs:
            dims = (self.axis, "time") + tuple(f"{spec.name}_dim{i}" for i in range(len(spec.shape)))
            var_attrs = {"long_name": spec.description or spec.name}
            if spec.units:
                var_attrs["units"] = spec.units
            data_vars[spec.name] = xr.Variable(dims, self[spec.name], var_attrs)
        t_attrs = {"long_name": "time", "standard_name": "time", "axis": "T"}
        if time_units:
            t_attrs["units"] = time_units
        ds_attrs: dict[str, Any] = {"Conventions": "CF-1.10", **attrs}
        ds_attrs.update(solver_status=self.status.name, solver_message=self.message)
        for k, v in self.stats.items():
            if isinstance(v, (int, float, str)):
                ds_attrs[f"solver_{k}"] = v
        for k, v in (self.params or {}).items():
            v = np.asarray(v)
            if v.ndim == 0:
                ds_attrs[f"param_{k}"] = float(v)
        ds_attrs.update(user_attrs or {})
        return xr.Dataset(data_vars, coords={**coords, "time": ("time", self.t, t_attrs)}, attrs=ds_attrs)

    def _describe(self, cls: str, extra: str = "") -> str:
        if not self._concrete:
            return f"{cls}(traced, model={self.model.name!r})"
        return (
            f"{cls}(model={self.model.name!r}, status={self.status.name}, {self.noun}={len(self)}, "
            f"t=[{self.t[0]:.4g} .. {self.t[-1]:.4g}] ({len(self.t)} points), solver={self.stats.get('solver')}{extra})"
        )
