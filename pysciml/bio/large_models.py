"""Larger ready networks (>= 50 species by default), for checks against other simulators and benchmarks.

Each builder returns a :class:`~.network.ReactionNetwork`; its rate constants are spread by a
seeded random generator (``seed``), so a network is the same on every machine.

* :func:`gene_cascade`: a gene-regulation chain with Hill terms (mRNA and protein per gene;
  each gene activated by the previous protein and repressed by the next one — a chain with
  local negative feedback) driven by a constant input.  Non-stiff.
* :func:`kinase_cascade`: a mass-action enzymatic signalling cascade (each layer's kinase
  phosphorylated by the layer above through an explicit enzyme-substrate complex, and
  dephosphorylated by a phosphatase through another); reversible binding, conserved totals.
* :func:`metabolic_pathway`: a stiff metabolic-type network: a linear pathway of
  Michaelis-Menten steps with end-product feedback inhibition of the first step, each
  metabolite in fast reversible exchange with a second pool (rate constants ``1e3``-``1e4``
  against pathway rates near 1), so the Jacobian's eigenvalues span four to five decades.
"""

from __future__ import annotations

import numpy as np

from ..options import check_int
from .hill import hill_activation, hill_repression
from .network import ReactionNetwork

__all__ = ["gene_cascade", "kinase_cascade", "metabolic_pathway"]


def _spread(rng, low: float, high: float, n: int) -> list[float]:
    return [float(v) for v in rng.uniform(low, high, n)]


def gene_cascade(n_genes: int = 30, *, seed: int = 0) -> ReactionNetwork:
    """A chain of ``n_genes`` genes (``2 n_genes`` species: ``m0..``, ``p0..``) driven by a constant input ``X``.

    Gene ``i`` is transcribed at ``v_i * act(p_{i-1}) * rep(p_{i+1})`` (Hill functions of order
    ``h``, thresholds ``K`` and ``Kr``: activated by the gene before it — gene 0 by ``X`` — and
    repressed by the gene after it, the last gene not repressed); mRNA decays at rate ``d_i``, is translated at ``b_i`` and protein decays at
    ``g_i``.  Starts with no mRNA or protein.
    """
    check_int(n_genes, "n_genes", minimum=2)
    rng = np.random.default_rng(seed)
    v, d, b, g = (_spread(rng, *bounds, n_genes) for bounds in ((2.0, 4.0), (0.8, 1.2), (1.0, 3.0), (0.3, 0.7)))
    net = ReactionNetwork("gene_cascade")
    net.parameters(K=1.0, Kr=5.0, h=2.0)
    net.species("X", 2.0, constant=True)
    for i in range(n_genes):
        net.parameters(**{f"v{i}": v[i], f"d{i}": d[i], f"b{i}": b[i], f"g{i}": g[i]})
    for i in range(n_genes):
        net.species(f"m{i}", 0.0)
        net.species(f"p{i}", 0.0)
    for i in range(n_genes):
        activator = "X" if i == 0 else f"p{i - 1}"
        law = f"v{i} * {hill_activation(activator, 'K', 'h')}"
        if i + 1 < n_genes:
            law += f" * {hill_repression(f'p{i + 1}', 'Kr', 'h')}"
        net.reaction(f"0 -> m{i}", law, name=f"transcription{i}")
        net.reaction(f"m{i} -> 0", k=f"d{i}", name=f"mrna_decay{i}")
        net.reaction(f"0 -> p{i}", f"b{i} * m{i}", name=f"translation{i}")
        net.reaction(f"p{i} -> 0", k=f"g{i}", name=f"protein_decay{i}")
    return net


