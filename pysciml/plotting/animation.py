"""Animations written as files: GIF through pillow, MP4 through ffmpeg (atomically, the user's umask)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path, check_target
from .backend import pyplot
from .fields import box_extent, field_frames, periodic_ticks

__all__ = ["animate", "save_animation", "check_video_path", "ffmpeg_executable", "WRITERS"]

#: file suffix -> the matplotlib writer that makes it
WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}


def ffmpeg_executable() -> str | None:
    """The ffmpeg program matplotlib will run: its configured one on ``PATH``, else the binary that
    the ``imageio-ffmpeg`` package ships (``pip install imageio-ffmpeg``), else None."""
    from matplotlib import rcParams

    found = shutil.which(rcParams["animation.ffmpeg_path"])
    if found:
        return found
    try:
        import imageio_ffmpeg  # pyright: ignore[reportMissingImports]

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"must be a whole number >= 1, got {value!r}.", argument=argument)
    return int(value)


def _check_fps(fps) -> float:
    try:
        v = float(fps)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and 0 < v <= 100):
        raise InputError(f"must be a number of frames per second in (0, 100], got {fps!r}.", argument="fps")
    return v


def check_video_path(path) -> Path:
    """``path`` as a Path whose suffix names a format we write (``.gif``, ``.mp4``), and whose
    writer is here (ffmpeg for ``.mp4``)."""
    path = check_target(path, argument="path")
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise InputError(
            f"has suffix {suffix or '(none)'!r}; animations are written as {' or '.join(WRITERS)}: "
            f"e.g. {path.with_suffix('.gif').name}.",
            argument="path",
        )
    pyplot()  # PlotExtraMissing without matplotlib, before looking for its ffmpeg
    if WRITERS[suffix] == "ffmpeg" and ffmpeg_executable() is None:
        raise InputError(
            f"is a {suffix} video, which needs ffmpeg; none was found (not on PATH, no imageio-ffmpeg): "
            'install ffmpeg (apt-get install ffmpeg / conda install ffmpeg) or pip install "pysciml[video]", '
            f"or write a .gif instead ({path.with_suffix('.gif').name}, pillow only).",
            argument="path",
        )
    return path


def save_animation(
    fig, update: Callable[[int], object], n_frames: int, path: str | os.PathLike, *, fps: float = 10, dpi: int = 100
) -> Path:
    """Write ``n_frames`` frames of ``fig`` to ``path``; ``update(i)`` redraws the figure for frame ``i``.

    The suffix picks the format: ``.gif`` (pillow, which matplotlib installs) or ``.mp4``
    (ffmpeg: on ``PATH`` or from ``pip install imageio-ffmpeg``; without it an
    :class:`~pysciml.InputError` names ffmpeg and the ``.gif`` alternative).  The file
    appears whole or not at all, with the user's usual permissions.  In a GIF, pillow merges
    identical consecutive frames into one longer frame (the total duration is kept).

    Args:
        fig: the matplotlib Figure to record.
        update: called with the frame index before each frame is grabbed.
        n_frames: number of frames.
        path: target file, ``.gif`` or ``.mp4``.
        fps: frames per second.
        dpi: resolution of the frames.

    Returns the path written.
    """
    path = check_video_path(path)
    suffix = path.suffix.lower()
    n_frames = _positive_int(n_frames, "n_frames")
    fps = _check_fps(fps)
    from matplotlib import animation, rc_context

    rc = {}
    if WRITERS[suffix] == "ffmpeg":
        rc["animation.ffmpeg_path"] = ffmpeg_executable()
        writer = animation.FFMpegWriter(fps=fps)  # pyright: ignore[reportArgumentType] (any number works)
    else:
        writer = animation.PillowWriter(fps=fps)  # pyright: ignore[reportArgumentType] (any number works)

    def frame(i: int) -> None:
        update(i)

    with rc_context(rc):
        movie = animation.FuncAnimation(fig, frame, frames=n_frames, blit=False, repeat=False)
        # the writers pick the container from the file's suffix: stage under a name that keeps it
        with atomic_path(path) as tmp, tempfile.TemporaryDirectory(prefix="pysciml-anim-") as stage_dir:
            stage = Path(stage_dir) / f"frames{suffix}"
            movie.save(stage, writer=writer, dpi=dpi)
            shutil.copyfile(stage, tmp)
    return path


def animate(
    frames,
    path: str | os.PathLike,
    *,
    fps: float = 10,
    variable: str | None = None,
    t=None,
    cmap: str = "RdBu_r",
    symmetric: bool | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Path:
    """Write a field's evolution as a GIF or MP4, one frame per saved time; returns the path.

    One image per frame on a fixed colour scale (symmetric about zero when the field takes
    both signs, as vorticity does), the time in the title, the periodic box as the extent.

    Args:
        frames: an ``xarray.DataArray`` ``(time, y, x)`` (e.g. ``NavierStokes2D.simulate``), a
            Dataset (its ``variable``, default ``"vorticity"``) or an array ``(time, ny, nx)``.
        path: target file: ``.gif`` (pillow) or ``.mp4`` (ffmpeg); see :func:`save_animation`.
        fps: frames per second.
        variable: the Dataset variable to animate.
        t: times of a plain array's frames (default 0, 1, ...).
        cmap: matplotlib colour map.
        symmetric: colour scale symmetric about zero (default: when the values take both signs).
        dpi: resolution of the frames.
        title: text before the time in each frame's title (default the field's name).
    """
    path = check_video_path(path)
    _check_fps(fps)
    f = field_frames(frames, variable=variable, t=t)
    data = f["data"]
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    symmetric = (lo < 0 < hi) if symmetric is None else symmetric
    if not isinstance(symmetric, bool):
        raise InputError(f"must be True, False or None, got {symmetric!r}.", argument="symmetric")
    if symmetric:
        hi = max(abs(lo), abs(hi)) or 1.0
        lo = -hi
    plt = pyplot()
    extent = box_extent(f["x"], f["y"])
    fig, axis = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    image = axis.imshow(data[0], origin="lower", extent=extent, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    axis.set_xticks(*periodic_ticks(extent[0], extent[1] - extent[0]))
    axis.set_yticks(*periodic_ticks(extent[2], extent[3] - extent[2]))
    axis.set_xlabel(f["x_label"])
    axis.set_ylabel(f["y_label"])
    fig.colorbar(image, ax=axis, label=f"{f['name']}" + (f" ({f['units']})" if f["units"] else ""))
    head = title or f["name"]
    t_units = f" {f['time_units']}" if f["time_units"] else ""

    def update(i: int):
        image.set_data(data[i])
        axis.set_title(f"{head}, t = {f['t'][i]:.4g}{t_units}", fontsize=9)
        return (image,)

    try:
        return save_animation(fig, update, data.shape[0], path, fps=fps, dpi=dpi)
    finally:
        plt.close(fig)
