"""Readers: xarray / pandas / numpy observations -> raw trajectories (times as given)."""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError
from .validate import as_array, as_float_values

__all__ = ["RawTrajectory", "ReadOptions", "TIME_NAMES", "find_time_dim", "decode_time_coord", "read_any"]

#: dimension / column names taken as the time axis when nothing else marks one
TIME_NAMES = ("time", "t", "date", "datetime", "times")
_TRAJ_NAMES = ("trajectory", "traj")
_STATE_DIM_NAMES = ("state", "states", "variable", "var")


@dataclasses.dataclass
class RawTrajectory:
    """One trajectory as read, before time conversion."""

    coord: Any  # 1-D times as given
    columns: dict  # state -> (n_t,) float64
    source: str  # "data", "data[1]" ...
    name: str | None = None
    units: dict = dataclasses.field(default_factory=dict)
    state_attrs: dict = dataclasses.field(default_factory=dict)
    attrs: dict = dataclasses.field(default_factory=dict)
    time_name: str = "time"
    time_attrs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    names: tuple[str, ...]
    time_dim: str | None = None
    state_dim: str | None = None
    trajectory_dim: str | None = None


def _mod(name):
    return sys.modules.get(name)


def _is_xarray(obj) -> bool:
    xr = _mod("xarray")
    return xr is not None and isinstance(obj, (xr.Dataset, xr.DataArray))


def _is_pandas(obj) -> bool:
    pd = _mod("pandas")
    return pd is not None and isinstance(obj, (pd.DataFrame, pd.Series))


def _is_time_like(values) -> bool:
    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", None) in ("M", "m"):
        return True
    if dtype is not None and str(dtype).startswith("datetime64"):  # tz-aware pandas dtype
        return True
    cftime = _mod("cftime")
    if cftime is not None and dtype is not None and dtype.kind == "O" and len(values):
        return isinstance(np.asarray(values).reshape(-1)[0], cftime.datetime)
    return False


# -- xarray --------------------------------------------------------------------
def find_time_dim(obj, time_dim: str | None = None, *, exclude=(), argument: str = "data") -> str:
    """The time dimension of an xarray object (``time_dim`` if given, else detected).

    Detected: the one dimension whose coordinate holds datetime64 / timedelta64 /
    cftime values or is marked as time by CF attrs (``axis="T"``,
    ``standard_name="time"``, units ``"... since ..."``); failing that, the one
    dimension named time, t, date, datetime or times (any case).
    """
    dims = [d for d in obj.dims if d not in exclude]
    if time_dim is not None:
        if time_dim not in obj.dims:
            raise DataError(
                f"{time_dim!r} is not a dimension of the data; its dimensions are {list(obj.dims)}.",
                argument="time_dim",
            )
        return time_dim
    marked = []
    for d in dims:
        if d in obj.coords:
            c = obj.coords.variables[d]  # (the variable: indexing obj would build a DataArray per coordinate)
            units = str(c.attrs.get("units", ""))
            if (
                _is_time_like(c.values)
                or c.attrs.get("axis") == "T"
                or c.attrs.get("standard_name") == "time"
                or " since " in units
            ):
                marked.append(d)
    if not marked:
        marked = [d for d in dims if str(d).lower() in TIME_NAMES]
    if len(marked) == 1:
        return marked[0]
    seen = {d: (str(obj.coords[d].dtype) if d in obj.coords else "no coordinate") for d in obj.dims}
    if marked:
        raise DataError(
            f"several dimensions look like time: {marked}; pass time_dim='...' to choose.", argument="time_dim"
        )
    raise DataError(
        f"no time axis found: the dimensions are {seen} and none has datetime/cftime values or a time name. "
        "Pass time_dim='<dimension name>' (or rename it to 'time').",
        argument=argument,
    )


