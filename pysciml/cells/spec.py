"""Identifying gridded requests across processes, and reading memory budgets.

A :class:`~pysciml.engines.requests.CellFitRequest` or ``CellSolveRequest`` carries a
``token`` through pickling, so an engine compiles once per request and process, not once
per block; :func:`content_token` makes equal requests (the same fit run again, in any
process) share it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from ..engines.requests import new_token
from ..errors import InputError

__all__ = ["parse_memory", "content_token", "with_content_token"]

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1e3,
    "kb": 1e3,
    "m": 1e6,
    "mb": 1e6,
    "g": 1e9,
    "gb": 1e9,
    "t": 1e12,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def content_token(spec) -> str:
    """A token from the spec's content: equal specs (the same fit run again, in any process) share
    compiled code.  A SHA-256 of the cloudpickled fields (functions of importable modules by
    reference, closures by value); a fresh token if they cannot be pickled."""
    import hashlib

    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - cloudpickle comes with dask
        return new_token()
    fields = tuple(getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "token")
    try:
        return hashlib.sha256(cloudpickle.dumps(fields, protocol=5)).hexdigest()
    except Exception:  # noqa: BLE001 - an unpicklable closure: no sharing across calls
        return new_token()


def with_content_token(spec):
    """``spec`` with its :func:`content_token`."""
    return dataclasses.replace(spec, token=content_token(spec))


def parse_memory(value: Any, *, argument: str = "max_memory") -> int | None:
    """Bytes from ``4e9``, ``"4GiB"``, ``"500 MB"`` ...; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if np.isfinite(value) and value > 0:
            return int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        if m and m.group(2).lower() in _UNITS and float(m.group(1)) > 0:
            return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    raise InputError(
        f"must be a positive number of bytes or a string such as '4GiB' or '500MB', got {value!r}.", argument=argument
    )
