"""The models users build: :class:`ODEModel`, :class:`UDE` and :class:`NeuralODE`.

Each is a :class:`pysciml.model_spec.ModelSpec` (the declaration every engine runs)
with the estimator methods of :class:`pysciml.fitting.estimator.EstimatorMixin`
(``fit``, ``predict``, ``forecast``, ``score``, ``discover``, ``save``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ModelError
from .fitting.estimator import EstimatorMixin
from .model_spec import ModelSpec
from .networks import MLP
from .states import StateLayout, normalise_states

__all__ = ["ODEModel", "UDE", "NeuralODE"]


class ODEModel(ModelSpec, EstimatorMixin):
    """An ODE model ``du/dt = f(u, p, t, m)`` with named states and parameters, fittable to data.

    Args:
        physics: the right-hand side ``f(u, p, t, m)`` (see :mod:`pysciml.model_spec`).
        states: state names (``["y1", "y2"]``) or ``{name: size or shape}``.
        params: ``{name: default or ps.Param(...)}``.
        networks: ``{name: ps.MLP(...)}``; called in the physics as ``p.name(x)``.
        name: a short model name used in outputs (defaults to the function name).
        time_units: units of model time (e.g. ``"days"``), carried to outputs.
        u0: default initial state (used when ``solve`` gets none).
        state_units: ``{state: units}`` carried to outputs.
    """

    def with_physics(
        self, physics: Callable, params: Mapping[str, Any], networks: Mapping[str, MLP] | None, *, name: str
    ) -> ODEModel:
        """A new (pure-physics unless ``networks``) :class:`ODEModel` with these states, units and ``u0``."""
        return ODEModel(physics, self.layout.specs, params, networks, name=name, time_units=self.time_units, u0=self.u0)


class UDE(ODEModel):
    """A universal differential equation: known physics plus neural-network terms.

    Identical to :class:`ODEModel` (declare the networks with ``networks=`` and call
    them in the physics as ``p.nn(x)``); the name says what it is for.
    """


def _neural_physics(name: str):
    def neural_ode(u, p, t, m):
        return getattr(p, name)(u)

    return neural_ode


class NeuralODE(ODEModel):
    """A neural ODE ``du/dt = nn(u)``: no known physics, one network of the states.

    Args:
        states: state names (scalars).
        networks: ``{"nn": ps.MLP(n, n, ...)}`` (one network; inputs and outputs the
            number of states); default ``ps.MLP(n, n, width=32, depth=2)``.
        (other arguments as in :class:`ODEModel`)
    """

    def __init__(self, states, networks=None, *, name: str = "neural_ode", **kwargs):
        n = StateLayout(normalise_states(states)).size
        if networks is None:
            networks = {"nn": MLP(n, n, width=32, depth=2)}
        if not isinstance(networks, Mapping) or len(networks) != 1:
            raise ModelError(
                "a NeuralODE has exactly one network, e.g. networks={'nn': ps.MLP(2, 2)}.", argument="networks"
            )
        ((net_name, net),) = networks.items()
        if isinstance(net, MLP) and (net.n_in != n or net.n_out != n):
            raise ModelError(
                f"network {net_name!r} maps {net.n_in} -> {net.n_out} values but the model has "
                f"{n} states; use ps.MLP({n}, {n}, ...).",
                argument=f"networks.{net_name}",
            )
        super().__init__(_neural_physics(net_name), states, kwargs.pop("params", None), networks, name=name, **kwargs)
