"""The result of solving an :class:`pysciml.SDEModel`: many sample paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import SolverFailure
from ..plotting.paths import plot_paths
from ..solution import is_concrete
from ..status import Status

__all__ = ["SDESolution"]


class SDESolution:
    """Sample paths of an SDE.

    Attributes:
        t: save times ``(n_save,)``.
        u: states ``(n_paths, n_save, n_states)`` (flat layout; ``sol["name"]`` gives one
            state ``(n_paths, n_save, *shape)``); jax arrays inside jax transformations.
        status: the worst path's :class:`pysciml.Status`; ``path_status``: ``(n_paths,)`` codes.
        stats: ``steps`` and ``rejected`` per path, ``solver``, ``calculus`` (what the solver
            converged to before conversion), ``seed``, ``n_paths``, ``brownian``, ``engine``.
        model: the model that was solved.
    """

    def __init__(self, model, t, u, status, stats: Mapping[str, Any], *, params=None, u0=None):
        self.model = model
        self.params = params
        self.u0 = u0
        self._concrete = is_concrete(u) and is_concrete(status)
        if self._concrete:
            self.t = np.asarray(t, dtype=float)
            self.u = np.asarray(u, dtype=float)
            self.path_status = np.asarray(status, dtype=int)
            failed = self.path_status[self.path_status != 0]
            self.status = Status(int(failed[0])) if failed.size else Status.SUCCESS
            self.stats = {k: (np.asarray(v) if not isinstance(v, (str, int, float)) else v) for k, v in stats.items()}
        else:
            self.t, self.u, self.path_status, self.stats = t, u, status, dict(stats)
            self.status = status

    @property
    def n_paths(self) -> int:
        return int(self.u.shape[0])

    @property
    def ok(self) -> bool:
        """True when every path reached the end time."""
        return self._concrete and self.status is Status.SUCCESS

    @property
    def message(self) -> str:
        if not self._concrete:
            return "traced solution (inside a jax transformation): status not known yet."
        if self.ok:
            return f"solved {self.n_paths} paths with {self.stats.get('solver')}."
        bad = int(np.sum(self.path_status != 0))
        return f"{bad} of {self.n_paths} paths failed ({self.status.name}): {self.status.advice}"

    def __getitem__(self, name: str):
        """One state over paths and time, ``(n_paths, n_save, *state_shape)``."""
        return self.model.layout.state_values(self.u, name)

    def plot(self, states=None, *, band=(0.05, 0.95), samples: int = 3, log_time: bool = False, ax=None):
        """Draw the paths as quantiles over paths (matplotlib, the ``plot`` extra); returns ``(fig, axes)``.

        One panel per state: the median over the paths, a shaded ``band`` between two
        quantiles and the first ``samples`` paths as thin lines.  Failed paths (see
        ``path_status``) are left out and counted in the title; when every path failed
        :class:`pysciml.SolverFailure` says why.

        Args:
            states: a state name or list of names (default: all).
            band: quantiles ``(lo, hi)`` of the band, default the 5 % and 95 % ones; None for none.
            samples: individual paths drawn over the band (0 for none).
            log_time: logarithmic time axis.
            ax: an Axes (or one per panel) to draw into.
        """
        if not self._concrete:
            raise TypeError("plot() needs concrete values; call it outside jax transformations.")
        ok = self.path_status == 0
        if not ok.any():
            raise SolverFailure(f"nothing to draw: {self.message}", solution=self)
        title = f"{self.model.name}: {self.n_paths} paths"
        if not ok.all():
            title = f"{self.model.name}: {int(ok.sum())} of {self.n_paths} paths ({int((~ok).sum())} failed, left out)"
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

    def to_xarray(self, *, time_units: str | None = None, attrs: Mapping[str, Any] | None = None):
        """An ``xarray.Dataset``: one variable per state over ``(path, time)``, CF attributes."""
        if not self._concrete:
            raise TypeError("to_xarray() needs concrete values; call it outside jax transformations.")
        import xarray as xr

        model = self.model
        time_units = time_units or model.time_units
        data_vars = {}
        for spec in model.layout.specs:
            dims = ("path", "time") + tuple(f"{spec.name}_dim{i}" for i in range(len(spec.shape)))
            var_attrs = {"long_name": spec.description or spec.name}
            if spec.units:
                var_attrs["units"] = spec.units
            data_vars[spec.name] = xr.Variable(dims, self[spec.name], var_attrs)
        t_attrs = {"long_name": "time", "standard_name": "time", "axis": "T"}
        if time_units:
            t_attrs["units"] = time_units
        ds_attrs: dict[str, Any] = {
            "Conventions": "CF-1.10",
            "title": f"pysciml sample paths of {model.name}",
            "source": f"pysciml SDE solve ({self.stats.get('engine', 'jax')} engine, {self.stats.get('solver')})",
            "sde_noise": model.noise,
            "sde_calculus": model.calculus,
            "solver_status": self.status.name,
            "solver_message": self.message,
        }
        for k, v in self.stats.items():
            if isinstance(v, (int, float, str)):
                ds_attrs[f"solver_{k}"] = v
        for k, v in (self.params or {}).items():
            v = np.asarray(v)
            if v.ndim == 0:
                ds_attrs[f"param_{k}"] = float(v)
        ds_attrs.update(attrs or {})
        coords = {
            "path": ("path", np.arange(self.n_paths), {"long_name": "sample path index"}),
            "time": ("time", self.t, t_attrs),
        }
        return xr.Dataset(data_vars, coords=coords, attrs=ds_attrs)

    def __repr__(self):
        if not self._concrete:
            return f"SDESolution(traced, model={self.model.name!r})"
        return (
            f"SDESolution(model={self.model.name!r}, status={self.status.name}, paths={self.n_paths}, "
            f"t=[{self.t[0]:.4g} .. {self.t[-1]:.4g}] ({len(self.t)} points), solver={self.stats.get('solver')})"
        )
