"""SBML math: libsbml's MathML trees -> sympy -> functions ``fn(values, m)`` for every engine.

* :func:`to_sympy` turns a libsbml ``ASTNode`` into a sympy expression (user functions
  inlined, csymbols ``time`` / ``avogadro`` / ``rateOf`` as the symbols :data:`TIME`,
  the number :data:`AVOGADRO` and the function :data:`RATE_OF`).
* :func:`compile_sympy` turns a sympy expression into ``fn(values, m)``: ``values`` maps
  symbol names to numbers/arrays/tracers and ``m`` is an engine's math namespace (numpy for
  initial values and outputs, the engine's ``m`` inside the physics), so the same
  expression runs on every engine and under ``jax.grad``.
* :func:`trigger_atoms` splits an event trigger (a boolean expression) into its comparisons,
  each a continuous function that crosses zero where the comparison switches (for ``ps.Event``).

The tree is walked node by node, never ``eval``-ed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy

from ..errors import ModelError

__all__ = [
    "TIME",
    "AVOGADRO",
    "RATE_OF",
    "as_boolean",
    "as_number",
    "to_sympy",
    "compile_sympy",
    "trigger_atoms",
    "settle_truths",
    "UnsupportedSBML",
]

#: the csymbol time (a name no SBML identifier can take)
TIME = sympy.Symbol("@time")
#: Avogadro's number as SBML Level 3 defines it
AVOGADRO = 6.02214179e23
#: the csymbol rateOf: ``RATE_OF(x)`` is the rate of change of the variable x
RATE_OF = sympy.Function("rateOf")


class UnsupportedSBML(ModelError):
    """An SBML construct pysciml does not simulate (named in the message)."""


def _unary(name: str):
    return lambda a: getattr(sympy, name)(a)


def _log(args):
    if len(args) == 2:  # (base, x)
        return sympy.log(args[1]) / sympy.log(args[0])
    return sympy.log(args[0]) / sympy.log(10)


def _root(args):
    if len(args) == 2:  # (degree, x)
        return args[1] ** (1 / args[0])
    return sympy.sqrt(args[0])


def _minus(args):
    return -args[0] if len(args) == 1 else args[0] - args[1]


def _num(value: float):
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if math.isnan(value):
        return sympy.nan
    if float(value).is_integer() and abs(value) < 2**53:
        return sympy.Integer(int(value))
    return sympy.Float(value)


def _xor_of(args):
    """Exclusive or as and/or/not (sympy's Xor breaks Piecewise's condition sets)."""
    if not args:
        return sympy.false
    out = args[0]
    for b in args[1:]:
        out = sympy.Or(sympy.And(out, sympy.Not(b)), sympy.And(sympy.Not(out), b))
    return out


def _piecewise(args):
    pieces = []
    for i in range(0, len(args) - 1, 2):
        pieces.append((args[i], as_boolean(args[i + 1])))
    if len(args) % 2:
        pieces.append((args[-1], True))
    return sympy.Piecewise(*pieces)


def _ops():
    import libsbml

    L = libsbml
    fold = {
        L.AST_PLUS: lambda a: sympy.Add(*a) if a else sympy.Integer(0),
        L.AST_TIMES: lambda a: sympy.Mul(*a) if a else sympy.Integer(1),
        L.AST_MINUS: _minus,
        L.AST_DIVIDE: lambda a: a[0] / a[1],
        L.AST_POWER: lambda a: a[0] ** a[1],
        L.AST_FUNCTION_POWER: lambda a: a[0] ** a[1],
        L.AST_FUNCTION_ROOT: _root,
        L.AST_FUNCTION_LOG: _log,
        L.AST_FUNCTION_LN: lambda a: sympy.log(a[0]),
        L.AST_FUNCTION_PIECEWISE: _piecewise,
        L.AST_LOGICAL_AND: lambda a: sympy.And(*a),
        L.AST_LOGICAL_OR: lambda a: sympy.Or(*a),
        L.AST_LOGICAL_XOR: _xor_of,
        L.AST_LOGICAL_NOT: lambda a: sympy.Not(a[0]),
        L.AST_LOGICAL_IMPLIES: lambda a: sympy.Or(sympy.Not(a[0]), a[1]),
        L.AST_RELATIONAL_EQ: lambda a: sympy.And(*[sympy.Eq(x, y) for x, y in zip(a, a[1:])]),
        L.AST_RELATIONAL_NEQ: lambda a: sympy.Ne(a[0], a[1]),
        L.AST_RELATIONAL_GT: lambda a: sympy.And(*[sympy.Gt(x, y) for x, y in zip(a, a[1:])]),
        L.AST_RELATIONAL_GEQ: lambda a: sympy.And(*[sympy.Ge(x, y) for x, y in zip(a, a[1:])]),
        L.AST_RELATIONAL_LT: lambda a: sympy.And(*[sympy.Lt(x, y) for x, y in zip(a, a[1:])]),
        L.AST_RELATIONAL_LEQ: lambda a: sympy.And(*[sympy.Le(x, y) for x, y in zip(a, a[1:])]),
        L.AST_FUNCTION_ABS: lambda a: sympy.Abs(a[0]),
        L.AST_FUNCTION_EXP: lambda a: sympy.exp(a[0]),
        L.AST_FUNCTION_FLOOR: lambda a: sympy.floor(a[0]),
        L.AST_FUNCTION_CEILING: lambda a: sympy.ceiling(a[0]),
        L.AST_FUNCTION_FACTORIAL: lambda a: sympy.factorial(a[0]),
        L.AST_FUNCTION_SIN: lambda a: sympy.sin(a[0]),
        L.AST_FUNCTION_COS: lambda a: sympy.cos(a[0]),
        L.AST_FUNCTION_TAN: lambda a: sympy.tan(a[0]),
        L.AST_FUNCTION_SEC: lambda a: 1 / sympy.cos(a[0]),
        L.AST_FUNCTION_CSC: lambda a: 1 / sympy.sin(a[0]),
        L.AST_FUNCTION_COT: lambda a: 1 / sympy.tan(a[0]),
        L.AST_FUNCTION_SINH: lambda a: sympy.sinh(a[0]),
        L.AST_FUNCTION_COSH: lambda a: sympy.cosh(a[0]),
        L.AST_FUNCTION_TANH: lambda a: sympy.tanh(a[0]),
        L.AST_FUNCTION_SECH: lambda a: 1 / sympy.cosh(a[0]),
        L.AST_FUNCTION_CSCH: lambda a: 1 / sympy.sinh(a[0]),
        L.AST_FUNCTION_COTH: lambda a: 1 / sympy.tanh(a[0]),
        L.AST_FUNCTION_ARCSIN: lambda a: sympy.asin(a[0]),
        L.AST_FUNCTION_ARCCOS: lambda a: sympy.acos(a[0]),
        L.AST_FUNCTION_ARCTAN: lambda a: sympy.atan(a[0]),
        L.AST_FUNCTION_ARCSEC: lambda a: sympy.acos(1 / a[0]),
        L.AST_FUNCTION_ARCCSC: lambda a: sympy.asin(1 / a[0]),
        L.AST_FUNCTION_ARCCOT: lambda a: sympy.atan(1 / a[0]),
        L.AST_FUNCTION_ARCSINH: lambda a: sympy.asinh(a[0]),
        L.AST_FUNCTION_ARCCOSH: lambda a: sympy.acosh(a[0]),
        L.AST_FUNCTION_ARCTANH: lambda a: sympy.atanh(a[0]),
        L.AST_FUNCTION_ARCSECH: lambda a: sympy.acosh(1 / a[0]),
        L.AST_FUNCTION_ARCCSCH: lambda a: sympy.asinh(1 / a[0]),
        L.AST_FUNCTION_ARCCOTH: lambda a: sympy.atanh(1 / a[0]),
        L.AST_FUNCTION_MAX: lambda a: sympy.Max(*a),
        L.AST_FUNCTION_MIN: lambda a: sympy.Min(*a),
        L.AST_FUNCTION_QUOTIENT: lambda a: sympy.floor(a[0] / a[1]),
        L.AST_FUNCTION_REM: lambda a: a[0] - a[1] * sympy.floor(a[0] / a[1]),
    }
    return fold


_FOLD: dict[int, Callable] | None = None
_LOGICAL: set[int] = set()


def as_number(a):
    """A boolean used as a number is 1 or 0 (SBML's rule)."""
    if isinstance(a, sympy.logic.boolalg.Boolean) and not isinstance(a, sympy.Expr):
        return sympy.Piecewise((sympy.Integer(1), a), (sympy.Integer(0), True))
    return a


class _Truth(sympy.logic.boolalg.BooleanFunction):
    """``x`` used as a condition where ``x`` is a bare name -- in a function definition, an
    argument that a call may bind to a comparison (``my_piecewise(f(t), t < 1, 10)``, case 01488)
    or to a number.  Once bound it becomes the comparison itself, or ``x != 0`` for a number; a
    name still unbound in a model's math is a number (a parameter): :func:`settle_truths` makes it
    ``x != 0`` before anything is compiled."""

    @classmethod
    def eval(cls, a):
        if isinstance(a, sympy.logic.boolalg.Boolean) and not isinstance(a, sympy.Expr):
            return a
        if isinstance(a, sympy.Expr) and not a.is_Symbol:
            return sympy.Ne(a, 0)
        return None


def settle_truths(expr):
    """``expr`` with every bare name still used as a condition read as ``name != 0`` (outside
    function definitions nothing binds it to a comparison any more)."""
    if isinstance(expr, sympy.Basic) and expr.has(_Truth):
        return expr.replace(lambda e: isinstance(e, _Truth), lambda e: sympy.Ne(e.args[0], 0))
    return expr


def as_boolean(a):
    """A number used as a boolean is true where it is non-zero (a bare name: see :class:`_Truth`)."""
    if isinstance(a, sympy.Symbol):
        return _Truth(a)
    if isinstance(a, sympy.Expr):
        return sympy.Ne(a, 0)
    return a


def to_sympy(node, functions: Mapping[str, sympy.Lambda], where: str) -> Any:
    """The sympy expression of libsbml ``ASTNode`` ``node``.

    Args:
        functions: user function definitions by id (sympy ``Lambda`` s), inlined at calls.
        where: the SBML element the math belongs to, named in errors.
    """
    import libsbml

    global _FOLD
    if _FOLD is None:
        _FOLD = _ops()
        _LOGICAL.update(
            {
                libsbml.AST_LOGICAL_AND,
                libsbml.AST_LOGICAL_OR,
                libsbml.AST_LOGICAL_XOR,
                libsbml.AST_LOGICAL_NOT,
                libsbml.AST_LOGICAL_IMPLIES,
            }
        )
    if node is None:
        raise ModelError(f"{where} has no math; give it a MathML expression.", argument="sbml")
    kind = node.getType()
    if kind == libsbml.AST_FUNCTION_DELAY:
        raise UnsupportedSBML(
            f"{where} uses the csymbol delay (a delay differential equation), which pysciml does not simulate.",
            argument="sbml",
        )
    args = [to_sympy(node.getChild(i), functions, where) for i in range(node.getNumChildren())]
    if kind in _FOLD:
        if kind not in _LOGICAL:
            args = [as_number(a) for a in args]
        else:
            args = [as_boolean(a) for a in args]
        return _FOLD[kind](args)
    if kind == libsbml.AST_INTEGER:
        return sympy.Integer(node.getInteger())
    if kind == libsbml.AST_RATIONAL:
        return sympy.Rational(node.getNumerator(), node.getDenominator())
    if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E):
        return _num(node.getReal())
    if kind == libsbml.AST_NAME:
        return sympy.Symbol(node.getName())
    if kind == libsbml.AST_NAME_TIME:
        return TIME
    if kind == libsbml.AST_NAME_AVOGADRO:
        return sympy.Float(AVOGADRO)
    if kind == libsbml.AST_CONSTANT_E:
        return sympy.E
    if kind == libsbml.AST_CONSTANT_PI:
        return sympy.pi
    if kind == libsbml.AST_CONSTANT_TRUE:
        return sympy.true
    if kind == libsbml.AST_CONSTANT_FALSE:
        return sympy.false
    if kind == libsbml.AST_FUNCTION_RATE_OF:
        return RATE_OF(args[0])
    if kind == libsbml.AST_FUNCTION:
        name = node.getName()
        if name not in functions:
            raise ModelError(f"{where} calls {name!r}, which is not a function definition.", argument="sbml")
        return functions[name](*args)
    raise UnsupportedSBML(
        f"{where} uses the MathML element {node.getName() or node.getType()!r}, which pysciml does not simulate.",
        argument="sbml",
    )


