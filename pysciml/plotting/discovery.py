"""A network's learned output against the equations discovered in it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .backend import new_figure

__all__ = ["plot_network_vs_equations"]


def plot_network_vs_equations(
    learned: np.ndarray,
    discovered: np.ndarray,
    labels: Sequence[str],
    *,
    x: np.ndarray | None = None,
    x_label: str = "sample along the fitted trajectories",
    ax=None,
):
    """One panel per output: the network's values (solid) and the equation's (dashed); ``(fig, axes)``.

    Args:
        learned: network outputs ``(n_samples, n_outputs)``.
        discovered: the equations evaluated on the same inputs, same shape.
        labels: one title per output (the equation).
        x: the horizontal coordinate ``(n_samples,)`` (default: the sample index).
        x_label: its label.
        ax: an Axes (or one per output) to draw into.
    """
    learned = np.asarray(learned, dtype=float).reshape(len(learned), -1)
    discovered = np.asarray(discovered, dtype=float).reshape(len(discovered), -1)
    x = np.arange(len(learned)) if x is None else np.asarray(x)
    fig, axes = new_figure(learned.shape[1], ax=ax, height=2.8)
    for j, axis in enumerate(axes):
        axis.plot(x, learned[:, j], "-", color="tab:blue", lw=1.6, label="network")
        axis.plot(x, discovered[:, j], "--", color="tab:red", lw=1.2, label="equation")
        axis.set_title(labels[j], fontsize=9)
        axis.set_xlabel(x_label)
        axis.set_ylabel("output")
    axes[0].legend(fontsize=8)
    return fig, axes
