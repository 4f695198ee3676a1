"""Trace a model's physics ``f(u, p, t, m)`` once with sympy symbols.

Two modes, chosen from the model's states:

* **scalar mode** (every state is a scalar, e.g. ROBER, Lotka-Volterra): ``u``
  is a numpy object array of sympy symbols, so indexing, unpacking, slicing and
  every numpy-like operation work exactly as under numpy; array parameters are
  object arrays of symbols too.
* **broadcast mode** (some state has a shape, e.g. a grid): each state and each
  array parameter is ONE :class:`~.symbolic.SymArray` (one symbol, elementwise
  semantics), so a 2,048-cell state is traced once.  Grid operators, networks,
  reductions, indexing and concatenation become opaque nodes.

``m`` is a :class:`SymbolicMath`: every name of
:data:`pysciml.numerics.MATH_CONTRACT` plus the grid operators.  Whatever cannot
be traced (Python ``if`` on a value, ``float()`` of a state, numpy functions
called directly) raises :class:`pysciml.errors.TraceError` naming the line and
the fix.
"""

from __future__ import annotations

import dataclasses
import traceback
import weakref
from collections.abc import Mapping

import numpy as np
import sympy

from ...errors import ModelError, PySciMLError, TraceError
from ...model import ParamView
from ...numerics import GRID_OPERATORS, MATH_CONTRACT
from ...states import StateView
from .symbolic import (
    Expm1, Log1p, Maximum, Minimum, Recorder, SymArray, Where, as_sym, broadcast_shape,
    reduce_, wrap,
)

__all__ = ["Trace", "trace_model", "SymbolicMath", "Output"]


@dataclasses.dataclass(frozen=True)
class Output:
    """One assignment into the flat derivative: entries ``offset:offset+size`` get ``expr``.

    ``target_shape`` is the shape the entries have (a state's shape); ``expr`` has
    shape ``expr_shape``, which broadcasts to ``target_shape``.
    """

    offset: int
    size: int
    target_shape: tuple
    expr: sympy.Basic
    expr_shape: tuple


@dataclasses.dataclass
class Trace:
    """The traced physics: leaf symbols, recorded nodes and outputs."""

    mode: str                        # "scalar" | "broadcast"
    rec: Recorder
    t: sympy.Symbol
    state_leaves: list               # (symbol, flat offset, shape) per leaf symbol
    param_leaves: list               # (symbol, offset in physics params, shape)
    networks: dict                   # name -> MLP
    outputs: list[Output]
    n_states: int
    n_phys: int

    @property
    def nodes(self):
        return self.rec.nodes

    @property
    def shapes(self):
        return self.rec.shapes


# -- the math namespace --------------------------------------------------------------------
def _heaviside(x, h0=sympy.Float(0.5)):
    return Where(sympy.StrictLessThan(x, 0), sympy.Float(0.0),
                 Where(sympy.Eq(x, 0, evaluate=False), h0, sympy.Float(1.0)))


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
_ELEMENTWISE = {
    "exp": (sympy.exp, np.exp), "log": (sympy.log, np.log), "log1p": (Log1p, np.log1p),
    "expm1": (Expm1, np.expm1), "sqrt": (sympy.sqrt, np.sqrt), "abs": (sympy.Abs, np.abs),
    "sign": (sympy.sign, np.sign), "sin": (sympy.sin, np.sin), "cos": (sympy.cos, np.cos),
    "tan": (sympy.tan, np.tan), "arcsin": (sympy.asin, np.arcsin), "arccos": (sympy.acos, np.arccos),
    "arctan": (sympy.atan, np.arctan), "arctan2": (sympy.atan2, np.arctan2),
    "sinh": (sympy.sinh, np.sinh), "cosh": (sympy.cosh, np.cosh), "tanh": (sympy.tanh, np.tanh),
    "power": (lambda a, b: a ** b, np.power), "maximum": (Maximum, np.maximum),
    "minimum": (Minimum, np.minimum), "floor": (sympy.floor, np.floor),
    "ceil": (sympy.ceiling, np.ceil), "where": (_where, np.where), "clip": (_clip, np.clip),
    "heaviside": (_heaviside, np.heaviside),
}


