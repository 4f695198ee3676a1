"""Turn a :class:`~.trace.Trace` into a straight-line program and print it as Julia.

The program is built once per model: common subexpressions are shared
(``sympy.cse``), opaque nodes (grid operators, networks, reductions, indexing)
are scheduled after their inputs, and unused values are dropped.  The same
program is printed as Julia (:func:`julia_source`, an in-place ``rhs!`` and an
out-of-place ``rhs``) and can be evaluated with numpy
(:mod:`.evaluate`), which is how the tests check it without Julia.

Layout in Julia: arrays are column-major, so an array of numpy shape
``(a, b)`` (C order) is held as a Julia array of size ``(b, a)`` over the same
memory.  Reversing every shape keeps numpy's broadcasting (trailing axes align)
as Julia's (leading axes align), elementwise code is unchanged, and the
operators index the reversed axes (``docs/julia.md``).

``B`` in the emitted code is bound to the ``PySciMLBridge`` module by the
bridge's ``compile_model`` before the source is evaluated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import weakref
from typing import cast

import numpy as np
import sympy
from sympy.printing.julia import JuliaCodePrinter

from .symbolic import Log1p, Maximum, Minimum, Node, Where
from .trace import Trace, trace_model

__all__ = ["Program", "build_program", "julia_source", "julia_code", "program_for", "power_kind", "integral_exponent"]

#: functions whose derivative or value depends on a branch (no compiled ReverseDiff tape)
_BRANCHY = (
    Where,
    Maximum,
    Minimum,
    sympy.Abs,
    sympy.sign,
    sympy.floor,
    sympy.ceiling,
    sympy.Piecewise,
    sympy.log,
    Log1p,
    sympy.asin,
    sympy.acos,
)


@dataclasses.dataclass
class Assign:
    symbol: sympy.Symbol
    expr: sympy.Basic
    shape: tuple


@dataclasses.dataclass
class Call:
    node: Node
    args: tuple  # reduced argument expressions (symbols for array arguments)


@dataclasses.dataclass
class Program:
    """A scheduled straight-line program computing the flat derivative."""

    trace: Trace
    statements: list  # Assign | Call, in execution order
    outputs: list  # (Output, reduced expr)
    shapes: dict  # symbol -> shape (leaves, temporaries, node outputs)
    used: set  # symbols referenced anywhere
    has_branches: bool

    @property
    def mode(self):
        return self.trace.mode


def integral_exponent(e) -> int | None:
    """``e`` as an ``int`` when it is a whole number (``2``, ``2.0``, ``-3.0``), else ``None``."""
    if e.is_Integer:
        return int(e)
    if e.is_Float:
        v = float(e)
        if v.is_integer() and abs(v) < 2**31:
            return int(v)
    return None


def power_kind(e) -> str:
    """How the emitted Julia raises to the exponent ``e`` (one decision for printer and checker).

    ``"integer"``: Julia's ``^`` with an ``Int`` exponent (whole-number exponents, also
    when written as floats, so ``x**2.0`` of a negative ``x`` is real as in numpy);
    ``"sqrt"`` / ``"rsqrt"``: ``B.nan_sqrt(x)`` / ``1 / B.nan_sqrt(x)`` for ``±1/2``;
    ``"pow"``: ``B.nan_pow(x, e)`` (NaN for a negative base only when the exponent is
    not a whole number at run time).
    """
    if integral_exponent(e) is not None:
        return "integer"
    if e == sympy.Rational(1, 2):
        return "sqrt"
    if e == -sympy.Rational(1, 2):
        return "rsqrt"
    return "pow"


def _free(expr):
    return getattr(expr, "free_symbols", set())


def build_program(trace: Trace) -> Program:
    """Prune, share subexpressions (CSE) and schedule the traced physics."""
    shapes = dict(trace.shapes)
    needed = set()
    for out in trace.outputs:
        needed |= _free(out.expr)
    nodes = []
    for node in reversed(trace.nodes):
        if needed & set(node.outputs):
            nodes.append(node)
            for a in node.args:
                needed |= _free(a)
    nodes.reverse()

    roots = [a for n in nodes for a in n.args] + [o.expr for o in trace.outputs]
    # cse of a list returns a list of reduced expressions (sympy's inferred type also allows a set)
    temps, reduced = cast(
        "tuple[list[tuple[sympy.Symbol, sympy.Expr]], list[sympy.Expr]]",
        sympy.cse(roots, symbols=sympy.numbered_symbols("x", real=True), order="none"),
    )
    k = 0
    calls = []
    for n in nodes:
        calls.append((n, tuple(reduced[k : k + len(n.args)])))
        k += len(n.args)
    out_exprs = reduced[k:]

    pending = []
    for sym, expr in temps:
        pending.append(("assign", sym, expr))
    for n, args in calls:
        pending.append(("call", n, args))
    defined = {s for s, _, _ in trace.state_leaves} | {s for s, _, _ in trace.param_leaves} | {trace.t}
    defined |= {s for s, _ in trace.rec.consts}
    statements = []
    extra_count = 0

    def shape_of(expr):
        syms = _free(expr)
        return tuple(np.broadcast_shapes(*[shapes.get(s, ()) for s in syms])) if syms else ()

    while pending:
        progressed = False
        rest = []
        for item in pending:
            if item[0] == "assign":
                _, sym, expr = item
                if _free(expr) <= defined:
                    shapes[sym] = shape_of(expr)
                    statements.append(Assign(sym, expr, shapes[sym]))
                    defined.add(sym)
                    progressed = True
                else:
                    rest.append(item)
            else:
                _, n, args = item
                if set().union(*[_free(a) for a in args]) <= defined:
                    new_args = []
                    for a, ashape in zip(args, n.arg_shapes):
                        if ashape and not isinstance(a, sympy.Symbol):
                            extra_count += 1
                            s = sympy.Symbol(f"a{extra_count}", real=True)
                            shapes[s] = shape_of(a)
                            statements.append(Assign(s, a, shapes[s]))
                            defined.add(s)
                            a = s
                        new_args.append(a)
                    statements.append(Call(n, tuple(new_args)))
                    for o, shp in zip(n.outputs, n.shapes):
                        shapes[o] = shp
                        defined.add(o)
                    progressed = True
                else:
                    rest.append(item)
        pending = rest
        if not progressed:  # pragma: no cover - a cycle would be a tracer bug
            raise RuntimeError("could not schedule the traced program (cyclic dependency)")

    used = set()
    for st in statements:
        used |= _free(st.expr) if isinstance(st, Assign) else set().union(*[_free(a) for a in st.args])
    for e in out_exprs:
        used |= _free(e)
    branchy = False
    for e in (
        [st.expr for st in statements if isinstance(st, Assign)]
        + list(out_exprs)
        + [a for st in statements if isinstance(st, Call) for a in st.args]
    ):
        if isinstance(e, sympy.Basic) and (
            e.has(*_BRANCHY) or any(power_kind(p.exp) != "integer" for p in e.atoms(sympy.Pow))
        ):
            branchy = True
            break
    return Program(trace, statements, list(zip(trace.outputs, out_exprs)), shapes, used, branchy)


# -- printing -----------------------------------------------------------------------------
def _float(x: float) -> str:
    if np.isnan(x):
        return "NaN"
    if np.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return repr(float(x))


class _Printer(JuliaCodePrinter):
    """sympy's Julia printer with exact floats and broadcast-safe functions."""

    def __init__(self):
        super().__init__({"inline": True, "strict": True})

    def _print_Float(self, expr):
        return _float(float(expr))

    def _print_Rational(self, expr):
        return f"({expr.p} / {expr.q})"

    def _print_Exp1(self, expr):
        return "Base.MathConstants.e"

    def _print_Maximum(self, expr):
        return f"max({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Minimum(self, expr):
        return f"min({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _branch(self, e):
        return _float(float(e)) if e.is_Number else self._print(e)

    def _print_Where(self, expr):
        c, a, b = expr.args
        return f"ifelse({self._print(c)}, {self._branch(a)}, {self._branch(b)})"

    def _print_Log1p(self, expr):
        return f"B.nan_log1p({self._print(expr.args[0])})"

    def _print_Expm1(self, expr):
        return f"expm1({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"B.nan_log({self._print(expr.args[0])})"

    def _print_asin(self, expr):
        return f"B.nan_asin({self._print(expr.args[0])})"

    def _print_acos(self, expr):
        return f"B.nan_acos({self._print(expr.args[0])})"

    def _print_atan2(self, expr):
        return f"atan({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_And(self, expr):
        return " & ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr):
        return " | ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Not(self, expr):
        return f"!({self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"

    def _print_Pow(self, expr):
        base, e = expr.args
        kind = power_kind(e)
        if kind == "integer":
            n = integral_exponent(e)
            return super()._print_Pow(expr if e.is_Integer else sympy.Pow(base, sympy.Integer(n), evaluate=False))
        b = self._print(base)
        if kind == "sqrt":
            return f"B.nan_sqrt({b})"
        if kind == "rsqrt":
            return f"(1 ./ B.nan_sqrt({b}))"
        return f"B.nan_pow({b}, {self._print(e)})"


