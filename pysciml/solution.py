"""The result of :func:`pysciml.solve`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .data.to_xarray import solution_dataset
from .display import html_card, html_table
from .plotting.solution import plot_states
from .status import Status

__all__ = ["Solution"]


def is_concrete(x) -> bool:
    """True when ``x`` holds values (not an abstract tracer inside jax transformations)."""
    try:
        np.asarray(x)
        return True
    except Exception:
        return False


class Solution:
    """Solution of an initial-value problem.

    Attributes:
        t: save times, shape ``(n_save,)``.
        u: states at the save times, shape ``(n_save, n_states)`` (flat layout;
            ``sol["name"]`` gives one state in its shape). numpy arrays, except
            inside jax transformations (``jax.grad``...), where they stay jax arrays.
        status: a :class:`pysciml.Status` (or a traced int inside jax transformations).
        message: what happened, and what to try if it failed.
        stats: ``steps`` (accepted), ``rejected``, ``nfev``, ``njev``, ``nlu``,
            ``nsolve`` (when the method has them), ``solver`` (the method that ran),
            ``engine``, ``t_end`` (the time reached) and, for ``solver="auto"``,
            ``auto_reason``.
        model: the model that was solved.
    """

    def __init__(self, model, t, u, status, stats: Mapping[str, Any], *, params=None, u0=None):
        self.model = model
        self.params = params
        self.u0 = u0
        #: the events that fired (a :class:`pysciml.events.EventLog`), or None for a solve without events
        self.events: Any = None
        try:  # concrete values (not abstract tracers inside jax transformations): one conversion each
            u_values, status_value = np.asarray(u, dtype=float), int(np.asarray(status))
            concrete = True
        except Exception:
            concrete = False
        self._concrete = concrete
        if concrete:
            self.t = np.asarray(t, dtype=float)
            self.u = u_values
            self.status = Status(status_value)
            self.stats = {k: _plain(v) for k, v in stats.items()}
        else:
            self.t, self.u, self.status, self.stats = t, u, status, dict(stats)

    @property
    def ok(self) -> bool:
        """True when the solve reached the end time."""
        return self._concrete and self.status is Status.SUCCESS

    @property
    def message(self) -> str:
        if not self._concrete:
            return "traced solution (inside a jax transformation): status not known yet."
        if self.status is Status.SUCCESS:
            return f"solved with {self.stats.get('solver')} in {self.stats.get('steps')} steps."
        where = self.stats.get("t_end")
        at = f" at t = {where:.6g}" if isinstance(where, float) else ""
        if self.events is not None and bool(np.asarray(self.events.dropped)):
            return (
                f"{self.status.name}{at}: more events were due than max_events ({len(self.events)}); "
                "pass a larger max_events to ps.solve."
            )
        return f"{self.status.name}{at}: {self.status.advice}"

    def __getitem__(self, name: str):
        """One state over time, shape ``(n_save, *state_shape)``."""
        return self.model.layout.state_values(self.u, name)

    def to_xarray(self, *, time_units: str | None = None, attrs: Mapping[str, Any] | None = None):
        """An ``xarray.Dataset``: one variable per state over ``time`` (and its own dims), CF attrs."""

        if not self._concrete:
            raise TypeError("to_xarray() needs concrete values; call it outside jax transformations.")
        return solution_dataset(self, time_units=time_units, attrs=attrs)

    def plot(self, states=None, *, log_time: bool = False, ax=None):
        """Draw the states against time (matplotlib, the ``plot`` extra); returns ``(fig, axes)``.

        Scalar states share a panel; each vector or grid state gets its own.

        Args:
            states: a state name or list of names (default: all).
            log_time: logarithmic time axis (for stiff problems over many decades).
            ax: an Axes (or one per panel) to draw into.
        """
        if not self._concrete:
            raise TypeError("plot() needs concrete values; call it outside jax transformations.")
        units = getattr(self.model, "time_units", None)
        return plot_states(
            self.t,
            {name: self[name] for name in self.model.state_names},
            states=states,
            log_time=log_time,
            time_label=f"time ({units})" if units else "time",
            title=f"{self.model.name}: {self.status.name.lower()}",
            ax=ax,
        )

    def _repr_html_(self) -> str:
        if not self._concrete:
            return html_card(repr(self))
        rows = [
            (name, "x".join(map(str, np.shape(self[name])[1:])) or "scalar", f"{np.ravel(self[name][-1])[0]:.6g}")
            for name in self.model.state_names
        ]
        stats = ", ".join(f"{k} {self.stats[k]}" for k in ("steps", "rejected", "nfev", "nlu") if k in self.stats)
        return html_card(
            f"Solution of {self.model.name!r}: {self.status.name}",
            [
                self.message,
                f"t from {self.t[0]:.6g} to {self.t[-1]:.6g} ({len(self.t)} saved points); "
                f"solver {self.stats.get('solver')}; {stats}",
            ],
            [html_table(["state", "shape", "value at the last time (first component)"], rows)],
        )

    def __repr__(self):
        if not self._concrete:
            return f"Solution(traced, model={self.model.name!r})"
        return (
            f"Solution(model={self.model.name!r}, status={self.status.name}, "
            f"t=[{self.t[0]:.4g} .. {self.t[-1]:.4g}] ({len(self.t)} points), "
            f"states={list(self.model.state_names)}, solver={self.stats.get('solver')}, "
            f"steps={self.stats.get('steps')})"
        )


def _plain(v):
    """Convert engine scalars to Python numbers for ``stats``."""
    if isinstance(v, (str, bool, int, float)) or v is None:
        return v
    arr = np.asarray(v)
    if arr.ndim == 0:
        return arr.item()
    return arr