def _symbolic(x) -> bool:
    return isinstance(x, (SymArray, sympy.Basic)) or (isinstance(x, np.ndarray) and x.dtype == object) or (
        isinstance(x, (list, tuple)) and any(_symbolic(v) for v in x))


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
            arrs = [np.asarray(a, dtype=object) if isinstance(a, (list, tuple, np.ndarray)) else a for a in args]

            def scalar(*xs):
                return builder(*[x if x is None else as_sym(x, rec) for x in xs])

            return np.frompyfunc(scalar, len(args), 1)(*arrs)
        return builder(*[a if a is None else as_sym(a, rec) for a in args])

    def exp(self, x): return self._ew("exp", x)
    def log(self, x): return self._ew("log", x)
    def log1p(self, x): return self._ew("log1p", x)
    def expm1(self, x): return self._ew("expm1", x)
    def sqrt(self, x): return self._ew("sqrt", x)
    def abs(self, x): return self._ew("abs", x)
    def sign(self, x): return self._ew("sign", x)
    def sin(self, x): return self._ew("sin", x)
    def cos(self, x): return self._ew("cos", x)
    def tan(self, x): return self._ew("tan", x)
    def arcsin(self, x): return self._ew("arcsin", x)
    def arccos(self, x): return self._ew("arccos", x)
    def arctan(self, x): return self._ew("arctan", x)
    def arctan2(self, y, x): return self._ew("arctan2", y, x)
    def sinh(self, x): return self._ew("sinh", x)
    def cosh(self, x): return self._ew("cosh", x)
    def tanh(self, x): return self._ew("tanh", x)
    def power(self, x, y): return self._ew("power", x, y)
    def maximum(self, x, y): return self._ew("maximum", x, y)
    def minimum(self, x, y): return self._ew("minimum", x, y)
    def floor(self, x): return self._ew("floor", x)
    def ceil(self, x): return self._ew("ceil", x)
    def where(self, cond, x, y): return self._ew("where", cond, x, y)
    def clip(self, x, lo=None, hi=None): return self._ew("clip", x, lo, hi)
    def heaviside(self, x, h0=0.5): return self._ew("heaviside", x, h0)

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
        (out,) = rec.node("stack", exprs, [s.shape if isinstance(s, SymArray) else () for s in syms],
                          [out_shape], {"axis": ax, "item_shape": shape})
        return wrap(out, out_shape, rec)

    def _vector(self, xs):
        rec = self._rec
        exprs = [as_sym(x, rec) for x in xs]
        (out,) = rec.node("vector", exprs, [()] * len(exprs), [(len(exprs),)], {})
        return SymArray(out, (len(exprs),), rec)

    def concatenate(self, xs, axis=0):
        xs = list(xs)
        if not any(isinstance(x, SymArray) for x in xs):
            return np.concatenate([np.asarray(x, dtype=object) if _symbolic(x) else np.asarray(x) for x in xs],
                                  axis=axis)
        rec = self._rec
        syms = [as_sym(x, rec) for x in xs]
        if any(not isinstance(s, SymArray) for s in syms):
            raise TraceError("m.concatenate needs arrays (at least 1-D), got a scalar; use m.stack for scalars.",
                             argument="physics")
        nd = syms[0].ndim
        if any(s.ndim != nd for s in syms):
            raise TraceError("m.concatenate: all arrays must have the same number of axes.", argument="physics")
        ax = axis % nd
        for s in syms:
            if s.shape[:ax] + s.shape[ax + 1:] != syms[0].shape[:ax] + syms[0].shape[ax + 1:]:
                raise TraceError(f"m.concatenate: shapes {[s.shape for s in syms]} differ off axis {axis}.",
                                 argument="physics")
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
                raise TraceError("m.dot of array states is supported for 1-D arrays only; write "
                                 "m.sum(a * b, ...) or use engine='jax'.", argument="physics")
            return reduce_("sum", as_sym(a, self._rec) * b)
        return np.dot(a, b)

    def matmul(self, a, b):
        if isinstance(a, SymArray) or isinstance(b, SymArray):
            raise TraceError("m.matmul of array states is not supported by the julia engine tracer; "
                             "use scalar states or engine='jax'.", argument="physics")
        return np.matmul(a, b)

    # -- grid operators
    def _grid(self, grid, f, op):
        if not hasattr(grid, "_ops") or not hasattr(grid, "shape"):
            raise TraceError(f"m.{op} needs a pysciml grid (ps.grid.RegularGrid / LatLonGrid), got "
                             f"{type(grid).__name__}.", argument="grid")
        if not isinstance(f, SymArray) or tuple(f.shape[-2:]) != tuple(grid.shape):
            raise TraceError(
                f"m.{op} needs a field of shape (..., {grid.shape[0]}, {grid.shape[1]}) built from array "
                f"states (declare e.g. states={{'T': {tuple(grid.shape)}}}); got "
                f"{getattr(f, 'shape', type(f).__name__)}.", argument="physics")
        return self._rec.grid_index(grid)

    def _field(self, v, grid):
        s = as_sym(v, self._rec)
        if s is NotImplemented:
            raise TraceError(f"cannot trace a grid-operator argument of type {type(v).__name__}.",
                             argument="physics")
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
            raise TraceError(f"unknown advection scheme {scheme!r}; choose 'upwind' or 'centered'.",
                             argument="scheme")
        if not hasattr(velocity, "__len__") or len(velocity) != 2:
            raise TraceError("velocity must be a pair (u, v): u along x / east, v along y / north.",
                             argument="velocity")
        (ue, us), (ve, vs) = self._field(velocity[0], grid), self._field(velocity[1], grid)
        (out,) = self._rec.node("advect", [f.expr, ue, ve], [f.shape, us, vs], [f.shape],
                                {"grid": g, "scheme": scheme})
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
def _network(name, mlp, rec: Recorder, m: SymbolicMath):
    def call(x):
        if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
            items = list(np.asarray(x, dtype=object).reshape(-1)) if isinstance(x, np.ndarray) else list(x)
            if not any(isinstance(v, SymArray) for v in items):
                if len(items) != mlp.n_in:
                    raise ModelError(f"network {name!r} takes {mlp.n_in} inputs but was called with "
                                     f"{len(items)}.", argument=f"networks.{name}")
                exprs = [as_sym(v, rec) for v in items]
                outs = rec.node("net", exprs, [()] * len(exprs), [()] * mlp.n_out,
                                {"name": name, "vector_input": True}, prefix=f"{name}_", indexed=True)
                return np.array(outs, dtype=object)
            x = m.stack(items, axis=-1)
        elif isinstance(x, sympy.Basic):
            if mlp.n_in != 1:
                raise ModelError(f"network {name!r} takes {mlp.n_in} inputs but was called with one value.",
                                 argument=f"networks.{name}")
            return call([x])
        if not isinstance(x, SymArray):
            raise TraceError(f"cannot trace a call of network {name!r} with {type(x).__name__}.",
                             argument="physics")
        if x.shape[-1] != mlp.n_in:
            raise ModelError(f"network {name!r} takes {mlp.n_in} inputs (the last axis) but was called with "
                             f"shape {x.shape}.", argument=f"networks.{name}")
        shape = x.shape[:-1] + (mlp.n_out,)
        (out,) = rec.node("net", [x.expr], [x.shape], [shape], {"name": name, "vector_input": False},
                          prefix=f"{name}_")
        return SymArray(out, shape, rec)

    return call


