"""State declarations and the flat layout shared by every engine.

States are declared as a list of names (each a scalar), or as a mapping
``name -> size or shape`` for vector/grid states, e.g. ``{"u": 500, "v": 500}``
or ``{"T": (18, 30)}``.  Engines integrate one flat float64 vector: the
states concatenated in declaration order, each flattened in C order.

How the physics function sees ``u`` (its first argument):

* all states scalar -> the flat 1-D array (``y1, y2, y3 = u`` and ``u[1:]`` work);
* exactly one state, with a shape -> that state's array, in its shape;
* otherwise -> a :class:`StateView`: ``u.name`` / ``u["name"]`` give each
  state's array in its shape, and ``a, b = u`` unpacks them in order.

The physics may return a list/tuple with one entry per state (each broadcast
to its state's shape), a mapping ``name -> value``, or one array holding the
flat derivative (or, for a single shaped state, an array of that shape).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InputError, ModelError

__all__ = ["StateSpec", "StateLayout", "StateView", "normalise_states"]


@dataclasses.dataclass(frozen=True)
class StateSpec:
    """One declared state: its name, shape, units and description."""

    name: str
    shape: tuple[int, ...] = ()
    units: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int)) if self.shape else 1


def _as_shape(value: Any, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, (int, np.integer)):
        shape = (int(value),)
    else:
        try:
            shape = tuple(int(v) for v in value)
        except TypeError:
            raise ModelError(
                f"state {name!r} has size {value!r}; give an int (a vector), a tuple (a grid) or None (a scalar).",
                argument="states",
            ) from None
    if any(s <= 0 for s in shape):
        raise ModelError(f"state {name!r} has a non-positive size {value!r}.", argument="states")
    return shape


def normalise_states(states: Any) -> tuple[StateSpec, ...]:
    """Turn a user's ``states=`` declaration into a tuple of :class:`StateSpec`."""
    if isinstance(states, str):
        states = [states]
    if isinstance(states, Mapping):
        items = list(states.items())
    elif isinstance(states, Sequence):
        items = [(s.name, s) if isinstance(s, StateSpec) else (s, None) for s in states]
    else:
        raise ModelError(
            "states must be a list of names, e.g. ['prey', 'predator'], or a mapping "
            "of name -> size/shape, e.g. {'u': 500, 'v': 500}; "
            f"got {type(states).__name__}.",
            argument="states",
        )
    if not items:
        raise ModelError("states is empty; declare at least one state.", argument="states")
    out = []
    seen = set()
    for name, decl in items:
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(
                f"state name {name!r} is not a valid Python identifier; use letters, digits and underscores.",
                argument="states",
            )
        if name in seen:
            raise ModelError(f"state {name!r} is declared twice.", argument="states")
        seen.add(name)
        if isinstance(decl, StateSpec):
            out.append(dataclasses.replace(decl, name=name))
        elif isinstance(decl, Mapping):  # {"shape": ..., "units": ...}
            out.append(StateSpec(name, _as_shape(decl.get("shape"), name), decl.get("units"), decl.get("description")))
        else:
            out.append(StateSpec(name, _as_shape(decl, name)))
    return tuple(out)


class StateView(Sequence):
    """Named access to several states held in one flat vector (see module doc)."""

    __slots__ = ("_layout", "_parts")

    def __init__(self, layout: StateLayout, parts: tuple):
        object.__setattr__(self, "_layout", layout)
        object.__setattr__(self, "_parts", parts)

    def __len__(self):
        return len(self._parts)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._parts[self._layout.index(key)]
        return self._parts[key]

    def __getattr__(self, name):
        try:
            return self._parts[self._layout.index(name)]
        except KeyError:
            raise AttributeError(f"model has no state {name!r}; states are {list(self._layout.names)}") from None

    def __repr__(self):
        return f"StateView({', '.join(self._layout.names)})"