_printer_singleton = None


def julia_code(expr) -> str:
    """Julia source of one sympy expression (scalar semantics; wrap with ``@.`` for arrays)."""
    global _printer_singleton
    if _printer_singleton is None:
        _printer_singleton = _Printer()
    return cast(str, _printer_singleton.doprint(expr))  # a str when no assign_to is given


def _scalar(code: str) -> str:
    """Drop the broadcasting dots the printer puts on operators (the operands are scalars)."""
    return code.replace(" .* ", " * ").replace(" ./ ", " / ").replace(" .^ ", " ^ ")


def _jl(expr, shape) -> str:
    code = julia_code(expr)
    if not shape:
        return _scalar(code)
    if isinstance(expr, sympy.Symbol) or expr.is_Number:
        return code
    return f"@. {code}"


def _rev(shape) -> str:
    return ", ".join(str(s) for s in reversed(shape))


def _view(vec: str, offset: int, size: int, shape) -> str:
    rng = f"{offset + 1}:{offset + size}"
    if len(shape) <= 1:
        return f"view({vec}, {rng})"
    return f"reshape(view({vec}, {rng}), {_rev(shape)})"


def _jl_index(idx) -> str:
    parts = []
    for k in reversed(idx):
        if isinstance(k, range):
            if k.step == 1:
                parts.append(f"{k.start + 1}:{k.start + len(k)}")
            else:
                parts.append(f"{k.start + 1}:{k.step}:{k[-1] + 1}")
        else:
            parts.append(str(k + 1))
    return ", ".join(parts)


