"""Evaluate a traced-and-scheduled program with numpy (a check that needs no Julia).

This runs exactly the statements that :func:`.emit.julia_source` prints, with
``sympy.lambdify`` for the elementwise expressions, numpy for the nodes and
the numpy reference grid operators of :mod:`pysciml.grid`.  The tests compare
its result with the physics evaluated directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from ...grid.numpy_operators import (
    advect_numpy,
    divergence_numpy,
    gradient_numpy,
    laplacian_numpy,
)
from .emit import Assign, Program
from .symbolic import Expm1, Log1p, Maximum, Minimum, Where

__all__ = ["evaluate_program"]

_MODULES = [
    {
        "Maximum": np.maximum,
        "Minimum": np.minimum,
        "Where": np.where,
        "Log1p": np.log1p,
        "Expm1": np.expm1,
    },
    "numpy",
]
_ = (Maximum, Minimum, Where, Log1p, Expm1)  # the names above refer to these functions


def _eval(expr, env, cache):
    if isinstance(expr, sympy.Symbol):
        return env[expr]
    if not isinstance(expr, sympy.Basic):
        return expr
    hit = cache.get(id(expr))
    if hit is None:
        syms = sorted(getattr(expr, "free_symbols", ()), key=str)
        hit = (syms, sympy.lambdify(syms, expr, modules=_MODULES), expr)  # expr kept alive for id()
        cache[id(expr)] = hit
    syms, f, _ = hit
    return f(*[env[s] for s in syms])


def _slices(idx):
    out = []
    for k in idx:
        if isinstance(k, range):
            stop = k.start + k.step * len(k)
            out.append(slice(k.start, None if stop < 0 else stop, k.step))
        else:
            out.append(k)
    return tuple(out)


def evaluate_program(prog: Program, u, phys, t: float, network_params=None, consts=None):
    """The flat derivative computed by ``prog`` with numpy.

    Args:
        prog: a :class:`~.emit.Program`.
        u: flat state, shape ``(n_states,)``.
        phys: flat physics parameters, shape ``(n_phys,)`` (declaration order, C order).
        t: time.
        network_params: ``{name: flat weights}`` for the model's networks.
        consts: constant arrays, defaults to the ones captured while tracing.
    Returns:
        ``du``, shape ``(n_states,)``.
    """
    tr = prog.trace
    u = np.asarray(u, dtype=np.float64)
    phys = np.asarray(phys, dtype=np.float64)
    env: dict[Any, Any] = {tr.t: float(t)}
    for s, off, shape in tr.state_leaves:
        size = int(np.prod(shape, dtype=int))
        env[s] = u[off : off + size].reshape(shape) if shape else u[off]
    for s, off, shape in tr.param_leaves:
        size = int(np.prod(shape, dtype=int))
        env[s] = phys[off : off + size].reshape(shape) if shape else phys[off]
    for i, (s, v) in enumerate(tr.rec.consts):
        env[s] = v if consts is None else np.asarray(consts[i])
    cache: dict = {}
    grids = tr.rec.grids
    for st in prog.statements:
        if isinstance(st, Assign):
            env[st.symbol] = _eval(st.expr, env, cache)
            continue
        n = st.node
        args = [_eval(a, env, cache) for a in st.args]
        kind = n.kind
        if kind == "net":
            mlp = tr.networks[n.extra["name"]]
            assert network_params is not None, "a program with networks needs network_params"
            theta = np.asarray(network_params[n.extra["name"]], dtype=np.float64)
            x = np.array(args, dtype=np.float64) if n.extra["vector_input"] else args[0]
            y = mlp.apply_numpy(theta, x)
            vals = list(y) if n.extra["vector_input"] else [y]
        elif kind == "sum":
            vals = [np.sum(args[0])]
        elif kind == "prod":
            vals = [np.prod(args[0])]
        elif kind == "vector":
            vals = [np.array(args, dtype=np.float64)]
        elif kind == "getindex":
            vals = [np.asarray(args[0])[_slices(n.extra["index"])]]
        elif kind == "reshape":
            vals = [np.reshape(args[0], n.shapes[0])]
        elif kind == "transpose":
            vals = [np.transpose(args[0])]
        elif kind == "concat":
            vals = [np.concatenate(args, axis=n.extra["axis"])]
        elif kind == "stack":
            item = n.extra["item_shape"]
            vals = [np.stack([np.broadcast_to(a, item) for a in args], axis=n.extra["axis"])]
        else:
            g = grids[n.extra["grid"]]
            if kind == "laplacian":
                vals = [laplacian_numpy(args[0], g)]
            elif kind == "advect":
                vals = [advect_numpy(args[0], (args[1], args[2]), g, scheme=n.extra["scheme"])]
            elif kind == "gradient":
                vals = list(gradient_numpy(args[0], g))
            elif kind == "divergence":
                vals = [divergence_numpy((args[0], args[1]), g)]
            else:  # pragma: no cover
                raise ValueError(kind)
        for o, v in zip(n.outputs, vals):
            env[o] = v
    du = np.empty(tr.n_states)
    for out, expr in prog.outputs:
        v = np.broadcast_to(np.asarray(_eval(expr, env, cache), dtype=np.float64), out.target_shape)
        du[out.offset : out.offset + out.size] = v.reshape(-1)
    return du
