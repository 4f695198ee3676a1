"""pysciml.bio: reaction networks and gene regulation as ordinary ``ps.ODEModel`` s (``ps.bio``).

* :class:`ReactionNetwork` (:mod:`.network`): species, compartments, parameters and reactions
  with mass-action or arbitrary rate laws; the stoichiometry matrix, conservation laws
  (:mod:`.conservation`) and ``to_model()``, whose physics runs on every engine and under
  ``jax.grad``.
* :func:`hill_activation`, :func:`hill_repression` (:mod:`.hill`).
* :func:`from_sbml` (:mod:`.sbml`): SBML files as ``ODEModel`` s with their events.
* :func:`to_sbml` (:mod:`.sbml_export`, also ``net.to_sbml()``): a network as SBML text.
* Ready models (:mod:`.models`): :func:`repressilator`, :func:`toggle_switch`,
  :func:`feed_forward_loop`; larger ones (:mod:`.large_models`, >= 50 species):
  :func:`gene_cascade`, :func:`kinase_cascade`, :func:`metabolic_pathway`.

Importing this package loads no engine (no jax); sympy is loaded only for
conservation laws, symbolic rate laws and SBML import (libsbml only for SBML).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hill import hill_activation, hill_repression
from .large_models import gene_cascade, kinase_cascade, metabolic_pathway
from .models import feed_forward_loop, repressilator, toggle_switch
from .network import Compartment, Reaction, ReactionNetwork, Species

if TYPE_CHECKING:
    from .sbml import SBMLInfo, SBMLUnitsWarning, UnsupportedSBML, from_sbml
    from .sbml_export import to_sbml

#: loaded on first use: SBML import needs libsbml and sympy (export: libsbml)
_SBML_NAMES = ("from_sbml", "SBMLInfo", "UnsupportedSBML", "SBMLUnitsWarning")


def __getattr__(name: str):
    if name == "to_sbml":
        from .sbml_export import to_sbml

        return to_sbml
    if name in _SBML_NAMES:
        from .sbml import SBMLInfo, SBMLUnitsWarning, UnsupportedSBML, from_sbml

        found = {"from_sbml": from_sbml, "SBMLInfo": SBMLInfo, "UnsupportedSBML": UnsupportedSBML}
        return {**found, "SBMLUnitsWarning": SBMLUnitsWarning}[name]
    raise AttributeError(f"module 'pysciml.bio' has no attribute {name!r}")


__all__ = [
    "ReactionNetwork",
    "Species",
    "Compartment",
    "Reaction",
    "hill_activation",
    "hill_repression",
    "repressilator",
    "toggle_switch",
    "feed_forward_loop",
    "gene_cascade",
    "kinase_cascade",
    "metabolic_pathway",
    "to_sbml",
    "from_sbml",
    "SBMLInfo",
    "UnsupportedSBML",
    "SBMLUnitsWarning",
]
