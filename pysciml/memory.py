"""Memory: this process's resident size now and its peak, measured by the process itself, and
memory budgets given by users (``max_memory="4GiB"``).

``resource.getrusage(...).ru_maxrss`` is not a per-process measurement on Linux: a child
started by ``subprocess`` starts with the parent's high-water mark, so a small child of a
large parent reports the parent's peak.  Here the peak is the kernel's ``VmHWM`` of this
process, which :func:`reset_peak` resets (``/proc/self/clear_refs``) before the part to be
measured.  Elsewhere (macOS) the numbers fall back to ``ru_maxrss`` and the reset reports
that it could not reset.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["resident_bytes", "peak_bytes", "reset_peak", "parse_memory"]

_STATUS = Path("/proc/self/status")


def _status_kib(field: str) -> int | None:
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _ru_maxrss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def resident_bytes() -> int | None:
    """Resident set size now (``VmRSS``), or None where /proc is unavailable."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_bytes() -> int:
    """Peak resident set size of this process since it started or since :func:`reset_peak`."""
    kib = _status_kib("VmHWM")
    return _ru_maxrss_bytes() if kib is None else kib * 1024


def reset_peak() -> bool:
    """Reset the peak to the current resident size; False where the system cannot (then the peak
    keeps counting from the process start)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


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
