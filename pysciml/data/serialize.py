"""Observations and time axes to JSON-able dicts + numpy arrays, and back (no pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .timeaxis import TimeMeta, model_time_to_coord, parse_reference, ref_string
from .trajectory import Observations, Trajectory

__all__ = ["time_meta_to_dict", "time_meta_from_dict", "observations_to_arrays", "observations_from_arrays"]


def _plain(v):
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def time_meta_to_dict(meta: TimeMeta) -> dict:
    """A JSON-able description of a :class:`TimeMeta`."""
    ref = meta.reference
    if meta.kind in ("datetime64", "cftime"):
        ref = ref_string(ref)
    elif meta.kind == "timedelta64":
        ref = int(np.asarray(ref).astype("timedelta64[ns]").astype(np.int64))
    elif ref is not None:
        ref = float(ref)
    return {
        "kind": meta.kind,
        "units": meta.units,
        "calendar": meta.calendar,
        "reference": ref,
        "dtype": meta.dtype,
        "resolution": meta.resolution,
        "name": meta.name,
        "attrs": _plain(meta.attrs),
        "timezone": meta.timezone,
    }


def time_meta_from_dict(d: dict) -> TimeMeta:
    """Inverse of :func:`time_meta_to_dict`."""
    ref = d.get("reference")
    kind = d["kind"]
    if kind in ("datetime64", "cftime") and ref is not None:
        ref = parse_reference(ref, kind, d.get("calendar"), d.get("dtype") or "datetime64[ns]", "time")
    elif kind == "timedelta64" and ref is not None:
        ref = np.timedelta64(int(ref), "ns")
    return TimeMeta(
        kind=kind,
        units=d.get("units"),
        calendar=d.get("calendar"),
        reference=ref,
        dtype=d.get("dtype"),
        resolution=d.get("resolution", "ms"),
        name=d.get("name", "time"),
        attrs=dict(d.get("attrs") or {}),
        timezone=d.get("timezone"),
    )


def observations_to_arrays(obs: Observations, prefix: str = "obs") -> tuple[dict, dict[str, np.ndarray]]:
    """``(description, arrays)``: JSON-able metadata and float arrays of every trajectory."""
    arrays: dict[str, np.ndarray] = {f"{prefix}/scales": np.asarray(obs.scales)}
    trajs = []
    for i, tr in enumerate(obs.trajectories):
        arrays[f"{prefix}/t/{i}"] = np.asarray(tr.t)
        arrays[f"{prefix}/y/{i}"] = np.asarray(tr.y)
        trajs.append({"name": tr.name, "attrs": _plain(tr.attrs), "source": tr.source})
    desc = {
        "state_names": list(obs.state_names),
        "units": list(obs.units),
        "time": time_meta_to_dict(obs.time),
        "attrs": _plain(obs.attrs),
        "state_attrs": [_plain(a) for a in obs.state_attrs],
        "notes": list(obs.notes),
        "trajectories": trajs,
    }
    return desc, arrays


def observations_from_arrays(desc: dict, arrays: Mapping[str, Any], prefix: str = "obs") -> Observations:
    """Inverse of :func:`observations_to_arrays` (time coordinates rebuilt from model time)."""
    meta = time_meta_from_dict(desc["time"])
    trajs = []
    for i, info in enumerate(desc["trajectories"]):
        t = np.asarray(arrays[f"{prefix}/t/{i}"], dtype=float)
        coord = model_time_to_coord(t, meta)
        trajs.append(
            Trajectory(
                t,
                np.asarray(arrays[f"{prefix}/y/{i}"], dtype=float),
                tuple(desc["state_names"]),
                tuple(desc["units"]),
                info["name"],
                meta,
                coord,
                dict(info["attrs"]),
                info["source"],
            )
        )
    return Observations.from_trajectories(
        trajs,
        scales=arrays[f"{prefix}/scales"],
        attrs=desc["attrs"],
        state_attrs=desc["state_attrs"],
        notes=desc["notes"],
    )