def _call_lines(call: Call, prog: Program) -> list[str]:
    n = call.node
    a = [julia_code(x) if shp else _scalar(julia_code(x)) for x, shp in zip(call.args, call.node.arg_shapes)]
    outs = [str(o) for o in n.outputs]
    kind = n.kind
    if kind == "net":
        name = n.extra["name"]
        if n.extra["vector_input"]:
            vec = n.extra["base"]
            lines = [f"{vec} = B.net_apply(K.nets.{name}, [{', '.join(a)}], p.nets.{name})"]
            lines += [
                f"{o} = {vec}[{i + 1}]"
                for i, o in enumerate(outs)
                if n.outputs[i] in prog.used or _is_output(n.outputs[i], prog)
            ]
            return lines
        return [f"{outs[0]} = B.net_apply(K.nets.{name}, {a[0]}, p.nets.{name})"]
    if kind in ("sum", "prod"):
        return [f"{outs[0]} = {kind}({a[0]})"]
    if kind == "vector":
        return [f"{outs[0]} = [{', '.join(a)}]"]
    if kind == "getindex":
        return [f"{outs[0]} = {a[0]}[{_jl_index(n.extra['index'])}]"]
    if kind == "reshape":
        shape = n.shapes[0]
        return [f"{outs[0]} = reshape({a[0]}, {_rev(shape)}{',' if len(shape) == 1 else ''})"]
    if kind == "transpose":
        return [f"{outs[0]} = permutedims({a[0]})"]
    if kind == "concat":
        nd = len(n.shapes[0])
        return [f"{outs[0]} = cat({', '.join(a)}; dims = {nd - n.extra['axis']})"]
    if kind == "stack":
        nd = len(n.shapes[0])
        item = n.extra["item_shape"]
        dims = f"({_rev(item)}{',' if len(item) == 1 else ''})" if item else "()"
        return [f"{outs[0]} = B.stack_along({nd - n.extra['axis']}, {dims}, {', '.join(a)})"]
    g = f"K.grids[{n.extra['grid'] + 1}]" if "grid" in n.extra else ""
    if kind == "laplacian":
        return [f"{outs[0]} = B.laplacian({a[0]}, {g})"]
    if kind == "advect":
        return [f"{outs[0]} = B.advect({a[0]}, {a[1]}, {a[2]}, {g}, :{n.extra['scheme']})"]
    if kind == "divergence":
        return [f"{outs[0]} = B.divergence({a[0]}, {a[1]}, {g})"]
    if kind == "gradient":
        vec = n.extra["base"]
        lines = [f"{vec} = B.gradient({a[0]}, {g})"]
        lines += [
            f"{o} = {vec}[{i + 1}]"
            for i, o in enumerate(outs)
            if n.outputs[i] in prog.used or _is_output(n.outputs[i], prog)
        ]
        return lines
    raise ValueError(f"unknown node kind {kind}")  # pragma: no cover


