"""Bad-input cases of pysciml.bio (reaction networks), for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

from pysciml import bio
from pysciml.errors import InputError


def _net(**params):
    net = bio.ReactionNetwork()
    net.parameters(k=1.0, **params)
    return net


def _unknown_species_in_rate(tmp):
    net = _net()
    net.reaction("A -> B", "k * A * Z")  # Z is nowhere declared
    net.to_model()


def _undeclared_rate_constant(tmp):
    net = _net()
    net.reaction("A -> B", k="k2")
    net.to_model()


def _duplicate_species(tmp):
    net = _net()
    net.species("A", 1.0)
    net.species("A", 2.0)


def _species_named_like_parameter(tmp):
    _net().species("k", 1.0)


def _unknown_compartment(tmp):
    net = _net()
    net.compartment("cell", 1.0)
    net.species("A", 1.0, compartment="nucleus")


CASES = [
    ("reaction-unknown-species-in-rate-law", _unknown_species_in_rate, InputError, "rate"),
    ("reaction-undeclared-rate-constant", _undeclared_rate_constant, InputError, "k"),
    ("reaction-negative-stoichiometry", lambda tmp: _net().reaction("A + -2 B -> C", k="k"), InputError, "equation"),
    ("reaction-zero-stoichiometry", lambda tmp: _net().reaction("0 A -> C", k="k"), InputError, "equation"),
    ("reaction-no-arrow", lambda tmp: _net().reaction("A + B = C", k="k"), InputError, "equation"),
    ("reaction-unreadable-term", lambda tmp: _net().reaction("A - B -> C", k="k"), InputError, "equation"),
    ("reaction-rate-and-k", lambda tmp: _net().reaction("A -> B", "k * A", k="k"), InputError, "rate"),
    ("reaction-reversible-one-constant", lambda tmp: _net().reaction("A <-> B", k="k"), InputError, "k"),
    ("reaction-parameter-as-species", lambda tmp: _net().reaction("k -> B", "A"), InputError, "equation"),
    ("reaction-network-without-reactions", lambda tmp: _net().to_model(), InputError, "network"),
    ("species-declared-twice", _duplicate_species, InputError, "name"),
    ("species-name-taken-by-parameter", _species_named_like_parameter, InputError, "name"),
    ("species-negative-initial-concentration", lambda tmp: _net().species("A", -1.0), InputError, "initial.A"),
    ("species-invalid-name", lambda tmp: _net().species("2A", 1.0), InputError, "name"),
    ("species-unknown-compartment", _unknown_compartment, InputError, "compartment"),
    ("compartment-zero-volume", lambda tmp: _net().compartment("cell", 0.0), InputError, "volume"),
]
