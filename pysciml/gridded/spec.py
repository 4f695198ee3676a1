"""What crosses the engine boundary for gridded work: frozen specs and numpy blocks of cells.

A :class:`CellFitSpec` holds everything a per-cell fit needs except the data of
the cells, which the engine receives block by block (``(n_cells, n_t, n_states)``
arrays), so the same spec serves an in-memory array, every chunk of a dask
array and every worker of a dask cluster.  ``token`` identifies the spec across
pickling, so an engine compiles once per spec and process, not once per block.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["CellFitSpec", "CellSolveSpec", "parse_memory", "new_token", "content_token", "with_content_token",
           "DEFAULT_BATCH"]

#: default cells per compiled batch, whatever the block size: per-cell results depend (in the last
#: bits) on the batch size only, so a fixed default makes in-memory, dask and cluster runs agree
#: bitwise; larger batches stop paying (measured ~21 us per cell and step at 128 and 512 cells)
DEFAULT_BATCH = 128

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def new_token() -> str:
    """A fresh identifier for a spec (kept through pickling)."""
    return uuid.uuid4().hex


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
    raise InputError(f"must be a positive number of bytes or a string such as '4GiB' or '500MB', got {value!r}.",
                     argument=argument)


@dataclasses.dataclass(frozen=True, eq=False)
class CellFitSpec:
    """A per-cell (or per-cell + shared) fit, without the cells' data.

    Attributes:
        model: the model (scalar states only).
        t: (n_t,) model times shared by every cell; cells start at ``t[0]``.
        per_cell: physics parameters fitted in every cell (``FreeParam``: name, bounds,
            default unconstrained start).
        shared: physics parameters fitted jointly over all cells.
        shared_networks: networks fitted jointly over all cells.
        fixed: values of the physics parameters nobody fits.
        networks_init: flat weights of every network (start of the shared ones).
        fit_u0: fit each cell's initial state.
        loss, l2, strategy, optimizers: as in ``model.fit``.
        solver, adjoint, rtol, atol, max_steps: solver inside the loss.
        differentiation: ``"auto"``, ``"forward"`` or ``"reverse"`` for the cell gradients.
        seed: seed of the network weights.
        token: identifies this spec in every process (compiled functions are reused by it).
    """

    model: Any
    t: np.ndarray
    per_cell: tuple
    shared: tuple
    shared_networks: tuple[str, ...]
    fixed: Mapping[str, np.ndarray]
    networks_init: Mapping[str, np.ndarray]
    fit_u0: bool
    loss: Any
    l2: float
    strategy: Any
    optimizers: tuple
    solver: Any
    adjoint: Any
    rtol: float
    atol: float
    max_steps: int
    differentiation: str = "auto"
    seed: int = 0
    token: str = dataclasses.field(default_factory=new_token)

    @property
    def n_states(self) -> int:
        return self.model.n_states

    @property
    def joint(self) -> bool:
        """True when some parameters are shared by all cells (one joint optimisation)."""
        return bool(self.shared or self.shared_networks)


@dataclasses.dataclass(frozen=True, eq=False)
class CellSolveSpec:
    """Solving the same model in many cells, each with its own parameters and initial state.

    Attributes:
        model: the model.
        t0: model time of the initial states.
        ts: (n_t,) increasing output times, ``ts[0] >= t0``.
        per_cell: names of the parameters given per cell.
        values: the other physics parameter values (same in every cell).
        networks: flat network weights.
        solver, rtol, atol, max_steps: solver settings.
        token: identifies this spec in every process.
    """

    model: Any
    t0: float
    ts: np.ndarray
    per_cell: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    networks: Mapping[str, np.ndarray]
    solver: Any
    rtol: float = 1e-6
    atol: float = 1e-8
    max_steps: int = 100_000
    token: str = dataclasses.field(default_factory=new_token)
