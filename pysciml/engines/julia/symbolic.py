"""Symbolic values used to trace physics for the Julia engine (sympy, no Julia).

Two kinds of traced values:

* a plain sympy expression: a scalar (a scalar state, a scalar parameter, ``t``);
* :class:`SymArray`: a whole array-valued state or parameter held as ONE sympy
  expression with elementwise (numpy broadcasting) semantics and a shape, so a
  2,048-cell grid state is traced once, not cell by cell.

Operations that are not elementwise (grid operators, networks, reductions,
indexing, concatenation) become :class:`Node` records: opaque calls whose
result is a fresh symbol, emitted later as a call to a native Julia function.

The custom functions :class:`Maximum`, :class:`Minimum`, :class:`Where` and
:class:`Log1p` / :class:`Expm1` exist so that the Julia printer and numpy's
``lambdify`` give them the exact same meaning (``max``/``np.maximum``,
``ifelse``/``np.where``...); sympy's ``Max`` and ``Piecewise`` print as
ternaries that do not broadcast in Julia.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NoReturn, cast

import numpy as np
import sympy

from ...errors import TraceError

__all__ = [
    "Maximum",
    "Minimum",
    "Where",
    "Log1p",
    "Expm1",
    "SymArray",
    "Node",
    "Recorder",
    "broadcast_shape",
    "is_symbolic",
]


# -- custom elementwise functions ---------------------------------------------------------
class Maximum(sympy.Function):
    """Elementwise maximum of two values (NaN propagates, like np.maximum and Julia max)."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_Number and b.is_Number:
            return a if a >= b else b
        return None


class Minimum(sympy.Function):
    """Elementwise minimum of two values."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_Number and b.is_Number:
            return a if a <= b else b
        return None


class Where(sympy.Function):
    """``cond ? a : b`` elementwise (``np.where`` / Julia ``ifelse``)."""

    nargs = 3

    @classmethod
    def eval(cls, c, a, b):
        if c is sympy.true:
            return a
        if c is sympy.false:
            return b
        return None


class Log1p(sympy.Function):
    """``log(1 + x)`` accurate near 0."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + cast(sympy.Expr, self.args[0]))


class Expm1(sympy.Function):
    """``exp(x) - 1`` accurate near 0."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sympy.exp(self.args[0])


def broadcast_shape(*shapes) -> tuple[int, ...]:
    """numpy broadcasting of shapes; :class:`TraceError` when they do not broadcast."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise TraceError(
            f"arrays of shapes {list(shapes)} do not broadcast together in the physics.",
            argument="physics",
        ) from None


def is_symbolic(x) -> bool:
    return isinstance(x, (SymArray, sympy.Basic)) or (isinstance(x, np.ndarray) and x.dtype == object)


# -- opaque operations ------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class Node:
    """An opaque operation recorded while tracing.

    Attributes:
        kind: ``"net"``, ``"laplacian"``, ``"advect"``, ``"gradient"``, ``"divergence"``,
            ``"sum"``, ``"prod"``, ``"vector"``, ``"getindex"``, ``"concat"``, ``"stack"``,
            ``"reshape"``, ``"transpose"``.
        args: sympy expressions (the array or scalar inputs).
        arg_shapes: the shape of each input.
        outputs: result symbols (one per output; ``gradient`` has two).
        shapes: the shape of each output.
        extra: static data (grid index, network name, index tuple, axis, scheme...).
    """

    kind: str
    args: tuple
    arg_shapes: tuple
    outputs: tuple
    shapes: tuple
    extra: dict


class Recorder:
    """Collects symbols, shapes, nodes and constants during one trace."""

    def __init__(self):
        self.shapes: dict[sympy.Symbol, tuple] = {}
        self.nodes: list[Node] = []
        self.consts: list[tuple[sympy.Symbol, np.ndarray]] = []
        self.grids: list[Any] = []
        self._count = 0

    def symbol(self, name: str, shape=()) -> sympy.Symbol:
        s = sympy.Symbol(name, real=True)
        self.shapes[s] = tuple(shape)
        return s

    def fresh(self, prefix: str, shape=()) -> sympy.Symbol:
        self._count += 1
        return self.symbol(f"{prefix}{self._count}", shape)

    def shape_of(self, expr) -> tuple:
        """Shape of an expression: the broadcast of its free symbols' shapes."""
        shapes = [self.shapes.get(s, ()) for s in getattr(expr, "free_symbols", ())]
        return broadcast_shape(*shapes) if shapes else ()

    def const(self, value: np.ndarray) -> SymArray:
        """A numeric array captured by the physics, kept as a named constant."""
        value = np.asarray(value, dtype=np.float64)
        for s, v in self.consts:
            if v.shape == value.shape and np.array_equal(v, value):
                return SymArray(s, value.shape, self)
        s = self.fresh("c", value.shape)
        self.consts.append((s, value))
        return SymArray(s, value.shape, self)

    def grid_index(self, grid) -> int:
        for i, g in enumerate(self.grids):
            if g is grid:
                return i
        self.grids.append(grid)
        return len(self.grids) - 1

    def node(self, kind, args, arg_shapes, shapes, extra=None, prefix="op", indexed=False) -> tuple[sympy.Symbol, ...]:
        """Record an opaque operation; returns its output symbols (one per shape).

        Outputs are named ``<prefix><k>`` (one output) or ``<prefix><k>_<i>`` (several, or
        ``indexed``); ``extra["base"]`` is ``<prefix><k>``, free for the emitter to use.
        """
        self._count += 1
        base = f"{prefix}{self._count}"
        if len(shapes) == 1 and not indexed:
            outs = (self.symbol(base, shapes[0]),)
        else:
            outs = tuple(self.symbol(f"{base}_{i + 1}", s) for i, s in enumerate(shapes))
        extra = dict(extra or {}, base=base)
        self.nodes.append(Node(kind, tuple(args), tuple(arg_shapes), outs, tuple(shapes), extra))
        return outs


