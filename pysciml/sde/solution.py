"""The result of solving an :class:`pysciml.SDEModel`: many sample paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..stacked import StackedSolution

__all__ = ["SDESolution"]


class SDESolution(StackedSolution):
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

    axis = "path"
    noun = "paths"

    @property
    def path_status(self):
        """``(n_paths,)`` status codes, one per path."""
        return self._codes

    @property
    def n_paths(self) -> int:
        return len(self)

    def to_xarray(self, *, time_units: str | None = None, attrs: Mapping[str, Any] | None = None):
        """An ``xarray.Dataset``: one variable per state over ``(path, time)``, CF attributes."""
        model = self.model
        return self._dataset(
            {"path": ("path", np.arange(len(self)), {"long_name": "sample path index"})},
            {
                "title": f"pysciml sample paths of {model.name}",
                "source": f"pysciml SDE solve ({self.stats.get('engine', 'jax')} engine, {self.stats.get('solver')})",
                "sde_noise": model.noise,
                "sde_calculus": model.calculus,
            },
            time_units,
            attrs,
        )

    def __repr__(self):
        return self._describe("SDESolution")
