"""Mass-spring-damper networks (ropes, cloth, lattices): a :class:`SpringNetwork` builds a ``ps.ODEModel``.

Point masses ``m_i`` at nodes, joined by springs ``e = (i, j)``.  Each spring pulls along
its unit vector ``n = (q_j - q_i) / L`` with the tension

    ``f = k (L - L0) + c (v_j - v_i) . n``

(Hooke's law with stiffness ``k`` and rest length ``L0``, plus a dashpot ``c`` on the rate
of extension), so node ``i`` feels ``+f n`` and node ``j`` ``-f n``.  Gravity ``g`` acts
along ``-y`` in 2-D and ``-z`` in 3-D.  Anchored nodes never move.  The state is ``(q, v)``,
positions then velocities, each ``(n_nodes, dim)``: the layout of the symplectic solvers
(:class:`pysciml.VelocityVerlet`, :class:`pysciml.Yoshida4` ...), which conserve the energy
of an undamped network over long times.  ``k``, ``damping``, ``masses``, ``rest`` and ``g``
are model parameters: gradients with respect to them (identifying stiffnesses from
trajectories) go through ``ps.solve`` and ``fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import InputError
from ...model import ODEModel
from ...options import positive_float
from ..inputs import per_item

__all__ = ["SpringNetwork"]


def _pair(nodes) -> tuple[int, int]:
    """Two node indices as plain ints (numpy 2 would print ``np.int64(3)`` in messages)."""
    return int(nodes[0]), int(nodes[1])


class SpringNetwork:
    """A network of point masses joined by springs and dashpots, with gravity and anchors.

    Args:
        positions: ``(n_nodes, dim)`` node positions (dim 2 or 3): the rest shape (rest
            lengths default to its edge lengths) and the default initial positions.
        edges: ``(n_springs, 2)`` node index pairs.
        k: spring stiffness, one value or one per spring (force / length).
        rest_lengths: rest length per spring (default: the lengths in ``positions``).
        damping: dashpot coefficient on the rate of extension, one value or one per spring
            (force / speed; 0: undamped, energy conserved).
        masses: node mass, one value or one per node.
        anchors: indices of nodes held fixed.
        gravity: ``g >= 0`` along ``-y`` (2-D) or ``-z`` (3-D).
        units: ``{"length": ..., "time": ..., "mass": ...}`` written into outputs.

    >>> rope = SpringNetwork.chain(5, length=1.0, k=50.0, anchors=[0], gravity=9.81)
    >>> sol = ps.solve(rope.model(), rope.state(), (0, 2), solver=ps.Tsit5())
    """

    def __init__(
        self,
        positions,
        edges,
        k: Any = 1.0,
        *,
        rest_lengths: Any = None,
        damping: Any = 0.0,
        masses: Any = 1.0,
        anchors: Sequence[int] = (),
        gravity: float = 0.0,
        units: dict[str, str] | None = None,
    ):
        try:
            q = np.asarray(positions, dtype=float)
        except (TypeError, ValueError):
            raise InputError("must be an (n_nodes, dim) array of numbers.", argument="positions") from None
        if q.ndim != 2 or q.shape[1] not in (2, 3) or q.shape[0] < 2:
            raise InputError(f"must have shape (n_nodes >= 2, 2 or 3), got {q.shape}.", argument="positions")
        if not np.all(np.isfinite(q)):
            raise InputError("contains NaN or infinite values.", argument="positions")
        self.positions, self.n, self.dim = q, int(q.shape[0]), int(q.shape[1])
        self.edges = self._check_edges(edges)
        self.n_springs = int(self.edges.shape[0])
        self.k = per_item(k, self.n_springs, "k", sign="positive", item="spring")
        lengths = np.linalg.norm(q[self.edges[:, 1]] - q[self.edges[:, 0]], axis=1)
        if rest_lengths is None:
            if np.any(lengths == 0):
                e = int(np.argmax(lengths == 0))
                raise InputError(
                    f"spring {e} joins nodes {_pair(self.edges[e])} at the same place, so its rest length would be "
                    "0; move the nodes apart or give rest_lengths=.",
                    argument="positions",
                )
            rest_lengths = lengths
        self.rest_lengths = per_item(rest_lengths, self.n_springs, "rest_lengths", sign="positive", item="spring")
        self.damping = per_item(damping, self.n_springs, "damping", sign=">= 0", item="spring")
        self.masses = per_item(masses, self.n, "masses", sign="positive", item="node")
        self.anchors = self._check_anchors(anchors)
        try:
            self.gravity = float(gravity)
        except (TypeError, ValueError):
            raise InputError(f"must be a number, got {gravity!r}.", argument="gravity") from None
        if not (np.isfinite(self.gravity) and self.gravity >= 0):
            raise InputError(
                f"must be >= 0 (its direction is fixed: -y in 2-D, -z in 3-D), got {gravity!r}.", argument="gravity"
            )
        self.units = {"length": "1", "time": "1", "mass": "1", **(units or {})}

    # -- ready-made shapes --------------------------------------------------------------------------
    @classmethod
    def chain(cls, n_nodes: int, length: float = 1.0, *, horizontal: bool = True, **kwargs) -> SpringNetwork:
        """A rope: ``n_nodes`` nodes ``length`` apart in a line along x (or down -y), springs between
        neighbours; ``kwargs`` as for the constructor."""
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or n_nodes < 2:
            raise InputError(f"must be an integer >= 2, got {n_nodes!r}.", argument="n_nodes")
        s = np.arange(n_nodes, dtype=float) * positive_float(length, "length")
        pos = np.stack([s, np.zeros_like(s)], axis=1) if horizontal else np.stack([np.zeros_like(s), -s], axis=1)
        edges = np.stack([np.arange(n_nodes - 1), np.arange(1, n_nodes)], axis=1)
        return cls(pos, edges, **kwargs)

    @classmethod
    def grid(cls, nx: int, ny: int, spacing: float = 1.0, *, shear: bool = True, **kwargs) -> SpringNetwork:
        """Cloth or a lattice: an ``nx x ny`` grid of nodes in the x-y plane (3-D), springs between
        neighbours and, with ``shear``, across each square's diagonals. Node ``(i, j)`` is ``j * nx + i``."""
        for name, v in (("nx", nx), ("ny", ny)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"must be a positive integer, got {v!r}.", argument=name)
        if nx * ny < 2:
            raise InputError("a grid needs at least 2 nodes.", argument="nx")
        spacing = positive_float(spacing, "spacing")
        jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        pos = np.stack([ii.ravel() * spacing, jj.ravel() * spacing, np.zeros(nx * ny)], axis=1)
        node = lambda i, j: j * nx + i  # noqa: E731
        edges = [(node(i, j), node(i + 1, j)) for j in range(ny) for i in range(nx - 1)]
        edges += [(node(i, j), node(i, j + 1)) for j in range(ny - 1) for i in range(nx)]
        if shear:
            edges += [(node(i, j), node(i + 1, j + 1)) for j in range(ny - 1) for i in range(nx - 1)]
            edges += [(node(i + 1, j), node(i, j + 1)) for j in range(ny - 1) for i in range(nx - 1)]
        return cls(pos, np.asarray(edges, dtype=int), **kwargs)

    # -- checks ----------------------------------------------------------------------------------------
    def _check_edges(self, edges) -> np.ndarray:
        try:
            e = np.asarray(edges)
        except (TypeError, ValueError):
            raise InputError("must be an (n_springs, 2) array of node indices.", argument="edges") from None
        if e.ndim != 2 or e.shape[1] != 2 or e.shape[0] < 1:
            raise InputError(f"must have shape (n_springs >= 1, 2), got {e.shape}.", argument="edges")
        if not np.issubdtype(e.dtype, np.integer):
            raise InputError(f"must hold integer node indices, got dtype {e.dtype}.", argument="edges")
        bad = (e < 0) | (e >= self.n)
        if bad.any():
            r = int(np.argmax(bad.any(axis=1)))
            raise InputError(f"spring {r} = {_pair(e[r])} names a node outside 0..{self.n - 1}.", argument="edges")
        loops = e[:, 0] == e[:, 1]
        if loops.any():
            r = int(np.argmax(loops))
            raise InputError(f"spring {r} joins node {e[r, 0]} to itself.", argument="edges")
        pairs = np.sort(e, axis=1)
        _, first, counts = np.unique(pairs, axis=0, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = pairs[first[int(np.argmax(counts > 1))]]
            raise InputError(
                f"nodes {_pair(dup)} are joined by more than one spring; give one spring with the summed stiffness.",
                argument="edges",
            )
        return e.astype(int)

    def _check_anchors(self, anchors) -> np.ndarray:
        try:
            given = np.asarray(anchors if anchors is not None else (), dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"must be node indices, got {anchors!r}.", argument="anchors") from None
        if np.any(given != np.round(given)):
            raise InputError(f"must be whole node indices, got {anchors!r}.", argument="anchors")
        a = given.astype(int)
        bad = (a < 0) | (a >= self.n)
        if bad.any():
            raise InputError(f"node {a[int(np.argmax(bad))]} is outside 0..{self.n - 1}.", argument="anchors")
        return np.unique(a)

    # -- state -------------------------------------------------------------------------------------------
    def state(self, positions=None, velocities=None) -> np.ndarray:
        """The flat state ``(q, v)``: positions default to the rest shape, velocities to zero
        (anchored nodes keep zero velocity)."""
        q = self.positions if positions is None else self._vectors(positions, "positions")
        v = np.zeros_like(q) if velocities is None else self._vectors(velocities, "velocities")
        if self.anchors.size and np.any(v[self.anchors] != 0):
            raise InputError("anchored nodes cannot move: give them zero velocity.", argument="velocities")
        return np.concatenate([q.ravel(), v.ravel()])

    def _vectors(self, value, argument: str) -> np.ndarray:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"must be an ({self.n}, {self.dim}) array of numbers.", argument=argument) from None
        if arr.shape != (self.n, self.dim):
            raise InputError(f"must have shape ({self.n}, {self.dim}), got {arr.shape}.", argument=argument)
        if not np.all(np.isfinite(arr)):
            raise InputError("contains NaN or infinite values.", argument=argument)
        return arr

    def unpack(self, u) -> tuple[Any, Any]:
        """Positions and velocities ``(..., n_nodes, dim)`` each from flat states ``(..., 2 n dim)``."""
        u = u if hasattr(u, "reshape") else np.asarray(u, dtype=float)
        lead, k = u.shape[:-1], self.n * self.dim
        return u[..., :k].reshape(*lead, self.n, self.dim), u[..., k:].reshape(*lead, self.n, self.dim)

    # -- physics -------------------------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The model's parameter values: ``k``, ``damping``, ``rest`` (per spring), ``masses``, ``g``."""
        return {
            "k": self.k,
            "damping": self.damping,
            "rest": self.rest_lengths,
            "masses": self.masses,
            "g": self.gravity,
        }

    def acceleration(self, q, v, p, m):
        """``(n_nodes, dim)`` accelerations of the nodes at positions ``q`` and velocities ``v``.

        For writing a UDE whose physics is this network plus learned terms::

            def physics(u, p, t, m):
                a = net.acceleration(u["q"], u["v"], p, m) + p.nn(...)
        """
        i, j = self.edges[:, 0], self.edges[:, 1]
        d = q[j] - q[i]
        length = m.sqrt(m.sum(d * d, axis=1))
        n = d / length[:, None]
        rate = m.sum((v[j] - v[i]) * n, axis=1)
        tension = p.k * (length - p.rest) + p.damping * rate
        incidence = self._incidence()
        force = m.matmul(incidence, tension[:, None] * n)
        down = np.zeros(self.dim)
        down[-1 if self.dim == 3 else 1] = 1.0
        return (force / p.masses[:, None] - p.g * down[None, :]) * self._free()[:, None]

    def _incidence(self) -> np.ndarray:
        """(n_nodes, n_springs): +1 at a spring's first node, -1 at its second."""
        b = np.zeros((self.n, self.n_springs))
        b[self.edges[:, 0], np.arange(self.n_springs)] = 1.0
        b[self.edges[:, 1], np.arange(self.n_springs)] = -1.0
        return b

    def _free(self) -> np.ndarray:
        free = np.ones(self.n)
        free[self.anchors] = 0.0
        return free

    def model(self, *, name: str = "springs") -> ODEModel:
        """The ``ps.ODEModel`` ``dq/dt = v, dv/dt = a(q, v)`` with parameters :meth:`params`."""
        free = self._free()[:, None]

        def springs(u, p, t, m):
            return {"q": u["v"] * free, "v": self.acceleration(u["q"], u["v"], p, m)}

        L, T = self.units["length"], self.units["time"]
        return ODEModel(
            springs,
            states={"q": (self.n, self.dim), "v": (self.n, self.dim)},
            params=self.params(),
            name=name,
            time_units=T,
            state_units={"q": L, "v": f"{L}/{T}"},
        )

    def energy(self, u, *, params: dict[str, Any] | None = None) -> np.ndarray:
        """Total energy (kinetic + elastic + gravitational) of flat states ``(..., 2 n dim)`` (numpy)."""
        p = {**self.params(), **(params or {})}
        q, v = self.unpack(np.asarray(u, dtype=float))
        masses = np.asarray(p["masses"], float)
        kinetic = 0.5 * np.sum(masses[:, None] * v * v, axis=(-2, -1))
        d = q[..., self.edges[:, 1], :] - q[..., self.edges[:, 0], :]
        stretch = np.linalg.norm(d, axis=-1) - np.asarray(p["rest"], float)
        elastic = 0.5 * np.sum(np.asarray(p["k"], float) * stretch**2, axis=-1)
        height = q[..., -1 if self.dim == 3 else 1]
        return kinetic + elastic + float(p["g"]) * np.sum(masses * height, axis=-1)

    def to_xarray(self, sol):
        """Positions and velocities as an ``xarray.Dataset`` (time x node x component), units in attrs."""
        import xarray as xr

        q, v = self.unpack(np.asarray(sol.u, dtype=float))
        L, T = self.units["length"], self.units["time"]
        ds = xr.Dataset(
            {
                "position": (("time", "node", "component"), q, {"units": L, "long_name": "node position"}),
                "velocity": (("time", "node", "component"), v, {"units": f"{L}/{T}", "long_name": "node velocity"}),
                "energy": (("time",), self.energy(np.asarray(sol.u, dtype=float)), {"long_name": "total energy"}),
                "mass": (("node",), self.masses, {"units": self.units["mass"]}),
                "edge_nodes": (("spring", "end"), self.edges),
            },
            coords={
                "time": np.asarray(sol.t, dtype=float),
                "node": np.arange(self.n),
                "component": ["x", "y", "z"][: self.dim],
            },
        )
        ds["time"].attrs["units"] = T
        ds.attrs.update(
            {
                "gravity": self.gravity,
                "anchors": list(map(int, self.anchors)),
                "source": "pysciml.physics.SpringNetwork",
            }
        )
        return ds

    def __repr__(self) -> str:
        return (
            f"SpringNetwork({self.n} nodes, {self.n_springs} springs, dim={self.dim}, anchors={self.anchors.tolist()}, "
            f"gravity={self.gravity})"
        )
