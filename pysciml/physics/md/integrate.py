"""``run_md``: NVE velocity Verlet and NVT Langevin (BAOAB) with neighbour lists, results as xarray.

Each step: velocity Verlet (``thermostat=None``)
``v += dt/2 F/m; q += dt v; F = F(q); v += dt/2 F/m``, or BAOAB Langevin
(Leimkuhler & Matthews 2013) ``B A O A B`` with the O-step
``v = c v + sqrt((1 - c^2) kT / m) xi``, ``c = exp(-friction dt)``.  The neighbour list is rebuilt
inside the compiled loop whenever an atom has moved more than ``skin / 2``; when a rebuild
overflows the list's fixed capacity, the block of steps is repeated with a larger list.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ...engines.registry import get_engine
from ...errors import InputError
from ...memory import peak_bytes
from ...options import check_int
from ...progress import open_bar
from .lattice import Atoms
from .neighbours import neighbour_list, pairs_r2
from .potentials import PairPotential
from .space import minimum_image

log = logging.getLogger("pysciml.physics")

get_engine("jax")

__all__ = ["Langevin", "MDTimeStepWarning", "run_md", "stability_limit", "REDUCED_UNITS"]

#: the default unit labels: reduced Lennard-Jones units with k_B = 1
REDUCED_UNITS = {"length": "sigma", "energy": "epsilon", "mass": "m", "time": "tau", "temperature": "epsilon/k_B"}


class MDTimeStepWarning(UserWarning):
    """``run_md``'s ``dt`` is below the stability limit but large enough to spoil energy conservation."""


@dataclasses.dataclass(frozen=True)
class Langevin:
    """NVT Langevin thermostat (BAOAB): target ``temperature`` (k_B = 1), ``friction`` (1/time), ``seed``."""

    temperature: float
    friction: float = 1.0
    seed: int = 0

    def __post_init__(self):
        for name in ("temperature", "friction"):
            val = getattr(self, name)
            if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
                raise InputError(f"must be a positive finite number, got {val!r}.", argument=name)


def stability_limit(potential: PairPotential, masses) -> float:
    """``2 / omega``: velocity Verlet's linear stability limit for a pair vibrating at the potential minimum.

    ``omega = sqrt(2 u''(r_min) / m_min)`` (reduced mass m/2).  Thermal collisions probe the
    steeper repulsive wall, so useful steps are several times smaller (LJ: limit 0.187, common dt 0.005).
    """
    return 2.0 / math.sqrt(2.0 * potential.stiffness / float(np.min(masses)))


def _check_overlap(potential: PairPotential, atoms: Atoms) -> None:
    if potential.core <= 0 or atoms.n < 2:
        return
    nl = neighbour_list(atoms.positions, atoms.box, potential.core, skin=0.0)
    r2, mask = pairs_r2(jnp.asarray(atoms.positions), jnp.asarray(atoms.box), nl.idx)
    r2 = np.asarray(r2)
    if np.isfinite(r2).any():
        i, k = np.unravel_index(int(np.argmin(r2)), r2.shape)
        j = int(np.asarray(nl.idx)[i, k])
        raise InputError(
            f"atoms {min(i, j)} and {max(i, j)} overlap at the start: {math.sqrt(r2[i, k]):.3g} apart, closer than "
            f"{potential.core:.3g} (pair energy > ~100 epsilon); move them apart or minimise the energy first.",
            argument="positions",
        )


