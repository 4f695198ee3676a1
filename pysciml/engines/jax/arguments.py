"""The dynamic arguments of a compiled solve, from a :class:`~pysciml.engines.requests.SolveRequest`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..requests import SolveRequest

__all__ = ["call_args"]


def _arg(x):
    """A compiled-function argument: jax values (tracers under jax.grad) as they are, the rest as
    float64 numpy (the jit fast path converts those far more cheaply than jnp.asarray)."""
    if isinstance(x, jax.Array):
        return x.astype(jnp.float64) if x.dtype != jnp.float64 else x
    return np.asarray(x, dtype=np.float64)


def call_args(request: SolveRequest):
    """The dynamic arguments of the compiled solve, from a request."""
    params = {k: _arg(v) for k, v in request.params.items()}
    nets = {k: _arg(v) for k, v in request.network_params.items()}
    dt0 = 0.0 if request.dt0 is None else request.dt0
    return (
        _arg(request.t0),
        _arg(request.t1),
        _arg(request.u0),
        (params, nets),
        _arg(request.saveat),
        _arg(request.rtol),
        _arg(request.atol),
        _arg(dt0),
    )
