"""A small, safe expression language for library features.

Every candidate feature is described by a text expression in Python syntax
over the network's input names, e.g. ``"prey**2*predator"`` or
``"sin(2*prey)"``.  From that one text this module builds

* a closure ``fn(cols, m)`` that evaluates the feature with any math namespace
  ``m`` (numpy for fitting, the engine's ``m`` inside a physics function), and
* a sympy expression (sympy is imported only when asked).

Texts are parsed with :mod:`ast` and checked against a whitelist (numbers,
input names, ``+ - * / **``, and the elementwise functions of
:data:`pysciml.numerics.MATH_CONTRACT`), never ``eval``-ed, so reading one
back from a saved file is safe.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence

from ..errors import InputError

__all__ = ["FUNCTIONS", "compile_expression", "expression_to_sympy", "sympy_to_text", "check_names", "require_sympy"]

#: name in a feature text -> (name of the function on ``m``, sympy name, arity)
FUNCTIONS: dict[str, tuple[str, str, int]] = {
    "exp": ("exp", "exp", 1),
    "log": ("log", "log", 1),
    "log1p": ("log1p", "log1p", 1),
    "expm1": ("expm1", "expm1", 1),
    "sqrt": ("sqrt", "sqrt", 1),
    "abs": ("abs", "Abs", 1),
    "sign": ("sign", "sign", 1),
    "sin": ("sin", "sin", 1),
    "cos": ("cos", "cos", 1),
    "tan": ("tan", "tan", 1),
    "arcsin": ("arcsin", "asin", 1),
    "arccos": ("arccos", "acos", 1),
    "arctan": ("arctan", "atan", 1),
    "sinh": ("sinh", "sinh", 1),
    "cosh": ("cosh", "cosh", 1),
    "tanh": ("tanh", "tanh", 1),
    "arctan2": ("arctan2", "atan2", 2),
    "power": ("power", "Pow", 2),
    "maximum": ("maximum", "Max", 2),
    "minimum": ("minimum", "Min", 2),
    "heaviside": ("heaviside", "Heaviside", 1),
}
# sympy's printed names, accepted so that str(sympy_expr) parses back
_ALIASES = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "Abs": "abs",
    "Max": "maximum",
    "Min": "minimum",
    "Heaviside": "heaviside",
    "Pow": "power",
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "E": math.e}
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def require_sympy():
    """Import sympy, or explain how to install it."""
    try:
        import sympy
    except ImportError:
        raise ImportError(
            "symbolic output of equation discovery needs sympy: pip install 'sympy>=1.13'. "
            "discover(), printing, predict() and to_model() work without it."
        ) from None
    return sympy


def check_names(names: Sequence[str], *, argument: str = "input_names") -> tuple[str, ...]:
    """Validate input names (distinct identifiers) and return them as a tuple."""
    if isinstance(names, str):
        names = [names]
    try:
        names = tuple(names)
    except TypeError:
        raise InputError(f"must be a list of names, got {type(names).__name__}.", argument=argument) from None
    import keyword

    bad = [n for n in names if not isinstance(n, str) or not n.isidentifier() or keyword.iskeyword(n)]
    if bad:
        raise InputError(
            f"names {bad} are not valid Python identifiers; feature expressions refer to the inputs "
            "by name, so use letters, digits and underscores.",
            argument=argument,
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"names {dup} appear more than once; give each input its own name.", argument=argument)
    return names


def _parse(text: str, names: Sequence[str], argument: str) -> ast.AST:
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"feature expression must be a non-empty string, got {text!r}.", argument=argument)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InputError(f"cannot parse feature expression {text!r}: {exc.msg}.", argument=argument) from None
    known = set(names)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
            if isinstance(node, ast.operator) and type(node) not in _BINOPS:
                raise InputError(
                    f"operator {type(node).__name__} is not allowed in {text!r}; use + - * / ** and functions.",
                    argument=argument,
                )
            if isinstance(node, ast.unaryop) and not isinstance(node, (ast.USub, ast.UAdd)):
                raise InputError(f"operator {type(node).__name__} is not allowed in {text!r}.", argument=argument)
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise InputError(f"constant {node.value!r} in {text!r} is not a number.", argument=argument)
            continue
        if isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else None
            fname = _ALIASES.get(fname, fname) if fname is not None else None
            if fname not in FUNCTIONS or node.keywords:
                raise InputError(
                    f"{ast.unparse(node.func)!r} in {text!r} is not an allowed function; allowed: {sorted(FUNCTIONS)}.",
                    argument=argument,
                )
            if len(node.args) != FUNCTIONS[fname][2]:
                raise InputError(f"{fname} takes {FUNCTIONS[fname][2]} argument(s) in {text!r}.", argument=argument)
            continue
        if isinstance(node, ast.Name):
            # function names are checked at the Call node; bare names must be inputs or constants
            continue
        raise InputError(f"{type(node).__name__} is not allowed in feature expression {text!r}.", argument=argument)
    # bare names (not in call position)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls and node.id not in known and node.id not in _CONSTANTS:
            raise InputError(
                f"feature expression {text!r} uses {node.id!r}, which is not an input; the inputs are {list(names)}.",
                argument=argument,
            )
    return tree.body


def compile_expression(text: str, names: Sequence[str], *, argument: str = "library") -> Callable:
    """Compile a feature text into ``fn(cols, m)``.

    Args:
        text: the expression over ``names`` (Python syntax, see module doc).
        names: the input names; ``cols[i]`` holds the values of ``names[i]``.
        argument: argument named in errors.

    Returns:
        ``fn(cols, m)``: ``cols`` a sequence of arrays (or scalars, tracers,
        symbols), one per input; ``m`` a math namespace.  Numbers come back as
        Python floats (broadcasting is the caller's business).
    """
    index = {n: i for i, n in enumerate(names)}

    def build(node):
        if isinstance(node, ast.Constant):
            value = node.value
            return lambda cols, m: value
        if isinstance(node, ast.Name):
            if node.id in index:
                i = index[node.id]
                return lambda cols, m: cols[i]
            value = _CONSTANTS[node.id]
            return lambda cols, m: value
        if isinstance(node, ast.UnaryOp):
            inner = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda cols, m: -inner(cols, m)
            return inner
        if isinstance(node, ast.BinOp):
            left, right, op = build(node.left), build(node.right), _BINOPS[type(node.op)]
            if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant):
                p = node.right.value
                assert isinstance(p, (int, float))  # _parse admits numeric constants only
                if float(p).is_integer():
                    p = int(p)  # integer powers: exact products on every engine
                return lambda cols, m: left(cols, m) ** p
            if isinstance(node.op, ast.Pow):  # m.power: the engine's derivative in the exponent
                return lambda cols, m: m.power(left(cols, m), right(cols, m))
            return lambda cols, m: op(left(cols, m), right(cols, m))
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # _parse admits calls of named functions only
            fname = _ALIASES.get(node.func.id, node.func.id)
            mname = FUNCTIONS[fname][0]
            args = [build(a) for a in node.args]
            if len(args) == 1:
                a0 = args[0]
                return lambda cols, m: getattr(m, mname)(a0(cols, m))
            a0, a1 = args
            return lambda cols, m: getattr(m, mname)(a0(cols, m), a1(cols, m))
        raise AssertionError(node)  # _parse rejects everything else

    return build(_parse(text, names, argument))


def expression_to_sympy(text: str, symbols: Mapping[str, object], *, argument: str = "library"):
    """The sympy expression of a feature text; ``symbols`` maps input names to sympy symbols."""
    sympy = require_sympy()
    tree = _parse(text, list(symbols), argument)
    special = {"log1p": lambda x: sympy.log(1 + x), "expm1": lambda x: sympy.exp(x) - 1}

    def build(node):
        if isinstance(node, ast.Constant):
            v = node.value
            assert isinstance(v, (int, float))  # _parse admits numeric constants only
            if isinstance(v, int) or float(v).is_integer():
                return sympy.Integer(int(v))
            return sympy.Float(v)  # the binary value, exactly
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            return sympy.pi if node.id == "pi" else sympy.E
        if isinstance(node, ast.UnaryOp):
            inner = build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            a, b = build(node.left), build(node.right)
            if isinstance(node.op, ast.Div):
                return a / b
            return _BINOPS[type(node.op)](a, b)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # _parse admits calls of named functions only
            fname = _ALIASES.get(node.func.id, node.func.id)
            args = [build(a) for a in node.args]
            if fname in special:
                return special[fname](*args)
            return getattr(sympy, FUNCTIONS[fname][1])(*args)
        raise AssertionError(node)

    return build(tree)


def sympy_to_text(expr) -> str:
    """Text of a sympy expression in this module's language (full float precision)."""
    sympy = require_sympy()
    from sympy.printing.str import StrPrinter

    class _Printer(StrPrinter):
        def _print_Float(self, e):
            return repr(float(e))

    text = _Printer({"order": "none"}).doprint(sympy.sympify(expr))
    return text
