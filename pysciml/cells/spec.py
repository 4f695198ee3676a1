"""Identifying gridded requests across processes.

A :class:`~pysciml.engines.requests.CellFitRequest` or ``CellSolveRequest`` carries a
``token`` through pickling, so an engine compiles once per request and process, not once
per block; :func:`content_token` makes equal requests (the same fit run again, in any
process) share it.
"""

from __future__ import annotations

import dataclasses

from ..engines.requests import new_token

__all__ = ["content_token", "with_content_token"]


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
