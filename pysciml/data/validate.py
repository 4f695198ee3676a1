"""Checks shared by the readers: time order, numeric values, enough observations."""

from __future__ import annotations

import numpy as np

from ..errors import DataError

__all__ = ["check_time_order", "as_array", "as_float_values", "check_enough_observations"]


def _show(values, idx) -> list[str]:
    return [str(values[i]) for i in idx[:5]]


def check_time_order(
    t: np.ndarray, coord: np.ndarray, *, argument: str, time_name: str = "time", what: str = ""
) -> None:
    """Raise a DataError unless model times ``t`` are strictly increasing.

    Args:
        t: (n_t,) model times.
        coord: (n_t,) the user's time values (shown in messages).
        argument: argument named in the message.
        time_name: the user's time dimension name (for the ``sortby`` hint).
        what: which trajectory, for the message (``" (trajectory 'b')"``).
    """
    if t.size < 2:
        return
    uniq, counts = np.unique(t, return_counts=True)
    if uniq.size < t.size:
        dup_t = uniq[counts > 1]
        idx = [int(np.flatnonzero(t == v)[0]) for v in dup_t[:5]]
        if coord.dtype.kind in "MmOf" and coord.size == t.size and np.unique(coord).size == coord.size:
            raise DataError(
                f"the time axis{what} has distinct times that fall on the same float64 model time, e.g. "
                f"{_show(coord, idx)} and their neighbours: they are closer than model time resolves so far from "
                "the reference time. Give a reference_time near the data, or average times that close.",
                argument=argument,
            )
        raise DataError(
            f"the time axis{what} has {int((counts - 1).sum())} duplicated time(s), e.g. {_show(coord, idx)}; "
            f"average or drop duplicates first, e.g. ds.groupby('{time_name}').mean() or "
            f"df[~df.index.duplicated()].",
            argument=argument,
        )
    steps = np.diff(t)
    if np.any(steps < 0):
        bad = np.flatnonzero(steps < 0)
        raise DataError(
            f"the time axis{what} is not sorted: {_show(coord, bad)} come(s) before an earlier time. "
            f"Sort it with ds.sortby('{time_name}') (pandas: df.sort_index()); pysciml does not reorder data silently.",
            argument=argument,
        )


def as_array(values, *, what: str, argument: str) -> np.ndarray:
    """``np.asarray(values)``, with a DataError (not numpy's ValueError) for ragged nested lists.

    Args:
        values: an array-like.
        what: what the values are, for the message (``"y"``, ``"values of 'prey'"``).
        argument: argument named in the message.
    """
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{what} cannot be read as an array ({exc}); give a rectangular array, e.g. np.array(...) of "
            "rows of equal length, with NaN for missing values.",
            argument=argument,
        ) from None


def _text_or_bools(arr: np.ndarray) -> str | None:
    """``"text"`` or ``"booleans"`` if an object array holds any, else None."""
    flat = arr.reshape(-1)
    if any(isinstance(v, (str, bytes)) for v in flat):
        return "text"
    if any(isinstance(v, (bool, np.bool_)) for v in flat):
        return "booleans"
    return None


def as_float_values(values, *, name: str, argument: str, what: str = "") -> np.ndarray:
    """Numeric values as float64 (NaN kept as missing); DataError for text, objects or inf.

    Args:
        values: an array of observations.
        name: the state the values belong to (shown in messages).
        argument: argument named in the message.
        what: which trajectory, for the message.
    """
    arr = as_array(values, what=f"values of {name!r}{what}", argument=argument)
    given = arr.dtype
    if arr.dtype.kind not in "iuf":
        # numbers (and None = missing) held as objects are read; text (even "1.5") and booleans are not
        odd = _text_or_bools(arr) if arr.dtype.kind == "O" else None
        if arr.dtype.kind == "O" and odd is None:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                arr = None
        else:
            arr = None
        if arr is None or arr.dtype.kind not in "iuf":
            kind = "booleans" if given.kind == "b" else (f"dtype object holding {odd}" if odd else f"dtype {given}")
            raise DataError(
                f"values of {name!r}{what} are not numbers ({kind}); give float values, with NaN for missing "
                "observations (e.g. convert with .astype(float)).",
                argument=argument,
            )
    arr = arr.astype(np.float64, copy=True)
    inf = np.isinf(arr)
    if inf.any():
        raise DataError(
            f"values of {name!r}{what} contain {int(inf.sum())} infinite value(s); replace them with NaN "
            "(missing) or fix the data, e.g. ds.where(np.isfinite(ds)).",
            argument=argument,
        )
    return arr


def check_enough_observations(t: np.ndarray, y: np.ndarray, *, argument: str, what: str = "") -> None:
    """DataError if a trajectory is all NaN or has fewer than 2 observed times."""
    observed = ~np.isnan(y).all(axis=1) if y.size else np.zeros(t.shape, bool)
    n = int(observed.sum())
    if n == 0:
        raise DataError(
            f"trajectory{what} has no observed value (all NaN); drop it from the data or fill it.",
            argument=argument,
        )
    if n < 2:
        raise DataError(
            f"trajectory{what} has only {n} observed time; a fit needs at least 2 per trajectory. "
            "Drop it or add observations.",
            argument=argument,
        )