# -- the trace driver ----------------------------------------------------------------------
def _where_in_physics(exc: BaseException, physics) -> str:
    code = getattr(physics, "__code__", None)
    fname = code.co_filename if code is not None else None
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if fname is not None and f.filename == fname]
    if not mine:
        return ""
    f = mine[-1]
    return f" (line {f.lineno}: {f.line.strip() if f.line else '?'})"


def _leaf_symbols(name, shape, rec, scalar_mode, prefix):
    if shape == ():
        s = rec.symbol(f"{prefix}_{name}")
        return s, [(s, 0, ())]
    if scalar_mode:
        syms = [rec.symbol(f"{prefix}_{name}_{'_'.join(map(str, idx))}") for idx in np.ndindex(*shape)]
        return np.array(syms, dtype=object).reshape(shape), [(s, i, ()) for i, s in enumerate(syms)]
    s = rec.symbol(f"{prefix}_{name}", shape)
    return SymArray(s, shape, rec), [(s, 0, shape)]


def _outputs(trace_out, model, rec, scalar_mode) -> list[Output]:
    layout = model.layout
    n = layout.size
    if scalar_mode:
        try:
            flat = layout.pack(trace_out, np)
        except PySciMLError:
            raise
        except Exception as exc:  # noqa: BLE001 - surfaced as a TraceError below
            raise TraceError(f"could not read what the physics returned ({type(exc).__name__}: {exc}); "
                             "return one derivative per state.", argument="physics") from None
        return [Output(i, 1, (), sympy.sympify(as_sym(v, rec)), ()) for i, v in enumerate(flat.reshape(-1))]
    specs = layout.specs
    if isinstance(trace_out, Mapping):
        missing = [s.name for s in specs if s.name not in trace_out]
        extra = [k for k in trace_out if k not in layout.names]
        if missing or extra:
            raise ModelError(f"physics returned a mapping missing {missing} / with unknown {extra}.",
                             argument="physics")
        trace_out = [trace_out[s.name] for s in specs]
    if isinstance(trace_out, SymArray) and len(specs) == 1:
        trace_out = [trace_out]
    if isinstance(trace_out, SymArray) and trace_out.shape == (n,):
        return [Output(0, n, (n,), trace_out.expr, (n,))]
    if not isinstance(trace_out, (list, tuple)) or len(trace_out) != len(specs):
        raise TraceError(
            f"physics returned {type(trace_out).__name__}; for array states the julia engine needs one "
            f"entry per state (a list, tuple or mapping over {list(layout.names)}).", argument="physics")
    outs = []
    for spec, off, v in zip(specs, layout.offsets, trace_out):
        s = as_sym(v, rec)
        if s is NotImplemented:
            raise TraceError(f"physics returned {type(v).__name__} for state {spec.name!r}.", argument="physics")
        expr, shape = (s.expr, s.shape) if isinstance(s, SymArray) else (s, ())
        try:
            np.broadcast_shapes(shape, spec.shape)
            ok = len(shape) <= len(spec.shape) and np.broadcast_shapes(shape, spec.shape) == spec.shape
        except ValueError:
            ok = False
        if not ok:
            raise ModelError(f"physics returned shape {shape} for state {spec.name!r}, whose shape is "
                             f"{spec.shape}.", argument="physics")
        outs.append(Output(off, spec.size, spec.shape, sympy.sympify(expr), shape))
    return outs


