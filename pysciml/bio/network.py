"""Reaction networks: species, compartments, parameters and reactions -> an ``ODEModel``.

Conventions (those of SBML, so imported and hand-built models agree):

* A species' value is its **concentration** in its compartment (amount / volume).
* A rate law gives the reaction's rate **per volume of the reaction's compartment**
  (concentration / time); the amount flux is ``rate * volume``.  Mass action:
  ``k * prod(c_s ** nu_s)`` over the reactants (``kf * prod(reactants) - kr * prod(products)``
  for a reversible reaction).
* ``d c_i / dt = sum_j N_ij * rate_j * V(reaction j) / V(species i)``, with ``N`` the
  stoichiometry matrix (species x reactions, products positive, reactants negative).
  Without declared compartments every volume is 1 and no volume parameter exists.
* Compartment volumes and constant (boundary) species are model parameters, so they can be
  fitted and differentiated like rate constants.

Rate laws are text over species, parameter and compartment names and ``time`` (parsed
safely by :mod:`pysciml.discovery.expressions`, available as sympy through
:meth:`ReactionNetwork.rate_law`), or Python functions ``rate(c, p, t, m)`` with ``c`` a
dict of concentrations by species name, ``p`` the parameters, ``m`` the math namespace.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..discovery.expressions import compile_expression, expression_to_sympy
from ..errors import InputError
from ..model import UDE, ODEModel
from ..networks import MLP
from ..options import check_number
from ..params import Param
from .conservation import left_null_space
from .equations import Equation, check_name, parse_equation

__all__ = ["ReactionNetwork", "Species", "Compartment", "Reaction"]


@dataclasses.dataclass(frozen=True)
class Compartment:
    """A compartment: its name (also the name of its volume parameter), volume and units."""

    name: str
    volume: float
    units: str | None = None


@dataclasses.dataclass(frozen=True)
class Species:
    """A species: initial concentration, compartment, and whether it is held constant."""

    name: str
    initial: float
    compartment: str | None
    constant: bool = False
    units: str | None = None
    declared: bool = True  # False: created by a reaction equation, may still be declared once


@dataclasses.dataclass(frozen=True)
class Reaction:
    """A reaction: its equation and rate law (text, function, or mass-action constants)."""

    name: str
    equation: Equation
    rate: str | Callable | None
    k: tuple[str, ...]  # mass-action rate-constant parameter names (1, or 2 when reversible)
    compartment: str | None

    @property
    def law(self) -> str:
        """A short description of the rate law."""
        if self.k:
            return "mass action (" + ", ".join(self.k) + ")"
        return self.rate if isinstance(self.rate, str) else getattr(self.rate, "__name__", "function")


def _number(value, argument: str, *, low: float | None = None, low_open: bool = True) -> float:
    """``value`` as a float after :func:`pysciml.options.check_number` (finite, above ``low``)."""
    check_number(value, argument, low=low, low_open=low_open)
    return float(value)


class ReactionNetwork:
    """A chemical reaction network or gene regulatory network, built step by step.

    >>> net = ReactionNetwork("decay_chain")
    >>> net.parameters(k1=1.0, k2=0.5)
    >>> net.reaction("A -> B", k="k1")
    >>> net.reaction("B -> C", k="k2")
    >>> net.species("A", 1.0)
    >>> model = net.to_model()           # states A, B, C; ps.solve(model, t=(0, 10))

    Args:
        name: model name carried to outputs.
        time_units, concentration_units: units written into outputs.
    """

    def __init__(
        self, name: str = "reaction_network", *, time_units: str | None = None, concentration_units: str | None = None
    ):
        self.name = name
        self.time_units = time_units
        self.concentration_units = concentration_units
        self._species: dict[str, Species] = {}
        self._compartments: dict[str, Compartment] = {}
        self._params: dict[str, Param] = {}
        self._reactions: dict[str, Reaction] = {}

    # -- declarations -----------------------------------------------------------------------------
    def _taken(self, name: str, what: str, argument: str) -> None:
        for kind, table in (
            ("species", self._species),
            ("compartment", self._compartments),
            ("parameter", self._params),
        ):
            if name in table and not (kind == "species" == what and not self._species[name].declared):
                raise InputError(
                    f"{name!r} is already declared as a {kind}; species, compartments and parameters share one "
                    "namespace, so give each its own name.",
                    argument=argument,
                )

    def compartment(self, name: str, volume: float = 1.0, *, units: str | None = None) -> None:
        """Declare a compartment of ``volume`` (a parameter named ``name``)."""
        check_name(name, argument="name", what="compartment")
        self._taken(name, "compartment", "name")
        if self._species and not self._compartments:
            raise InputError(
                "declare compartments before the species and reactions that live in them.", argument="name"
            )
        self._compartments[name] = Compartment(name, _number(volume, "volume", low=0.0), units)

    def parameter(
        self,
        name: str,
        value: float,
        *,
        bounds=None,
        units: str | None = None,
        description: str | None = None,
        fixed: bool = False,
    ) -> None:
        """Declare a parameter (a rate constant, Hill coefficient, ...) with its default ``value``."""
        check_name(name, argument="name", what="parameter")
        self._taken(name, "parameter", "name")
        self._params[name] = Param(
            _number(value, f"parameters.{name}"), bounds=bounds, units=units, description=description, fixed=fixed
        )

    def parameters(self, **values: float) -> None:
        """Declare several parameters at once: ``net.parameters(k1=0.5, k2=2.0)``."""
        for name, value in values.items():
            self.parameter(name, value)

    def _default_compartment(self, argument: str) -> str | None:
        if not self._compartments:
            return None
        if len(self._compartments) == 1:
            return next(iter(self._compartments))
        raise InputError(
            f"the network has compartments {list(self._compartments)}; say which one with compartment=.",
            argument=argument,
        )

    def _check_compartment(self, compartment, argument: str) -> str | None:
        if compartment is None:
            return self._default_compartment(argument)
        if compartment not in self._compartments:
            raise InputError(
                f"unknown compartment {compartment!r}; declared: {list(self._compartments)} "
                "(declare it with net.compartment(name, volume)).",
                argument=argument,
            )
        return compartment

    def species(
        self,
        name: str,
        initial: float = 0.0,
        *,
        compartment: str | None = None,
        constant: bool = False,
        units: str | None = None,
    ) -> None:
        """Declare a species with its initial concentration.

        ``constant=True`` holds it fixed (a boundary species, e.g. an input signal): it is a
        parameter of the model, not a state, and reactions do not change it.
        """
        check_name(name, argument="name", what="species")
        old = self._species.get(name)
        if old is not None and old.declared:
            raise InputError(f"species {name!r} is declared twice; declare each species once.", argument="name")
        self._taken(name, "species", "name")
        comp = self._check_compartment(compartment, "compartment")
        if old is not None and compartment is None:
            comp = old.compartment
        self._species[name] = Species(
            name, _number(initial, f"initial.{name}", low=0.0, low_open=False), comp, bool(constant), units
        )

    def reaction(
        self,
        equation: str,
        rate: str | Callable | None = None,
        *,
        k=None,
        name: str | None = None,
        compartment: str | None = None,
    ) -> str:
        """Add a reaction; returns its name.

        Args:
            equation: ``"A + 2 B -> C"``, ``"0 -> m1"``, ``"A <-> B"`` (see :mod:`.equations`).
                Species not declared yet are created (initial concentration 0; declare them
                afterwards with :meth:`species` to set it).
            rate: the rate law (per volume; see module doc): text over species, parameter and
                compartment names and ``time``, or ``rate(c, p, t, m)``.  For a reversible
                equation it is the net rate.
            k: mass action instead of ``rate``: a parameter name or a number (then a parameter
                ``k_<name>`` is created); ``(kf, kr)`` for a reversible equation.
            name: reaction name (default ``r1``, ``r2``, ...).
            compartment: where the reaction happens (default: its first species' compartment).
        """
        eq = parse_equation(equation, argument="equation")
        if name is None:
            name = f"r{len(self._reactions) + 1}"
        check_name(name, argument="name", what="reaction")
        if name in self._reactions:
            raise InputError(f"reaction {name!r} already exists; give each reaction its own name.", argument="name")
        if (rate is None) == (k is None):
            raise InputError(
                "give either rate= (a rate law) or k= (mass action), not both and not neither.", argument="rate"
            )
        for sp in eq.species:
            if sp in self._params or sp in self._compartments:
                raise InputError(
                    f"{sp!r} in {equation!r} is a {'parameter' if sp in self._params else 'compartment'}, "
                    "not a species.",
                    argument="equation",
                )
        if rate is not None and not (isinstance(rate, str) or callable(rate)):
            raise InputError(
                f"must be a rate-law text such as 'k1 * A * B' or a function rate(c, p, t, m), got "
                f"{type(rate).__name__}.",
                argument="rate",
            )
        ks: tuple[str, ...] = ()
        if k is not None:
            values = tuple(k) if isinstance(k, (tuple, list)) else (k,)
            if len(values) != (2 if eq.reversible else 1):
                raise InputError(
                    f"{'a reversible' if eq.reversible else 'an irreversible'} reaction takes "
                    f"{'two rate constants k=(kf, kr)' if eq.reversible else 'one rate constant'}, got {k!r}.",
                    argument="k",
                )
            names = []
            for i, v in enumerate(values):
                if isinstance(v, str):
                    names.append(v)  # checked against the parameters in to_model()
                else:
                    pname = f"k_{name}" + ("" if len(values) == 1 else ("_f", "_r")[i])
                    self.parameter(pname, _number(v, "k", low=0.0, low_open=False))
                    names.append(pname)
            ks = tuple(names)
        comp = None
        if compartment is not None or self._compartments:
            comp = self._check_compartment(compartment, "compartment") if compartment is not None else None
        for sp in eq.species:
            if sp not in self._species:
                self._species[sp] = Species(
                    sp, 0.0, self._default_compartment("equation") if self._compartments else None, declared=False
                )
        if comp is None and self._compartments:
            comp = self._species[eq.species[0]].compartment
        self._reactions[name] = Reaction(name, eq, rate, ks, comp)
        return name

    # -- facts -------------------------------------------------------------------------------------
    @property
    def species_names(self) -> tuple[str, ...]:
        """Names of the dynamic species (the model's states), in declaration order."""
        return tuple(n for n, s in self._species.items() if not s.constant)

    @property
    def all_species(self) -> tuple[Species, ...]:
        """Every species, constant ones included, in declaration order."""
        return tuple(self._species.values())

    @property
    def compartments(self) -> tuple[Compartment, ...]:
        """The declared compartments (empty: one implicit compartment of volume 1)."""
        return tuple(self._compartments.values())

    @property
    def parameter_values(self) -> dict[str, Param]:
        """The declared parameters by name (a copy)."""
        return dict(self._params)

    def to_sbml(self, path=None) -> str:
        """The network as an SBML Level 3 document (written by python-libsbml); see
        :func:`pysciml.bio.sbml_export.to_sbml`.  ``path``: also write it there."""
        from .sbml_export import to_sbml

        return to_sbml(self, path)

    @property
    def reaction_names(self) -> tuple[str, ...]:
        return tuple(self._reactions)

    @property
    def reactions(self) -> tuple[Reaction, ...]:
        return tuple(self._reactions.values())

    def _exact_stoichiometry(self) -> list[list[Fraction]]:
        index = {n: i for i, n in enumerate(self.species_names)}
        out = [[Fraction(0)] * len(self._reactions) for _ in index]
        for j, r in enumerate(self._reactions.values()):
            for sp, c in r.equation.reactants:
                if sp in index:
                    out[index[sp]][j] -= c
            for sp, c in r.equation.products:
                if sp in index:
                    out[index[sp]][j] += c
        return out

    @property
    def stoichiometry(self) -> np.ndarray:
        """The stoichiometry matrix ``N`` (dynamic species x reactions; products +, reactants -)."""
        exact = self._exact_stoichiometry()
        return np.array([[float(v) for v in row] for row in exact], dtype=float).reshape(
            len(self.species_names), len(self._reactions)
        )

    def conservation_laws(self) -> np.ndarray:
        """Integer vectors ``c`` (one per row, over :attr:`species_names`) with ``c @ N = 0``.

        ``c @ amounts`` (concentration times compartment volume) is constant in time.  Found
        exactly (sympy); a basis in reduced row echelon form, not necessarily non-negative.
        """
        return left_null_space(self._exact_stoichiometry())

    def rate_law(self, reaction: str):
        """The sympy expression of a reaction's rate law (text and mass-action laws)."""
        r = self._get_reaction(reaction)
        import sympy  # a core dependency, imported on first use

        symbols = {n: sympy.Symbol(n) for n in self._names()}
        if r.k:
            return self._mass_action(r, symbols, lambda x, n: x**n)
        if isinstance(r.rate, str):
            return expression_to_sympy(r.rate, symbols, argument=f"rate of {r.name}")
        raise InputError(
            f"reaction {reaction!r} has a Python-function rate law; it has no text form.", argument="reaction"
        )

    def _get_reaction(self, name: str) -> Reaction:
        if name not in self._reactions:
            raise InputError(
                f"unknown reaction {name!r}; the reactions are {list(self._reactions)}.", argument="reaction"
            )
        return self._reactions[name]

    def _names(self) -> list[str]:
        return [*self._species, *self._params, *self._compartments, "time"]

    @staticmethod
    def _mass_action(r: Reaction, values: Mapping[str, Any], power: Callable) -> Any:
        def product(k, terms):
            out = values[k]
            for sp, c in terms:
                out = out * (values[sp] if c == 1 else power(values[sp], int(c) if c.denominator == 1 else float(c)))
            return out

        fwd = product(r.k[0], r.equation.reactants)
        return fwd - product(r.k[1], r.equation.products) if r.equation.reversible else fwd

    def __repr__(self):
        return (
            f"ReactionNetwork({self.name!r}, species={list(self._species)}, "
            f"reactions={len(self._reactions)}, parameters={list(self._params)})"
        )

    # -- the model ---------------------------------------------------------------------------------
    def _compile(self) -> list[Callable]:
        names = self._names()
        laws: list[Callable] = []
        for r in self._reactions.values():
            for kname in r.k:
                if kname not in self._params:
                    raise InputError(
                        f"reaction {r.name!r} uses rate constant {kname!r}, which is not a declared parameter; "
                        f"declare it with net.parameter({kname!r}, value). Parameters: {list(self._params)}.",
                        argument="k",
                    )
            if r.k:
                laws.append(lambda vals, p, t, m, _r=r: self._mass_action(_r, vals, lambda x, n: x**n))
            elif isinstance(r.rate, str):
                self._check_rate_names(r, set(names))
                fn = compile_expression(r.rate, names, argument=f"rate of reaction {r.name!r}")
                laws.append(lambda vals, p, t, m, _fn=fn: _fn([vals[n] for n in names], m))
            else:
                user = r.rate
                assert callable(user)
                laws.append(
                    lambda vals, p, t, m, _f=user, _s=tuple(self._species): _f({n: vals[n] for n in _s}, p, t, m)
                )
        return laws

    def _check_rate_names(self, r: Reaction, known: set[str]) -> None:
        assert isinstance(r.rate, str)
        try:
            tree = ast.parse(r.rate.strip(), mode="eval")
        except SyntaxError:
            return  # compile_expression reports it with the parser's message
        calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in calls and node.id not in known | {"pi", "e"}:
                raise InputError(
                    f"the rate law {r.rate!r} of reaction {r.name!r} uses {node.id!r}, which is not a species, "
                    f"parameter or compartment of the network (species {list(self._species)}, parameters "
                    f"{list(self._params)}, compartments {list(self._compartments)}, and 'time'); declare it with "
                    f"net.species({node.id!r}, initial) or net.parameter({node.id!r}, value).",
                    argument="rate",
                )

    def to_model(self, *, name: str | None = None, networks: Mapping[str, MLP] | None = None) -> ODEModel:
        """The network as a ``ps.ODEModel``: states are the dynamic species (concentrations),
        parameters the declared parameters, compartment volumes and constant species, and
        ``u0`` the initial concentrations.

        ``networks={"nn": ps.MLP(1, 1)}`` makes it a universal differential equation
        (a ``ps.UDE``): a Python rate law calls ``p.nn(x)`` for an unknown regulation term.
        """
        if not self._reactions:
            raise InputError("the network has no reactions; add some with net.reaction(...).", argument="network")
        laws = self._compile()
        states = self.species_names
        if not states:
            raise InputError("every species is constant; the model would have no states.", argument="network")
        constant = [s for s in self._species.values() if s.constant]
        params: dict[str, Any] = dict(self._params)
        for c in self._compartments.values():
            params[c.name] = Param(c.volume, bounds=(0.0, None), units=c.units, description="compartment volume")
        for s in constant:
            params[s.name] = Param(
                s.initial, bounds=(0.0, None), units=s.units or self.concentration_units, description="constant species"
            )
        reactions = list(self._reactions.values())
        index = {n: i for i, n in enumerate(states)}
        # per state: [(reaction index, coefficient)], sparse
        columns: list[list[tuple[int, float]]] = [[] for _ in states]
        for i, row in enumerate(self._exact_stoichiometry()):
            columns[i] = [(j, float(c)) for j, c in enumerate(row) if c != 0]
        volumes = bool(self._compartments)
        r_comp = [r.compartment or "" for r in reactions]  # used only when there are compartments
        s_comp = [self._species[n].compartment or "" for n in states]
        pnames = list(params)

        def reaction_network(u, p, t, m):
            vals: dict[str, Any] = {n: u[i] for n, i in index.items()}
            for n in pnames:
                vals[n] = p[n]
            vals["time"] = t
            flux = []
            for j, law in enumerate(laws):
                v = law(vals, p, t, m)
                flux.append(v * vals[r_comp[j]] if volumes else v)
            du = []
            for i, terms in enumerate(columns):
                d = 0.0 * u[i]
                for j, c in terms:
                    d = d + (flux[j] if c == 1 else -flux[j] if c == -1 else c * flux[j])
                du.append(d / vals[s_comp[i]] if volumes else d)
            return du

        reaction_network.__name__ = name or self.name
        state_units: dict[str, str] = {}
        for n in states:
            units = self._species[n].units or self.concentration_units
            if units:
                state_units[n] = units
        return (UDE if networks else ODEModel)(
            reaction_network,
            states=list(states),
            params=params,
            networks=networks,
            name=name or self.name,
            time_units=self.time_units,
            u0=[self._species[n].initial for n in states],
            state_units=state_units,
        )