def run_md(
    potential: PairPotential,
    atoms: Atoms,
    steps: int,
    dt: float,
    *,
    thermostat: Langevin | None = None,
    save_every: int = 100,
    skin: float = 0.3,
    capacity_factor: float = 1.25,
    units: dict[str, str] | None = None,
    verbose: int = 0,
) -> xr.Dataset:
    """Integrate ``atoms`` under ``potential`` for ``steps`` steps of ``dt``; every ``save_every`` steps saved.

    Returns an ``xarray.Dataset`` with ``position``, ``velocity`` (time x atom x component) and
    ``potential_energy``, ``kinetic_energy``, ``total_energy``, ``temperature`` (time), units in
    attrs (reduced LJ units unless ``units`` says otherwise), and in ``attrs`` the ensemble,
    ``neighbour_rebuilds``, ``neighbour_capacity`` and ``wall_time_s``.

    After the second block of ``save_every`` steps (the first one compiles) the run tells what it
    will take: time per step, time for all steps, the size of the saved trajectory and the peak
    memory so far -- at INFO level on the ``pysciml.physics`` logger, and with ``verbose=1`` on a
    progress bar over the steps.

    Raises :class:`pysciml.InputError` naming ``positions`` when atoms overlap at the start, ``dt``
    when it is not below :func:`stability_limit`, ``box`` when ``r_cut`` exceeds half the box.
    """
    if not isinstance(potential, PairPotential):
        raise InputError(
            f"must be a pysciml.physics pair potential (LennardJones, Morse), got {type(potential).__name__}.",
            argument="potential",
        )
    if not isinstance(atoms, Atoms):
        raise InputError(
            f"must be a pysciml.physics Atoms (e.g. from fcc_lattice), got {type(atoms).__name__}.", argument="atoms"
        )
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise InputError(f"must be a positive integer, got {steps!r}.", argument="steps")
    if not (isinstance(save_every, (int, np.integer)) and 1 <= save_every):
        raise InputError(f"must be a positive integer, got {save_every!r}.", argument="save_every")
    if steps % save_every:
        raise InputError(f"must divide steps = {steps}, got {save_every}.", argument="save_every")
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise InputError(f"must be a positive finite number, got {dt!r}.", argument="dt")
    limit = stability_limit(potential, atoms.masses)
    if dt >= limit:
        raise InputError(
            f"= {dt:g} is above the stability limit of velocity Verlet for this potential, 2/omega = {limit:.3g} "
            f"(omega = sqrt(2 u''(r_min)/m)); use dt well below it (e.g. {limit / 40:.2g}).",
            argument="dt",
        )
    if dt > limit / 8:
        warnings.warn(
            f"dt = {dt:g} is more than 1/8 of velocity Verlet's stability limit {limit:.3g} for this potential: "
            f"expect poor energy conservation (thermal collisions probe stiffer parts of the potential); "
            f"dt <= {limit / 40:.2g} is safe.",
            MDTimeStepWarning,
            stacklevel=2,
        )
    check_int(verbose, "verbose", minimum=0)
    if thermostat is not None and not isinstance(thermostat, Langevin):
        raise InputError(
            f"must be None (NVE) or physics.Langevin(temperature, friction), got {thermostat!r}.", argument="thermostat"
        )
    box = atoms.box
    half = float(box.min()) / 2
    if potential.r_cut > half:
        raise InputError(
            f"is too small for the cut-off: r_cut = {potential.r_cut:g} exceeds half the shortest "
            f"edge ({half:g}); use more atoms or a shorter r_cut.",
            argument="box",
        )
    skin = min(float(skin), half - potential.r_cut)
    _check_overlap(potential, atoms)

    m = jnp.asarray(atoms.masses)[:, None]
    dt_j = jnp.asarray(float(dt))
    n = atoms.n
    dof = 3 * n - 3 if thermostat is None else 3 * n

    t0 = time.perf_counter()
    nl = neighbour_list(atoms.positions, box, potential.r_cut, skin=skin, capacity_factor=capacity_factor)
    block, start = _compiled(potential, box, save_every, thermostat, skin, nl)
    q0 = jnp.asarray(atoms.positions)
    pe0, f0 = start(q0, nl.idx)
    key = jax.random.PRNGKey(0 if thermostat is None else thermostat.seed)
    state = (q0, jnp.asarray(atoms.velocities), f0, nl.idx, q0, jnp.asarray(False), jnp.asarray(0), key)
    qs, vs, pes = [np.asarray(q0)], [np.asarray(atoms.velocities)], [float(pe0)]
    grown = 0
    blocks = steps // save_every
    bar = open_bar(steps, verbose, desc="md", unit="step")
    saved_bytes = (blocks + 1) * n * 3 * 2 * 8 + (blocks + 1) * 8
    for b in range(blocks):
        tick = time.perf_counter()
        new, pe = block(state, dt_j, m)
        if bool(new[5]):  # a rebuild overflowed: a larger list at this block's start, then the block again
            grown += 1
            nl = neighbour_list(
                np.asarray(state[0]), box, potential.r_cut, skin=skin, capacity_factor=capacity_factor * 1.5**grown
            )
            block, start = _compiled(potential, box, save_every, thermostat, skin, nl)
            state = (state[0], state[1], state[2], nl.idx, state[0], jnp.asarray(False), state[6], state[7])
            new, pe = block(state, dt_j, m)
            if bool(new[5]):
                raise RuntimeError("the neighbour list overflowed twice in one block; report this")  # pragma: no cover
        state = new
        qs.append(np.asarray(state[0]))
        vs.append(np.asarray(state[1]))
        pes.append(float(pe))
        if b == 1 or blocks == 1:  # the first block compiles: the pace is the second one's
            _tell(time.perf_counter() - tick, save_every, steps, time.perf_counter() - t0, blocks, saved_bytes, n, bar)
        if bar is not None:
            bar.update(save_every)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - t0
    return _to_xarray(
        np.stack(qs),
        np.stack(vs),
        np.asarray(pes),
        atoms,
        dt,
        save_every,
        dof,
        potential,
        thermostat,
        {**REDUCED_UNITS, **(units or {})},
        {
            "neighbour_rebuilds": int(state[6]),
            "neighbour_capacity": nl.capacity,
            "neighbour_method": nl.method,
            "neighbour_list_grown": grown,
            "skin": skin,
            "wall_time_s": wall,
        },
    )