def _trace(model) -> Trace:
    rec = Recorder()
    layout = model.layout
    scalar_mode = layout.all_scalar
    mode = "scalar" if scalar_mode else "broadcast"
    m = SymbolicMath(rec, mode)
    t = rec.symbol("t")

    state_leaves, parts = [], []
    for spec, off in zip(layout.specs, layout.offsets):
        value, leaves = _leaf_symbols(spec.name, spec.shape, rec, scalar_mode, "u")
        parts.append(value)
        state_leaves += [(s, off + i, shp) for s, i, shp in leaves]
    if scalar_mode:
        u = np.array(parts, dtype=object)
    elif len(parts) == 1 and layout.specs[0].shape != ():
        u = parts[0]
    else:
        u = StateView(layout, tuple(parts))

    values, param_leaves, off = {}, [], 0
    for name, spec in model.param_specs.items():
        value, leaves = _leaf_symbols(name, spec.shape, rec, scalar_mode, "p")
        values[name] = value
        param_leaves += [(s, off + i, shp) for s, i, shp in leaves]
        off += spec.size
    nets = {name: _network(name, mlp, rec, m) for name, mlp in model.networks.items()}

    physics = model.physics
    try:
        out = physics(u, ParamView(values, nets), t, m)
    except TraceError as exc:
        raise TraceError(f"{exc}{_where_in_physics(exc, physics)}", argument=exc.argument) from None
    except PySciMLError:
        raise
    except AttributeError as exc:
        if "the physics asked for p." in str(exc):
            raise ModelError(str(exc), argument="physics") from None
        raise _generic(exc, physics) from None
    except TypeError as exc:
        msg = str(exc)
        where = _where_in_physics(exc, physics)
        if "truth value" in msg:
            raise TraceError(
                f"the physics branches on a state or parameter value with a Python if/while/and/or"
                f"{where}; values are not known while tracing for the julia engine. Write the choice "
                "with m.where(cond, a, b), m.maximum or m.minimum (e.g. m.where(u[0] > 0, a, b)), "
                "or use engine='jax'.", argument="physics") from None
        if ("convert" in msg and ("float" in msg or "int" in msg)) or "float() argument" in msg \
                or "int() argument" in msg or "must be real number" in msg:
            raise TraceError(
                f"the physics turned a traced value into a Python number (float(), int(), math.*){where}; "
                "use the m.* functions (m.exp, m.sqrt...) on states and parameters, or use engine='jax'.",
                argument="physics") from None
        if "ufunc" in msg or "loop of" in msg:
            raise TraceError(
                f"the physics called a numpy function on a traced value{where}; use m.* instead of np.* "
                "(m.exp, m.sin...), or use engine='jax'.", argument="physics") from None
        raise _generic(exc, physics) from None
    except Exception as exc:  # noqa: BLE001 - every failure becomes an explained TraceError
        raise _generic(exc, physics) from None
    outputs = _outputs(out, model, rec, scalar_mode)
    return Trace(mode, rec, t, state_leaves, param_leaves, dict(model.networks), outputs,
                 layout.size, sum(s.size for s in model.param_specs.values()))


def _generic(exc, physics):
    return TraceError(
        f"the physics could not be traced symbolically for the julia engine "
        f"({type(exc).__name__}: {exc}){_where_in_physics(exc, physics)}; the julia engine needs "
        "physics written with the m.* functions and no value-dependent Python control flow. "
        "Use engine='jax' for this model.", argument="physics")


_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def trace_model(model) -> Trace:
    """Trace ``model.physics`` once (cached per model object).

    Raises:
        TraceError: the physics cannot be traced (the message names the line and the fix).
    """
    try:
        return _cache[model]
    except (KeyError, TypeError):
        pass
    tr = _trace(model)
    try:
        _cache[model] = tr
    except TypeError:
        pass
    return tr