def decode_time_coord(obj, tdim: str, *, argument: str = "data"):
    """Decode a numeric time coordinate with CF units (``"days since ..."``) with xarray's CF decoder.

    Units xarray cannot decode (a bad date, an unknown calendar, "months since" outside
    ``360_day``, values out of range) raise a DataError naming ``argument``.
    """
    c = obj.coords.get(tdim)
    if c is None or c.dtype.kind not in "iuf" or " since " not in str(c.attrs.get("units", "")):
        return obj
    import xarray as xr

    try:
        with warnings.catch_warnings():  # "continuing using cftime": pysciml reads cftime dates as they are
            warnings.simplefilter("ignore", xr.SerializationWarning)
            decoded = xr.decode_cf(xr.Dataset(coords={tdim: c.variable}))[tdim]
    except (ValueError, TypeError, OverflowError) as exc:  # pandas' OutOfBounds errors are ValueErrors
        cal = c.attrs.get("calendar")
        raise DataError(
            f"the time coordinate {tdim!r} has units {c.attrs.get('units')!r}"
            + (f" and calendar {cal!r}" if cal is not None else "")
            + f" that xarray cannot decode ({str(exc).splitlines()[0]}); fix its 'units'/'calendar' attributes "
            "(e.g. 'days since 2000-01-01', calendar 'noleap') or decode the times yourself and assign them.",
            argument=argument,
        ) from None
    return obj.assign_coords({tdim: decoded})


def _state_dim_of(da, names, opts, skip) -> str | None:
    if opts.state_dim is not None:
        if opts.state_dim not in da.dims:
            raise DataError(
                f"{opts.state_dim!r} is not a dimension of the data; its dimensions are {list(da.dims)}.",
                argument="state_dim",
            )
        return opts.state_dim
    for d in da.dims:
        if d in skip:
            continue
        labels = [str(v) for v in np.asarray(da.coords[d].values).reshape(-1)] if d in da.coords else []
        if set(labels) & set(names) or (str(d).lower() in _STATE_DIM_NAMES and labels):
            return d
    return None


def dataarray_to_dataset(da, opts, source, notes):
    names = opts.names
    tdim = find_time_dim(da, opts.time_dim, argument=source)
    sdim = _state_dim_of(da, names, opts, skip={tdim, opts.trajectory_dim})
    if sdim is not None:
        labels = [str(v) for v in np.asarray(da.coords[sdim].values)] if sdim in da.coords else []
        if not labels:
            raise DataError(
                f"state dimension {sdim!r} has no coordinate labels; label it with the state names, "
                f"e.g. da.assign_coords({sdim}={list(names)}).",
                argument="state_dim",
            )
        twice = sorted({lab for lab in labels if labels.count(lab) > 1})
        if twice:
            raise DataError(
                f"the state dimension {sdim!r} has the label(s) {twice} more than once; each state needs one "
                f"column: drop or average the duplicates (e.g. da.groupby('{sdim}').mean()).",
                argument=source,
            )
        import xarray as xr

        ds = xr.Dataset({lab: da.isel({sdim: i}, drop=True) for i, lab in enumerate(labels)})
        for lab in labels:
            ds[lab].attrs = dict(da.attrs)
        return ds
    if da.name is not None and str(da.name) in names:
        return da.to_dataset(name=str(da.name))
    if da.name is None and len(names) == 1:
        return da.to_dataset(name=names[0])
    hint = f"it is named {da.name!r}" if da.name is not None else "it has no name"
    raise DataError(
        f"cannot tell which state this DataArray holds ({hint}; states are {list(names)}). Name it after its "
        "state, e.g. da.rename('prey'), or give it a state dimension labelled with state names (state_dim=).",
        argument=source,
    )


