"""SBML export: a :class:`~.network.ReactionNetwork` as an SBML Level 3 Version 2 core document.

Written with python-libsbml (the document is built as libsbml objects and checked by libsbml
before it is returned), so that other tools — libRoadRunner, COPASI, tellurium — simulate the
same model, and ``ps.bio.from_sbml`` reads it back.

Mapping (the conventions of :mod:`.network` are SBML's, so nothing is rescaled):

* compartments -> compartments (constant, 3-D); a network without compartments gets one
  compartment of size 1 named ``compartment`` (or ``compartment_<k>`` if that name is taken);
* species -> species with ``initialConcentration`` and ``hasOnlySubstanceUnits="false"``;
  constant species -> ``boundaryCondition="true" constant="true"``;
* parameters -> constant global parameters;
* reactions -> reactions whose kinetic law is ``compartment * rate`` (SBML kinetic laws are
  amount per time; a network's rate law is per volume), reversible ones marked so; species
  named in a rate law but not in the equation are listed as modifiers.  The rate law goes
  text -> sympy (:meth:`.ReactionNetwork.rate_law`) -> libsbml's MathML tree; ``time`` is the
  SBML time csymbol.

Refused (``InputError`` naming the reaction): rate laws given as Python functions (they have
no symbolic form) and functions MathML has no counterpart for.  Units strings are not written
(SBML units are unit definitions, not free text).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["to_sbml"]


def _require_libsbml():
    try:
        import libsbml
    except ImportError:
        raise ImportError("ps.bio.to_sbml needs python-libsbml: pip install 'pysciml[sbml]'.") from None
    return libsbml


def _check(libsbml, code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml refused {what}: {libsbml.OperationReturnValue_toString(code)}")


class _MathWriter:
    """sympy expression -> libsbml ``ASTNode``."""

    def __init__(self, libsbml, where: str):
        import sympy

        self.L = libsbml
        self.sympy = sympy
        self.where = where
        L = libsbml
        self.functions = {
            sympy.exp: L.AST_FUNCTION_EXP,
            sympy.log: L.AST_FUNCTION_LN,
            sympy.sin: L.AST_FUNCTION_SIN,
            sympy.cos: L.AST_FUNCTION_COS,
            sympy.tan: L.AST_FUNCTION_TAN,
            sympy.asin: L.AST_FUNCTION_ARCSIN,
            sympy.acos: L.AST_FUNCTION_ARCCOS,
            sympy.atan: L.AST_FUNCTION_ARCTAN,
            sympy.sinh: L.AST_FUNCTION_SINH,
            sympy.cosh: L.AST_FUNCTION_COSH,
            sympy.tanh: L.AST_FUNCTION_TANH,
            sympy.Abs: L.AST_FUNCTION_ABS,
            sympy.Max: L.AST_FUNCTION_MAX,
            sympy.Min: L.AST_FUNCTION_MIN,
        }

    def node(self, kind, children=()) -> Any:
        out = self.L.ASTNode(kind)
        for child in children:
            _check(self.L, out.addChild(child), f"math of {self.where}")
        return out

    def number(self, value) -> Any:
        sympy = self.sympy
        if isinstance(value, sympy.Integer) or (isinstance(value, int)):
            out = self.L.ASTNode(self.L.AST_INTEGER)
            out.setValue(int(value))
            return out
        if isinstance(value, sympy.Rational):
            out = self.L.ASTNode(self.L.AST_RATIONAL)
            out.setValue(int(value.p), int(value.q))
            return out
        out = self.L.ASTNode(self.L.AST_REAL)
        out.setValue(float(value))
        return out

    def __call__(self, expr) -> Any:
        sympy, L = self.sympy, self.L
        if isinstance(expr, sympy.Symbol):
            if expr.name == "time":
                out = L.ASTNode(L.AST_NAME_TIME)
                out.setName("time")
                return out
            out = L.ASTNode(L.AST_NAME)
            out.setName(expr.name)
            return out
        if expr is sympy.pi:
            return L.ASTNode(L.AST_CONSTANT_PI)
        if expr is sympy.E:
            return L.ASTNode(L.AST_CONSTANT_E)
        if expr.is_Number:
            if expr.is_negative:
                return self.node(L.AST_MINUS, [self.number(-expr)])
            return self.number(expr)
        if isinstance(expr, sympy.Add):
            return self.node(L.AST_PLUS, [self(a) for a in expr.args])
        if isinstance(expr, sympy.Mul):
            num, den = sympy.fraction(expr)
            if den != 1:
                return self.node(L.AST_DIVIDE, [self(num), self(den)])
            if expr.args[0] == -1:
                return self.node(L.AST_MINUS, [self(sympy.Mul(*expr.args[1:]))])
            return self.node(L.AST_TIMES, [self(a) for a in expr.args])
        if isinstance(expr, sympy.Pow):
            base, exponent = expr.args
            if exponent == sympy.Rational(1, 2):
                return self.node(L.AST_FUNCTION_ROOT, [self.number(2), self(base)])
            if exponent.is_Number and exponent.is_negative:
                return self.node(L.AST_DIVIDE, [self.number(1), self(base ** (-exponent))])
            return self.node(L.AST_POWER, [self(base), self(exponent)])
        kind = self.functions.get(expr.func)
        if kind is not None:
            return self.node(kind, [self(a) for a in expr.args])
        raise InputError(
            f"the rate law of {self.where} uses {expr.func.__name__}, which this SBML writer cannot express in "
            "MathML; write the rate law with + - * / ** and exp, log, sqrt, abs, trigonometric functions, "
            "maximum or minimum.",
            argument="network",
        )


def _free_name(name: str, taken: set[str]) -> str:
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    return out


def to_sbml(network, path: str | os.PathLike | None = None) -> str:
    """The SBML text (Level 3 Version 2 core) of a :class:`~.network.ReactionNetwork`.

    ``ps.bio.from_sbml(text)`` reads it back and libRoadRunner simulates it; ``path``: also
    write the text to that file.
    """
    if not all(hasattr(network, a) for a in ("all_species", "parameter_values", "rate_law", "reactions")):
        raise InputError(f"must be a ps.bio.ReactionNetwork, got {type(network).__name__}.", argument="network")
    if not network.reactions:
        raise InputError("the network has no reactions; add some with net.reaction(...).", argument="network")
    libsbml = _require_libsbml()
    for r in network.reactions:
        if not r.k and not isinstance(r.rate, str):
            raise InputError(
                f"reaction {r.name!r} has a Python-function rate law, which has no SBML (MathML) form; give it as "
                "text (rate='k * A * B') or mass action (k='k1') to export the network.",
                argument="network",
            )
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(libsbml, model.setId(_sid(network.name)), "the model id")
    species = network.all_species
    params = network.parameter_values
    taken = (
        {s.name for s in species} | set(params) | {c.name for c in network.compartments} | set(network.reaction_names)
    )
    compartments = [(c.name, c.volume) for c in network.compartments]
    default = None
    if not compartments:
        default = _free_name("compartment", taken)
        compartments = [(default, 1.0)]
    for name, volume in compartments:
        c = model.createCompartment()
        _check(libsbml, c.setId(name), f"compartment {name!r}")
        c.setSize(volume)
        c.setConstant(True)
        c.setSpatialDimensions(3)
    for s in species:
        sp = model.createSpecies()
        _check(libsbml, sp.setId(s.name), f"species {s.name!r}")
        sp.setCompartment(s.compartment or default)
        sp.setInitialConcentration(s.initial)
        sp.setHasOnlySubstanceUnits(False)
        sp.setBoundaryCondition(s.constant)
        sp.setConstant(s.constant)
    for name, spec in params.items():
        p = model.createParameter()
        _check(libsbml, p.setId(name), f"parameter {name!r}")
        p.setValue(float(spec.default))
        p.setConstant(True)
    species_names = {s.name for s in species}
    for r in network.reactions:
        rx = model.createReaction()
        _check(libsbml, rx.setId(r.name), f"reaction {r.name!r}")
        rx.setReversible(r.equation.reversible)
        comp = r.compartment or default
        rx.setCompartment(comp)
        for terms, create in ((r.equation.reactants, rx.createReactant), (r.equation.products, rx.createProduct)):
            for name, coefficient in terms:
                ref = create()
                ref.setSpecies(name)
                ref.setStoichiometry(float(coefficient))
                ref.setConstant(True)
        law = network.rate_law(r.name)
        in_equation = set(r.equation.species)
        for symbol in sorted(law.free_symbols, key=lambda x: x.name):
            if symbol.name in species_names and symbol.name not in in_equation:
                mod = rx.createModifier()
                mod.setSpecies(symbol.name)
        writer = _MathWriter(libsbml, f"reaction {r.name!r}")
        import sympy

        kl = rx.createKineticLaw()
        _check(libsbml, kl.setMath(writer(sympy.Symbol(comp) * law)), f"the kinetic law of {r.name!r}")
    doc.checkInternalConsistency()
    errors = [
        doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:  # a bug of this writer, not of the caller's network
        raise RuntimeError("libsbml found the exported document invalid: " + "; ".join(e.getMessage() for e in errors))
    text = libsbml.writeSBMLToString(doc)
    if path is not None:
        Path(path).write_text(text)
    return text


def _sid(name: str) -> str:
    """``name`` as an SBML identifier (letters, digits, underscores; not starting with a digit)."""
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "model"
    return out if not out[0].isdigit() else "m_" + out
