"""Model specification: physics written once, states, parameters, networks.

:class:`ModelSpec` is what every engine runs: engine-free, no estimator methods
(those are added by :class:`pysciml.ODEModel`, which is a ``ModelSpec``).  Its
physics is a plain function ``f(u, p, t, m)``:

* ``u``: the state (see :mod:`pysciml.states` for how it is presented);
* ``p``: a :class:`ParamView`; ``p.k1`` is a parameter value, ``p.nn(x)``
  calls a declared network;
* ``t``: time (a scalar);
* ``m``: the math namespace of the engine running the model (``m.exp``,
  ``m.where``, ``m.concatenate``, ``m.laplacian`` ...; under the jax engine it
  behaves as ``jax.numpy``).  Write the physics with ``m`` so the same source
  runs on every engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import InputError, ModelError, UndeclaredNameError
from .networks import MLP
from .numerics import numpy_math
from .params import ParamSpec, normalise_params
from .states import StateLayout, normalise_states

__all__ = ["ModelSpec", "ParamView"]


class ParamView:
    """What the physics sees as ``p``: parameter values and callable networks.

    Engines build it; users only read from it (``p.k1``, ``p.nn(u)``).
    """

    __slots__ = ("_values", "_networks")

    def __init__(self, values: Mapping[str, Any], networks: Mapping[str, Callable] | None = None):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_networks", dict(networks or {}))

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        nets = object.__getattribute__(self, "_networks")
        if name in nets:
            return nets[name]
        known = sorted(values) + sorted(nets)
        if name.startswith("__"):
            raise AttributeError(name)
        raise UndeclaredNameError(
            f"the physics asked for p.{name}, but the model declares no parameter or "
            f"network {name!r}; declared: {known}. Add it to params= or networks=.",
            argument="params",
        )

    def __getitem__(self, name):
        return self.__getattr__(name)

    def __setattr__(self, name, value):
        raise AttributeError("p is read-only inside the physics; return derivatives instead.")

    def __contains__(self, name):
        return name in self._values or name in self._networks

    @property
    def values(self) -> dict:
        """Parameter values by name (a copy)."""
        return dict(self._values)

    @property
    def network_functions(self) -> dict:
        """Network callables by name (a copy)."""
        return dict(self._networks)

    def replace(self, *, values: Mapping[str, Any] | None = None, networks: Mapping[str, Callable] | None = None):
        """A new view with some values and/or networks replaced or added."""
        return ParamView({**self._values, **(values or {})}, {**self._networks, **(networks or {})})

    def __repr__(self):
        return f"ParamView(params={sorted(self._values)}, networks={sorted(self._networks)})"


class ModelSpec:
    """An ODE model's declaration ``du/dt = f(u, p, t, m)`` with named states and parameters.

    Users build :class:`pysciml.ODEModel` (a ``ModelSpec`` that can also fit itself); the
    layers below the estimators (requests, engines, discovery) see only this class.

    Args:
        physics: the right-hand side ``f(u, p, t, m)`` (see module doc).
        states: state names (``["y1", "y2"]``) or ``{name: size or shape}``.
        params: ``{name: default or ps.Param(...)}``.
        networks: ``{name: ps.MLP(...)}``; called in the physics as ``p.name(x)``.
        name: a short model name used in outputs (defaults to the function name).
        time_units: units of model time (e.g. ``"days"``), carried to outputs.
        u0: default initial state (used when ``solve`` gets none).
        state_units: ``{state: units}`` carried to outputs.

    Attributes:
        events: the model's own ``ps.Event`` / ``ps.At`` objects (empty unless set, e.g. by
            ``ps.bio.from_sbml``); ``ps.solve`` uses them when its caller gives no ``events=``.
    """

    events: tuple = ()

    def __init__(
        self,
        physics: Callable,
        states: Any,
        params: Mapping[str, Any] | None = None,
        networks: Mapping[str, MLP] | None = None,
        *,
        name: str | None = None,
        time_units: str | None = None,
        u0: Any = None,
        state_units: Mapping[str, str] | None = None,
    ):
        if not callable(physics):
            raise ModelError(
                f"physics must be a function f(u, p, t, m), got {type(physics).__name__}.",
                argument="physics",
            )
        self._check_signature(physics)
        self.physics = physics
        specs = normalise_states(states)
        if state_units:
            import dataclasses

            unknown = [k for k in state_units if k not in {s.name for s in specs}]
            if unknown:
                raise ModelError(f"names unknown states {unknown}.", argument="state_units")
            specs = tuple(dataclasses.replace(s, units=state_units.get(s.name, s.units)) for s in specs)
        self.layout = StateLayout(specs)
        self.param_specs: dict[str, ParamSpec] = normalise_params(params)
        self.networks: dict[str, MLP] = self._check_networks(networks)
        clash = set(self.param_specs) & set(self.networks)
        if clash:
            raise ModelError(f"names {sorted(clash)} are both parameters and networks.", argument="networks")
        self.name = name or getattr(physics, "__name__", "model")
        if time_units is not None and not isinstance(time_units, str):
            raise ModelError(f"must be a string such as 'days' or None, got {time_units!r}.", argument="time_units")
        self.time_units = time_units
        self.u0 = None if u0 is None else self.layout.flatten_u0(u0, argument="u0")

    # -- validation helpers ---------------------------------------------------------
    @staticmethod
    def _check_signature(physics):
        try:
            sig = inspect.signature(physics)
        except (TypeError, ValueError):  # builtins, C functions: trust the user
            return
        params = [
            p
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        has_var = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
        if len(params) != 4 and not (has_var and len(params) <= 4):
            raise ModelError(
                f"physics {getattr(physics, '__name__', physics)!r} takes {len(params)} required "
                "arguments; it must be f(u, p, t, m): state, parameters, time and the math namespace.",
                argument="physics",
            )

    @staticmethod
    def _check_networks(networks) -> dict[str, MLP]:
        if networks is None:
            return {}
        if not isinstance(networks, Mapping):
            raise ModelError(
                "networks must be a mapping name -> ps.MLP(...), e.g. networks={'nn': ps.MLP(2, 2)}.",
                argument="networks",
            )
        out = {}
        for k, v in networks.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ModelError(f"network name {k!r} is not a valid identifier.", argument="networks")
            if not isinstance(v, MLP):
                raise ModelError(
                    f"network {k!r} is a {type(v).__name__}; declare networks with ps.MLP(n_in, n_out, ...).",
                    argument=f"networks.{k}",
                )
            out[k] = v
        return out

    # -- read-only facts ----------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        return self.layout.names

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.param_specs)

    @property
    def n_states(self) -> int:
        """Number of values in the flat state vector."""
        return self.layout.size

    def default_params(self) -> dict[str, np.ndarray]:
        """Default physics parameter values, ``{name: float64 array}``."""
        return {k: s.default.copy() for k, s in self.param_specs.items()}

    def init_networks(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Initial flat weights of every network (identical on every engine for a seed)."""
        return {k: net.init(seed + i) for i, (k, net) in enumerate(self.networks.items())}

    def resolve_params(
        self, overrides: Mapping[str, Any] | None, *, argument: str = "params", base: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Defaults (or ``base``, complete values already resolved) updated with ``overrides``;
        values may be arrays of any engine (tracers too).

        Raises :class:`InputError` for unknown names, wrong shapes and non-finite values.
        """
        values: dict[str, Any] = self.default_params() if base is None else dict(base)
        if overrides is None:
            return values
        if not isinstance(overrides, Mapping):
            raise InputError(
                f"must be a mapping of parameter name -> value, got {type(overrides).__name__}; "
                f"e.g. params={{'{next(iter(self.param_specs), 'k')}': 1.0}}.",
                argument=argument,
            )
        for name, value in overrides.items():
            if name in self.networks:
                continue  # network weights are handled by the caller
            if name not in self.param_specs:
                raise InputError(
                    f"unknown parameter {name!r}; the model's parameters are {list(self.param_specs)}.",
                    argument=argument,
                )
            spec = self.param_specs[name]
            shape = tuple(getattr(value, "shape", np.shape(value)))
            if shape != spec.shape:
                try:
                    np.broadcast_shapes(shape, spec.shape)
                    ok = len(shape) <= len(spec.shape)
                except ValueError:
                    ok = False
                if not ok:
                    raise InputError(
                        f"parameter {name!r} has shape {shape}, its declared shape is {spec.shape}.",
                        argument=f"{argument}.{name}",
                    )
            spec.check_value(value, argument=f"{argument}.{name}")
            values[name] = value
        return values

    def rhs_numpy(self, u, t: float = 0.0, params: Mapping[str, Any] | None = None, network_params=None):
        """Evaluate the physics with numpy (for checks and discovery); returns the flat derivative."""

        values = self.resolve_params(params)
        thetas = network_params if network_params is not None else self.init_networks()
        nets = {k: (lambda x, _n=net, _w=thetas[k]: _n.apply_numpy(_w, x)) for k, net in self.networks.items()}
        y = np.asarray(u, dtype=float).reshape(-1)
        out = self.physics(self.layout.view(y), ParamView(values, nets), t, numpy_math)
        return self.layout.pack(out, np)

    def __repr__(self):
        nets = f", networks={list(self.networks)}" if self.networks else ""
        return (
            f"{type(self).__name__}({self.name!r}, states={list(self.state_names)}, "
            f"params={list(self.param_names)}{nets})"
        )

    def with_physics(
        self, physics: Callable, params: Mapping[str, Any], networks: Mapping[str, MLP] | None, *, name: str
    ) -> ModelSpec:
        """A new model with the same states, time units and initial state, and other physics, parameters
        and networks (used by :meth:`pysciml.discovery.Equations.to_model`).  Subclasses return their
        own estimator class; the base returns a plain :class:`ModelSpec`."""
        return ModelSpec(
            physics, self.layout.specs, params, networks, name=name, time_units=self.time_units, u0=self.u0
        )