@dataclasses.dataclass(frozen=True)
class StateLayout:
    """The flat layout of a model's states, and the packing/unpacking rules."""

    specs: tuple[StateSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @functools.cached_property
    def size(self) -> int:  # cached: read on every solve call (the dataclass is frozen)
        return sum(s.size for s in self.specs)

    @property
    def all_scalar(self) -> bool:
        return all(s.shape == () for s in self.specs)

    @property
    def offsets(self) -> tuple[int, ...]:
        offs, o = [], 0
        for s in self.specs:
            offs.append(o)
            o += s.size
        return tuple(offs)

    def index(self, name: str) -> int:
        for i, s in enumerate(self.specs):
            if s.name == name:
                return i
        raise KeyError(name)

    def slice_of(self, name: str) -> slice:
        i = self.index(name)
        o = self.offsets[i]
        return slice(o, o + self.specs[i].size)

    def state_values(self, u, name: str):
        """State ``name`` of the flat states ``u`` (``(..., n)``), shaped ``(..., *state_shape)``.

        A ``KeyError`` naming the states when there is no such state.
        """
        try:
            i = self.index(name)
        except KeyError:
            raise KeyError(f"no state {name!r}; states are {list(self.names)}") from None
        return u[..., self.slice_of(name)].reshape(u.shape[:-1] + self.specs[i].shape)

    def flat_names(self) -> list[str]:
        """One label per flat entry: ``"prey"`` for scalars, ``"u[3]"`` for vector entries."""
        out = []
        for s in self.specs:
            if s.shape == ():
                out.append(s.name)
            else:
                out.extend(f"{s.name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*s.shape))
        return out

    # -- what the physics sees -------------------------------------------------
    def view(self, y):
        """Present the flat state ``y`` (any array library) to the physics."""
        if self.all_scalar:
            return y
        if len(self.specs) == 1:
            return y.reshape(self.specs[0].shape)
        parts, o = [], 0
        for s in self.specs:
            parts.append(y[o : o + s.size].reshape(s.shape))
            o += s.size
        return StateView(self, tuple(parts))

    def pack(self, out, xp, *, what: str = "physics"):
        """Flatten what the physics returned into one vector, checking its size.

        Args:
            out: the physics' return value (list/tuple, mapping or array).
            xp: the array namespace (numpy, jax.numpy...) used to build the vector.
            what: name used in error messages.
        """
        n = self.size
        if isinstance(out, Mapping):
            missing = [s.name for s in self.specs if s.name not in out]
            extra = [k for k in out if k not in self.names]
            if missing or extra:
                raise ModelError(
                    f"{what} returned a mapping with keys {sorted(out)}; it must have exactly "
                    f"the states {list(self.names)} (missing {missing}, unknown {extra}).",
                    argument=what,
                )
            out = [out[s.name] for s in self.specs]
        if isinstance(out, (list, tuple)):
            if len(out) == len(self.specs):
                pieces = []
                for s, v in zip(self.specs, out):
                    v = xp.asarray(v)
                    if v.shape != s.shape:
                        try:
                            v = xp.broadcast_to(v, s.shape)
                        except (ValueError, TypeError):
                            raise ModelError(
                                f"{what} returned shape {tuple(v.shape)} for state {s.name!r}, "
                                f"whose shape is {s.shape}; return one entry per state.",
                                argument=what,
                            ) from None
                    pieces.append(xp.reshape(v, (s.size,)))
                return xp.concatenate(pieces) if len(pieces) > 1 else pieces[0]
            if self.all_scalar or len(out) != n:
                raise ModelError(
                    f"{what} returned {len(out)} values but the model has {len(self.specs)} "
                    f"states {list(self.names)}; return one derivative per state, in order.",
                    argument=what,
                )
            out = xp.stack([xp.asarray(v) for v in out])
        arr = xp.asarray(out)
        if arr.size != n:
            raise ModelError(
                f"{what} returned an array of shape {tuple(arr.shape)} ({arr.size} values) but the "
                f"model has {n} state values ({', '.join(f'{s.name}{list(s.shape)}' for s in self.specs)}); "
                "return one derivative per state value.",
                argument=what,
            )
        return xp.reshape(arr, (n,))

    def flatten_u0(self, u0, *, argument: str = "u0") -> np.ndarray:
        """Validate a concrete initial state (list, array or mapping) and flatten it."""
        if isinstance(u0, Mapping):
            missing = [s.name for s in self.specs if s.name not in u0]
            extra = [k for k in u0 if k not in self.names]
            if missing or extra:
                raise InputError(
                    f"initial state mapping must name exactly the states {list(self.names)} "
                    f"(missing {missing}, unknown {extra}).",
                    argument=argument,
                )
            parts = []
            for s in self.specs:
                v = np.asarray(u0[s.name], dtype=float)
                try:
                    v = np.broadcast_to(v, s.shape)
                except ValueError:
                    raise InputError(
                        f"{s.name!r} has shape {v.shape}, the state's shape is {s.shape}.",
                        argument=f"{argument}.{s.name}",
                    ) from None
                parts.append(v.reshape(-1))
            return np.concatenate(parts)
        try:
            arr = np.asarray(u0, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"could not read the initial state as numbers ({type(u0).__name__}); pass a "
                f"list/array of {self.size} values or a mapping state -> value.",
                argument=argument,
            ) from None
        if arr.size != self.size:
            raise InputError(
                f"has {arr.size} values but the model has {self.size} state values "
                f"({', '.join(self.names) if self.all_scalar else ', '.join(f'{s.name}{list(s.shape)}' for s in self.specs)}); "
                "pass one value per state, in declaration order.",
                argument=argument,
            )
        return arr.reshape(-1)
