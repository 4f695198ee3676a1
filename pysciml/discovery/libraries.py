"""Candidate libraries for sparse regression: polynomials, Fourier terms, custom functions.

A library turns the network's inputs ``X`` (n_samples, n_inputs) into
candidate features ``Theta`` (n_samples, n_features).  Libraries are frozen
and compose (:class:`~pysciml.discovery.custom.Custom` adds user functions):
``Polynomial(2) + Fourier(1)`` concatenates the features of
both, ``Polynomial(1) * Fourier(1)`` takes every product of one feature of
each.  Each feature has

* a display name in the input names (``"prey*predator"``, ``"prey^2"``,
  ``"sin(2*prey)"``);
* an expression text (``"prey**2"``, see :mod:`.expressions`) from which its
  sympy form and an engine-neutral evaluator ``fn(cols, m)`` are built, so
  a discovered term runs inside a physics function on any engine.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..numerics import numpy_math
from .expressions import (
    check_names,
    compile_expression,
    expression_to_sympy,
    require_sympy,
)

__all__ = [
    "Feature",
    "Library",
    "Polynomial",
    "Fourier",
    "ConcatLibrary",
    "ProductLibrary",
    "default_names",
    "split_inputs",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Feature:
    """One candidate feature over named inputs.

    Args:
        name: display name (``"prey^2*predator"``).
        expression: expression text in the input names (``"prey**2*predator"``).
        inputs: the input names the expression refers to, in column order.
        numpy_fn: optional fast numpy evaluator ``fn(X) -> (n_samples,)``; when
            absent the expression is evaluated with numpy.
    """

    name: str
    expression: str
    inputs: tuple[str, ...]
    numpy_fn: Callable | None = None

    @functools.cached_property
    def _compiled(self):
        return compile_expression(self.expression, self.inputs, argument="library")

    @functools.cached_property
    def is_constant(self) -> bool:
        """True when the feature does not depend on any input (the bias ``1``)."""
        import ast

        return not any(
            isinstance(n, ast.Name) and n.id in self.inputs for n in ast.walk(ast.parse(self.expression, mode="eval"))
        )

    def evaluate_math(self, cols: Sequence[Any], m) -> Any:
        """The feature from the input columns ``cols`` with the math namespace ``m``."""
        return self._compiled(cols, m)

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """The feature over samples, ``X`` (n_samples, n_inputs) -> (n_samples,)."""

        if self.numpy_fn is not None:
            out = self.numpy_fn(X)
        else:
            out = self._compiled([X[:, i] for i in range(X.shape[1])], numpy_math)
        return np.broadcast_to(np.asarray(out, dtype=float), (X.shape[0],))

    def sympy(self, symbols: Mapping[str, Any] | None = None):
        """The sympy expression; ``symbols`` maps input names to sympy symbols (default: by name)."""
        sympy = require_sympy()

        symbols = symbols or {n: sympy.Symbol(n) for n in self.inputs}
        return expression_to_sympy(self.expression, symbols)


def _needs_parens(name: str) -> bool:
    depth = 0
    for i, ch in enumerate(name):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and (ch in "+/" or (ch == "-" and i > 0)):
            return True
    return False


def wrap_feature(name: str) -> str:
    return f"({name})" if _needs_parens(name) else name


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


class Library(abc.ABC):
    """A candidate library (abstract).  Concrete libraries implement :meth:`_features`."""

    @abc.abstractmethod
    def _features(self, input_names: tuple[str, ...]) -> list[Feature]:
        """The features for these input names (may contain duplicates; deduplicated by name)."""

    def features(self, input_names: Sequence[str]) -> tuple[Feature, ...]:
        """The library's features over ``input_names``, duplicates (same name) removed."""
        names = check_names(input_names)
        seen, out = set(), []
        for f in self._features(names):
            if f.name not in seen:
                seen.add(f.name)
                out.append(f)
        return tuple(out)

    def feature_names(self, input_names: Sequence[str]) -> list[str]:
        """Display names of the features, e.g. ``["prey", "predator", "prey^2", ...]``."""
        return [f.name for f in self.features(input_names)]

    def evaluate(self, X, input_names: Sequence[str] | None = None) -> np.ndarray:
        """The feature matrix ``Theta`` (n_samples, n_features) in numpy.

        Args:
            X: inputs, (n_samples, n_inputs).
            input_names: names of the inputs (default ``x0, x1, ...``).
        """
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        names = default_names(X.shape[1]) if input_names is None else check_names(input_names)
        feats = self.features(names)
        if not feats:
            raise InputError(f"{self!r} has no features for inputs {list(names)}; add terms.", argument="library")
        return np.stack([f.evaluate(X) for f in feats], axis=1)

    def sympy_features(self, symbols) -> list:
        """The features as sympy expressions of ``symbols`` (sympy symbols or names)."""
        sympy = require_sympy()

        syms = [sympy.Symbol(s) if isinstance(s, str) else s for s in symbols]
        names = [str(s) for s in syms]
        mapping = dict(zip(names, syms))
        return [f.sympy(mapping) for f in self.features(names)]

    def evaluate_math(self, x, m, input_names: Sequence[str] | None = None) -> list:
        """The features with the math namespace ``m`` (engine-neutral; for physics functions).

        Args:
            x: inputs with the input axis last, ``(n_inputs,)`` or ``(..., n_inputs)``,
                or a list with one value per input.
            m: the math namespace (numpy's, the jax engine's, ...).
            input_names: names of the inputs (default ``x0, x1, ...``).

        Returns:
            a list with one value per feature (constants come back as numbers).
        """
        cols = split_inputs(x, m)
        names = default_names(len(cols)) if input_names is None else check_names(input_names)
        return [f.evaluate_math(cols, m) for f in self.features(names)]

    def __add__(self, other):
        if not isinstance(other, Library):
            return NotImplemented
        parts = (self.parts if isinstance(self, ConcatLibrary) else (self,)) + (
            other.parts if isinstance(other, ConcatLibrary) else (other,)
        )
        return ConcatLibrary(parts)

    def __mul__(self, other):
        if not isinstance(other, Library):
            return NotImplemented
        return ProductLibrary(self, other)


