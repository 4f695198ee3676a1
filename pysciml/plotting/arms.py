"""Motion of a serial arm: the arm drawn at a few times (base, joints, tool point) and the tool point's path."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .backend import label_space_axes, space_axes

__all__ = ["plot_arm_motion"]


def plot_arm_motion(
    joint_origins,
    tip,
    times,
    *,
    frames: int = 6,
    projection: str = "xy",
    base=(0.0, 0.0, 0.0),
    length_units: str | None = None,
    title: str | None = None,
    ax=None,
):
    """Draw an arm's poses and its tool point's path; returns ``(fig, [ax])``.

    Each pose is one line through the base (when the first joint is not at it), every joint origin
    and the tool point, with a dot at each; poses are taken at ``frames`` saved times spread evenly from the first to the
    last and drawn lighter to darker in time order (labelled ``t = ...``).  The tool point's path
    over every saved time is a dashed line.  Equal scales on the axes.

    Args:
        joint_origins: ``(n_t, n_joints, 3)`` joint origins in base coordinates.
        tip: ``(n_t, 3)`` tool point in base coordinates.
        times: ``(n_t,)`` saved times.
        frames: how many poses to draw (1 to ``n_t``).
        projection: ``"xy"``, ``"xz"``, ``"yz"`` or ``"3d"``.
        base: the base point ``(3,)`` the first line starts from.
        length_units: units for the axis labels.
        title: figure title.
        ax: an Axes to draw into (a 3-D one for ``"3d"``).
    """
    origins = np.asarray(joint_origins, dtype=float)
    if origins.ndim != 3 or origins.shape[2] != 3:
        raise InputError(f"must be (n_times, n_joints, 3), got shape {origins.shape}.", argument="joint_origins")
    n_t = origins.shape[0]
    tip = np.asarray(tip, dtype=float)
    if tip.shape != (n_t, 3):
        raise InputError(f"must be ({n_t}, 3) to match joint_origins, got shape {tip.shape}.", argument="tip")
    t = np.asarray(times, dtype=float)
    if t.shape != (n_t,):
        raise InputError(f"must be {n_t} times to match joint_origins, got shape {t.shape}.", argument="times")
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 1 <= frames <= n_t:
        raise InputError(
            f"must be a whole number from 1 to {n_t} (the saved times), got {frames!r}.", argument="frames"
        )
    base = np.asarray(base, dtype=float).reshape(3)
    fig, axis, comps = space_axes(projection, 3, ax=ax)
    picks = np.unique(np.round(np.linspace(0, n_t - 1, frames)).astype(int))
    shades = np.linspace(0.35, 1.0, len(picks))
    for shade, k in zip(shades, picks):
        chain = np.vstack([origins[k], tip[k]])
        if not np.allclose(chain[0], base, rtol=0.0, atol=1e-12):  # a fixed link from the base to joint 0
            chain = np.vstack([base, chain])
        colour = (0.12 * shade, 0.30 * shade, 0.70 * shade, 1.0)
        axis.plot(*[chain[:, c] for c in comps], "-o", color=colour, alpha=shade, lw=2.0, ms=4,
                  label=f"t = {t[k]:.4g}")  # fmt: skip
    axis.plot(*[tip[:, c] for c in comps], "--", color="tab:red", lw=1.0, label="tool point path")
    label_space_axes(axis, comps, length_units)
    if len(picks) <= 10:
        axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig, [axis]