def _read_xarray(obj, opts: ReadOptions, source: str, notes: list) -> list[RawTrajectory]:
    import xarray as xr

    names = opts.names
    ds = obj if isinstance(obj, xr.Dataset) else dataarray_to_dataset(obj, opts, source, notes)
    tdim = find_time_dim(ds, opts.time_dim, exclude=(opts.trajectory_dim,), argument=source)
    if tdim not in ds.coords:
        raise DataError(
            f"time dimension {tdim!r} has no coordinate values; add them with ds.assign_coords({tdim}=...).",
            argument=source,
        )
    ds = decode_time_coord(ds, tdim, argument=source)
    trajdim = opts.trajectory_dim
    if trajdim is None:
        trajdim = next((d for d in ds.dims if str(d).lower() in _TRAJ_NAMES and d != tdim), None)
    elif trajdim not in ds.dims:
        raise DataError(
            f"{trajdim!r} is not a dimension of the data; its dimensions are {list(ds.dims)}.",
            argument="trajectory_dim",
        )
    present = [s for s in names if s in ds.data_vars]
    extra = [str(v) for v in ds.data_vars if v not in names]
    if not present:
        raise DataError(
            f"none of the states {list(names)} is in the data; its variables are {extra}. Rename variables "
            "after the model's states, e.g. ds.rename({'old': 'prey'}).",
            argument="states",
        )
    if extra:
        notes.append(f"{source}: ignored variables not among the states: {extra}")
    columns, units, sattrs = {}, {}, {}
    for s in present:
        v = ds[s]
        if tdim not in v.dims:
            raise DataError(
                f"variable {s!r} has no time dimension {tdim!r} (its dimensions: {list(v.dims)}).", argument=source
            )
        other = [d for d in v.dims if d not in (tdim, trajdim)]
        squeeze = [d for d in other if v.sizes[d] == 1]
        if len(squeeze) < len(other):
            bad = {d: v.sizes[d] for d in other if v.sizes[d] != 1}
            raise DataError(
                f"variable {s!r} has dimensions {bad} besides time; pass trajectory_dim='<dim>' if they index "
                "separate trajectories, select one point (ds.sel(...)), or for gridded data use "
                "pysciml.data.stack_cells / the .sciml accessor.",
                argument="trajectory_dim" if len(bad) == 1 and opts.trajectory_dim is None else source,
            )
        if squeeze:
            v = v.isel({d: 0 for d in squeeze}, drop=True)
        columns[s] = v.transpose(*([trajdim] if trajdim in v.dims else []), tdim)
        units[s] = v.attrs.get("units")
        sattrs[s] = dict(v.attrs)
    coord = ds[tdim]
    common: dict[str, Any] = dict(
        units={k: u for k, u in units.items() if u is not None},
        state_attrs=sattrs,
        attrs=dict(ds.attrs),
        time_name=str(tdim),
        time_attrs=dict(coord.attrs),
    )
    times = coord.values
    if trajdim is None:
        cols = {s: as_float_values(c.values, name=s, argument=source) for s, c in columns.items()}
        return [RawTrajectory(times, cols, source, name=None, **common)]
    labels = ds[trajdim].values if trajdim in ds.coords else np.arange(ds.sizes[trajdim])
    out = []
    for i, lab in enumerate(labels):
        what = f" (trajectory {trajdim}={lab})"
        cols = {}
        for s, c in columns.items():
            vals = c.isel({trajdim: i}).values if trajdim in c.dims else c.values
            cols[s] = as_float_values(vals, name=s, argument=source, what=what)
        out.append(RawTrajectory(times, cols, f"{source}[{trajdim}={lab}]", name=str(lab), **common))
    return out


# -- pandas --------------------------------------------------------------------
def _pick_time_column(df, opts, index_cols, source) -> str:
    cols = [str(c) for c in df.columns]
    if opts.time_dim is not None:
        key = "index" if opts.time_dim == "index" and "index" in cols else opts.time_dim
        if key not in cols:
            raise DataError(
                f"{opts.time_dim!r} is neither a column nor an index level; columns are "
                f"{[c for c in cols if c not in index_cols]}, index levels {index_cols}.",
                argument="time_dim",
            )
        return key
    skip = {opts.trajectory_dim}
    tiers = [
        [c for c in cols if c not in skip and _is_time_like(df[c])],
        [c for c in cols if c not in skip and c.lower() in TIME_NAMES],
        [c for c in index_cols if c not in skip],
    ]
    for tier in tiers:
        if len(tier) == 1:
            return tier[0]
        if len(tier) > 1:
            raise DataError(
                f"several columns could be the time axis: {tier}; pass time_dim='...'.", argument="time_dim"
            )
    raise DataError(
        f"no time axis found: columns are {cols} and the index is a plain row number. Set the times as the "
        "index (df.set_index('time')), name a time column 'time', or pass time_dim='<column>'.",
        argument=source,
    )


