"""physics.md against jax-md on the same configurations (skipped where jax-md does not install).

jax-md's ``lennard_jones_pair(r_onset, r_cutoff)`` takes both radii in units of sigma and
multiplies by the same C^1 switch as ``LennardJones(r_onset=...)``.  (jax-md's ``morse_pair`` uses
that switch too while our Morse uses ASE's quintic one, so Morse is checked against ASE only.)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pysciml import physics as phys

jax_md = pytest.importorskip(
    "jax_md", reason="jax-md is not installed: it is in the bench extra (pip install \".[bench]\"), too heavy for the test extras"
)


@pytest.fixture(scope="module")
def config():
    atoms = phys.fcc_lattice(256, 0.8442, 0.722, seed=0)
    rng = np.random.default_rng(4)
    return atoms, atoms.positions + rng.normal(0.0, 0.05, atoms.positions.shape)


def test_lj_energy_and_forces_match_jax_md(config):
    atoms, q = config
    disp, _ = jax_md.space.periodic(jnp.asarray(atoms.box))
    sigma, eps = 1.1, 0.9
    f64 = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731  (jax-md casts Python floats to float32)
    e_fn = jax_md.energy.lennard_jones_pair(
        disp, sigma=f64(sigma), epsilon=f64(eps), r_onset=f64(2.0 / sigma), r_cutoff=f64(2.5 / sigma)
    )
    ours = phys.LennardJones(sigma=sigma, epsilon=eps, r_cut=2.5, r_onset=2.0)
    e_ref = float(e_fn(jnp.asarray(q)))
    assert abs(float(ours.energy(q, atoms.box)) - e_ref) <= 1e-10 * abs(e_ref)
    f_ref = -np.asarray(jax.grad(e_fn)(jnp.asarray(q)))
    f = np.asarray(ours.forces(q, atoms.box))
    assert np.max(np.abs(f - f_ref)) <= 1e-10 * np.max(np.abs(f_ref))
    # negative control: a different onset changes the energy well beyond the tolerance
    other = phys.LennardJones(sigma=sigma, epsilon=eps, r_cut=2.5, r_onset=2.2)
    assert abs(float(other.energy(q, atoms.box)) - e_ref) > 1e-6 * abs(e_ref)


def test_nve_trajectory_matches_jax_md_velocity_verlet(config):
    atoms, _ = config
    dt, steps = float(np.float32(0.005)), 200  # jax-md's velocity_verlet casts dt to float32: use that dt in both
    disp, shift = jax_md.space.periodic(jnp.asarray(atoms.box))
    e_fn = jax_md.energy.lennard_jones_pair(disp, sigma=1.0, epsilon=1.0, r_onset=2.0, r_cutoff=2.5)
    init, apply = jax_md.simulate.nve(e_fn, shift, dt)
    # the same start (unit masses: momentum = velocity)
    state = init(
        jax.random.PRNGKey(0), jnp.asarray(atoms.positions), 0.0, mass=1.0, momenta=jnp.asarray(atoms.velocities)
    )
    state = jax.lax.fori_loop(0, steps, lambda i, s: apply(s), state)
    ds = phys.run_md(phys.LennardJones(r_cut=2.5, r_onset=2.0), atoms, steps=steps, dt=dt, save_every=steps)
    q_ours = ds["position"].values[-1]
    d = q_ours - np.asarray(state.position)
    d -= atoms.box * np.round(d / atoms.box)  # jax-md wraps positions into the box; ours are unwrapped
    assert np.max(np.abs(d)) < 1e-9
    np.testing.assert_allclose(ds["velocity"].values[-1], np.asarray(state.velocity), atol=1e-9)
