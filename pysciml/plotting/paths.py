"""Sample paths of a stochastic model: median, a quantile band and a few paths per state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from .backend import new_figure
from .solution import MAX_LINES, check_state_names, time_axis

__all__ = ["plot_paths", "check_band"]


def check_band(band) -> tuple[float, float] | None:
    """``band`` as a pair of quantiles ``0 <= lo < hi <= 1`` (or None: no band)."""
    if band is None:
        return None
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError):
        raise InputError(f"must be two quantiles (lo, hi) such as (0.05, 0.95), or None; got {band!r}.",
                         argument="band") from None  # fmt: skip
    if not (0.0 <= lo < hi <= 1.0):
        raise InputError(f"needs 0 <= lo < hi <= 1, got {band!r}.", argument="band")
    return lo, hi


def _check_samples(samples, n_paths: int) -> int:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 0:
        raise InputError(f"must be a whole number >= 0 of paths to draw, got {samples!r}.", argument="samples")
    return min(int(samples), n_paths)


def _percent(q: float) -> str:
    return f"{100 * q:.4g}"


def plot_paths(
    t: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    states: Sequence[str] | None = None,
    band: tuple[float, float] | None = (0.05, 0.95),
    samples: int = 3,
    log_time: bool = False,
    time_label: str = "time",
    title: str | None = None,
    ax=None,
):
    """Draw sample paths as quantiles over the paths; returns ``(fig, axes)``.

    Each scalar state gets a panel: the median over the paths (a line labelled
    ``"<state> median"``), the ``band`` quantiles as a shaded region and the first
    ``samples`` paths as thin lines (labelled ``"_<state> path <i>"``, left out of the
    legend).  A vector state gets one panel with a median and band per component (up to
    :data:`~pysciml.plotting.solution.MAX_LINES`; beyond, the median as a time x
    component image); a grid state the median field at the last time.

    Args:
        t: times, shape ``(n_t,)``.
        values: state name -> values ``(n_paths, n_t, *state_shape)``.
        band: quantiles ``(lo, hi)`` of the shaded band (default 5 % and 95 %); None for none.
        samples: how many individual paths to draw as well.
        states, log_time, time_label, title, ax: as for
            :func:`~pysciml.plotting.solution.plot_states`.
    """
    t, keep = time_axis(t, log_time)
    band = check_band(band)
    names = check_state_names(values, states)
    n_paths = int(np.shape(values[names[0]])[0]) if names else 0
    if n_paths < 1:
        raise InputError("there are no sample paths to draw (every path failed?).", argument="values")
    samples = _check_samples(samples, n_paths)
    fig, axes = new_figure(len(names), ax=ax)
    for name, axis in zip(names, axes):
        paths = np.asarray(values[name], dtype=float)
        if paths.ndim == 2:
            _draw_component(axis, t[keep], paths[:, keep], name, band, samples, color=None)
            axis.set_ylabel(name)
        elif paths.ndim == 3 and paths.shape[2] <= MAX_LINES:
            colours = [f"C{i % 10}" for i in range(paths.shape[2])]
            for i, colour in enumerate(colours):
                _draw_component(axis, t[keep], paths[:, keep, i], f"{name}[{i}]", band, samples, color=colour)
            axis.set_ylabel(name)
        elif paths.ndim == 3:
            median = np.nanmedian(paths[:, keep], axis=0)
            mesh = axis.pcolormesh(t[keep], np.arange(paths.shape[2]), median.T, shading="nearest")
            axis.set_ylabel(f"{name} component")
            fig.colorbar(mesh, ax=axis, label=f"{name} (median)")
        else:
            last = np.nanmedian(paths[:, -1], axis=0)
            image = axis.imshow(last.reshape(last.shape[0], -1), origin="lower", aspect="auto")
            axis.set_title(f"median {name} at t = {t[-1]:.4g}", fontsize=9)
            axis.set_xlabel("index 1")
            axis.set_ylabel("index 0")
            fig.colorbar(image, ax=axis, label=name)
            continue
        axis.set_xlabel(time_label)
        if log_time:
            axis.set_xscale("log")
        axis.legend(fontsize=7, ncol=2 if paths.ndim == 3 else 1)
    if title:
        fig.suptitle(title)
    return fig, axes


def _draw_component(axis, t, paths, label, band, samples, *, color):
    """One component ``paths (n_paths, n_t)``: band, sample paths, median (drawn on top)."""
    line_color = color or "C0"
    if band is not None:
        lo, hi = np.nanquantile(paths, band, axis=0)
        axis.fill_between(t, lo, hi, color=line_color, alpha=0.22, linewidth=0,
                          label=f"{label} {_percent(band[0])}-{_percent(band[1])} %")  # fmt: skip
    for i in range(samples):
        axis.plot(t, paths[i], color=line_color, lw=0.6, alpha=0.55, label=f"_{label} path {i}")
    axis.plot(t, np.nanmedian(paths, axis=0), color=line_color, lw=1.8, label=f"{label} median")
