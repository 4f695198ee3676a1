"""Bad-input cases of pysciml.physics and the symplectic solvers, for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml import physics as phys
from pysciml.errors import InputError


def _osc():
    return ps.ODEModel(lambda u, p, t, m: [u[1], -u[0]], ["x", "v"])


CASES = [
    ("nbody-negative-mass", lambda tmp: phys.NBody([1.0, -1.0]), InputError, "masses"),
    ("nbody-zero-G", lambda tmp: phys.NBody([1.0], G=0.0), InputError, "G"),
    ("nbody-negative-softening", lambda tmp: phys.NBody([1.0], softening=-1.0), InputError, "softening"),
    ("nbody-bodies-overlap-at-start",
     lambda tmp: phys.NBody([1.0, 1.0], dim=2).state(np.zeros((2, 2)), np.zeros((2, 2))), InputError, "positions"),
    ("nbody-positions-wrong-shape",
     lambda tmp: phys.NBody([1.0, 1.0]).state(np.zeros((2, 2)), np.zeros((2, 3))), InputError, "positions"),
    ("springs-negative-stiffness", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], k=-1.0), InputError, "k"),
    ("springs-zero-mass", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], masses=[1.0, 0.0]), InputError,
     "masses"),
    ("springs-negative-damping", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], damping=-0.1), InputError,
     "damping"),
    ("springs-edge-to-missing-node", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 2]]), InputError, "edges"),
    ("springs-edge-to-itself", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[1, 1]]), InputError, "edges"),
    ("springs-duplicate-edge", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1], [1, 0]]), InputError,
     "edges"),
    ("springs-float-edges", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0.0, 1.0]]), InputError, "edges"),
    ("springs-zero-rest-length", lambda tmp: phys.SpringNetwork([[0, 0], [0, 0]], [[0, 1]]), InputError, "positions"),
    ("springs-anchor-out-of-range", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], anchors=[5]),
     InputError, "anchors"),
    ("springs-negative-gravity", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], gravity=-9.81),
     InputError, "gravity"),
    ("springs-moving-anchor", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], anchors=[0]).state(
        velocities=[[1.0, 0.0], [0.0, 0.0]]), InputError, "velocities"),
    ("springs-1d-positions", lambda tmp: phys.SpringNetwork([0.0, 1.0], [[0, 1]]), InputError, "positions"),
    ("symplectic-negative-dt", lambda tmp: ps.Yoshida4(dt=-0.1), InputError, "dt"),
    ("symplectic-without-step", lambda tmp: ps.solve(_osc(), [1.0, 0.0], (0.0, 1.0), solver=ps.Yoshida4()),
     InputError, "solver"),
    ("symplectic-output-off-step-grid",
     lambda tmp: ps.solve(_osc(), [1.0, 0.0], (0.0, 1.0), saveat=[0.333], solver=ps.VelocityVerlet(dt=0.01)),
     InputError, "saveat"),
    ("symplectic-odd-state-size",
     lambda tmp: ps.solve(ps.ODEModel(lambda u, p, t, m: [u[1], -u[0], u[2]], ["a", "b", "c"]), [1.0, 0.0, 0.0],
                          (0.0, 1.0), solver=ps.VelocityVerlet(dt=0.1)), InputError, "model"),
    ("symplectic-in-sensitivity",
     lambda tmp: ps.sensitivity(_osc(), [1.0, 0.0], (0.0, 1.0), solver=ps.Yoshida4(dt=0.01)), InputError, "solver"),
]
