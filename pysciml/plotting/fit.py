"""Data against a fitted model (uncertainty band, forecast region), and the loss history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .backend import new_figure

__all__ = ["plot_data_and_fit", "plot_loss_history"]


def plot_data_and_fit(
    state_names: Sequence[str],
    t_data: np.ndarray,
    y_data: np.ndarray,
    t_fit: np.ndarray,
    y_fit: np.ndarray,
    *,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    forecast_from: float | None = None,
    time_label: str = "time",
    title: str | None = None,
    ax=None,
):
    """One panel per state: observations (points), the fitted trajectory (line), an optional
    band (shaded) and the forecast region (shaded after ``forecast_from``); ``(fig, axes)``.

    Args:
        state_names: the states, in the column order of ``y_data`` and ``y_fit``.
        t_data, y_data: observation times ``(n_obs,)`` and values ``(n_obs, n_states)`` (NaN: not observed).
        t_fit, y_fit: model times ``(n,)`` and trajectory ``(n, n_states)``.
        band: lower and upper curves ``(n, n_states)`` (e.g. 5 % and 95 % quantiles).
        forecast_from: the time after which the curve is a forecast (the last observation).
        time_label: the time axis label.
        title: figure title.
        ax: an Axes (or one per state) to draw into.
    """
    fig, axes = new_figure(len(state_names), ax=ax, height=2.8)
    for j, (name, axis) in enumerate(zip(state_names, axes)):
        seen = np.isfinite(y_data[:, j])
        axis.plot(t_data[seen], y_data[seen, j], "o", ms=3.5, color="tab:blue", label="data")
        axis.plot(t_fit, y_fit[:, j], "-", color="tab:orange", lw=1.6, label="fit")
        if band is not None:
            axis.fill_between(
                t_fit, band[0][:, j], band[1][:, j], color="tab:orange", alpha=0.25, lw=0, label="90 % band"
            )
        if forecast_from is not None and t_fit[-1] > forecast_from:
            axis.axvspan(forecast_from, t_fit[-1], color="0.9", zorder=0, label="forecast")
        axis.set_xlabel(time_label)
        axis.set_ylabel(name)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig, axes


def plot_loss_history(
    history: np.ndarray, phases: Sequence[Mapping] = (), events: Sequence[Mapping] = (), *, title=None, ax=None
):
    """The loss after every optimiser step (log scale), stage boundaries as dashed lines
    named after the optimiser, rejected steps as red crosses; returns ``(fig, [ax])``.

    Args:
        history: loss per step ``(n_steps,)``.
        phases: ``[{"start", "stop", "optimizer", ...}]`` index ranges into ``history``.
        events: ``[{"step", "kind", ...}]``; ``kind == "rejected-step"`` are marked.
        title: axes title.
        ax: an Axes to draw into.
    """
    fig, (axis,) = new_figure(1, ax=ax, width=6.5)
    history = np.asarray(history, dtype=float)
    steps = np.arange(len(history))
    axis.plot(steps, history, "-", color="tab:blue", lw=1.2, label="loss")
    positive = history[np.isfinite(history) & (history > 0)]
    if positive.size:
        axis.set_yscale("log")
    for k, phase in enumerate(phases):
        start = int(phase.get("start", 0))
        if k:
            axis.axvline(start, color="0.4", ls="--", lw=0.8)
        name = str(phase.get("optimizer") or phase.get("name") or f"stage {k + 1}")
        axis.annotate(
            name,
            (start, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -10),
            textcoords="offset points",
            fontsize=7,
            color="0.3",
        )
    rejected = [
        int(e["step"]) for e in events if e.get("kind") == "rejected-step" and 0 <= int(e["step"]) < len(history)
    ]
    if rejected:
        finite = np.where(np.isfinite(history), history, np.nan)
        y = np.nanmax(finite) if np.isfinite(finite).any() else 1.0
        axis.plot(rejected, np.full(len(rejected), y), "x", color="tab:red", label=f"rejected steps ({len(rejected)})")
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("loss")
    axis.legend(fontsize=8)
    if title:
        axis.set_title(title)
    return fig, [axis]
