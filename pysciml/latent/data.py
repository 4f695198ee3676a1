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

__all__ = [
    "Scaling",
    "read_series",
    "padded_arrays",
    "bucket",
    "pad_rows",
    "query_series",
    "query_times",
    "condition_names",
    "read_condition",
    "query_condition",
]


@dataclasses.dataclass(frozen=True)
class Scaling:
    """How data maps to network units.

    Attributes:
        mean: (D,) per-state mean of the training observations.
        scale: (D,) per-state spread (std; never zero).
        t_offset: model time mapped to 0.
        time_scale: model-time units per network time unit.
        cond_mean, cond_scale: (n_condition,) mean and spread of the training series' conditions
            (None: an unconditional model).
    """

    mean: np.ndarray
    scale: np.ndarray
    t_offset: float
    time_scale: float
    cond_mean: np.ndarray | None = None
    cond_scale: np.ndarray | None = None

    def conditions(self, c: np.ndarray | None) -> np.ndarray | None:
        """Conditions (n, n_condition) in network units (None stays None)."""
        if c is None or self.cond_mean is None or self.cond_scale is None:
            return None
        return (np.asarray(c, float) - self.cond_mean) / self.cond_scale

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


def condition_names(condition: Any, data: Any) -> tuple[str, ...]:
    """The names of ``data``'s variables that ``condition`` names (an xarray Dataset's per-series variables,
    left out of the states), else ()."""
    names = (condition,) if isinstance(condition, str) else condition
    if (
        _is_xarray(data)
        and hasattr(data, "data_vars")
        and isinstance(names, (list, tuple))
        and names
        and all(isinstance(n, str) for n in names)
    ):
        return tuple(names)
    return ()


def _condition_array(condition: Any, data: Any, obs: Observations, time_dim, series_dim) -> np.ndarray:
    """The raw condition of every training series, (n_series, n_condition), in the order of ``obs``."""
    names = condition_names(condition, data)
    if names:
        missing = [n for n in names if n not in data.data_vars]
        if missing:
            raise InputError(
                f"names {missing}, not variables of the Dataset (its variables: {list(data.data_vars)}).",
                argument="condition",
            )
        import xarray as xr

        condition = xr.concat([data[n] for n in names], dim="condition").transpose(..., "condition")
    elif isinstance(condition, str):
        raise InputError(
            f"is the name {condition!r}; a variable name is read from an xarray Dataset only; give an array "
            "(n_series, n_condition) for a list of series.",
            argument="condition",
        )
    if _is_xarray(condition) and _is_xarray(data):
        _, tdim, sdim = _xarray_names(data, time_dim, series_dim, None)
        if tdim in condition.dims:
            raise InputError(
                f"varies over {tdim!r}; a condition is one vector per series (static), not a time series.",
                argument="condition",
            )
        if sdim is None or sdim not in condition.dims or condition.ndim > 2:
            raise InputError(
                f"is a DataArray with dimensions {list(condition.dims)}; it needs the data's series dimension "
                f"({sdim!r}) and at most one other (the condition's entries).",
                argument="condition",
            )
        condition = condition.transpose(sdim, ...)
        if sdim in condition.coords:  # aligned by series label
            labels = [str(v) for v in condition.coords[sdim].values]
            want = [tr.name for tr in obs]
            if sorted(labels) != sorted(want):
                raise InputError(
                    f"labels its series {labels[:5]}..., the data {want[:5]}...; give one entry per series of the data.",
                    argument="condition",
                )
            condition = condition.isel({sdim: [labels.index(w) for w in want]})
    if _is_xarray(condition):
        condition = condition.values
    return _numeric(condition, "condition")


def _numeric(value: Any, argument: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"must hold numbers, got dtype {arr.dtype}.", argument=argument)
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError("contains NaN or infinite values; every series needs its whole condition.", argument=argument)
    return arr


def read_condition(
    condition: Any, data: Any, obs: Observations, n_condition: int | None, *, time_dim=None, series_dim=None
) -> np.ndarray | None:
    """The condition of every series of ``data`` (read as ``obs``), (n_series, n_condition), checked.

    Args:
        condition: None, an array (n_series, n_condition) (or (n_series,) for one number per series), an
            xarray DataArray over the series dimension (aligned by its labels), or the name(s) of per-series
            variables of an xarray Dataset ``data``.
        n_condition: the fitted model's condition size (0: fitted without one), or None when fitting.
    """
    if condition is None:
        if n_condition:
            raise InputError(
                f"is missing: this model was fitted with a condition of {n_condition} number(s) per series; pass "
                "condition=<(n_series, n_condition) array> for these series.",
                argument="condition",
            )
        return None
    if n_condition == 0:
        raise InputError(
            "was given, but this model was fitted without a condition; fit with fit(data, condition=...) to use one.",
            argument="condition",
        )
    arr = _condition_array(condition, data, obs, time_dim, series_dim)
    n = obs.n_trajectories
    if arr.ndim == 1 and arr.shape[0] == n:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] == 0:
        raise InputError(
            f"has shape {arr.shape}; give one vector per series: ({n}, n_condition) for these {n} series.",
            argument="condition",
        )
    if n_condition is not None and arr.shape[1] != n_condition:
        raise InputError(
            f"has {arr.shape[1]} number(s) per series; the model was fitted with {n_condition}.", argument="condition"
        )
    return arr


def query_condition(condition: Any, n: int, n_condition: int, what: str) -> np.ndarray | None:
    """The condition of ``n`` queries (samples or series), (n, n_condition): one vector for all or one per query.

    ``what`` names the queries in messages ("samples", "series").
    """
    if condition is None:
        if n_condition:
            raise InputError(
                f"is missing: this model was fitted with a condition of {n_condition} number(s) per series; pass "
                f"condition=<vector ({n_condition},) for all {what}, or ({n}, {n_condition}) one per {what[:-1]}>.",
                argument="condition",
            )
        return None
    if n_condition == 0:
        raise InputError(
            "was given, but this model was fitted without a condition; fit with fit(data, condition=...) to use one.",
            argument="condition",
        )
    arr = _numeric(condition.values if _is_xarray(condition) else condition, "condition")
    if arr.ndim == 0 and n_condition == 1:
        arr = arr.reshape(1)
    if arr.ndim == 1 and arr.shape == (n_condition,):
        return np.broadcast_to(arr, (n, n_condition)).copy()
    if arr.ndim == 1 and n_condition == 1 and arr.shape == (n,):
        return arr[:, None]
    if arr.shape != (n, n_condition):
        raise InputError(
            f"has shape {arr.shape}; give ({n_condition},) for all {what} or ({n}, {n_condition}), one per "
            f"{what[:-1]}.",
            argument="condition",
        )
    return arr