def kinase_cascade(n_layers: int = 12, *, seed: int = 0) -> ReactionNetwork:
    """``n_layers`` layers of mass-action phosphorylation (``5 n_layers`` species).

    Layer ``i`` has kinase ``K{i}`` (inactive), ``Kp{i}`` (active), phosphatase ``P{i}`` and the
    complexes ``C{i}`` (with the upstream active kinase, or the constant stimulus ``S`` for
    layer 0) and ``D{i}`` (with the phosphatase)::

        K{i} + E <-> C{i} -> Kp{i} + E        (E = Kp{i-1}, or S)
        Kp{i} + P{i} <-> D{i} -> K{i} + P{i}

    Initially every kinase is inactive (``K{i} = 1``) and ``P{i} = 0.3``.
    """
    check_int(n_layers, "n_layers")
    rng = np.random.default_rng(seed)
    a, da, ka = (_spread(rng, *bounds, n_layers) for bounds in ((5.0, 15.0), (0.5, 2.0), (1.0, 3.0)))
    p, dp, kp = (_spread(rng, *bounds, n_layers) for bounds in ((5.0, 15.0), (0.5, 2.0), (0.5, 1.5)))
    net = ReactionNetwork("kinase_cascade")
    net.species("S", 0.5, constant=True)
    for i in range(n_layers):
        net.species(f"K{i}", 1.0)
        net.species(f"Kp{i}", 0.0)
        net.species(f"C{i}", 0.0)
        net.species(f"P{i}", 0.3)
        net.species(f"D{i}", 0.0)
    for i in range(n_layers):
        enzyme = "S" if i == 0 else f"Kp{i - 1}"
        net.reaction(f"K{i} + {enzyme} <-> C{i}", k=(a[i], da[i]), name=f"bind{i}")
        net.reaction(f"C{i} -> Kp{i} + {enzyme}", k=ka[i], name=f"phosphorylate{i}")
        net.reaction(f"Kp{i} + P{i} <-> D{i}", k=(p[i], dp[i]), name=f"bind_phosphatase{i}")
        net.reaction(f"D{i} -> K{i} + P{i}", k=kp[i], name=f"dephosphorylate{i}")
    return net


def metabolic_pathway(n_steps: int = 30, *, fast: float = 1e4, seed: int = 0) -> ReactionNetwork:
    """A stiff pathway ``M0 -> M1 -> ... -> M{n-1} ->`` with pools ``B{i}`` (``2 n_steps`` species).

    * inflow to ``M0`` at ``vin / (1 + (M{n-1} / Ki)^4)`` (end-product inhibition);
    * step ``i``: ``M{i} -> M{i+1}`` at ``Vmax_i M_i / (Km_i + M_i)``; the last step is the outflow;
    * fast exchange ``M{i} <-> B{i}`` with mass-action constants ``kf_i`` (``fast`` times 0.1-1)
      and ``kr_i`` (``kf_i`` times 0.5-2).

    Starts with ``M0 = 1`` and everything else 0.
    """
    check_int(n_steps, "n_steps", minimum=2)
    rng = np.random.default_rng(seed)
    vmax, km = _spread(rng, 1.5, 3.0, n_steps), _spread(rng, 0.2, 1.0, n_steps)
    kf = [fast * v for v in _spread(rng, 0.1, 1.0, n_steps)]
    kr = [f * v for f, v in zip(kf, _spread(rng, 0.5, 2.0, n_steps), strict=True)]
    net = ReactionNetwork("metabolic_pathway")
    net.parameters(vin=1.0, Ki=0.5)
    for i in range(n_steps):
        net.parameters(**{f"Vmax{i}": vmax[i], f"Km{i}": km[i], f"kf{i}": kf[i], f"kr{i}": kr[i]})
    for i in range(n_steps):
        net.species(f"M{i}", 1.0 if i == 0 else 0.0)
        net.species(f"B{i}", 0.0)
    last = f"M{n_steps - 1}"
    net.reaction("0 -> M0", f"vin / (1 + ({last} / Ki)**4)", name="inflow")
    for i in range(n_steps):
        product = f"M{i + 1}" if i + 1 < n_steps else "0"
        net.reaction(f"M{i} -> {product}", f"Vmax{i} * M{i} / (Km{i} + M{i})", name=f"step{i}")
        net.reaction(f"M{i} <-> B{i}", k=(f"kf{i}", f"kr{i}"), name=f"exchange{i}")
    return net