def _boolean(value):
    return value


def compile_sympy(expr) -> Callable[[Mapping[str, Any], Any], Any]:
    """``fn(values, m)`` evaluating sympy ``expr`` (``values`` by symbol name, ``m`` a math namespace).

    Every closure carries its node kind as a default argument (``_kind``): the compiled-solve
    cache fingerprints pysciml functions by qualified name, closure contents and defaults, not
    by their code, so two nodes that differ only in their operation must differ there.
    """

    def build(e) -> Callable:
        if e is sympy.true or e is sympy.false:
            v = bool(e)
            return lambda vals, m, _kind="bool": v
        if e.is_Number or e in (sympy.pi, sympy.E) or e.is_NumberSymbol:
            v = float(e)
            return lambda vals, m, _kind="number": v
        if e.is_Symbol:
            name = e.name
            return lambda vals, m, _kind="name": vals[name]
        if isinstance(e, sympy.Piecewise):
            pieces = [(build(pair.args[1]), build(pair.args[0])) for pair in e.args]

            def piecewise(vals, m):
                # the first piece whose condition holds; a condition that is a plain truth value
                # decides without evaluating the pieces it rules out (in Python floats 1 / 0
                # raises where arrays give inf), array conditions select with where
                out, open_ = float("nan"), []
                for cond, value in pieces:
                    c = cond(vals, m)
                    if isinstance(c, (bool, np.bool_)) or (isinstance(c, np.ndarray) and c.ndim == 0):
                        if bool(c):
                            out = value(vals, m)
                            break
                    else:
                        open_.append((c, value))
                for c, value in reversed(open_):
                    out = m.where(c, value(vals, m), out)
                return out

            return piecewise
        args = [build(a) for a in e.args]
        if e.is_Add:
            return lambda vals, m, _kind="add": _sum([f(vals, m) for f in args])
        if e.is_Mul:
            return lambda vals, m, _kind="mul": _product([f(vals, m) for f in args])
        if e.is_Pow:
            base, expo = args
            if e.exp.is_Integer:
                k = int(e.exp)
                return lambda vals, m, _kind="ipow": base(vals, m) ** k
            return lambda vals, m, _kind="pow": m.power(base(vals, m), expo(vals, m))
        if isinstance(e, sympy.core.relational.Relational):
            a, b = args
            op = {sympy.Lt: _lt, sympy.Le: _le, sympy.Gt: _gt, sympy.Ge: _ge, sympy.Eq: _eq, sympy.Ne: _ne}[type(e)]
            return lambda vals, m, _kind="rel": op(a(vals, m), b(vals, m))
        if isinstance(e, sympy.And):
            return lambda vals, m, _kind="and": _all([f(vals, m) for f in args], m)
        if isinstance(e, sympy.Or):
            return lambda vals, m, _kind="or": _any([f(vals, m) for f in args], m)
        if isinstance(e, sympy.Not):
            (a,) = args
            return lambda vals, m, _kind="not": m.where(a(vals, m), False, True)
        if isinstance(e, sympy.Xor):
            return lambda vals, m, _kind="xor": _xor([f(vals, m) for f in args], m)
        if isinstance(e, sympy.factorial):
            (a,) = args
            return lambda vals, m, _kind="factorial": m.exp(_lgamma(a(vals, m) + 1.0, m))
        fname = type(e).__name__
        if fname not in _FUNCTIONS:
            raise UnsupportedSBML(f"the expression {e} uses {fname}, which has no numeric form.")
        # the name (not the function) in the closure: compiled-solve cache keys see closure contents
        return lambda vals, m, _kind=fname: _FUNCTIONS[_kind](m, *[f(vals, m) for f in args])

    return build(expr)


