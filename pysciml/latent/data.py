"""Series in, padded scaled arrays out: reading a latent ODE's training data and query series.

Training data: a list of ``(t, y)`` series (each on its own time grid, NaN =
missing), or an xarray Dataset / DataArray with a time dimension and a series
dimension, read by :func:`pysciml.data.as_observations`.  Values are scaled per
state (``(y - mean) / scale``) and times by ``(t - t_offset) / time_scale``
before they reach the networks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..data.ingest import as_observations
from ..data.readers import find_time_dim, is_pair
from ..data.trajectory import Observations
from ..errors import DataError, InputError

__all__ = ["Scaling", "read_series", "padded_arrays", "bucket", "pad_rows", "query_series", "query_times"]


@dataclasses.dataclass(frozen=True)
class Scaling:
    """How data maps to network units.

    Attributes:
        mean: (D,) per-state mean of the training observations.
        scale: (D,) per-state spread (std; never zero).
        t_offset: model time mapped to 0.
        time_scale: model-time units per network time unit.
    """

    mean: np.ndarray
    scale: np.ndarray
    t_offset: float
    time_scale: float

    def values(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean) / self.scale

    def unvalues(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.mean

    def times(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, float) - self.t_offset) / self.time_scale


def _is_xarray(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "xarray"


def _series_dim(obj, time_dim: str, series_dim: str | None, state_dim: str | None) -> str | None:
    dims = [d for d in obj.dims if d not in (time_dim, state_dim)]
    if series_dim is not None:
        if series_dim not in obj.dims:
            raise InputError(
                f"{series_dim!r} is not a dimension of the data; its dimensions are {list(obj.dims)}.",
                argument="series_dim",
            )
        return series_dim
    if len(dims) > 1:
        raise InputError(
            f"the data has several dimensions besides time: {dims}; pass series_dim='<dim>' "
            "naming the one that separates series.",
            argument="series_dim",
        )
    return dims[0] if dims else None


def _xarray_names(data, time_dim, series_dim, states):
    import xarray as xr

    if series_dim is not None and series_dim not in data.dims:
        raise InputError(
            f"{series_dim!r} is not a dimension of the data; its dimensions are {list(data.dims)}.",
            argument="series_dim",
        )
    tdim = find_time_dim(data, time_dim, exclude=(series_dim,) if series_dim else (), argument="data")
    if isinstance(data, xr.Dataset):
        names = tuple(str(v) for v in data.data_vars) if states is None else tuple(states)
        sdim = _series_dim(data, tdim, series_dim, None)
        return names, tdim, sdim
    extra = [d for d in data.dims if d not in (tdim, series_dim)]
    if len(data.dims) == 3 or (series_dim is not None and len(extra) == 1):
        state_dim = extra[-1] if series_dim is not None else None
        if state_dim is None:
            raise InputError(
                f"a 3-D DataArray needs series_dim='<dim>' (dimensions {list(data.dims)}); the "
                "remaining one is read as the state dimension.",
                argument="series_dim",
            )
        labels = data.coords[state_dim].values if state_dim in data.coords else range(data.sizes[state_dim])
        names = tuple(str(v) for v in labels) if states is None else tuple(states)
        return names, tdim, series_dim
    sdim = _series_dim(data, tdim, series_dim, None)
    names = (str(data.name) if data.name is not None else "y",) if states is None else tuple(states)
    return names, tdim, sdim


def _pairs_names(data, states):
    dims = set()
    for i, item in enumerate(data):
        if not is_pair(item):
            raise DataError(
                f"item {i} is a {type(item).__name__}; each series must be a (t, y) pair of arrays "
                "(t: (n_t,), y: (n_t,) or (n_t, n_states)).",
                argument=f"data[{i}]",
            )
        y = np.asarray(item[1])
        if y.ndim not in (1, 2):
            raise DataError(f"y has shape {y.shape}; give (n_t,) or (n_t, n_states).", argument=f"data[{i}]")
        dims.add(1 if y.ndim == 1 else y.shape[1])
    if len(dims) != 1:
        raise DataError(
            f"the series have different numbers of states {sorted(dims)}; every y needs the same "
            "columns (NaN where a state is not observed).",
            argument="data",
        )
    d = dims.pop()
    if states is not None:
        return tuple(states)
    return ("y",) if d == 1 else tuple(f"y{j}" for j in range(d))


def read_series(data: Any, *, states=None, time_dim=None, series_dim=None, time_units=None) -> Observations:
    """Training series as :class:`~pysciml.data.Observations` (validated: sorted, unique, not all-NaN times).

    Args:
        data: a list of ``(t, y)`` pairs (t: (n_t,) model times; y: (n_t,) or (n_t, D); NaN = missing),
            one ``(t, y)`` pair, an xarray Dataset (one variable per state) or DataArray with a time
            dimension and a series dimension, or Observations.
        states: state names (default: the Dataset's variables, the DataArray's name / state labels,
            or ``y0, y1, ...``).
        time_dim, series_dim: names of those xarray dimensions (default: detected).
        time_units: model time units for calendar time axes.
    """
    if isinstance(data, Observations):
        return data
    if _is_xarray(data):
        names, tdim, sdim = _xarray_names(data, time_dim, series_dim, states)
        return as_observations(
            data, states=list(names), time_dim=tdim, trajectory_dim=sdim, time_units=time_units, unobserved="error"
        )
    if is_pair(data):
        data = [tuple(data)]
    if not isinstance(data, (list, tuple)) or not data:
        raise DataError(
            f"cannot read series from {type(data).__name__ if data is not None else 'None'}; give a "
            "list of (t, y) pairs or an xarray Dataset/DataArray with a time and a series dimension.",
            argument="data",
        )
    names = _pairs_names(data, states)
    return as_observations(list(data), states=list(names), time_units=time_units, unobserved="error")


def padded_arrays(obs: Observations, scaling: Scaling, length: int | None = None):
    """``(T (N, L), Y (N, L, D), M (N, L, D))`` scaled, zero-filled where missing or padding."""
    pad = obs.to_padded(length)
    Y = np.where(pad.mask, scaling.values(np.where(pad.mask, pad.y, scaling.mean)), 0.0)
    return scaling.times(pad.t), Y, pad.mask


def bucket(n: int, minimum: int = 8) -> int:
    """The padded size for n: a power of two, at least ``minimum`` (few distinct shapes, few compilations)."""
    return max(int(minimum), 1 << (int(n) - 1).bit_length())


def pad_rows(*arrays, rows: int):
    """Each array with its first axis padded to ``rows`` by repeating its last row (results there are dropped)."""
    return tuple(
        np.concatenate([a, np.repeat(a[-1:], rows - a.shape[0], axis=0)]) if rows > a.shape[0] else a for a in arrays
    )


def query_times(t: Any, argument: str) -> np.ndarray:
    """1-D finite, strictly increasing float times, else an InputError naming ``argument``."""
    arr = np.asarray(t)
    if arr.dtype.kind not in "iuf":
        raise InputError(
            f"must be numeric model times (dtype {arr.dtype} given); convert calendar times to model time first.",
            argument=argument,
        )
    arr = arr.astype(float)
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"must be a non-empty 1-D array of times, got shape {arr.shape}.", argument=argument)
    if not np.all(np.isfinite(arr)):
        raise InputError("contains NaN or infinite times; give finite times.", argument=argument)
    d = np.diff(arr)
    if np.any(d == 0):
        raise InputError("has duplicated times; drop or average duplicates first.", argument=argument)
    if np.any(d < 0):
        raise InputError("is not sorted; sort the times (and the values with them) first.", argument=argument)
    return arr


def query_series(t: Any, y: Any, n_obs: int, names) -> tuple[np.ndarray, np.ndarray]:
    """One query series ``(t (n,), y (n, D))`` checked against the fitted states."""
    t = query_times(t, "t")
    yarr = np.asarray(y)
    if yarr.dtype.kind not in "iuf":
        raise InputError(f"must hold numbers (NaN = missing), got dtype {yarr.dtype}.", argument="y")
    yarr = yarr.astype(float)
    if yarr.ndim == 1 and n_obs == 1:
        yarr = yarr[:, None]
    if yarr.ndim != 2 or yarr.shape != (t.size, n_obs):
        raise InputError(
            f"has shape {yarr.shape}; expected (len(t), n_states) = ({t.size}, {n_obs}) for the "
            f"fitted states {list(names)}.",
            argument="y",
        )
    if np.isinf(yarr).any():
        raise InputError("contains infinite values; use NaN for missing values.", argument="y")
    if np.isnan(yarr).all():
        raise InputError("is all NaN: a series needs at least one observed value to be encoded.", argument="y")
    return t, yarr
