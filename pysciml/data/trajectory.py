"""Engine-free observations: trajectories on their own time grids, NaN = missing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..errors import DataError, InputError
from .timeaxis import TimeMeta

__all__ = ["Trajectory", "Observations", "Padded", "robust_scales"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """One observed trajectory on its own time grid.

    Attributes:
        t: (n_t,) float64 model time, strictly increasing, in ``time.units``.
        y: (n_t, n_states) float64 observations; NaN = not observed.
        state_names: the model's states, one per column of ``y``.
        units: units of each state (``None`` where unknown).
        name: an id for messages and outputs (trajectory-dimension label or position).
        time: how model time maps back to the user's time axis.
        coord: (n_t,) the user's original time values (datetime64 / cftime / numbers).
        attrs: attributes of the object this trajectory came from.
        source: where it came from in the call (``"data"``, ``"data[2]"`` ...).
    """

    t: np.ndarray
    y: np.ndarray
    state_names: tuple[str, ...]
    units: tuple[str | None, ...]
    name: str
    time: TimeMeta
    coord: np.ndarray | None = None
    attrs: dict = dataclasses.field(default_factory=dict)
    source: str = "data"

    def __post_init__(self):
        t = np.asarray(self.t, dtype=np.float64).reshape(-1)
        y = np.asarray(self.y, dtype=np.float64)
        if y.ndim != 2 or y.shape != (t.size, len(self.state_names)):
            raise InputError(
                f"y has shape {y.shape}; expected (n_t, n_states) = ({t.size}, {len(self.state_names)}).",
                argument="y",
            )
        if len(self.units) != len(self.state_names):
            raise InputError("units needs one entry per state.", argument="units")
        object.__setattr__(self, "t", _readonly(t))
        object.__setattr__(self, "y", _readonly(y))
        object.__setattr__(self, "state_names", tuple(self.state_names))
        object.__setattr__(self, "units", tuple(self.units))
        if self.coord is not None:
            object.__setattr__(self, "coord", _readonly(np.asarray(self.coord)))

    @property
    def mask(self) -> np.ndarray:
        """(n_t, n_states) bool: True where a value was observed."""
        return ~np.isnan(self.y)

    @property
    def n_times(self) -> int:
        return int(self.t.size)

    @property
    def t_span(self) -> tuple[float, float]:
        """(first, last) model time."""
        return float(self.t[0]), float(self.t[-1])

    def select(self, keep: np.ndarray) -> Trajectory:
        """The same trajectory restricted to the time points where ``keep`` is True."""
        keep = np.asarray(keep, bool)
        return dataclasses.replace(
            self, t=self.t[keep], y=self.y[keep], coord=None if self.coord is None else self.coord[keep]
        )

    def __repr__(self):
        obs = self.mask.sum(axis=0).tolist()
        return (
            f"Trajectory({self.name!r}, n_t={self.n_times}, t=[{self.t[0]:.6g}, {self.t[-1]:.6g}] "
            f"{self.time.units or ''}, observed per state={dict(zip(self.state_names, obs))})"
        )


def robust_scales(ys: Sequence[np.ndarray]) -> np.ndarray:
    """Per-state scale of observed values, pooled over trajectories; never zero.

    The standard deviation of the observed (non-NaN) values; where that is zero
    (a constant or single value) the root mean square; where that is zero too,
    or the state is never observed, 1.

    Args:
        ys: arrays of shape (n_t_i, n_states), NaN = missing.

    Returns:
        (n_states,) float64.
    """
    y = np.concatenate([np.asarray(v, np.float64) for v in ys], axis=0)
    scales = np.ones(y.shape[1])
    for j in range(y.shape[1]):
        v = y[:, j][~np.isnan(y[:, j])]
        if v.size == 0:
            continue
        std, rms = float(np.std(v)), float(np.sqrt(np.mean(v * v)))
        if std > 1e-12 * rms and np.isfinite(std):
            scales[j] = std
        elif rms > 0 and np.isfinite(rms):
            scales[j] = rms
    return scales


@dataclasses.dataclass(frozen=True, eq=False)
class Padded:
    """Trajectories padded to one length, for batched (vmapped) losses.

    Padding sits at the end of each row.  A padded point has ``valid`` False and
    ``mask`` False for every state, its time repeats the trajectory's last time
    (so each row of ``t`` stays non-decreasing and can be handed to a solver as
    save times), and its values are ``fill``.  Missing observations inside a
    trajectory also hold ``fill`` (0.0 by default, so no NaN ever enters a
    gradient); always weight the loss with ``mask``.

    Attributes:
        t: (n_traj, length) float64 model times.
        y: (n_traj, length, n_states) float64 values, ``fill`` where not observed.
        mask: (n_traj, length, n_states) bool, True = observed.
        valid: (n_traj, length) bool, True = a real time point, False = padding.
        lengths: (n_traj,) int, number of real time points per trajectory.
    """

    t: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    valid: np.ndarray
    lengths: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class Observations:
    """Observed trajectories of one model's states, ready for a fit.

    Attributes:
        trajectories: the trajectories, each on its own time grid.
        state_names: the model's states (columns of every ``y``).
        units: units per state (``None`` where unknown).
        time: the shared time metadata (kind, calendar, reference, units).
        scales: (n_states,) per-state scale (see :func:`robust_scales`), to weigh
            states of different magnitude fairly: divide residuals by it.
        attrs: attributes of the user's data (kept on outputs).
        state_attrs: per-state variable attributes (long_name, units ...).
        notes: what the reader ignored or changed (extra variables, dropped rows).
    """

    trajectories: tuple[Trajectory, ...]
    state_names: tuple[str, ...]
    units: tuple[str | None, ...]
    time: TimeMeta
    scales: np.ndarray
    attrs: dict = dataclasses.field(default_factory=dict)
    state_attrs: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_trajectories(
        cls, trajectories: Sequence[Trajectory], *, scales=None, attrs=None, state_attrs=None, notes=()
    ) -> Observations:
        """Build from trajectories sharing states and time metadata (scales computed if not given)."""
        trajs = tuple(trajectories)
        if not trajs:
            raise DataError("no trajectories were given.", argument="data")
        first = trajs[0]
        for tr in trajs[1:]:
            if tr.state_names != first.state_names:
                raise DataError(
                    f"trajectory {tr.name!r} has states {tr.state_names}, expected {first.state_names}.",
                    argument="data",
                )
        if scales is None:
            scales = robust_scales([tr.y for tr in trajs])
        scales = np.asarray(scales, np.float64).copy()
        scales.setflags(write=False)
        return cls(
            trajs,
            first.state_names,
            first.units,
            first.time,
            scales,
            dict(attrs or {}),
            tuple(state_attrs) if state_attrs is not None else tuple({} for _ in first.state_names),
            tuple(notes),
        )

    # -- sizes ---------------------------------------------------------------
    def __len__(self):
        return len(self.trajectories)

    def __iter__(self):
        return iter(self.trajectories)

    def __getitem__(self, i) -> Trajectory:
        return self.trajectories[i]

    @property
    def n_trajectories(self) -> int:
        return len(self.trajectories)

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def t_span(self) -> np.ndarray:
        """(n_traj, 2) first and last model time of each trajectory."""
        return np.array([tr.t_span for tr in self.trajectories], dtype=np.float64).reshape(-1, 2)

    @property
    def observed_states(self) -> np.ndarray:
        """(n_states,) bool: True for states observed at least once in some trajectory."""
        return np.any([tr.mask.any(axis=0) for tr in self.trajectories], axis=0)

    def first_values(self) -> np.ndarray:
        """(n_traj, n_states) values at each trajectory's first time (NaN where not observed)."""
        return np.stack([tr.y[0] for tr in self.trajectories])

    # -- batching ------------------------------------------------------------
    def to_padded(self, length: int | None = None, *, fill: float = 0.0) -> Padded:
        """Rectangular arrays for batched losses (see :class:`Padded` for how padding is marked).

        Args:
            length: padded length (default: the longest trajectory); giving a fixed
                length keeps array shapes, hence compiled functions, unchanged when
                a growing horizon shortens the trajectories.
            fill: value stored where nothing is observed (missing or padding).
        """
        lengths = np.array([tr.n_times for tr in self.trajectories], dtype=np.int64)
        L = int(lengths.max()) if length is None else int(length)
        if L < lengths.max():
            raise InputError(
                f"length={L} is shorter than the longest trajectory ({lengths.max()} times).", argument="length"
            )
        n, s = self.n_trajectories, self.n_states
        t = np.empty((n, L))
        y = np.full((n, L, s), fill, dtype=np.float64)
        mask = np.zeros((n, L, s), bool)
        valid = np.zeros((n, L), bool)
        for i, tr in enumerate(self.trajectories):
            k = tr.n_times
            t[i, :k], t[i, k:] = tr.t, tr.t[-1]
            m = tr.mask
            y[i, :k][m] = tr.y[m]
            mask[i, :k] = m
            valid[i, :k] = True
        return Padded(t, y, mask, valid, lengths)

    # -- windows (growing horizons) ------------------------------------------
    def subset(
        self, t_min: float | None = None, t_max: float | None = None, *, drop_empty: bool = False
    ) -> Observations:
        """Keep the points with ``t_min <= t <= t_max`` (absolute model time).

        Args:
            t_min, t_max: window in model time units (``None`` = unbounded).
            drop_empty: drop trajectories left without any point; by default that
                is an error (so trajectory positions never shift silently).

        Scales are kept from the full data so weights do not change between stages.
        """
        lo = -np.inf if t_min is None else float(t_min)
        hi = np.inf if t_max is None else float(t_max)
        kept = []
        for tr in self.trajectories:
            sel = tr.select((tr.t >= lo) & (tr.t <= hi))
            if sel.n_times == 0 or not sel.mask.any():
                if drop_empty:
                    continue
                raise DataError(
                    f"trajectory {tr.name!r} (t in [{tr.t[0]:.6g}, {tr.t[-1]:.6g}]) has no observation in "
                    f"[{lo:.6g}, {hi:.6g}]; widen the window, use truncate(horizon) (relative to each "
                    "trajectory's start) or pass drop_empty=True.",
                    argument="t_max" if t_max is not None else "t_min",
                )
            kept.append(sel)
        return dataclasses.replace(self, trajectories=tuple(kept))

    def truncate(self, horizon: float) -> Observations:
        """Keep, in each trajectory, the points within ``horizon`` of its own first time.

        Args:
            horizon: model time units; every trajectory keeps at least its first point.
        """
        if not np.isfinite(horizon) or horizon < 0:
            raise InputError(f"horizon must be a finite non-negative time, got {horizon!r}.", argument="horizon")
        return dataclasses.replace(
            self, trajectories=tuple(tr.select(tr.t <= tr.t[0] + float(horizon)) for tr in self.trajectories)
        )

    def __repr__(self):
        units = f" {self.time.units}" if self.time.units else ""
        return (
            f"Observations({self.n_trajectories} trajectories, states={list(self.state_names)}, "
            f"time={self.time.kind}{units}, lengths={[tr.n_times for tr in self.trajectories]})"
        )