def _sum(xs):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _product(xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def _lt(a, b):
    return a < b


def _le(a, b):
    return a <= b


def _gt(a, b):
    return a > b


def _ge(a, b):
    return a >= b


def _eq(a, b):
    return a == b


def _ne(a, b):
    return a != b


def _all(xs, m):
    out = xs[0]
    for x in xs[1:]:
        out = m.where(out, x, False)
    return out


def _any(xs, m):
    out = xs[0]
    for x in xs[1:]:
        out = m.where(out, True, x)
    return out


def _xor(xs, m):
    out = xs[0]
    for x in xs[1:]:
        out = m.where(out, m.where(x, False, True), x)
    return out


#: Lanczos approximation of the gamma function (g = 7, 9 terms; ~1e-15 relative for x > 0.5)
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)


def _lgamma(x, m):
    """log(gamma(x)) for x > 0.5 with the math namespace's elementary functions."""
    z = x - 1.0
    s = _LANCZOS[0]
    for k, c in enumerate(_LANCZOS[1:], start=1):
        s = s + c / (z + k)
    tt = z + 7.5
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * m.log(tt) - tt + m.log(s)


_FUNCTIONS: dict[str, Callable] = {
    "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(x),
    "Abs": lambda m, x: m.abs(x),
    "floor": lambda m, x: m.floor(x),
    "ceiling": lambda m, x: m.ceil(x),
    "sin": lambda m, x: m.sin(x),
    "cos": lambda m, x: m.cos(x),
    "tan": lambda m, x: m.tan(x),
    "sinh": lambda m, x: m.sinh(x),
    "cosh": lambda m, x: m.cosh(x),
    "tanh": lambda m, x: m.tanh(x),
    "asin": lambda m, x: m.arcsin(x),
    "acos": lambda m, x: m.arccos(x),
    "atan": lambda m, x: m.arctan(x),
    "asinh": lambda m, x: m.log(x + m.sqrt(x * x + 1.0)),
    "acosh": lambda m, x: m.log(x + m.sqrt(x * x - 1.0)),
    "atanh": lambda m, x: 0.5 * m.log((1.0 + x) / (1.0 - x)),
    "sec": lambda m, x: 1.0 / m.cos(x),
    "csc": lambda m, x: 1.0 / m.sin(x),
    "cot": lambda m, x: 1.0 / m.tan(x),
    "sech": lambda m, x: 1.0 / m.cosh(x),
    "csch": lambda m, x: 1.0 / m.sinh(x),
    "coth": lambda m, x: 1.0 / m.tanh(x),
    "asec": lambda m, x: m.arccos(1.0 / x),
    "acsc": lambda m, x: m.arcsin(1.0 / x),
    "acot": lambda m, x: m.arctan(1.0 / x),
    "asech": lambda m, x: m.log((1.0 + m.sqrt(1.0 - x * x)) / x),
    "acsch": lambda m, x: m.log(1.0 / x + m.sqrt(1.0 / (x * x) + 1.0)),
    "acoth": lambda m, x: 0.5 * m.log((x + 1.0) / (x - 1.0)),
    "Max": lambda m, *xs: _fold(m.maximum, xs),
    "Min": lambda m, *xs: _fold(m.minimum, xs),
}


