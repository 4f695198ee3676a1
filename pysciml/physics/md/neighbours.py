"""Neighbour lists in jax: fixed capacity, built through a cell list, with an overflow flag.

A :class:`NeighbourList` holds, for every atom, the indices of the atoms within
``cutoff = r_cut + skin`` (padded with ``n_atoms``) at the positions it was built from.  It stays
valid until some atom has moved more than ``skin / 2``.  Building costs O(N): atoms are binned
into cells of edge >= ``cutoff`` and each atom looks only into its own and the 26 adjacent cells
(when the box holds at least 3 cells along every edge; smaller boxes use all pairs, which is
cheaper there).  Shapes are fixed at allocation (``capacity`` neighbours per atom,
``cell_capacity`` atoms per cell); when a rebuild needs more, ``overflow`` is set and the list
must be re-allocated (:func:`pysciml.physics.run_md` does that itself).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ...engines.registry import get_engine
from ...errors import InputError
from .space import check_box, check_positions, minimum_image, wrap

get_engine("jax")

__all__ = ["NeighbourList", "NeighbourOverflowError", "neighbour_list", "all_pairs_r2", "pairs_r2"]


class NeighbourOverflowError(InputError):
    """A neighbour list was used after a rebuild needed more room than it was allocated."""


def all_pairs_r2(q, box):
    """Squared minimum-image distances of every ordered pair ``(n, n)`` and the mask ``i != j``."""
    n = q.shape[0]
    d = minimum_image(q[None, :, :] - q[:, None, :], box)
    r2 = jnp.sum(d * d, axis=-1)
    mask = ~jnp.eye(n, dtype=bool)
    return jnp.where(mask, r2, jnp.inf), mask


def pairs_r2(q, box, idx):
    """Squared distances ``(n, capacity)`` from each atom to its listed neighbours, and the mask of real entries."""
    n = q.shape[0]
    mask = idx < n
    qj = q[jnp.minimum(idx, n - 1)]
    d = minimum_image(qj - q[:, None, :], box)
    r2 = jnp.sum(d * d, axis=-1)
    return jnp.where(mask, r2, jnp.inf), mask


def _compact(mask, cand, capacity: int, n: int):
    """Row-wise compaction of the candidates where ``mask`` holds into ``(rows, capacity)``, padded with ``n``."""
    rows = mask.shape[0]
    pos = jnp.cumsum(mask, axis=1) - 1
    count = jnp.sum(mask, axis=1)
    col = jnp.where(mask & (pos < capacity), pos, capacity)
    out = jnp.full((rows, capacity + 1), n, dtype=jnp.int32)
    out = out.at[jnp.arange(rows)[:, None], col].set(cand.astype(jnp.int32))
    return out[:, :capacity], count


def _cells_per_edge(box: np.ndarray, cutoff: float) -> tuple[int, int, int] | None:
    nc = np.floor(box / cutoff).astype(int)
    return (int(nc[0]), int(nc[1]), int(nc[2])) if np.all(nc >= 3) else None


def _candidates_fn(box: np.ndarray, cutoff: float, cells: tuple[int, int, int] | None, cell_capacity: int):
    """``q -> (candidate indices (n, m), within-cutoff mask (n, m), cell overflow)``, jax-traceable."""
    box_j = jnp.asarray(box)
    c2 = cutoff * cutoff

    if cells is None:

        def dense(q):
            n = q.shape[0]
            r2, _ = all_pairs_r2(q, box_j)
            cand = jnp.broadcast_to(jnp.arange(n)[None, :], (n, n))
            return cand, r2 < c2, jnp.asarray(False)

        return dense

    ncell = np.asarray(cells)
    n_cells = int(np.prod(ncell))
    size = jnp.asarray(box / ncell)
    offsets = jnp.asarray(list(itertools.product((-1, 0, 1), repeat=3)))  # (27, 3)
    ncell_j = jnp.asarray(ncell)

    def cell_list(q):
        n = q.shape[0]
        c3 = jnp.clip(jnp.floor(wrap(q, box_j) / size).astype(jnp.int32), 0, ncell_j - 1)
        cid = (c3[:, 0] * cells[1] + c3[:, 1]) * cells[2] + c3[:, 2]
        order = jnp.argsort(cid)
        sorted_cid = cid[order]
        counts = jnp.bincount(cid, length=n_cells)
        start = jnp.cumsum(counts) - counts
        rank = jnp.arange(n) - start[sorted_cid]
        slot = jnp.where(rank < cell_capacity, rank, cell_capacity)
        table = jnp.full((n_cells, cell_capacity + 1), n, dtype=jnp.int32)
        table = table.at[sorted_cid, slot].set(order.astype(jnp.int32))[:, :cell_capacity]
        nb3 = (c3[:, None, :] + offsets[None, :, :]) % ncell_j  # (n, 27, 3)
        nbid = (nb3[..., 0] * cells[1] + nb3[..., 1]) * cells[2] + nb3[..., 2]
        cand = table[nbid].reshape(n, 27 * cell_capacity)
        qj = q[jnp.minimum(cand, n - 1)]
        d = minimum_image(qj - q[:, None, :], box_j)
        r2 = jnp.sum(d * d, axis=-1)
        ok = (cand < n) & (cand != jnp.arange(n)[:, None]) & (r2 < c2)
        return cand, ok, jnp.max(counts) > cell_capacity

    return cell_list


def builder(box: np.ndarray, cutoff: float, capacity: int, cells, cell_capacity: int) -> Callable:
    """``q -> (idx (n, capacity), overflow)``: the jax-traceable rebuild of a list with these shapes."""
    cand_fn = _candidates_fn(box, cutoff, cells, cell_capacity)

    def build(q):
        cand, ok, cell_over = cand_fn(q)
        idx, count = _compact(ok, cand, capacity, q.shape[0])
        return idx, cell_over | (jnp.max(count) > capacity)

    return build


@functools.lru_cache(maxsize=32)
def _jitted(kind: str, box: tuple, cutoff: float, capacity: int, cells, cell_capacity: int) -> Callable:
    """Compiled builders shared by lists of the same shapes (``kind``: ``"build"`` or ``"candidates"``)."""
    if kind == "build":
        return jax.jit(builder(np.asarray(box), cutoff, capacity, cells, cell_capacity))
    return jax.jit(_candidates_fn(np.asarray(box), cutoff, cells, cell_capacity))


@dataclasses.dataclass(frozen=True)
class NeighbourList:
    """Neighbour indices ``idx (n, capacity)`` (padded with ``n``) built at ``reference`` positions."""

    idx: jax.Array
    reference: jax.Array
    overflow: jax.Array
    box: np.ndarray
    r_cut: float
    skin: float
    capacity: int
    cells: tuple[int, int, int] | None
    cell_capacity: int

    @property
    def method(self) -> str:
        """``"cells"`` (O(N) build) or ``"all pairs"`` (small boxes)."""
        return "all pairs" if self.cells is None else "cells"

    @property
    def cutoff(self) -> float:
        return self.r_cut + self.skin

    def build_fn(self) -> Callable:
        """The jax-traceable ``q -> (idx, overflow)`` with this list's shapes."""
        return builder(self.box, self.cutoff, self.capacity, self.cells, self.cell_capacity)

    def update(self, positions) -> NeighbourList:
        """Rebuilt at ``positions`` with the same capacities (check :attr:`overflow`)."""
        q = jnp.asarray(positions)
        idx, over = _jitted(
            "build", tuple(self.box.tolist()), self.cutoff, self.capacity, self.cells, self.cell_capacity
        )(q)
        return dataclasses.replace(self, idx=idx, reference=q, overflow=over)

    def needs_update(self, positions) -> bool:
        """Whether some atom moved more than ``skin / 2`` since the build."""
        d = minimum_image(jnp.asarray(positions) - self.reference, jnp.asarray(self.box))
        return bool(jnp.max(jnp.sum(d * d, axis=-1)) > (0.5 * self.skin) ** 2)

    def check(self) -> None:
        """Raise :class:`NeighbourOverflowError` when the last build overflowed (a list too small)."""
        if not isinstance(self.overflow, jax.core.Tracer) and bool(self.overflow):  # pyright: ignore[reportAttributeAccessIssue]
            raise NeighbourOverflowError(
                f"overflowed: an atom has more than capacity = {self.capacity} neighbours within "
                f"{self.cutoff:g} (or a cell more than {self.cell_capacity} atoms); allocate a new list at these "
                "positions with neighbour_list(...) or a larger capacity_factor.",
                argument="neighbours",
            )


