"""Samples of a generative model (latent ODE) against data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .backend import new_figure

__all__ = ["plot_samples_vs_data"]


def plot_samples_vs_data(
    state_names: Sequence[str],
    t_data: np.ndarray,
    y_data: np.ndarray,
    t_new: np.ndarray,
    mean: np.ndarray,
    *,
    std: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    time_label: str = "time",
    ax=None,
):
    """A panel per state: data (points), posterior mean (line) with +/- 2 std (shaded) and
    prior samples (thin grey lines); returns ``(fig, axes)``.

    Args:
        state_names: the observed quantities (columns).
        t_data, y_data: one series, ``(n,)`` and ``(n, D)`` (NaN = missing).
        t_new, mean: query times ``(m,)`` and the posterior mean ``(m, D)``.
        std: the spread over posterior samples ``(m, D)``.
        prior: samples from the prior ``(k, m, D)`` at ``t_new``.
        time_label: the time axis label.
        ax: an Axes (or one per state) to draw into.
    """
    fig, axes = new_figure(len(state_names), ax=ax, height=2.8)
    for j, (name, axis) in enumerate(zip(state_names, axes)):
        if prior is not None:
            for k, draw in enumerate(prior):
                axis.plot(t_new, draw[:, j], "-", color="0.6", lw=0.7, label="prior samples" if k == 0 else None)
        if std is not None:
            axis.fill_between(
                t_new,
                mean[:, j] - 2 * std[:, j],
                mean[:, j] + 2 * std[:, j],
                color="tab:orange",
                alpha=0.25,
                lw=0,
                label="posterior +/- 2 sd",
            )
        axis.plot(t_new, mean[:, j], "-", color="tab:orange", lw=1.6, label="posterior mean")
        seen = np.isfinite(y_data[:, j])
        axis.plot(t_data[seen], y_data[seen, j], "o", ms=3.5, color="tab:blue", label="data")
        axis.set_xlabel(time_label)
        axis.set_ylabel(name)
    axes[0].legend(fontsize=8)
    return fig, axes
