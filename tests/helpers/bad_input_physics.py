"""Bad-input cases of pysciml.physics and the symplectic solvers, for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml import physics as phys
from pysciml.errors import InputError

from .arm_urdf import write_urdf


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
    ("springs-fractional-anchor", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]], anchors=[0.7]),
     InputError, "anchors"),
    ("springs-state-not-numbers", lambda tmp: phys.SpringNetwork([[0, 0], [1, 0]], [[0, 1]]).state(positions="abc"),
     InputError, "positions"),
    ("springs-chain-zero-length", lambda tmp: phys.SpringNetwork.chain(4, length=0.0), InputError, "length"),
    ("springs-grid-negative-spacing", lambda tmp: phys.SpringNetwork.grid(3, 3, spacing=-1.0), InputError, "spacing"),
    ("arm-zero-mass", lambda tmp: phys.SerialArm.planar(lengths=[1.0, 0.5], masses=[1.0, 0.0]), InputError,
     "masses"),
    ("arm-negative-length", lambda tmp: phys.SerialArm.planar(lengths=[1.0, -0.5], masses=1.0), InputError,
     "lengths"),
    ("arm-unknown-joint-kind", lambda tmp: phys.SerialArm(["ball"], [[0, 0, 1]], [[0, 0, 0]], [1.0], [[0, 0, 0]],
                                                          [np.eye(3)]), InputError, "joints"),
    ("arm-start-outside-limits", lambda tmp: phys.SerialArm.planar(lengths=[1.0], masses=1.0, lower=-1.0,
                                                                    upper=1.0).state([2.0]), InputError, "q"),
    ("arm-urdf-unknown-joint-type", lambda tmp: phys.SerialArm.from_urdf(write_urdf(
        tmp, ["a", "b", "c"], [("j1", "revolute", "a", "b"), ("j2", "ball", "b", "c")])), InputError, "path"),
    ("arm-urdf-closed-loop", lambda tmp: phys.SerialArm.from_urdf(write_urdf(
        tmp, ["a", "b", "c"], [("j1", "revolute", "a", "b"), ("j2", "revolute", "b", "c"),
                               ("j3", "revolute", "a", "c")])), InputError, "path"),
    ("arm-urdf-branching-tree", lambda tmp: phys.SerialArm.from_urdf(write_urdf(
        tmp, ["a", "b", "c", "d"], [("j1", "revolute", "a", "b"), ("j2", "revolute", "b", "c"),
                                    ("j3", "prismatic", "b", "d")])), InputError, "path"),
    ("arm-urdf-missing-file", lambda tmp: phys.SerialArm.from_urdf(tmp / "none.urdf"), InputError, "path"),
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


# -- molecular dynamics (physics.md) ------------------------------------------------------------------
def _md_pair():
    return np.array([[1.0, 1.0, 1.0], [2.2, 1.0, 1.0]])


def _md_overlap(tmp):
    atoms = phys.fcc_lattice(32, 0.8442, 0.5)
    q = atoms.positions.copy()
    q[7] = q[3] + 0.1
    bad = phys.Atoms(positions=q, velocities=atoms.velocities, box=atoms.box, masses=atoms.masses)
    return phys.run_md(phys.LennardJones(r_cut=1.5), bad, steps=10, dt=0.005, save_every=10)


def _md_overflowed_list(tmp):
    q = phys.fcc_lattice(32, 0.8442).positions
    box = phys.fcc_lattice(32, 0.8442).box
    nl = phys.neighbour_list(q, box, 1.5, skin=0.1, capacity=2)
    return phys.LennardJones(r_cut=1.5).energy(q, box, neighbours=nl)


MD_CASES = [
    ("md-lj-negative-sigma", lambda tmp: phys.LennardJones(sigma=-1.0), InputError, "sigma"),
    ("md-lj-zero-epsilon", lambda tmp: phys.LennardJones(epsilon=0.0), InputError, "epsilon"),
    ("md-morse-negative-alpha", lambda tmp: phys.Morse(alpha=-2.0), InputError, "alpha"),
    ("md-lj-shift-and-onset", lambda tmp: phys.LennardJones(shift=True, r_onset=2.0), InputError, "shift"),
    ("md-box-nonpositive", lambda tmp: phys.LennardJones().energy(_md_pair(), [10.0, 0.0, 10.0]), InputError, "box"),
    ("md-rcut-above-half-box", lambda tmp: phys.LennardJones(r_cut=2.5).energy(_md_pair(), [4.0, 4.0, 4.0]),
     InputError, "box"),
    ("md-atoms-overlap-at-start", _md_overlap, InputError, "positions"),
    ("md-dt-above-stability-limit",
     lambda tmp: phys.run_md(phys.LennardJones(r_cut=1.5), phys.fcc_lattice(32, 0.8442, 0.5), steps=10, dt=0.5,
                             save_every=10), InputError, "dt"),
    ("md-fcc-not-4m3-atoms", lambda tmp: phys.fcc_lattice(100, 0.8442), InputError, "n_atoms"),
    ("md-neighbour-list-overflowed", _md_overflowed_list, InputError, "neighbours"),
]
CASES = CASES + MD_CASES