def _read_pandas(obj, opts: ReadOptions, source: str, notes: list) -> list[RawTrajectory]:
    import pandas as pd

    names = opts.names
    if isinstance(obj, pd.Series):
        name = obj.name if obj.name is not None else (names[0] if len(names) == 1 else None)
        if name is None:
            raise DataError(
                f"the Series has no name; name it after its state, e.g. s.rename('{names[0]}').", argument=source
            )
        obj = obj.to_frame(name=str(name))
    df = obj.copy(deep=False)
    df.columns = [str(c) for c in df.columns]
    default_index = isinstance(df.index, pd.RangeIndex) and df.index.names == [None]
    index_cols = [] if default_index else [str(n) if n is not None else "index" for n in df.index.names]
    cols = list(df.columns) + index_cols
    twice = sorted({c for c in cols if cols.count(c) > 1})
    if twice:
        raise DataError(
            f"the name(s) {twice} appear more than once among the columns and index levels "
            f"(columns {list(df.columns)}, index {index_cols}); give each column and index level its own name, "
            "e.g. df.rename(columns={...}) or df.rename_axis('time').",
            argument=source,
        )
    if not default_index:
        df = df.reset_index()
        df.columns = [str(c) for c in df.columns]
    else:
        df = df.reset_index(drop=True)
    tcol = _pick_time_column(df, opts, index_cols, source)
    trajcol = opts.trajectory_dim
    if trajcol is not None and trajcol not in df.columns:
        raise DataError(
            f"{trajcol!r} is neither a column nor an index level; columns are {list(df.columns)}.",
            argument="trajectory_dim",
        )
    present = [s for s in names if s in df.columns]
    extra = [c for c in df.columns if c not in names and c not in (tcol, trajcol) and c not in index_cols]
    if not present:
        raise DataError(
            f"none of the states {list(names)} is a column; columns are "
            f"{[c for c in df.columns if c not in (tcol, trajcol)]}. Rename columns after the "
            "model's states, e.g. df.rename(columns={'old': 'prey'}).",
            argument="states",
        )
    if extra:
        notes.append(f"{source}: ignored columns not among the states: {extra}")
    groups = [(None, df)] if trajcol is None else list(df.groupby(trajcol, sort=False))
    out = []
    for lab, g in groups:
        what = "" if lab is None else f" (trajectory {trajcol}={lab})"
        cols = {s: as_float_values(g[s].to_numpy(), name=s, argument=source, what=what) for s in present}
        times = pd.Index(g[tcol])
        out.append(
            RawTrajectory(
                times,
                cols,
                source if lab is None else f"{source}[{trajcol}={lab}]",
                name=None if lab is None else str(lab),
                time_name="time" if tcol == "index" else tcol,
            )
        )
    return out


# -- numpy ---------------------------------------------------------------------
def _is_leaf_array(x) -> bool:
    return not (isinstance(x, (Mapping, tuple)) or _is_xarray(x) or _is_pandas(x))


def is_pair(x) -> bool:
    """True for a ``(t, y)`` pair: two array-likes, the first 1-D."""
    if not isinstance(x, (tuple, list)) or len(x) != 2 or not all(_is_leaf_array(v) for v in x):
        return False
    try:
        return np.asarray(x[0]).ndim == 1
    except (ValueError, TypeError):  # ragged nested lists are not a pair
        return False


