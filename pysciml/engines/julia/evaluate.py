"""Evaluate a traced-and-scheduled program with numpy (a check that needs no Julia).

This runs exactly the statements that :func:`.emit.julia_source` prints, with
``sympy.lambdify`` for the elementwise expressions, numpy for the nodes and
the numpy reference grid operators of :mod:`pysciml.grid`.  The tests compare
its result with the physics evaluated directly.

Elementwise functions follow the *emitted* semantics, not numpy's: powers take the
branch :func:`.emit.power_kind` chooses for the Julia code, and every ``B.nan_*``
helper of ``julia_env/src/helpers.jl`` has a numpy port here (:data:`NAN_HELPERS`,
written like the Julia function), so a difference between what the model means and
what the emitted Julia computes shows up without Julia.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from ...grid.numpy_operators import (
    advect_numpy,
    divergence_numpy,
    gradient_numpy,
    laplacian_numpy,
)
from .emit import Assign, Program, integral_exponent, power_kind
from .symbolic import Expm1, Log1p, Maximum, Minimum, Where

__all__ = ["evaluate_program", "NAN_HELPERS"]


def _nan_where(bad, y):
    return np.where(bad, np.nan, y)


def _nan_sqrt(x):
    return _nan_where(x < 0, np.sqrt(np.abs(x)))


def _nan_log(x):
    with np.errstate(divide="ignore"):
        return _nan_where(x < 0, np.log(np.abs(x)))


def _nan_log1p(x):
    with np.errstate(divide="ignore"):
        return _nan_where(x < -1, np.log1p(np.maximum(x, -1.0)))


def _nan_asin(x):
    return _nan_where(np.abs(x) > 1, np.arcsin(np.clip(x, -1.0, 1.0)))


def _nan_acos(x):
    return _nan_where(np.abs(x) > 1, np.arccos(np.clip(x, -1.0, 1.0)))


def _nan_pow(x, y):
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        z = np.abs(x) ** y
    whole = np.isfinite(y) & (y == np.round(y))
    odd = whole & (np.fmod(y, 2) != 0)
    neg = x < 0
    return np.where(neg & ~whole, np.nan, np.where(neg & odd, -z, z))


#: numpy ports of the ``B.nan_*`` helpers in ``julia_env/src/helpers.jl`` (same formulas)
NAN_HELPERS = {
    "nan_sqrt": _nan_sqrt,
    "nan_log": _nan_log,
    "nan_log1p": _nan_log1p,
    "nan_asin": _nan_asin,
    "nan_acos": _nan_acos,
    "nan_pow": _nan_pow,
}

_MODULES = [
    {
        "Maximum": np.maximum,
        "Minimum": np.minimum,
        "Where": np.where,
        "Log1p": NAN_HELPERS["nan_log1p"],
        "Expm1": np.expm1,
        **NAN_HELPERS,
    },
    "numpy",
]
_ = (Maximum, Minimum, Where, Log1p, Expm1)  # the names above refer to these functions


class _CheckPrinter(NumPyPrinter):
    """numpy code with the emitted code's choices for powers, logarithms and inverse sines."""

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        kind = power_kind(e)
        b = self._print(base)
        if kind == "integer":
            return f"(({b}) ** ({integral_exponent(e)}))"
        if kind == "sqrt":
            return f"nan_sqrt({b})"
        if kind == "rsqrt":
            return f"(1 / nan_sqrt({b}))"
        return f"nan_pow({b}, {self._print(e)})"

    def _print_log(self, expr):
        return f"nan_log({self._print(expr.args[0])})"

    def _print_asin(self, expr):
        return f"nan_asin({self._print(expr.args[0])})"

    def _print_acos(self, expr):
        return f"nan_acos({self._print(expr.args[0])})"


def _printer():
    return _CheckPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})


def _eval(expr, env, cache):
    if isinstance(expr, sympy.Symbol):
        return env[expr]
    if not isinstance(expr, sympy.Basic):
        return expr
    hit = cache.get(id(expr))
    if hit is None:
        syms = sorted(getattr(expr, "free_symbols", ()), key=str)
        f = sympy.lambdify(syms, expr, modules=_MODULES, printer=_printer())
        hit = (syms, f, expr)  # expr kept alive for id()
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