def _is_output(sym, prog: Program) -> bool:
    return any(sym in _free(e) for _, e in prog.outputs)


def _body(prog: Program) -> list[str]:
    tr = prog.trace
    lines = []
    for s, off, shape in tr.state_leaves:
        if s in prog.used:
            size = int(np.prod(shape, dtype=int))
            lines.append(f"{s} = {_view('u', off, size, shape) if shape else f'u[{off + 1}]'}")
    for s, off, shape in tr.param_leaves:
        if s in prog.used:
            size = int(np.prod(shape, dtype=int))
            lines.append(f"{s} = {_view('p.phys', off, size, shape) if shape else f'p.phys[{off + 1}]'}")
    for i, (s, _) in enumerate(tr.rec.consts):
        if s in prog.used:
            lines.append(f"{s} = K.consts[{i + 1}]")
    for st in prog.statements:
        if isinstance(st, Assign):
            lines.append(f"{st.symbol} = {_jl(st.expr, st.shape)}")
        else:
            lines += _call_lines(st, prog)
    return lines


def _fresh_copy(expr, code):
    return f"copy({code})" if isinstance(expr, sympy.Symbol) else code


def julia_source(prog: Program, *, name: str = "model") -> str:
    """The Julia source of the model: ``rhs!(du, u, p, t, K)`` and ``rhs(u, p, t, K)``."""
    body = _body(prog)
    inplace, oop = [], []
    for out, expr in prog.outputs:
        eshape = out.expr_shape
        if out.target_shape == () and out.size == 1:
            inplace.append(f"du[{out.offset + 1}] = {_jl(expr, ())}")
            oop.append(f"[{_jl(expr, ())}]")
            continue
        dname = f"du{out.offset + 1}"
        inplace.append(f"{dname} = {_view('du', out.offset, out.size, out.target_shape)}")
        inplace.append(f"{dname} .= {_jl(expr, eshape)}")
        if eshape == out.target_shape:
            oop.append(f"vec({_fresh_copy(expr, _jl(expr, eshape))})")
        else:
            oop.append(f"vec(B.fill_to({_jl(expr, eshape)}, ({_rev(out.target_shape)},)))")
    scalar_outputs = all(o.target_shape == () and o.size == 1 for o, _ in prog.outputs)
    if scalar_outputs:
        ret = "[" + ", ".join(o[1:-1] for o in oop) + "]"
    elif len(oop) == 1:
        ret = oop[0]
    else:
        ret = "vcat(" + ", ".join(oop) + ")"
    ind = "    "
    src = [
        f"# pysciml model {name!r}: generated by pysciml.engines.julia.emit; do not edit.",
        f"# states: {prog.trace.n_states}, physics parameters: {prog.trace.n_phys}, mode: {prog.mode}.",
        "# `B` is bound to PySciMLBridge by compile_model before this source is evaluated.",
        "",
        "function rhs!(du, u, p, t, K)",
        *[ind + line for line in body + inplace],
        ind + "return nothing",
        "end",
        "",
        "function rhs(u, p, t, K)",
        *[ind + line for line in body],
        ind + f"return {ret}",
        "end",
        "",
    ]
    return "\n".join(src)


@dataclasses.dataclass(frozen=True)
class Emitted:
    """Everything the bridge needs to compile a model."""

    source: str
    source_hash: str
    program: Program
    consts: tuple  # numpy arrays, in K.consts order
    grids: tuple  # grid objects, in K.grids order
    has_branches: bool


_emitted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def program_for(model) -> Emitted:
    """Trace, schedule and print ``model`` (cached per model object)."""
    try:
        return _emitted[model]
    except (KeyError, TypeError):
        pass
    tr = trace_model(model)
    prog = build_program(tr)
    src = julia_source(prog, name=model.name)
    h = hashlib.sha256(src.encode()).hexdigest()
    em = Emitted(src, h, prog, tuple(v for _, v in tr.rec.consts), tuple(tr.rec.grids), prog.has_branches)
    try:
        _emitted[model] = em
    except TypeError:
        pass
    return em