def _read_arrays(t, y, columns: dict | None, opts: ReadOptions, source: str) -> list[RawTrajectory]:
    names = opts.names
    t = as_array(t, what="t", argument=source)
    if columns is None:
        yarr = as_array(y, what="y", argument=source)
        n_t = t.reshape(-1).size
        if yarr.ndim == 1:
            if len(names) != 1:
                raise DataError(
                    f"y is 1-D but the model has {len(names)} states {list(names)}; give y of "
                    f"shape (n_t, {len(names)}) with NaN for unobserved values.",
                    argument=source,
                )
            yarr = yarr[:, None]
        if yarr.ndim != 2 or yarr.shape[1] != len(names) or yarr.shape[0] != n_t:
            hint = " (did you mean y.T?)" if yarr.ndim == 2 and yarr.shape == (len(names), n_t) else ""
            raise DataError(
                f"y has shape {yarr.shape} but t has {n_t} times and the model {len(names)} "
                f"states; y must be (n_t, n_states) = ({n_t}, {len(names)}){hint}.",
                argument=source,
            )
        columns = {s: yarr[:, j] for j, s in enumerate(names)}
    cols = {}
    n_t = t.reshape(-1).size
    for s, v in columns.items():
        arr = as_float_values(v, name=s, argument=source)
        if arr.shape != (n_t,):
            raise DataError(f"values of {s!r} have shape {arr.shape} but t has {n_t} times.", argument=source)
        cols[s] = arr
    return [RawTrajectory(t, cols, source)]


def _read_mapping(d: Mapping, opts: ReadOptions, source: str, notes: list) -> list[RawTrajectory]:
    tkeys = [k for k in ("t", "time") if k in d and k not in opts.names]  # a state named t is not the times
    if len(tkeys) != 1:
        clash = [k for k in ("t", "time") if k in d and k in opts.names]
        raise DataError(
            (
                f"the dict has both 't' and 'time' entries; keep one of them for the times; got keys {list(d)}."
                if len(tkeys) > 1
                else f"a dict of observations needs a 't' entry with the times; got keys {list(d)}"
                + (f" (the state(s) {clash} are values, not times: add a 't' or 'time' entry)." if clash else ".")
            ),
            argument=source,
        )
    tkey = tkeys[0]
    if "y" in d and "y" not in opts.names:  # a state named y is a column, not the (n_t, n_states) matrix
        return _read_arrays(d[tkey], d["y"], None, opts, source)
    present = {k: d[k] for k in opts.names if k in d}
    extra = [k for k in d if k not in opts.names and k != tkey]
    if not present:
        raise DataError(
            f"the dict has neither 'y' nor any state among {list(opts.names)}; keys are {list(d)}.", argument="states"
        )
    if extra:
        notes.append(f"{source}: ignored entries not among the states: {extra}")
    return _read_arrays(d[tkey], None, present, opts, source)


def read_any(data, opts: ReadOptions, source: str, notes: list) -> list[RawTrajectory]:
    """Read any accepted form (see docs/data.md) into raw trajectories."""
    if _is_xarray(data):
        return _read_xarray(data, opts, source, notes)
    if _is_pandas(data):
        return _read_pandas(data, opts, source, notes)
    if isinstance(data, Mapping):
        return _read_mapping(data, opts, source, notes)
    if is_pair(data):
        return _read_arrays(data[0], data[1], None, opts, source)
    if isinstance(data, (list, tuple)):
        if not data:
            raise DataError("the list of trajectories is empty.", argument=source)
        out = []
        for i, item in enumerate(data):
            out.extend(read_any(item, opts, f"{source}[{i}]", notes))
        return out
    raise DataError(
        f"cannot read observations from a {type(data).__name__}; give an xarray Dataset/DataArray, a pandas "
        "DataFrame/Series, a (t, y) pair of arrays, a dict {'t': ..., 'y': ...}, or a list of these.",
        argument=source,
    )
