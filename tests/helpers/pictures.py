"""Checks shared by the picture tests: a figure saved as a real, non-blank PNG."""

from __future__ import annotations

import matplotlib.pyplot as plt

from pysciml.plotting.backend import save_figure


def png_pixels(fig, tmp_path, name="fig.png"):
    """Save ``fig`` through ``save_figure``, check a real, non-blank PNG came out, return its pixels."""
    path = save_figure(fig, tmp_path / name)
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 5_000
    pixels = plt.imread(path)
    assert pixels.ndim == 3 and pixels[..., :3].std() > 0.05  # not a blank canvas
    return pixels