def default_names(n: int) -> tuple[str, ...]:
    """``("x0", "x1", ...)``."""
    return tuple(f"x{i}" for i in range(n))


def split_inputs(x, m) -> list:
    """Columns of ``x`` along its last axis (a list/tuple is taken as the columns)."""
    if isinstance(x, (list, tuple)):
        return list(x)
    shape = getattr(x, "shape", None)
    if shape is None:
        x = m.asarray(x)
        shape = x.shape
    if len(shape) == 0:
        return [x]
    if len(shape) == 1:  # one sample: plain items (scalars, tracers, or symbols of an object array)
        return [x[i] for i in range(shape[0])]
    return [x[..., i] for i in range(shape[-1])]


@dataclasses.dataclass(frozen=True)
class Polynomial(Library):
    """Monomials of the inputs up to a total degree.

    Args:
        degree: highest total degree (>= 1).
        include_bias: include the constant feature ``1``.  Default True: a
            constant forcing is a common missing term; pass False when the
            unknown term must vanish at zero input.
        interactions: include products of different inputs (``prey*predator``);
            False keeps pure powers only (``prey``, ``prey^2``, ...).

    Features come in order of degree, then lexicographically by input position:
    ``1, x, y, x^2, x*y, y^2, ...``.
    """

    degree: int = 2
    include_bias: bool = True
    interactions: bool = True

    def __post_init__(self):
        if isinstance(self.degree, bool) or not isinstance(self.degree, (int, np.integer)) or self.degree < 1:
            raise InputError(f"must be an integer >= 1, got {self.degree!r}.", argument="Polynomial.degree")

    def _features(self, names):
        out = []
        if self.include_bias:
            out.append(Feature("1", "1", names))
        n = len(names)
        for d in range(1, int(self.degree) + 1):
            for combo in itertools.combinations_with_replacement(range(n), d):
                if not self.interactions and len(set(combo)) > 1:
                    continue
                powers = [combo.count(i) for i in range(n)]
                disp = [names[i] if p == 1 else f"{names[i]}^{p}" for i, p in enumerate(powers) if p]
                expr = [names[i] if p == 1 else f"{names[i]}**{p}" for i, p in enumerate(powers) if p]
                out.append(Feature("*".join(disp), "*".join(expr), names))
        return out


@dataclasses.dataclass(frozen=True)
class Fourier(Library):
    """Sines and cosines of each input: ``sin(k*w*x), cos(k*w*x)`` for ``k = 1..n_frequencies``.

    Args:
        n_frequencies: number of harmonics (>= 1).
        base_frequency: ``w``, angular frequency of the first harmonic (1/input units).
    """

    n_frequencies: int = 1
    base_frequency: float = 1.0

    def __post_init__(self):
        k = self.n_frequencies
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"must be an integer >= 1, got {k!r}.", argument="Fourier.n_frequencies")
        w = self.base_frequency
        if not isinstance(w, (int, float, np.floating, np.integer)) or not np.isfinite(w) or w <= 0:
            raise InputError(f"must be a positive finite number, got {w!r}.", argument="Fourier.base_frequency")

    def _features(self, names):
        out = []
        for name in names:
            for k in range(1, int(self.n_frequencies) + 1):
                freq = k * float(self.base_frequency)
                arg = name if freq == 1.0 else f"{_fmt_number(freq)}*{name}"
                for fn in ("sin", "cos"):
                    out.append(Feature(f"{fn}({arg})", f"{fn}({arg})", names))
        return out


@dataclasses.dataclass(frozen=True)
class ConcatLibrary(Library):
    """Features of several libraries, in order (``lib_a + lib_b``); duplicates dropped."""

    parts: tuple[Library, ...]

    def _features(self, names):
        return [f for part in self.parts for f in part._features(names)]

    def __repr__(self):
        return " + ".join(repr(p) for p in self.parts)


@dataclasses.dataclass(frozen=True)
class ProductLibrary(Library):
    """Every product of one feature of ``left`` and one of ``right`` (``lib_a * lib_b``)."""

    left: Library
    right: Library

    def _features(self, names):
        out = []
        for a in self.left._features(names):
            for b in self.right._features(names):
                if a.name == "1" or b.name == "1":
                    out.append(b if a.name == "1" else a)
                    continue
                fast = None
                if a.numpy_fn is not None or b.numpy_fn is not None:
                    fast = functools.partial(_product_numpy, a, b)
                out.append(
                    Feature(
                        f"{wrap_feature(a.name)}*{wrap_feature(b.name)}",
                        f"({a.expression})*({b.expression})",
                        names,
                        fast,
                    )
                )
        return out

    def __repr__(self):
        return f"({self.left!r}) * ({self.right!r})"


def _product_numpy(a: Feature, b: Feature, X):
    return a.evaluate(X) * b.evaluate(X)
