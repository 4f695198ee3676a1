"""Pair potentials with their cut-off conventions: :class:`LennardJones` and :class:`Morse`.

Conventions (``r`` a pair distance, ``u(r)`` the bare pair energy, all pairs with ``r >= r_cut``
contribute nothing):

* ``shift=False, r_onset=None`` (plain truncation): ``u(r)`` for ``r < r_cut``.  The energy
  jumps by ``-u(r_cut)`` when a pair crosses the cut-off (LJ at 2.5 sigma: 0.0163 epsilon).
* ``shift=True`` (truncated and shifted): ``u(r) - u(r_cut)`` for ``r < r_cut``; the energy is
  continuous, the force still jumps.  This is ASE's ``LennardJones(smooth=False)``.
* ``r_onset=ro`` (smoothly switched): ``u(r) S(r)`` with ``S = 1`` below ``ro`` and 0 at
  ``r_cut``; energy and forces are continuous.  The switch is the potential's own (see each class).

Energies sum each pair once; forces are ``-grad energy`` by ``jax.grad``.  Parameters may be jax
tracers (``potential.replace(sigma=s)`` inside ``jax.grad``: force matching).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ...engines.registry import get_engine
from ...errors import InputError
from ...options import positive_float
from ..tracing import is_traced
from .neighbours import NeighbourList, all_pairs_r2, neighbour_list, pairs_r2
from .space import check_box, check_positions

get_engine("jax")  # float64 before anything is traced

__all__ = ["PairPotential", "LennardJones", "Morse"]

#: above this many atoms, ``energy``/``forces`` without ``neighbours`` build a cell list first
ALL_PAIRS_MAX_ATOMS = 1000


def _positive(value, name: str):
    """A positive finite number as a float; a traced value (a parameter being fitted) passes as it is."""
    return value if is_traced(value) else positive_float(value, name)


class PairPotential:
    """A radial pair potential with a cut-off (subclasses give ``_bare`` and ``_switch``)."""

    #: names of the physical parameters (``replace`` and force matching act on these)
    params: tuple[str, ...] = ()

    def __init__(self, *, r_cut: float, shift: bool, r_onset: float | None):
        self.r_cut = float(_positive(r_cut, "r_cut"))
        self.shift = bool(shift)
        if r_onset is not None:
            r_onset = float(_positive(r_onset, "r_onset"))
            if r_onset >= self.r_cut:
                raise InputError(f"must be below r_cut = {self.r_cut:g}, got {r_onset:g}.", argument="r_onset")
            if self.shift:
                raise InputError(
                    "cannot be combined with r_onset (switched potentials are not shifted); give one of them.",
                    argument="shift",
                )
        self.r_onset = r_onset

    # -- pair energy ------------------------------------------------------------------------------
    def _bare(self, r2):  # pragma: no cover - abstract
        raise NotImplementedError

    def _switch(self, r2):  # pragma: no cover - abstract
        raise NotImplementedError

    def pair_energy(self, r2):
        """Energy of pairs at squared distances ``r2`` with this potential's cut-off convention."""
        rc2 = self.r_cut**2
        inside = r2 < rc2
        safe = jnp.where(inside, r2, 0.25 * rc2)  # finite everywhere, so gradients of masked pairs are 0
        u = self._bare(safe)
        if self.shift:
            u = u - self._bare(jnp.asarray(rc2))
        elif self.r_onset is not None:
            u = u * self._switch(safe)
        return jnp.where(inside, u, 0.0)

    # -- configurations ---------------------------------------------------------------------------
    def energy(self, positions, box, *, neighbours: NeighbourList | None = None):
        """Potential energy of ``positions (n, 3)`` in the periodic ``box (3,)``.

        With ``neighbours`` (from :func:`pysciml.physics.neighbour_list`) the sum runs over its
        pairs; without, over all pairs for up to 1,000 atoms and over a fresh cell list above.
        """
        if not is_traced(positions):
            positions = check_positions(positions)
        if not is_traced(box):
            box = check_box(box, cutoff=self.r_cut)
        q = jnp.asarray(positions)
        if neighbours is None and q.shape[0] > ALL_PAIRS_MAX_ATOMS and not is_traced(positions):
            neighbours = neighbour_list(np.asarray(positions), box, self.r_cut, skin=0.0)
        if neighbours is None:
            r2, mask = all_pairs_r2(q, jnp.asarray(box))
            return 0.5 * jnp.sum(jnp.where(mask, self.pair_energy(r2), 0.0))
        neighbours.check()
        r2, mask = pairs_r2(q, jnp.asarray(box), neighbours.idx)
        return 0.5 * jnp.sum(jnp.where(mask, self.pair_energy(r2), 0.0))

    def energy_all_pairs(self, positions, box):
        """The O(N^2) reference sum over every pair (minimum image), whatever the size."""
        q = jnp.asarray(positions)
        r2, mask = all_pairs_r2(q, jnp.asarray(box))
        return 0.5 * jnp.sum(jnp.where(mask, self.pair_energy(r2), 0.0))

    def forces(self, positions, box, *, neighbours: NeighbourList | None = None):
        """Forces ``-dE/dq (n, 3)`` by ``jax.grad`` of :meth:`energy`."""
        if not is_traced(positions):
            positions = check_positions(positions)
        if not is_traced(box):
            box = check_box(box, cutoff=self.r_cut)
        if neighbours is None and np.shape(positions)[0] > ALL_PAIRS_MAX_ATOMS and not is_traced(positions):
            neighbours = neighbour_list(np.asarray(positions), box, self.r_cut, skin=0.0)
        return -jax.grad(lambda q: self.energy(q, box, neighbours=neighbours))(jnp.asarray(positions))

    # -- helpers for integrators and fitting ------------------------------------------------------
    def replace(self, **params) -> PairPotential:
        """A copy with some parameters changed (values may be jax tracers)."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise InputError(
                f"unknown parameter(s) {sorted(unknown)}; this potential has {list(self.params)}.", argument="params"
            )
        kw = {k: getattr(self, k) for k in self.params}
        kw.update(params)
        return type(self)(**kw, r_cut=self.r_cut, shift=self.shift, r_onset=self.r_onset)

    @property
    def stiffness(self) -> float:
        """``u''`` at the pair minimum, energy/length^2 (sets the time-step stability guess)."""
        raise NotImplementedError  # pragma: no cover

    @property
    def core(self) -> float:
        """Pairs closer than this at the start are reported as overlapping atoms."""
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.params)
        return f"{type(self).__name__}({ps}, r_cut={self.r_cut!r}, shift={self.shift!r}, r_onset={self.r_onset!r})"


class LennardJones(PairPotential):
    """Lennard-Jones ``u(r) = 4 epsilon ((sigma/r)^12 - (sigma/r)^6)``, cut at ``r_cut`` (a length, not in sigma).

    Cut-off conventions (see the module): ``shift=False`` truncates, ``shift=True`` subtracts
    ``u(r_cut)`` (ASE's ``LennardJones(rc=r_cut, smooth=False)``), ``r_onset=ro`` multiplies by
    the switch ``S = (rc^2 - r^2)^2 (rc^2 + 2 r^2 - 3 ro^2) / (rc^2 - ro^2)^3`` between ``ro`` and
    ``rc`` (ASE's ``smooth=True, ro=ro`` and jax-md's ``multiplicative_isotropic_cutoff``).

    >>> lj = LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5, shift=False)
    """

    params = ("sigma", "epsilon")

    def __init__(
        self, sigma=1.0, epsilon=1.0, *, r_cut: float = 2.5, shift: bool = False, r_onset: float | None = None
    ):
        self.sigma = _positive(sigma, "sigma")
        self.epsilon = _positive(epsilon, "epsilon")
        super().__init__(r_cut=r_cut, shift=shift, r_onset=r_onset)

    def _bare(self, r2):
        s6 = (self.sigma**2 / r2) ** 3
        return 4.0 * self.epsilon * (s6 * s6 - s6)

    def _switch(self, r2):
        assert self.r_onset is not None
        rc2, ro2 = self.r_cut**2, self.r_onset**2
        s = (rc2 - r2) ** 2 * (rc2 + 2.0 * r2 - 3.0 * ro2) / (rc2 - ro2) ** 3
        return jnp.where(r2 < ro2, 1.0, s)

    @property
    def stiffness(self) -> float:
        return 36.0 * 2.0 ** (2.0 / 3.0) * float(self.epsilon) / float(self.sigma) ** 2

    @property
    def core(self) -> float:
        return 0.7 * float(self.sigma)  # u(0.7 sigma) = 255 epsilon


class Morse(PairPotential):
    """Morse ``u(r) = epsilon (exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0)))`` (minimum -epsilon at r0).

    ASE's ``MorsePotential(epsilon, r0, rho0)`` is this with ``alpha = rho0 / r0``.  Cut-off
    conventions (see the module): ``shift=False`` truncates, ``shift=True`` subtracts
    ``u(r_cut)``, ``r_onset=ro`` multiplies by the quintic smoothstep ``S = 10 x^3 - 15 x^4 + 6 x^5``
    with ``x = (r_cut - r) / (r_cut - ro)`` clipped to [0, 1] (ASE's ``rcut1 = ro / r0``,
    ``rcut2 = r_cut / r0``).
    """

    params = ("epsilon", "alpha", "r0")

    def __init__(
        self, epsilon=1.0, alpha=6.0, r0=1.0, *, r_cut: float = 2.7, shift: bool = False, r_onset: float | None = None
    ):
        self.epsilon = _positive(epsilon, "epsilon")
        self.alpha = _positive(alpha, "alpha")
        self.r0 = _positive(r0, "r0")
        super().__init__(r_cut=r_cut, shift=shift, r_onset=r_onset)

    def _bare(self, r2):
        e = jnp.exp(self.alpha * (self.r0 - jnp.sqrt(r2)))
        return self.epsilon * e * (e - 2.0)

    def _switch(self, r2):
        assert self.r_onset is not None
        x = jnp.clip((self.r_cut - jnp.sqrt(r2)) / (self.r_cut - self.r_onset), 0.0, 1.0)
        return x**3 * (10.0 - 15.0 * x + 6.0 * x * x)

    @property
    def stiffness(self) -> float:
        return 2.0 * float(self.epsilon) * float(self.alpha) ** 2

    @property
    def core(self) -> float:
        return max(float(self.r0) - math.log(11.0) / float(self.alpha), 0.0)  # u(core) = 99 epsilon
