"""Neural networks in the jax engine: pure functions of the documented flat layout."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ...errors import ModelError
from ...networks import MLP

__all__ = ["activation", "mlp_apply", "network_callable"]


def activation(name: str):
    """The jax function for an activation name of :data:`pysciml.networks.ACTIVATIONS`."""
    return {
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "gelu": lambda x: jax.nn.gelu(x, approximate=True),
        "softplus": jax.nn.softplus,
        "sigmoid": jax.nn.sigmoid,
        "swish": jax.nn.swish,
        "elu": jax.nn.elu,
        "identity": lambda x: x,
        "rbf": lambda x: jnp.exp(-(x**2)),
    }[name]


def mlp_apply(net: MLP, theta, x):
    """Forward pass of ``net`` with weights ``theta`` on ``x`` of shape ``(..., n_in)``.

    ``theta`` is the flat weight vector, or the layers ``[(W, b), ...]`` already split
    from it (:func:`pysciml.engines.jax.rhs.split_network_weights`; faster inside a
    solver loop).  Matches :meth:`pysciml.networks.MLP.apply_numpy` exactly (features on
    the last axis, any leading batch axes).
    """
    act, fin = activation(net.activation), activation(net.final_activation)
    layers = theta if isinstance(theta, (list, tuple)) else net.unflatten(theta)
    for i, (w, b) in enumerate(layers):
        x = w @ x + b if x.ndim == 1 else x @ w.T + b
        x = fin(x) if i == len(layers) - 1 else act(x)
    return x


def network_callable(name: str, net: MLP, theta):
    """What the physics calls as ``p.<name>(x)``: checks the input size at trace time."""

    def call(x):
        x = jnp.asarray(x)
        if x.ndim == 0 or x.shape[-1] != net.n_in:
            raise ModelError(
                f"network {name!r} takes {net.n_in} inputs but was called with shape "
                f"{tuple(x.shape)}; pass a vector of {net.n_in} values (e.g. m.stack([...])), or a "
                f"batch with the {net.n_in} features on the last axis.",
                argument=f"networks.{name}",
            )
        return mlp_apply(net, theta, x)

    return call