# -- array values -----------------------------------------------------------------------
def _unsupported(what: str, fix: str = "") -> NoReturn:
    raise TraceError(
        f"{what} is not supported when tracing physics for the julia engine"
        f"{'; ' + fix if fix else ''}; or run this model with engine='jax'.",
        argument="physics",
    )


def _index_key(key, shape):
    """Normalise a basic numpy index into a tuple of ints / slices over ``shape``."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None for k in key) or any(isinstance(k, (list, np.ndarray, SymArray)) for k in key):
        _unsupported("fancy indexing (arrays, lists or None in an index)", "use integers, slices and ... only")
    if sum(k is Ellipsis for k in key) > 1:
        _unsupported("an index with two '...'")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        fill = len(shape) - (len(key) - 1)
        key = key[:i] + (slice(None),) * fill + key[i + 1 :]
    if len(key) > len(shape):
        raise TraceError(f"too many indices ({len(key)}) for an array of shape {shape}.", argument="physics")
    key = key + (slice(None),) * (len(shape) - len(key))
    out = []
    for k, n in zip(key, shape):
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            r = range(start, stop, step)
            if len(r) == 0:
                _unsupported(f"an empty slice {k} of an axis of length {n}")
            out.append(r)
        else:
            try:
                i = int(k)
            except TypeError:
                _unsupported(f"indexing with {type(k).__name__}")
            if not -n <= i < n:
                raise TraceError(f"index {i} is out of range for an axis of length {n}.", argument="physics")
            out.append(i % n)
    return tuple(out)


class SymArray:
    """An array-valued traced value: one elementwise sympy expression and a shape."""

    __array_priority__ = 1000
    # unhashable, like numpy arrays (typeshed types object.__hash__ as a method, not None)
    __hash__ = None  # pyright: ignore[reportAssignmentType]

    def __init__(self, expr, shape, rec: Recorder):
        self.expr = sympy.sympify(expr)
        self.shape = tuple(int(s) for s in shape)
        self.rec = rec

    # -- basic attributes
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=int))

    @property
    def dtype(self):
        return np.dtype(np.float64)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return f"SymArray({self.expr}, shape={self.shape})"

    # -- conversions that cannot be traced
    def __bool__(self):
        raise TraceError(
            "the physics used an array value in a Python condition (if/while/and/or); "
            "its value is not known while tracing. Write the choice with m.where(cond, a, b) "
            "or m.maximum / m.minimum, or use engine='jax'.",
            argument="physics",
        )

    # no __float__ / __int__: sympy probes them while coercing operands (float() of a
    # traced value then fails with a TypeError that the trace driver explains)

    def __array__(self, *args, **kwargs):
        _unsupported(
            "converting a traced array to a numpy array (a numpy function called on a state?)",
            "use the m.* functions, e.g. m.exp instead of np.exp",
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _unsupported(f"numpy.{ufunc.__name__} on a traced value", f"use m.{ufunc.__name__} instead")

    def __iter__(self):
        if len(self.shape) == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # -- arithmetic
    def _coerce(self, other):
        return as_sym(other, self.rec)

    def _binary(self, other, fn):
        other = self._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        oexpr, oshape = (other.expr, other.shape) if isinstance(other, SymArray) else (other, ())
        return SymArray(fn(self.expr, oexpr), broadcast_shape(self.shape, oshape), self.rec)

    def _rbinary(self, other, fn):
        other = self._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        oexpr, oshape = (other.expr, other.shape) if isinstance(other, SymArray) else (other, ())
        return SymArray(fn(oexpr, self.expr), broadcast_shape(self.shape, oshape), self.rec)

    def __add__(self, o):
        return self._binary(o, lambda a, b: a + b)

    def __radd__(self, o):
        return self._rbinary(o, lambda a, b: a + b)

    def __sub__(self, o):
        return self._binary(o, lambda a, b: a - b)

    def __rsub__(self, o):
        return self._rbinary(o, lambda a, b: a - b)

    def __mul__(self, o):
        return self._binary(o, lambda a, b: a * b)

    def __rmul__(self, o):
        return self._rbinary(o, lambda a, b: a * b)

    def __truediv__(self, o):
        return self._binary(o, lambda a, b: a / b)

    def __rtruediv__(self, o):
        return self._rbinary(o, lambda a, b: a / b)

    def __pow__(self, o):
        return self._binary(o, lambda a, b: a**b)

    def __rpow__(self, o):
        return self._rbinary(o, lambda a, b: a**b)

    def __floordiv__(self, o):
        return self._binary(o, lambda a, b: sympy.floor(a / b))

    def __rfloordiv__(self, o):
        return self._rbinary(o, lambda a, b: sympy.floor(a / b))

    def __mod__(self, o):
        return self._binary(o, lambda a, b: a - b * sympy.floor(a / b))

    def __rmod__(self, o):
        return self._rbinary(o, lambda a, b: a - b * sympy.floor(a / b))

    def __neg__(self):
        return SymArray(-self.expr, self.shape, self.rec)

    def __pos__(self):
        return self

    def __abs__(self):
        return SymArray(sympy.Abs(self.expr), self.shape, self.rec)

    def __lt__(self, o):
        return self._binary(o, lambda a, b: sympy.StrictLessThan(a, b))

    def __le__(self, o):
        return self._binary(o, lambda a, b: sympy.LessThan(a, b))

    def __gt__(self, o):
        return self._binary(o, lambda a, b: sympy.StrictGreaterThan(a, b))

    def __ge__(self, o):
        return self._binary(o, lambda a, b: sympy.GreaterThan(a, b))

    def __eq__(self, o):
        return self._binary(o, lambda a, b: sympy.Eq(a, b, evaluate=False))

    def __ne__(self, o):
        return self._binary(o, lambda a, b: sympy.Ne(a, b, evaluate=False))

    def __and__(self, o):
        return self._binary(o, sympy.And)

    def __rand__(self, o):
        return self._rbinary(o, sympy.And)

    def __or__(self, o):
        return self._binary(o, sympy.Or)

    def __ror__(self, o):
        return self._rbinary(o, sympy.Or)

    def __invert__(self):
        return SymArray(sympy.Not(self.expr), self.shape, self.rec)

    def __matmul__(self, o):
        _unsupported("the @ (matmul) operator on array states", "write the product elementwise with m.sum")

    __rmatmul__ = __matmul__

    # -- structural operations (nodes)
    def __getitem__(self, key):
        idx = _index_key(key, self.shape)
        shape = tuple(len(k) for k in idx if isinstance(k, range))
        (out,) = self.rec.node("getindex", [self.expr], [self.shape], [shape], {"index": idx})
        return wrap(out, shape, self.rec)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(s) for s in shape)
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape = tuple(self.size // known if s == -1 else s for s in shape)
        if int(np.prod(shape, dtype=int)) != self.size:
            raise TraceError(f"cannot reshape an array of shape {self.shape} into {shape}.", argument="physics")
        if shape == self.shape:
            return self
        (out,) = self.rec.node("reshape", [self.expr], [self.shape], [shape], {})
        return wrap(out, shape, self.rec)

    def ravel(self):
        return self.reshape(self.size)

    flatten = ravel

    @property
    def T(self):
        if self.ndim < 2:
            return self
        if self.ndim > 2:
            _unsupported("transposing an array with more than 2 axes")
        shape = self.shape[::-1]
        (out,) = self.rec.node("transpose", [self.expr], [self.shape], [shape], {})
        return wrap(out, shape, self.rec)

    def sum(self, axis=None):
        return reduce_("sum", self, axis)

    def prod(self, axis=None):
        return reduce_("prod", self, axis)

    def mean(self, axis=None):
        return reduce_("sum", self, axis) / self.size

    def astype(self, dtype):
        return self


def wrap(expr, shape, rec: Recorder):
    """A :class:`SymArray` for array shapes, the bare expression for scalars."""
    return SymArray(expr, shape, rec) if len(shape) else expr


def as_sym(x, rec: Recorder):
    """Coerce a physics value to a sympy expression or a :class:`SymArray`."""
    if isinstance(x, SymArray):
        return x
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, (bool, np.bool_)):
        return sympy.true if x else sympy.false
    if isinstance(x, (int, np.integer)):
        return sympy.Integer(int(x))
    if isinstance(x, (float, np.floating)):
        return (
            sympy.Float(float(x))
            if np.isfinite(x)
            else (sympy.nan if np.isnan(x) else (sympy.oo if x > 0 else -sympy.oo))
        )
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            _unsupported(
                "mixing a list of traced scalars with an array state",
                "build arrays from array states, not from lists of scalars",
            )
        if x.ndim == 0:
            return as_sym(x.item(), rec)
        return rec.const(x)
    if isinstance(x, (list, tuple)):
        return as_sym(np.asarray(x), rec) if all(isinstance(v, (int, float)) for v in x) else NotImplemented
    return NotImplemented


def reduce_(kind: str, x, axis=None):
    """``sum`` / ``prod`` over all elements of a traced array (a scalar node)."""
    if not isinstance(x, SymArray):
        return x
    if axis is not None:
        _unsupported(f"m.{kind}(..., axis={axis})", "reduce over all elements (axis=None)")
    (out,) = x.rec.node(kind, [x.expr], [x.shape], [()], {})
    return out
