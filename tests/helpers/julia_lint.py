"""Precompile-safety and binding checks of Julia source, on the tree-sitter-julia syntax tree.

Written for the mistakes a review of PySciMLBridge found that no Julia-free check saw:

* :func:`constructor_overwrites`: a method whose signature is the one of a struct's
  implicit constructor (all arguments untyped, or typed exactly as the fields)
  overwrites it, which Julia >= 1.10 refuses during precompilation;
* :func:`unbound_module_names`: a package name used in the code (``SciMLSensitivity``
  in a tuple, ``Lux.Dense``) that no ``using``/``import`` binds (``using M: a, b``
  binds only ``a`` and ``b``) is an ``UndefVarError`` at run time;
* :func:`calls_to` / :func:`closure_arity`: argument counts of calls and of
  ``a -> (x, y) -> ...`` closures, to compare both sides of a callback;
* :func:`guarded_functions`: functions whose body is one ``try ... catch ... end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


def parser():
    ts = pytest.importorskip("tree_sitter", reason="tree-sitter is in the test extra")
    tsj = pytest.importorskip("tree_sitter_julia", reason="tree-sitter-julia is in the test extra")
    return ts.Parser(ts.Language(tsj.language()))


def parse(source: str):
    return parser().parse(source.encode()).root_node


def text(node) -> str:
    return node.text.decode()


def walk(node):
    yield node
    for c in node.children:
        yield from walk(c)


@dataclass(frozen=True)
class Method:
    name: str
    args: tuple[str | None, ...]  # declared type of each positional argument (None: untyped)
    keywords: bool
    line: int


@dataclass(frozen=True)
class Struct:
    name: str
    fields: tuple[str | None, ...]  # declared type of each field (None: untyped)
    parametric: bool
    line: int


def _positional(arglist) -> tuple[tuple[str | None, ...], bool]:
    args, keywords = [], False
    for c in arglist.children:
        if c.type == ";":
            keywords = True
            continue
        if keywords or c.type in ("(", ")", ","):
            continue
        node = c.children[0] if c.type == "named_argument" else c  # a default value
        if node.type == "typed_expression":
            args.append(text(node.children[-1]))
        elif node.type == "identifier":
            args.append(None)
        else:  # splats and the like: not a plain positional argument
            args.append("?" + text(node))
    return tuple(args), keywords


def _signature_call(node):
    """The call_expression of a method definition (``function f(...)`` or ``f(...) = ...``)."""
    while node is not None and node.type in ("signature", "where_expression", "typed_expression"):
        node = node.children[0]
    return node if node is not None and node.type == "call_expression" else None


def methods(root) -> list[Method]:
    out = []
    for n in walk(root):
        head = None
        if n.type == "function_definition":
            head = next((c for c in n.children if c.type == "signature"), None)
        elif n.type == "assignment":
            head = n.children[0]
        call = _signature_call(head) if head is not None else None
        if call is None or call.children[0].type != "identifier":
            continue
        arglist = next(c for c in call.children if c.type == "argument_list")
        args, kw = _positional(arglist)
        out.append(Method(text(call.children[0]), args, kw, call.start_point[0] + 1))
    return out


def structs(root) -> list[Struct]:
    out = []
    for n in walk(root):
        if n.type != "struct_definition":
            continue
        head = next(c for c in n.children if c.type == "type_head").children[0]
        while head.type == "binary_expression":  # S <: Super
            head = head.children[0]
        parametric = head.type == "parametrized_type_expression"
        name = text(head.children[0] if parametric else head)
        fields = []
        for c in n.children:
            if c.type == "typed_expression":
                fields.append(text(c.children[-1]))
            elif c.type == "identifier":
                fields.append(None)
        out.append(Struct(name, tuple(fields), parametric, n.start_point[0] + 1))
    return out


def constructor_overwrites(root) -> list[str]:
    """Methods that redefine a struct's implicit constructor (an error in precompilation)."""
    found = []
    by_name = {s.name: s for s in structs(root)}
    for m in methods(root):
        s = by_name.get(m.name)
        if s is None or m.keywords or len(m.args) != len(s.fields):
            continue
        untyped = all(a in (None, "Any") for a in m.args)
        as_fields = not s.parametric and m.args == s.fields
        if untyped or as_fields:
            kind = "untyped" if untyped else "typed as the fields"
            found.append(
                f"line {m.line}: {m.name}({len(m.args)} arguments, {kind}) redefines the implicit constructor of "
                f"struct {s.name} (line {s.line})"
            )
    return found


def bound_names(root) -> set[str]:
    """Names bound by ``using`` / ``import`` statements."""
    out = set()
    for n in walk(root):
        if n.type not in ("using_statement", "import_statement"):
            continue
        for c in n.children:
            if c.type == "selected_import":  # using M: a, b  -> a, b
                parts = [x for x in c.children if x.type in ("identifier", "scoped_identifier")]
                for x in parts[1:]:
                    out.add(text(x).split(".")[-1])
            elif c.type in ("identifier", "scoped_identifier"):  # using M / import M.N -> M / N
                out.add(text(c).split(".")[-1])
            elif c.type == "import_alias":
                out.add(text(c.children[-1]))
    return out


def _in_import(node) -> bool:
    while node is not None:
        if node.type in ("using_statement", "import_statement"):
            return True
        node = node.parent
    return False


def unbound_module_names(roots, modules: set[str]) -> list[str]:
    """Uses of a name in ``modules`` that no ``using``/``import`` in ``roots`` binds."""
    bound = set().union(*(bound_names(r) for r in roots))
    found = []
    for r in roots:
        for n in walk(r):
            if n.type != "identifier" or _in_import(n):
                continue
            name = text(n)
            parent = n.parent
            if parent is not None and parent.type == "field_expression" and parent.children[0] != n:
                continue  # the field in X.name
            if name in modules and name not in bound:
                found.append(f"line {n.start_point[0] + 1}: {name} is used but not bound by using/import")
    return found


def calls_to(root, name: str) -> list[tuple[int, int]]:
    """``(line, number of positional arguments)`` of every call ``name(...)``."""
    out = []
    for n in walk(root):
        if n.type == "call_expression" and text(n.children[0]) == name:
            arglist = next(c for c in n.children if c.type == "argument_list")
            args, _ = _positional(arglist)
            out.append((n.start_point[0] + 1, len(args)))
    return out


def closure_arity(root) -> list[int]:
    """Parameter counts of the arrow functions with a parenthesised parameter list."""
    out = []
    for n in walk(root):
        if n.type == "arrow_function_expression" and n.children[0].type == "argument_list":
            out.append(len(_positional(n.children[0])[0]))
    return out


def guarded_functions(root) -> set[str]:
    """Functions whose whole body is one ``try ... catch ... end``."""
    out = set()
    for n in walk(root):
        if n.type != "function_definition":
            continue
        call = _signature_call(next((c for c in n.children if c.type == "signature"), None))
        body = [c for c in n.children if c.type not in ("function", "signature", "end", "comment", "line_comment")]
        if call is not None and len(body) == 1 and body[0].type == "try_statement":
            if any(c.type == "catch_clause" for c in body[0].children):
                out.add(text(call.children[0]))
    return out


def macro_bodies(root, macro: str) -> list:
    """The argument nodes of every ``@macro`` call."""
    out = []
    for n in walk(root):
        if n.type == "macrocall_expression" and text(n.children[0]) == "@" + macro:
            args = next((c for c in n.children if c.type == "macro_argument_list"), None)
            if args is not None:
                out.extend(args.children)
    return out
