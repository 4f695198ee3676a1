"""States against time: one panel for the scalar states, one per vector or grid state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from .backend import new_figure

__all__ = ["plot_states", "check_state_names", "time_axis", "MAX_LINES"]

#: a vector state with more components than this is drawn as an image (time x component)
MAX_LINES = 12


def check_state_names(values: Mapping[str, np.ndarray], states: Sequence[str] | None) -> list[str]:
    """The names of ``states`` (a name or list; default all of ``values``), checked against ``values``."""
    if states is None:
        return list(values)
    if isinstance(states, str):
        states = [states]
    unknown = [s for s in states if s not in values]
    if unknown:
        raise InputError(f"unknown states {unknown}; the solution has {list(values)}.", argument="states")
    return list(states)


def time_axis(t, log_time) -> tuple[np.ndarray, np.ndarray]:
    """The times as floats and the mask of those drawn (``t > 0`` on a log axis), ``log_time`` checked."""
    if not isinstance(log_time, bool):
        raise InputError(f"must be True or False, got {log_time!r}.", argument="log_time")
    t = np.asarray(t, dtype=float)
    return t, (t > 0 if log_time else np.ones(t.shape, bool))


def plot_states(
    t: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    states: Sequence[str] | None = None,
    log_time: bool = False,
    time_label: str = "time",
    title: str | None = None,
    ax=None,
):
    """Draw states against time; returns ``(fig, axes)``.

    Scalar states share one panel (a line each); a vector state gets its own panel
    (a line per component, or a time x component image beyond :data:`MAX_LINES`); a
    grid state (2-D or more) is drawn as an image at the last time.

    Args:
        t: times, shape ``(n_t,)``.
        values: state name -> values of shape ``(n_t, *state_shape)``.
        states: the states to draw (default: all).
        log_time: logarithmic time axis (times <= 0 are left out).
        time_label: the time axis label (with units).
        title: figure title.
        ax: an Axes (or one per panel) to draw into.
    """
    t, keep = time_axis(t, log_time)
    names = check_state_names(values, states)
    scalars = [n for n in names if np.ndim(values[n]) == 1]
    groups: list[list[str]] = ([scalars] if scalars else []) + [[n] for n in names if np.ndim(values[n]) > 1]
    fig, axes = new_figure(len(groups), ax=ax)
    for group, axis in zip(groups, axes):
        first = np.asarray(values[group[0]])
        if first.ndim == 1:
            for n in group:
                axis.plot(t[keep], np.asarray(values[n])[keep], label=n)
            axis.set_ylabel("value" if len(group) > 1 else group[0])
            if len(group) > 1:
                axis.legend(fontsize=8)
        elif first.ndim == 2 and first.shape[1] <= MAX_LINES:
            for i in range(first.shape[1]):
                axis.plot(t[keep], first[keep, i], label=f"{group[0]}[{i}]")
            axis.set_ylabel(group[0])
            axis.legend(fontsize=7, ncol=2)
        elif first.ndim == 2:
            mesh = axis.pcolormesh(t[keep], np.arange(first.shape[1]), first[keep].T, shading="nearest")
            axis.set_ylabel(f"{group[0]} component")
            fig.colorbar(mesh, ax=axis, label=group[0])
        else:
            last = first[-1].reshape(first.shape[1], -1)
            image = axis.imshow(last, origin="lower", aspect="auto")
            axis.set_title(f"{group[0]} at t = {t[-1]:.4g}", fontsize=9)
            axis.set_xlabel("index 1")
            axis.set_ylabel("index 0")
            fig.colorbar(image, ax=axis, label=group[0])
            continue
        axis.set_xlabel(time_label)
        if log_time:
            axis.set_xscale("log")
    if title:
        fig.suptitle(title)
    return fig, axes