def neighbour_list(
    positions, box, r_cut: float, *, skin: float = 0.3, capacity_factor: float = 1.25, capacity: int | None = None
) -> NeighbourList:
    """Allocate and build a :class:`NeighbourList` at ``positions`` (sizes found here, on the host).

    Args:
        positions: ``(n, 3)`` Cartesian positions.
        box: ``(3,)`` periodic edge lengths; ``r_cut + skin`` must not exceed half the shortest.
        r_cut: the potential's cut-off.
        skin: extra margin; the list stays valid while every atom moves less than ``skin / 2``.
        capacity_factor: head-room over the counts found now (>= 1).
        capacity: neighbours per atom, overriding the factor (a small value forces overflow).
    """
    q = check_positions(positions)
    box = check_box(box, cutoff=r_cut + skin)
    if not (math.isfinite(skin) and skin >= 0):
        raise InputError(f"must be >= 0 and finite, got {skin!r}.", argument="skin")
    if not (math.isfinite(capacity_factor) and capacity_factor >= 1):
        raise InputError(f"must be >= 1, got {capacity_factor!r}.", argument="capacity_factor")
    n = q.shape[0]
    cutoff = r_cut + skin
    cells = _cells_per_edge(box, cutoff)
    cell_capacity = 1
    if cells is not None:
        c3 = np.clip(np.floor(wrap(q, box) / (box / np.asarray(cells))).astype(int), 0, np.asarray(cells) - 1)
        counts = np.bincount((c3[:, 0] * cells[1] + c3[:, 1]) * cells[2] + c3[:, 2], minlength=int(np.prod(cells)))
        cell_capacity = max(int(math.ceil(counts.max() * capacity_factor)), 1)
    qj = jnp.asarray(q)
    if capacity is None:
        _, ok, _ = _jitted("candidates", tuple(box.tolist()), cutoff, 0, cells, cell_capacity)(qj)
        capacity = max(int(math.ceil(int(jnp.max(jnp.sum(ok, axis=1))) * capacity_factor)), 1)
    capacity = min(int(capacity), max(n - 1, 1))
    nl = NeighbourList(
        idx=jnp.zeros((n, capacity), jnp.int32),
        reference=qj,
        overflow=jnp.asarray(False),
        box=box,
        r_cut=float(r_cut),
        skin=float(skin),
        capacity=capacity,
        cells=cells,
        cell_capacity=cell_capacity,
    )
    return nl.update(qj)
