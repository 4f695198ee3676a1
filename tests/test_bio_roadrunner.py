"""ps.bio networks written as SBML (``net.to_sbml()``, python-libsbml) agree with libRoadRunner.

The repressilator and three networks of 60 species (a Hill-type gene cascade, a mass-action
kinase cascade and a stiff metabolic pathway) are exported; libRoadRunner (CVODE) simulates the
SBML text, and pysciml solves both ``ps.bio.from_sbml(text)`` and ``net.to_model()``.  Both
sides run at rtol 1e-12, atol 1e-14; trajectories must agree to
``|pysciml - roadrunner| <= 1e-6 |roadrunner| + 1e-12`` at 41 times (measured: at most 1.1e-7
relative, on the stiff pathway).
"""

from __future__ import annotations

import numpy as np
import pytest

import pysciml as ps
from pysciml import bio

roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (bench/test extra) is the reference simulator")
pytest.importorskip("libsbml", reason="python-libsbml (sbml extra) writes the SBML")

TIGHT = {"rtol": 1e-12, "atol": 1e-14}
CASES = {
    "repressilator": (bio.repressilator, 30.0, ps.Dopri8),
    "gene_cascade": (bio.gene_cascade, 40.0, ps.Dopri8),
    "kinase_cascade": (bio.kinase_cascade, 40.0, ps.Dopri8),
    "metabolic_pathway": (bio.metabolic_pathway, 40.0, ps.Rodas5P),  # stiff: fast exchange 1e3-1e4
}


def _roadrunner(text: str, species, t_end: float, params=None) -> np.ndarray:
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = TIGHT["rtol"]
    rr.integrator.absolute_tolerance = TIGHT["atol"]
    for k, v in (params or {}).items():
        rr[k] = v
    rr.timeCourseSelections = ["time"] + [f"[{s}]" for s in species]
    return np.asarray(rr.simulate(0.0, t_end, 41))


@pytest.mark.parametrize("name", list(CASES))
def test_network_exported_to_sbml_agrees_with_libroadrunner(name):
    build, t_end, solver = CASES[name]
    net = build()
    species = list(net.species_names)
    if name != "repressilator":
        assert len(species) >= 50
    text = net.to_sbml()
    ref = _roadrunner(text, species, t_end)
    assert np.ptp(ref[:, 1:], axis=0).min() > 0.05  # every species moves

    imported = bio.from_sbml(text)
    sol = ps.solve(imported, t=ref[:, 0], solver=solver(), **TIGHT)
    assert sol.ok, sol.message
    got = imported.sbml.values(sol, species)
    u_sbml = np.stack([got[s] for s in species], axis=1)
    np.testing.assert_allclose(u_sbml, ref[:, 1:], rtol=1e-6, atol=1e-12, err_msg=f"{name} via from_sbml")

    built = ps.solve(net.to_model(), t=ref[:, 0], solver=solver(), **TIGHT)
    assert built.ok, built.message
    np.testing.assert_allclose(np.asarray(built.u), ref[:, 1:], rtol=1e-6, atol=1e-12, err_msg=f"{name} via to_model")


def test_a_one_percent_parameter_change_is_seen():
    """Negative control for the comparison above: the same check fails when one rate constant
    of the gene cascade moves by 1 % on the roadrunner side only."""
    net = bio.gene_cascade()
    species = list(net.species_names)
    text = net.to_sbml()
    off = _roadrunner(text, species, 40.0, params={"v3": 1.01 * float(net.parameter_values["v3"].default)})
    sol = ps.solve(net.to_model(), t=off[:, 0], solver=ps.Dopri8(), **TIGHT)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(np.asarray(sol.u), off[:, 1:], rtol=1e-6, atol=1e-12)


def test_exported_document_keeps_the_network():
    """Species, parameters, compartments and reversibility survive the round trip."""
    import libsbml

    net = bio.kinase_cascade(n_layers=2)
    doc = libsbml.readSBMLFromString(net.to_sbml())
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    model = doc.getModel()
    assert model.getNumSpecies() == 11  # S and 5 per layer
    assert model.getSpecies("S").getBoundaryCondition() and model.getSpecies("S").getConstant()
    assert model.getReaction("bind0").getReversible() and not model.getReaction("phosphorylate0").getReversible()
    imported = bio.from_sbml(net.to_sbml())
    assert set(net.species_names) == set(imported.sbml.states)
    for k, spec in net.parameter_values.items():
        assert imported.param_specs[k].default == pytest.approx(float(spec.default), rel=1e-15)


def test_python_function_rate_laws_are_refused_by_name():
    net = bio.ReactionNetwork()
    net.parameters(k=1.0)
    net.reaction("A -> B", lambda c, p, t, m: p["k"] * c["A"], name="conv")
    with pytest.raises(ps.InputError, match="'conv' has a Python-function rate law"):
        net.to_sbml()
