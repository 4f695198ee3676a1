"""Bad-input cases of pysciml.bio (reaction networks), for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

from pysciml import bio
from pysciml.errors import FileFormatError, InputError, ModelError


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


_SBML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">\n'
    '<model id="m">\n'
    '<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>\n'
)


def _sbml_malformed_xml(tmp):
    path = tmp / "broken.xml"
    path.write_text(_SBML_HEAD + "<listOfSpecies>\n</model></sbml>\n")  # <listOfSpecies> never closed
    bio.from_sbml(path)


def _sbml_validation_error(tmp):
    """Well-formed XML, invalid SBML: a species in an undeclared compartment (libsbml: line 5)."""
    bio.from_sbml(
        _SBML_HEAD + '<listOfSpecies><species id="A" compartment="nowhere" initialAmount="1" '
        'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>\n'
        "</model></sbml>\n"
    )


def _sbml_algebraic_rule(tmp):
    bio.from_sbml(
        _SBML_HEAD + '<listOfParameters><parameter id="x" value="1" constant="false"/></listOfParameters>\n'
        '<listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">'
        "<apply><minus/><ci> x </ci><cn> 1 </cn></apply></math></algebraicRule></listOfRules>\n"
        "</model></sbml>\n"
    )


def _sbml_export_python_rate(tmp):
    net = _net()
    net.reaction("A -> B", lambda c, p, t, m: p["k"] * c["A"], name="conv")
    net.to_sbml()


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
    ("sbml-missing-file", lambda tmp: bio.from_sbml(tmp / "none.xml"), InputError, "sbml"),
    ("sbml-malformed-xml", _sbml_malformed_xml, FileFormatError, "sbml"),
    ("sbml-validation-error-with-line-number", _sbml_validation_error, FileFormatError, "sbml"),
    ("sbml-algebraic-rule-refused", _sbml_algebraic_rule, ModelError, "sbml"),
    ("sbml-export-python-function-rate-law", _sbml_export_python_rate, InputError, "network"),
    ("sbml-export-not-a-network", lambda tmp: bio.to_sbml("A -> B"), InputError, "network"),
    ("large-model-too-few-genes", lambda tmp: bio.gene_cascade(1), InputError, "n_genes"),
]
