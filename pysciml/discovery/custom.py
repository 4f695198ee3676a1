"""User-defined library features: expressions, templates, numpy functions with a symbolic twin."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..numerics import numpy_math
from .expressions import compile_expression, require_sympy, sympy_to_text
from .libraries import Feature, Library

__all__ = ["Custom"]


@dataclasses.dataclass(frozen=True, eq=False)
class Custom(Library):
    """User-defined features.

    Args:
        functions: a mapping ``name -> spec`` (or a list of expression texts,
            each its own name).  A spec is one of

            * an expression text in the input names, ``"prey/(1 + prey)"``:
              one feature, displayed as ``name``;
            * a template with ``{x}``, ``"exp(-{x})"``: one feature per input,
              displayed as ``name(input)``;
            * a pair ``(numpy_fn, sympy_form)``: a unary numpy function applied
              to each input (one feature per input, displayed as
              ``name(input)``); ``sympy_form`` is a template with ``{x}`` or a
              function of one sympy symbol (e.g. ``sympy.exp``).  The symbolic
              form is what runs inside a refitted model, so it is checked
              against ``numpy_fn`` on the data at every evaluation.

    Expressions use ``+ - * / **``, numbers, ``pi``, ``e`` and the functions
    ``exp log log1p expm1 sqrt abs sign sin cos tan arcsin arccos arctan sinh
    cosh tanh arctan2 power maximum minimum heaviside`` (sympy's spellings
    ``asin``, ``Abs``, ``Max``... are accepted too).
    """

    functions: Any

    def __post_init__(self):
        f = self.functions
        if isinstance(f, str):
            f = [f]
        if isinstance(f, Sequence):
            f = {s: s for s in f}
        if not isinstance(f, Mapping):
            raise InputError(
                "must be a mapping name -> expression / (numpy_fn, sympy_form), or a list of "
                f"expressions; got {type(self.functions).__name__}.",
                argument="Custom.functions",
            )
        if not f:
            raise InputError("is empty; give at least one function.", argument="Custom.functions")
        for name, spec in f.items():
            if not isinstance(name, str) or not name:
                raise InputError(f"names must be non-empty strings, got {name!r}.", argument="Custom.functions")
            if isinstance(spec, tuple):
                if len(spec) != 2 or not callable(spec[0]) or not (isinstance(spec[1], str) or callable(spec[1])):
                    raise InputError(
                        f"{name!r}: a pair must be (numpy_fn, sympy_form) with a callable numpy_fn and a "
                        "'{x}' template or a sympy function, e.g. (np.exp, 'exp({x})').",
                        argument="Custom.functions",
                    )
            elif not isinstance(spec, str):
                raise InputError(
                    f"{name!r}: spec must be an expression text or a (numpy_fn, sympy_form) pair, got "
                    f"{type(spec).__name__}.",
                    argument="Custom.functions",
                )
        object.__setattr__(self, "functions", dict(f))

    def _features(self, names):
        out = []
        for key, spec in self.functions.items():
            if isinstance(spec, str) and "{x}" not in spec:
                compile_expression(spec, names, argument=f"Custom.functions[{key!r}]")  # validate early
                out.append(Feature(key, spec, names))
                continue
            numpy_fn, form = spec if isinstance(spec, tuple) else (None, spec)
            for i, name in enumerate(names):
                text = _unary_text(form, name, key)
                fast = None
                if numpy_fn is not None:
                    fast = _checked_unary(numpy_fn, i, text, names, key)
                out.append(Feature(f"{key}({name})", text, names, fast))
        return out

    def __repr__(self):
        return f"Custom({list(self.functions)})"


def _unary_text(form, name: str, key: str) -> str:
    if isinstance(form, str):
        if "{x}" not in form:
            raise InputError(f"{key!r}: the template {form!r} must contain {{x}}.", argument="Custom.functions")
        return "(" + form.replace("{x}", f"({name})") + ")"
    sympy = require_sympy()

    try:
        expr = form(sympy.Symbol(name))
    except Exception as exc:  # noqa: BLE001 - user code
        raise InputError(f"{key!r}: sympy_form failed on a symbol: {exc}.", argument="Custom.functions") from None
    return sympy_to_text(expr)


def _checked_unary(numpy_fn, i, text, names, key):
    compiled = compile_expression(text, names, argument=f"Custom.functions[{key!r}]")

    def fast(X):

        col = X[:, i]
        a = np.asarray(numpy_fn(col), dtype=float)
        b = np.asarray(compiled([X[:, j] for j in range(X.shape[1])], numpy_math), dtype=float)
        if not np.allclose(a, b, rtol=1e-8, atol=1e-12, equal_nan=True):
            raise InputError(
                f"{key!r}: numpy_fn and the symbolic form {text!r} disagree on the data; the symbolic "
                "form is what a refitted model evaluates, so make them the same function.",
                argument="library",
            )
        return a

    return fast
