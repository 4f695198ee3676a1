"""Reaction equations as text: ``"A + 2 B -> C"``, ``"0 -> m1"``, ``"A <-> B"``.

A side is ``0`` (or empty, ``∅``) or terms joined by ``+``; a term is an optional positive
coefficient (``2``, ``0.5``, ``3/2``; a ``*`` may follow it) and a species name (a Python
identifier).  The arrow is ``->`` or ``=>`` (irreversible) or ``<->`` / ``<=>`` (reversible).
A species named twice on one side counts twice (``A + A`` is ``2 A``).
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from fractions import Fraction

from ..errors import InputError

__all__ = ["Equation", "parse_equation", "check_name"]

_ARROWS = ("<->", "<=>", "->", "=>")
_EMPTY = {"", "0", "∅", "Ø", "ø"}
_TERM = re.compile(
    r"^(?:(?P<coef>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?(?:/[0-9]+)?|\.[0-9]+)\s*\*?\s*)?(?P<name>[A-Za-z_]\w*)$"
)


@dataclasses.dataclass(frozen=True)
class Equation:
    """A parsed reaction equation: species -> coefficient on each side, and reversibility."""

    reactants: tuple[tuple[str, Fraction], ...]
    products: tuple[tuple[str, Fraction], ...]
    reversible: bool

    @property
    def species(self) -> tuple[str, ...]:
        """Species named on either side, in order of first appearance."""
        seen: dict[str, None] = {}
        for name, _ in self.reactants + self.products:
            seen.setdefault(name, None)
        return tuple(seen)

    def __str__(self) -> str:
        def side(terms):
            if not terms:
                return "0"
            return " + ".join(name if c == 1 else f"{c} {name}" for name, c in terms)

        return f"{side(self.reactants)} {'<->' if self.reversible else '->'} {side(self.products)}"


def check_name(name, *, argument: str, what: str) -> str:
    """``name`` if it is a usable identifier (rate laws refer to it), else :class:`InputError`."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InputError(
            f"{what} name {name!r} is not a valid identifier; rate laws refer to it by name, so use letters, "
            "digits and underscores, starting with a letter.",
            argument=argument,
        )
    if name == "time":
        raise InputError(f"{what} name 'time' is reserved for model time in rate laws; rename it.", argument=argument)
    return name


def _coefficient(text: str | None, term: str, equation: str, argument: str) -> Fraction:
    if text is None:
        return Fraction(1)
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"cannot read the coefficient of {term!r} in {equation!r}.", argument=argument) from None
    if value <= 0:
        raise InputError(
            f"the coefficient of {term!r} in {equation!r} is {value}; stoichiometric coefficients must be "
            "positive (put the species on the other side of the arrow instead).",
            argument=argument,
        )
    return value


def _side(text: str, equation: str, argument: str) -> tuple[tuple[str, Fraction], ...]:
    text = text.strip()
    if text in _EMPTY:
        return ()
    out: dict[str, Fraction] = {}
    for raw in text.split("+"):
        term = raw.strip()
        if term.startswith("-"):
            raise InputError(
                f"the term {term!r} in {equation!r} has a negative coefficient; stoichiometric coefficients must "
                "be positive (write the species on the other side of the arrow).",
                argument=argument,
            )
        match = _TERM.match(term)
        if match is None:
            raise InputError(
                f"cannot read the term {term!r} in {equation!r}; write terms as 'A' or '2 A' joined by ' + ', "
                "or '0' for nothing.",
                argument=argument,
            )
        name = match["name"]
        if keyword.iskeyword(name) or name == "time":
            raise InputError(f"{name!r} in {equation!r} cannot be a species name.", argument=argument)
        out[name] = out.get(name, Fraction(0)) + _coefficient(match["coef"], term, equation, argument)
    return tuple(out.items())


def parse_equation(equation, *, argument: str = "equation") -> Equation:
    """Parse ``"A + 2 B -> C"`` into an :class:`Equation` (see module doc)."""
    if not isinstance(equation, str):
        raise InputError(
            f"must be a reaction equation such as 'A + B -> C', got {type(equation).__name__}.", argument=argument
        )
    for arrow in _ARROWS:
        if equation.count(arrow) == 1:
            left, right = equation.split(arrow)
            if any(a in left or a in right for a in ("->", "=>", "<-", "<=")):
                continue
            eq = Equation(_side(left, equation, argument), _side(right, equation, argument), arrow in ("<->", "<=>"))
            if not eq.reactants and not eq.products:
                raise InputError(f"{equation!r} has no species on either side.", argument=argument)
            return eq
    raise InputError(
        f"{equation!r} needs exactly one arrow: '->' (irreversible) or '<->' (reversible), e.g. 'A + B -> C'.",
        argument=argument,
    )
