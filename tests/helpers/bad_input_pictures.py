"""Bad-input cases of the pictures (SDE paths, field snapshots, orbits, animations), for tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.  Every argument is checked before
matplotlib is loaded, so these cases hold without the ``plot`` extra too.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml.errors import InputError
from pysciml.plotting import animate, plot_arm_motion, plot_orbits, plot_snapshots
from pysciml.sde.solution import SDESolution


def _paths():
    model = ps.SDEModel(lambda u, p, t, m: [0.0 * u[0]], lambda u, p, t, m: [1.0 + 0.0 * u[0]], states=["x"])
    u = np.random.default_rng(0).normal(size=(8, 3, 1))
    return SDESolution(model, np.linspace(0, 1, 3), u, np.zeros(8, int), {"solver": "test"})


FRAMES = np.zeros((3, 8, 8))

CASES = [
    ("sde-plot-band-reversed", lambda tmp: _paths().plot(band=(0.95, 0.05)), InputError, "band"),
    ("sde-plot-negative-samples", lambda tmp: _paths().plot(samples=-1), InputError, "samples"),
    ("snapshots-time-outside-run", lambda tmp: plot_snapshots(FRAMES, times=[5.0]), InputError, "times"),
    ("orbits-3d-of-planar-bodies", lambda tmp: plot_orbits(np.zeros((4, 2, 2)), projection="3d"), InputError,
     "projection"),
    ("arm-motion-zero-frames", lambda tmp: plot_arm_motion(np.zeros((4, 2, 3)), np.zeros((4, 3)), np.arange(4.0),
                                                           frames=0), InputError, "frames"),
    ("arm-motion-tip-of-other-run", lambda tmp: plot_arm_motion(np.zeros((4, 2, 3)), np.zeros((3, 3)),
                                                                np.arange(4.0)), InputError, "tip"),
    ("animate-unknown-suffix", lambda tmp: animate(FRAMES, tmp / "flow.avi"), InputError, "path"),
    ("animate-zero-fps", lambda tmp: animate(FRAMES, tmp / "flow.gif", fps=0), InputError, "fps"),
]