def _fold(f, xs):
    out = xs[0]
    for x in xs[1:]:
        out = f(out, x)
    return out


def trigger_atoms(expr, where: str) -> list[tuple[Any, Any, frozenset[int]]]:
    """The comparisons a boolean trigger ``expr`` is made of (and/or/not of comparisons).

    Returns ``[(comparison, difference, polarities)]``: ``difference`` is positive where the
    comparison is true and crosses zero where it switches (``a > b`` -> ``a - b``); polarities
    holds ``+1`` where the comparison appears un-negated and ``-1`` under a ``not`` (so +1:
    the trigger can turn true when the comparison does, -1: when it turns false).  A constant
    trigger (``true``, ``false``) has none.
    """
    found: dict[Any, tuple[Any, set[int]]] = {}

    def walk(e, sign):
        if e is sympy.true or e is sympy.false:
            return
        if isinstance(e, (sympy.Gt, sympy.Ge, sympy.Lt, sympy.Le)):
            lhs, rhs = e.args
            diff = lhs - rhs if isinstance(e, (sympy.Gt, sympy.Ge)) else rhs - lhs  # type: ignore[operator]
            found.setdefault(e, (diff, set()))[1].add(sign)
            return
        if isinstance(e, (sympy.And, sympy.Or)):
            for a in e.args:
                walk(a, sign)
            return
        if isinstance(e, sympy.Not):
            walk(e.args[0], -sign)
            return
        raise UnsupportedSBML(
            f"{where}: the trigger {expr} is not a comparison (or and/or/not of comparisons), so its switching "
            "time cannot be located by root finding.",
            argument="sbml",
        )

    walk(expr, 1)
    return [(e, diff, frozenset(signs)) for e, (diff, signs) in found.items()]
