"""The symbolic math namespace ``m`` and network tracer used while tracing for the Julia engine.

:class:`SymbolicMath` provides every name of :data:`pysciml.numerics.MATH_CONTRACT`
and the grid operators.  In scalar mode the functions map elementwise over numpy
object arrays of sympy expressions; in broadcast mode they build one elementwise
expression per :class:`~.symbolic.SymArray`, and non-elementwise operations become
recorded nodes.  Names outside the contract raise :class:`pysciml.errors.TraceError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import sympy

from ...errors import ModelError, TraceError
from ...numerics import GRID_OPERATORS, MATH_CONTRACT
from .symbolic import (
    Expm1,
    Log1p,
    Maximum,
    Minimum,
    Recorder,
    SymArray,
    Where,
    as_sym,
    broadcast_shape,
    reduce_,
    wrap,
)

__all__ = ["SymbolicMath", "network_tracer"]


# -- the math namespace --------------------------------------------------------------------
def _heaviside(x, h0=sympy.Float(0.5)):
    return Where(
        sympy.StrictLessThan(x, 0), sympy.Float(0.0), Where(sympy.Eq(x, 0, evaluate=False), h0, sympy.Float(1.0))
    )


def _where(c, a, b):
    if not isinstance(c, sympy.logic.boolalg.Boolean):
        c = sympy.Ne(c, 0, evaluate=False)
    return Where(c, a, b)


def _clip(x, lo, hi):
    if lo is not None and lo is not sympy.nan:
        x = Maximum(x, lo)
    if hi is not None and hi is not sympy.nan:
        x = Minimum(x, hi)
    return x


#: m.name -> (sympy builder, numpy function used when no argument is symbolic)
_ELEMENTWISE: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "exp": (sympy.exp, np.exp),
    "log": (sympy.log, np.log),
    "log1p": (Log1p, np.log1p),
    "expm1": (Expm1, np.expm1),
    "sqrt": (sympy.sqrt, np.sqrt),
    "abs": (sympy.Abs, np.abs),
    "sign": (sympy.sign, np.sign),
    "sin": (sympy.sin, np.sin),
    "cos": (sympy.cos, np.cos),
    "tan": (sympy.tan, np.tan),
    "arcsin": (sympy.asin, np.arcsin),
    "arccos": (sympy.acos, np.arccos),
    "arctan": (sympy.atan, np.arctan),
    "arctan2": (sympy.atan2, np.arctan2),
    "sinh": (sympy.sinh, np.sinh),
    "cosh": (sympy.cosh, np.cosh),
    "tanh": (sympy.tanh, np.tanh),
    "power": (lambda a, b: a**b, np.power),
    "maximum": (Maximum, np.maximum),
    "minimum": (Minimum, np.minimum),
    "floor": (sympy.floor, np.floor),
    "ceil": (sympy.ceiling, np.ceil),
    "where": (_where, np.where),
    "clip": (_clip, np.clip),
    "heaviside": (_heaviside, np.heaviside),
}


def _symbolic(x) -> bool:
    return (
        isinstance(x, (SymArray, sympy.Basic))
        or (isinstance(x, np.ndarray) and x.dtype == object)
        or (isinstance(x, (list, tuple)) and any(_symbolic(v) for v in x))
    )


class SymbolicMath:
    """The ``m`` handed to physics while tracing for the Julia engine."""

    name = "sympy"
    pi = sympy.pi
    e = sympy.E

    def __init__(self, rec: Recorder, mode: str):
        self._rec = rec
        self._mode = mode

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise TraceError(
            f"m.{name} is not part of the math contract the julia engine can translate "
            f"(pysciml.numerics.MATH_CONTRACT: {', '.join(MATH_CONTRACT)}; grid operators: "
            f"{', '.join(GRID_OPERATORS)}); rewrite it with those, or use engine='jax'.",
            argument="physics",
        )

    # -- elementwise
    def _ew(self, name, *args):
        builder, npfn = _ELEMENTWISE[name]
        args = [None if a is None else a for a in args]
        if not any(_symbolic(a) for a in args):
            return npfn(*args)
        rec = self._rec
        if any(isinstance(a, SymArray) for a in args):
            syms = [a if a is None else as_sym(a, rec) for a in args]
            if any(s is NotImplemented for s in syms):
                raise TraceError(f"m.{name} got an argument it cannot trace: {args!r}.", argument="physics")
            exprs = [s.expr if isinstance(s, SymArray) else s for s in syms]
            shapes = [s.shape for s in syms if isinstance(s, SymArray)]
            return SymArray(builder(*exprs), broadcast_shape(*shapes), rec)
        if any(isinstance(a, (np.ndarray, list, tuple)) for a in args):
            arrs: list[Any] = [
                np.asarray(a, dtype=object) if isinstance(a, (list, tuple, np.ndarray)) else a for a in args
            ]

            def scalar(*xs):
                return builder(*[x if x is None else as_sym(x, rec) for x in xs])

            return np.frompyfunc(scalar, len(args), 1)(*arrs)
        return builder(*[a if a is None else as_sym(a, rec) for a in args])

    def exp(self, x):
        return self._ew("exp", x)

    def log(self, x):
        return self._ew("log", x)

    def log1p(self, x):
        return self._ew("log1p", x)

    def expm1(self, x):
        return self._ew("expm1", x)

    def sqrt(self, x):
        return self._ew("sqrt", x)

    def abs(self, x):
        return self._ew("abs", x)

    def sign(self, x):
        return self._ew("sign", x)

    def sin(self, x):
        return self._ew("sin", x)

    def cos(self, x):
        return self._ew("cos", x)

    def tan(self, x):
        return self._ew("tan", x)

    def arcsin(self, x):
        return self._ew("arcsin", x)

    def arccos(self, x):
        return self._ew("arccos", x)

    def arctan(self, x):
        return self._ew("arctan", x)

    def arctan2(self, y, x):
        return self._ew("arctan2", y, x)

    def sinh(self, x):
        return self._ew("sinh", x)

    def cosh(self, x):
        return self._ew("cosh", x)

    def tanh(self, x):
        return self._ew("tanh", x)

    def power(self, x, y):
        return self._ew("power", x, y)

    def maximum(self, x, y):
        return self._ew("maximum", x, y)

    def minimum(self, x, y):
        return self._ew("minimum", x, y)

    def floor(self, x):
        return self._ew("floor", x)

    def ceil(self, x):
        return self._ew("ceil", x)

    def where(self, cond, x, y):
        return self._ew("where", cond, x, y)

    def clip(self, x, lo=None, hi=None):
        return self._ew("clip", x, lo, hi)

    def heaviside(self, x, h0=0.5):
        return self._ew("heaviside", x, h0)

    # -- constructors and shapes
    def asarray(self, x, dtype=None):
        if isinstance(x, SymArray) or isinstance(x, sympy.Basic):
            return x
        if isinstance(x, (list, tuple)) and self._mode == "broadcast" and _symbolic(x):
            return self.stack(x)
        return np.asarray(x, dtype=object) if _symbolic(x) else np.asarray(x, dtype=dtype)

    array = asarray

    def stack(self, xs, axis=0):
        xs = list(xs)
        if not any(isinstance(x, SymArray) for x in xs):
            if self._mode == "broadcast" and any(isinstance(x, sympy.Basic) for x in xs) and axis in (0, -1):
                if all(np.ndim(x) == 0 for x in xs):
                    return self._vector(xs)
            return np.stack([np.asarray(x, dtype=object) if _symbolic(x) else np.asarray(x) for x in xs], axis=axis)
        rec = self._rec
        syms = [as_sym(x, rec) for x in xs]
        shape = broadcast_shape(*[s.shape if isinstance(s, SymArray) else () for s in syms])
        ndim = len(shape) + 1
        ax = axis % ndim
        out_shape = shape[:ax] + (len(xs),) + shape[ax:]
        exprs = [s.expr if isinstance(s, SymArray) else s for s in syms]
        (out,) = rec.node(
            "stack",
            exprs,
            [s.shape if isinstance(s, SymArray) else () for s in syms],
            [out_shape],
            {"axis": ax, "item_shape": shape},
        )
        return wrap(out, out_shape, rec)

    def _vector(self, xs):
        rec = self._rec
        exprs = [as_sym(x, rec) for x in xs]
        (out,) = rec.node("vector", exprs, [()] * len(exprs), [(len(exprs),)], {})
        return SymArray(out, (len(exprs),), rec)

    def concatenate(self, xs, axis=0):
        xs = list(xs)
        if not any(isinstance(x, SymArray) for x in xs):
            return np.concatenate(
                [np.asarray(x, dtype=object) if _symbolic(x) else np.asarray(x) for x in xs], axis=axis
            )
        rec = self._rec
        syms = [as_sym(x, rec) for x in xs]
        if any(not isinstance(s, SymArray) for s in syms):
            raise TraceError(
                "m.concatenate needs arrays (at least 1-D), got a scalar; use m.stack for scalars.", argument="physics"
            )
        syms = cast(list[SymArray], syms)
        nd = syms[0].ndim
        if any(s.ndim != nd for s in syms):
            raise TraceError("m.concatenate: all arrays must have the same number of axes.", argument="physics")
        ax = axis % nd
        for s in syms:
            if s.shape[:ax] + s.shape[ax + 1 :] != syms[0].shape[:ax] + syms[0].shape[ax + 1 :]:
                raise TraceError(
                    f"m.concatenate: shapes {[s.shape for s in syms]} differ off axis {axis}.", argument="physics"
                )
        shape = list(syms[0].shape)
        shape[ax] = sum(s.shape[ax] for s in syms)
        (out,) = rec.node("concat", [s.expr for s in syms], [s.shape for s in syms], [tuple(shape)], {"axis": ax})
        return SymArray(out, tuple(shape), rec)

    def zeros_like(self, x):
        if isinstance(x, SymArray):
            return SymArray(sympy.Float(0.0), x.shape, self._rec)
        return sympy.Float(0.0) if isinstance(x, sympy.Basic) else np.zeros_like(x)

    def ones_like(self, x):
        if isinstance(x, SymArray):
            return SymArray(sympy.Float(1.0), x.shape, self._rec)
        return sympy.Float(1.0) if isinstance(x, sympy.Basic) else np.ones_like(x)

    def reshape(self, x, shape):
        return x.reshape(shape) if isinstance(x, SymArray) else np.reshape(x, shape)

    # -- reductions
    def sum(self, x, axis=None):
        return reduce_("sum", x, axis) if isinstance(x, SymArray) else np.sum(x, axis=axis)

    def prod(self, x, axis=None):
        return reduce_("prod", x, axis) if isinstance(x, SymArray) else np.prod(x, axis=axis)

    def mean(self, x, axis=None):
        return reduce_("sum", x, axis) / x.size if isinstance(x, SymArray) else np.mean(x, axis=axis)

    def dot(self, a, b):
        if isinstance(a, SymArray) or isinstance(b, SymArray):
            if np.ndim(a) != 1 or np.ndim(b) != 1:
                raise TraceError(
                    "m.dot of array states is supported for 1-D arrays only; write "
                    "m.sum(a * b, ...) or use engine='jax'.",
                    argument="physics",
                )
            return reduce_("sum", as_sym(a, self._rec) * b)
        return np.dot(a, b)

    def matmul(self, a, b):
        if isinstance(a, SymArray) or isinstance(b, SymArray):
            raise TraceError(
                "m.matmul of array states is not supported by the julia engine tracer; "
                "use scalar states or engine='jax'.",
                argument="physics",
            )
        return np.matmul(a, b)

    # -- grid operators
    def _grid(self, grid, f, op):
        if not hasattr(grid, "coefficients") or not hasattr(grid, "shape"):
            raise TraceError(
                f"m.{op} needs a pysciml grid (ps.grid.RegularGrid / LatLonGrid), got {type(grid).__name__}.",
                argument="grid",
            )
        if not isinstance(f, SymArray) or tuple(f.shape[-2:]) != tuple(grid.shape):
            raise TraceError(
                f"m.{op} needs a field of shape (..., {grid.shape[0]}, {grid.shape[1]}) built from array "
                f"states (declare e.g. states={{'T': {tuple(grid.shape)}}}); got "
                f"{getattr(f, 'shape', type(f).__name__)}.",
                argument="physics",
            )
        return self._rec.grid_index(grid)

    def _field(self, v, grid):
        s = as_sym(v, self._rec)
        if s is NotImplemented:
            raise TraceError(f"cannot trace a grid-operator argument of type {type(v).__name__}.", argument="physics")
        shape = s.shape if isinstance(s, SymArray) else ()
        broadcast_shape(shape, tuple(grid.shape))
        return (s.expr if isinstance(s, SymArray) else s), shape

    def laplacian(self, f, grid):
        g = self._grid(grid, f, "laplacian")
        (out,) = self._rec.node("laplacian", [f.expr], [f.shape], [f.shape], {"grid": g})
        return SymArray(out, f.shape, self._rec)

    def advect(self, f, velocity, grid, scheme="upwind"):
        g = self._grid(grid, f, "advect")
        if scheme not in ("upwind", "centered"):
            raise TraceError(f"unknown advection scheme {scheme!r}; choose 'upwind' or 'centered'.", argument="scheme")
        if not hasattr(velocity, "__len__") or len(velocity) != 2:
            raise TraceError(
                "velocity must be a pair (u, v): u along x / east, v along y / north.", argument="velocity"
            )
        (ue, us), (ve, vs) = self._field(velocity[0], grid), self._field(velocity[1], grid)
        (out,) = self._rec.node("advect", [f.expr, ue, ve], [f.shape, us, vs], [f.shape], {"grid": g, "scheme": scheme})
        return SymArray(out, f.shape, self._rec)

    def gradient(self, f, grid):
        g = self._grid(grid, f, "gradient")
        dy, dx = self._rec.node("gradient", [f.expr], [f.shape], [f.shape, f.shape], {"grid": g})
        return SymArray(dy, f.shape, self._rec), SymArray(dx, f.shape, self._rec)

    def divergence(self, vector, grid):
        if not hasattr(vector, "__len__") or len(vector) != 2:
            raise TraceError("vector must be a pair (fy, fx) of fields.", argument="vector")
        fy, fx = vector
        ref = fy if isinstance(fy, SymArray) else fx
        g = self._grid(grid, ref, "divergence")
        (ye, ys), (xe, xs) = self._field(fy, grid), self._field(fx, grid)
        shape = broadcast_shape(ys, xs, tuple(grid.shape))
        (out,) = self._rec.node("divergence", [ye, xe], [ys, xs], [shape], {"grid": g})
        return SymArray(out, shape, self._rec)


# -- networks ------------------------------------------------------------------------------
def network_tracer(name, mlp, rec: Recorder, m: SymbolicMath):
    """What the physics calls as ``p.<name>(x)`` while tracing: records a network node."""

    def call(x):
        if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
            items = list(np.asarray(x, dtype=object).reshape(-1)) if isinstance(x, np.ndarray) else list(x)
            if not any(isinstance(v, SymArray) for v in items):
                if len(items) != mlp.n_in:
                    raise ModelError(
                        f"network {name!r} takes {mlp.n_in} inputs but was called with {len(items)}.",
                        argument=f"networks.{name}",
                    )
                exprs = [as_sym(v, rec) for v in items]
                outs = rec.node(
                    "net",
                    exprs,
                    [()] * len(exprs),
                    [()] * mlp.n_out,
                    {"name": name, "vector_input": True},
                    prefix=f"{name}_",
                    indexed=True,
                )
                return np.array(outs, dtype=object)
            x = m.stack(items, axis=-1)
        elif isinstance(x, sympy.Basic):
            if mlp.n_in != 1:
                raise ModelError(
                    f"network {name!r} takes {mlp.n_in} inputs but was called with one value.",
                    argument=f"networks.{name}",
                )
            return call([x])
        if not isinstance(x, SymArray):
            raise TraceError(f"cannot trace a call of network {name!r} with {type(x).__name__}.", argument="physics")
        if x.shape[-1] != mlp.n_in:
            raise ModelError(
                f"network {name!r} takes {mlp.n_in} inputs (the last axis) but was called with shape {x.shape}.",
                argument=f"networks.{name}",
            )
        shape = x.shape[:-1] + (mlp.n_out,)
        (out,) = rec.node("net", [x.expr], [x.shape], [shape], {"name": name, "vector_input": False}, prefix=f"{name}_")
        return SymArray(out, shape, rec)

    return call
