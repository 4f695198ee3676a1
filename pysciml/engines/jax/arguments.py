"""The dynamic arguments of a compiled solve, from a :class:`~pysciml.engines.requests.SolveRequest`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..requests import SolveRequest

__all__ = ["call_args", "fixed_args", "state_args"]


def _arg(x):
    """A compiled-function argument: jax values (tracers under jax.grad) as they are, the rest as
    float64 numpy (the jit fast path converts those far more cheaply than jnp.asarray)."""
    if isinstance(x, jax.Array):
        return x.astype(jnp.float64) if x.dtype != jnp.float64 else x
    return np.asarray(x, dtype=np.float64)


def fixed_args(request: SolveRequest):
    """``(t0, t1, saveat, rtol, atol, dt0)``: the arguments a compiled handle fixes once."""
    dt0 = 0.0 if request.dt0 is None else request.dt0
    return (
        _arg(request.t0),
        _arg(request.t1),
        _arg(request.saveat),
        _arg(request.rtol),
        _arg(request.atol),
        _arg(dt0),
    )


def state_args(u0, params, network_params):
    """``(y0, (params, nets))``: the arguments that change from call to call of a compiled handle."""
    return _arg(u0), ({k: _arg(v) for k, v in params.items()}, {k: _arg(v) for k, v in network_params.items()})


def call_args(request: SolveRequest):
    """The dynamic arguments of the compiled solve ``f(t0, t1, y0, args, ts, rtol, atol, dt0)``, from a request."""
    t0, t1, ts, rtol, atol, dt0 = fixed_args(request)
    y0, args = state_args(request.u0, request.params, request.network_params)
    return t0, t1, y0, args, ts, rtol, atol, dt0