def _tell(block_s: float, save_every: int, steps: int, elapsed: float, blocks: int, saved: int, n: int, bar) -> None:
    """What a run tells once it knows its pace: per step, in all, the trajectory's size, the peak."""
    done = 2 if blocks > 1 else 1
    total = elapsed + block_s * (blocks - done)
    text = (
        f"{n} atoms: ~{block_s / save_every * 1e3:.3g} ms/step, ~{total:.0f} s for {steps} steps, "
        f"trajectory {saved / 2**20:.1f} MiB, peak RSS {peak_bytes() / 2**20:.0f} MiB"
    )
    log.info("run_md: %s", text)
    if bar is not None:
        bar.set_postfix_str(text)


#: compiled step blocks, shared by runs with the same potential, box, thermostat and list shapes
_BLOCKS: dict[tuple, tuple] = {}


def _compiled(potential: PairPotential, box: np.ndarray, save_every: int, thermostat: Langevin | None, skin: float, nl):
    """``(block(state, dt, m) -> (state, pe), start(q, idx) -> (pe, forces))``, jitted, cached."""
    key = (repr(potential), tuple(box.tolist()), save_every, thermostat, skin, nl.capacity, nl.cells, nl.cell_capacity)
    if key in _BLOCKS:
        return _BLOCKS[key]
    build = nl.build_fn()
    box_j = jnp.asarray(box)

    def energy(q, idx):
        r2, mask = pairs_r2(q, box_j, idx)
        return 0.5 * jnp.sum(jnp.where(mask, potential.pair_energy(r2), 0.0))

    grad = jax.value_and_grad(energy)

    def maybe_rebuild(q, idx, ref, over, nreb):
        d = minimum_image(q - ref, box_j)
        need = jnp.max(jnp.sum(d * d, axis=-1)) > (0.5 * skin) ** 2

        def rebuild(_):
            new, o = build(q)
            return new, q, over | o, nreb + 1

        return jax.lax.cond(need, rebuild, lambda _: (idx, ref, over, nreb), None)

    @jax.jit
    def block(s, dt, m):
        def step(i, s):
            q, v, f, idx, ref, over, nreb, key = s
            v = v + 0.5 * dt * f / m
            if thermostat is None:
                q = q + dt * v
            else:
                q = q + 0.5 * dt * v
                key, sub = jax.random.split(key)
                c = jnp.exp(-thermostat.friction * dt)
                v = c * v + jnp.sqrt((1 - c * c) * thermostat.temperature / m) * jax.random.normal(sub, v.shape)
                q = q + 0.5 * dt * v
            idx, ref, over, nreb = maybe_rebuild(q, idx, ref, over, nreb)
            _, g = grad(q, idx)
            f = -g
            v = v + 0.5 * dt * f / m
            return q, v, f, idx, ref, over, nreb, key

        s = jax.lax.fori_loop(0, save_every, step, s)
        pe, _ = grad(s[0], s[3])
        return s, pe

    @jax.jit
    def start(q, idx):
        pe, g = grad(q, idx)
        return pe, -g

    if len(_BLOCKS) > 32:
        _BLOCKS.clear()
    _BLOCKS[key] = (block, start)
    return block, start


def _to_xarray(q, v, pe, atoms, dt, save_every, dof, potential, thermostat, units, extra) -> xr.Dataset:
    ke = 0.5 * np.sum(atoms.masses[None, :, None] * v * v, axis=(1, 2))
    L, T, E = units["length"], units["time"], units["energy"]
    ds = xr.Dataset(
        {
            "position": (("time", "atom", "component"), q, {"units": L, "long_name": "position (unwrapped)"}),
            "velocity": (("time", "atom", "component"), v, {"units": f"{L}/{T}", "long_name": "velocity"}),
            "potential_energy": (("time",), pe, {"units": E}),
            "kinetic_energy": (("time",), ke, {"units": E}),
            "total_energy": (("time",), pe + ke, {"units": E}),
            "temperature": (("time",), 2 * ke / dof, {"units": units["temperature"], "dof": dof}),
            "mass": (("atom",), atoms.masses, {"units": units["mass"]}),
        },
        coords={
            "time": np.arange(q.shape[0]) * dt * save_every,
            "atom": np.arange(atoms.n),
            "component": ["x", "y", "z"],
        },
    )
    ds["time"].attrs["units"] = T
    ds.attrs.update(
        {
            "source": "pysciml.physics.run_md",
            "potential": repr(potential),
            "box": atoms.box.tolist(),
            "dt": dt,
            "ensemble": "NVE" if thermostat is None else "NVT",
            "integrator": "velocity Verlet" if thermostat is None else "Langevin BAOAB",
            **(
                {}
                if thermostat is None
                else {"target_temperature": thermostat.temperature, "friction": thermostat.friction}
            ),
            **extra,
        }
    )
    return ds
