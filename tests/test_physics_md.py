"""physics.md: LJ/Morse against ASE, neighbour lists against all pairs, NVE drift and order, Langevin, force matching.

Sizes: 256-atom (ASE, NVE drift), 500-atom (cell lists), 108-atom (order, Langevin, force matching)
systems; the 4,000-atom system only in a jaxpr shape check and in benchmarks/physics_md.py.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest

from pysciml import physics as phys
from pysciml.errors import InputError
from pysciml.physics.md import MDTimeStepWarning, NeighbourOverflowError

RHO, T0 = 0.8442, 0.722


def _perturbed(n, seed, amp=0.05, density=RHO):
    atoms = phys.fcc_lattice(n, density, 0.0, seed=seed)
    rng = np.random.default_rng(seed)
    return atoms.positions + rng.normal(0.0, amp, atoms.positions.shape), atoms.box


@pytest.fixture(scope="module")
def config256():
    return _perturbed(256, 1)


def _ase_atoms(q, box):
    ase = pytest.importorskip("ase")
    return ase.Atoms(f"Ar{len(q)}", positions=q, cell=box, pbc=True)


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _pairs_within(q, box, rc):
    d = q[None] - q[:, None]
    d -= box * np.round(d / box)
    r2 = (d * d).sum(-1)
    return int(np.sum(np.triu(r2 < rc * rc, 1)))


# -- energies and forces against ASE ---------------------------------------------------------------
def test_lj_matches_ase_all_three_cutoff_conventions(config256):
    from ase.calculators.lj import LennardJones as AseLJ

    q, box = config256
    at = _ase_atoms(q, box)
    # ASE smooth=False shifts the pair energy to 0 at rc: our shift=True
    at.calc = AseLJ(sigma=1.1, epsilon=0.9, rc=2.5, smooth=False)
    e_ase, f_ase = at.get_potential_energy(), at.get_forces()
    lj = phys.LennardJones(sigma=1.1, epsilon=0.9, r_cut=2.5, shift=True)
    assert _rel(lj.energy(q, box), e_ase) < 1e-10
    assert _rel(lj.forces(q, box), f_ase) < 1e-10
    # shift=False is plain truncation: ASE's energy plus u(rc) per pair inside rc (forces unchanged)
    plain = phys.LennardJones(sigma=1.1, epsilon=0.9, r_cut=2.5, shift=False)
    e0 = 4 * 0.9 * ((1.1 / 2.5) ** 12 - (1.1 / 2.5) ** 6)
    npairs = _pairs_within(q, box, 2.5)
    assert _rel(plain.energy(q, box), e_ase + e0 * npairs) < 1e-10
    assert _rel(plain.forces(q, box), f_ase) < 1e-10
    assert _rel(plain.energy(q, box), e_ase) > 1e-3  # negative control: the conventions do differ
    # r_onset: ASE's smooth=True switch between ro and rc
    at.calc = AseLJ(sigma=1.1, epsilon=0.9, rc=2.5, ro=2.0, smooth=True)
    sm = phys.LennardJones(sigma=1.1, epsilon=0.9, r_cut=2.5, r_onset=2.0)
    assert _rel(sm.energy(q, box), at.get_potential_energy()) < 1e-10
    assert _rel(sm.forces(q, box), at.get_forces()) < 1e-10


def test_morse_matches_ase(config256):
    from ase.calculators.morse import MorsePotential

    q, box = config256
    at = _ase_atoms(q, box)
    r0, rho0 = 1.1, 6.0
    at.calc = MorsePotential(epsilon=0.8, r0=r0, rho0=rho0, rcut1=1.9, rcut2=2.7)
    morse = phys.Morse(epsilon=0.8, alpha=rho0 / r0, r0=r0, r_cut=2.7 * r0, r_onset=1.9 * r0)
    assert _rel(morse.energy(q, box), at.get_potential_energy()) < 1e-10
    assert _rel(morse.forces(q, box), at.get_forces()) < 1e-10


# -- neighbour lists ---------------------------------------------------------------------------------
def _random_config(n, length, dmin, seed):
    rng = np.random.default_rng(seed)
    box = np.full(3, length)
    q = np.empty((0, 3))
    while len(q) < n:
        c = rng.uniform(0, length, 3)
        d = q - c
        d -= box * np.round(d / box)
        if len(q) == 0 or (d * d).sum(1).min() > dmin**2:
            q = np.vstack([q, c])
    return q, box


@pytest.mark.parametrize("kind", ["lattice", "random"])
def test_cell_list_equals_all_pairs(kind):
    q, box = _perturbed(500, 2, amp=0.1) if kind == "lattice" else _random_config(500, 10.0, 0.9, 3)
    lj = phys.LennardJones(r_cut=2.5, shift=False)
    nl = phys.neighbour_list(q, box, 2.5, skin=0.2)
    assert nl.method == "cells" and not bool(nl.overflow)
    e_ref = float(lj.energy_all_pairs(q, box))
    assert abs(float(lj.energy(q, box, neighbours=nl)) - e_ref) <= 1e-12 * abs(e_ref)
    assert _rel(lj.forces(q, box, neighbours=nl), -jax.grad(lambda x: lj.energy_all_pairs(x, box))(q)) < 1e-12


def test_cell_list_build_has_no_n_squared_array():
    atoms = phys.fcc_lattice(4000, RHO, 0.0)
    n = atoms.n
    fields: dict = {"idx": None, "reference": None, "overflow": None, "box": atoms.box, "r_cut": 2.5, "skin": 0.3}
    nl = phys.NeighbourList(**fields, capacity=100, cells=(6, 6, 6), cell_capacity=32)  # shapes only

    def largest(build):
        jaxpr = jax.make_jaxpr(build)(atoms.positions)
        sizes = [int(np.prod(v.aval.shape)) for e in jaxpr.jaxpr.eqns for v in e.outvars]
        return max(sizes)

    assert largest(nl.build_fn()) <= 3 * 27 * 32 * n < n * n  # per atom: 27 cells x 32 slots x 3 components
    dense = phys.NeighbourList(**{**nl.__dict__, "cells": None})
    assert largest(dense.build_fn()) >= n * n  # negative control: the all-pairs builder has one


def test_large_dt_warns_before_running():
    atoms = phys.fcc_lattice(32, RHO, 0.5)
    q = atoms.positions.copy()
    q[1] = q[0]  # so that run_md stops (overlap) right after its dt checks
    bad = phys.Atoms(positions=q, velocities=atoms.velocities, box=atoms.box, masses=atoms.masses)
    lj = phys.LennardJones(r_cut=1.5)
    assert 0.18 < phys.stability_limit(lj, atoms.masses) < 0.19  # 2 / sqrt(2 * 57.15)
    with pytest.warns(MDTimeStepWarning, match="dt = 0.05"), pytest.raises(InputError, match="atoms 0 and 1"):
        phys.run_md(lj, bad, steps=10, dt=0.05, save_every=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MDTimeStepWarning)  # negative control: dt = 0.005 is quiet
        with pytest.raises(InputError, match="atoms 0 and 1"):
            phys.run_md(lj, bad, steps=10, dt=0.005, save_every=10)


def test_overflow_is_flagged_and_refused(config256):
    q, box = config256
    lj = phys.LennardJones(r_cut=2.5)
    ok = phys.neighbour_list(q, box, 2.5, skin=0.3)
    assert not bool(ok.overflow)
    small = phys.neighbour_list(q, box, 2.5, skin=0.3, capacity=10)
    assert bool(small.overflow)
    with pytest.raises(NeighbourOverflowError, match="capacity = 10"):
        lj.energy(q, box, neighbours=small)


# -- dynamics ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nve256():
    lj = phys.LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5, shift=True)
    atoms = phys.fcc_lattice(256, RHO, T0, seed=0)
    # capacity_factor=1: the crystal's exact neighbour count, so the melting liquid overflows it
    return phys.run_md(lj, atoms, steps=10_000, dt=0.005, save_every=100, capacity_factor=1.0)


def test_nve_energy_drift_below_1e_4_over_1e4_steps(nve256):
    e = nve256["total_energy"].values
    drift = float(np.max(np.abs(e - e[0])) / abs(e[0]))
    print(
        f"NVE 256 atoms, 1e4 steps dt=0.005: max |E - E0| / |E0| = {drift:.3g}, "
        f"{nve256.attrs['neighbour_rebuilds']} rebuilds, list grown {nve256.attrs['neighbour_list_grown']}x"
    )
    assert drift < 1e-4
    assert nve256.attrs["neighbour_list_grown"] >= 1  # overflow happened and was recovered from


def test_results_are_xarray_with_units(nve256):
    ds = nve256
    assert ds["position"].dims == ("time", "atom", "component")
    assert ds.sizes == {"time": 101, "atom": 256, "component": 3}
    assert ds["position"].attrs["units"] == "sigma" and ds["time"].attrs["units"] == "tau"
    assert ds["total_energy"].attrs["units"] == "epsilon"
    np.testing.assert_allclose(ds["time"].values[-1], 50.0)
    assert ds.attrs["ensemble"] == "NVE"


def test_nve_energy_error_is_second_order_in_dt():
    lj = phys.LennardJones(r_cut=2.5, r_onset=2.0)  # smooth forces: no cut-off kicks
    atoms = phys.fcc_lattice(108, RHO, T0, seed=0)
    errs = []
    for dt in (0.004, 0.002, 0.001):
        steps = int(round(0.4 / dt))
        ds = phys.run_md(lj, atoms, steps=steps, dt=dt, save_every=25)
        e = ds["total_energy"].values
        errs.append(np.max(np.abs(e - e[0])))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    print(f"energy error {errs}, measured orders {orders}")
    assert np.all(np.abs(orders - 2) < 0.2)


def test_langevin_temperature_averages_to_target():
    lj = phys.LennardJones(r_cut=2.5, shift=True)
    atoms = phys.fcc_lattice(108, RHO, T0, seed=1)
    target = 1.0
    ds = phys.run_md(
        lj, atoms, steps=4000, dt=0.005, thermostat=phys.Langevin(target, friction=1.0, seed=2), save_every=10
    )
    t = ds["temperature"].values[101:]  # after 5 tau
    blocks = t.reshape(15, -1).mean(axis=1)  # 1 tau blocks (friction time 1 tau)
    mean, se = blocks.mean(), blocks.std(ddof=1) / np.sqrt(len(blocks))
    print(f"Langevin 108 atoms: <T> = {mean:.4f} +- {se:.4f} (target {target})")
    assert se < 0.03  # the check has power
    assert abs(mean - target) < 4 * se
    assert abs(float(ds["temperature"].values[0]) - T0 * 321 / 324) < 1e-12  # start: 3N-3 dof -> 3N


def test_force_matching_recovers_sigma_and_epsilon():
    true = phys.LennardJones(sigma=1.05, epsilon=0.9, r_cut=2.5)
    rng = np.random.default_rng(5)
    qs, fs = [], []
    for k in range(3):
        q, box = _perturbed(108, 10 + k, amp=0.15, density=0.75)
        f = np.asarray(true.forces(q, box))
        qs.append(q)
        fs.append(f + rng.normal(0, 0.02 * f.std(), f.shape))  # noise 2 % of the forces' spread
    fitted, res = phys.fit_forces(phys.LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5), qs, fs, box)
    print(f"force matching: sigma {fitted.sigma:.5f} (1.05), epsilon {fitted.epsilon:.5f} (0.9), {res.nit} iterations")
    assert abs(fitted.sigma / 1.05 - 1) < 0.01 and abs(fitted.epsilon / 0.9 - 1) < 0.01
