"""Ready gene-regulatory models, each a :class:`~.network.ReactionNetwork` (call ``.to_model()``).

* :func:`repressilator`: Elowitz & Leibler (Nature 403, 335, 2000), dimensionless form.
* :func:`toggle_switch`: Gardner, Cantor & Collins (Nature 403, 339, 2000), two mutually
  repressing genes; bistable for the default parameters.
* :func:`feed_forward_loop`: the coherent type-1 feed-forward loop with AND logic
  (Mangan & Alon, PNAS 100, 11980, 2003) driven by a constant input ``X``.
"""

from __future__ import annotations

from .hill import hill_activation, hill_repression
from .network import ReactionNetwork

__all__ = ["repressilator", "toggle_switch", "feed_forward_loop"]


def repressilator(*, alpha: float = 216.0, alpha0: float = 0.216, beta: float = 5.0, n: float = 2.0) -> ReactionNetwork:
    """Three genes repressing each other in a ring (1 -| 2 -| 3 -| 1): mRNAs ``m1..m3``, proteins ``p1..p3``.

    ``dm_i/dt = alpha0 + alpha / (1 + p_j^n) - m_i`` (``j`` the repressor of gene ``i``) and
    ``dp_i/dt = beta (m_i - p_i)``; time in mRNA lifetimes.  The defaults oscillate (the
    paper's Fig. 1 values).  Initial state ``m = (0, 0, 0)``, ``p = (5, 0, 15)``.
    """
    net = ReactionNetwork("repressilator", time_units="mRNA lifetimes")
    net.parameters(alpha=alpha, alpha0=alpha0, beta=beta, n=n)
    for name, value in (("m1", 0.0), ("m2", 0.0), ("m3", 0.0), ("p1", 5.0), ("p2", 0.0), ("p3", 15.0)):
        net.species(name, value)
    for gene, repressor in ((1, 3), (2, 1), (3, 2)):
        net.reaction(
            f"0 -> m{gene}",
            f"alpha0 + alpha * {hill_repression(f'p{repressor}', 1.0, 'n')}",
            name=f"transcription{gene}",
        )
        net.reaction(f"m{gene} -> 0", f"m{gene}", name=f"mrna_decay{gene}")
        net.reaction(f"0 -> p{gene}", f"beta * m{gene}", name=f"translation{gene}")
        net.reaction(f"p{gene} -> 0", k="beta", name=f"protein_decay{gene}")
    return net


def toggle_switch(
    *, alpha1: float = 10.0, alpha2: float = 10.0, beta: float = 2.0, gamma: float = 2.0
) -> ReactionNetwork:
    """Two repressors ``u`` and ``v`` repressing each other's synthesis.

    ``du/dt = alpha1 / (1 + v^beta) - u``, ``dv/dt = alpha2 / (1 + u^gamma) - v``.  With the
    defaults there are two stable states (``u`` high / ``v`` high) and a saddle at ``u = v = 2``.
    Initial state ``u = 5, v = 0``.
    """
    net = ReactionNetwork("toggle_switch")
    net.parameters(alpha1=alpha1, alpha2=alpha2, beta=beta, gamma=gamma)
    net.reaction("0 -> u", f"alpha1 * {hill_repression('v', 1.0, 'beta')}", name="synthesis_u")
    net.reaction("u -> 0", "u", name="decay_u")
    net.reaction("0 -> v", f"alpha2 * {hill_repression('u', 1.0, 'gamma')}", name="synthesis_v")
    net.reaction("v -> 0", "v", name="decay_v")
    net.species("u", 5.0)
    net.species("v", 0.0)
    return net


def feed_forward_loop(
    *,
    X: float = 1.0,
    beta_y: float = 1.0,
    beta_z: float = 1.0,
    alpha_y: float = 1.0,
    alpha_z: float = 1.0,
    K_xy: float = 0.5,
    K_xz: float = 0.5,
    K_yz: float = 0.5,
    n: float = 2.0,
) -> ReactionNetwork:
    """Coherent type-1 feed-forward loop, AND gate: ``X -> Y``, ``X -> Z``, ``Y -> Z``.

    ``dY/dt = beta_y f(X, K_xy) - alpha_y Y`` and ``dZ/dt = beta_z f(X, K_xz) f(Y, K_yz) - alpha_z Z``
    with ``f`` the Hill activation of order ``n``; the input ``X`` is a constant species (a
    parameter).  ``Z`` turns on with a delay after ``X`` steps up (a persistence detector).
    Initial state ``Y = Z = 0``.
    """
    net = ReactionNetwork("feed_forward_loop")
    net.parameters(beta_y=beta_y, beta_z=beta_z, alpha_y=alpha_y, alpha_z=alpha_z, K_xy=K_xy, K_xz=K_xz, K_yz=K_yz, n=n)
    net.species("X", X, constant=True)
    net.reaction("0 -> Y", f"beta_y * {hill_activation('X', 'K_xy', 'n')}", name="synthesis_Y")
    net.reaction("Y -> 0", k="alpha_y", name="decay_Y")
    net.reaction(
        "0 -> Z",
        f"beta_z * {hill_activation('X', 'K_xz', 'n')} * {hill_activation('Y', 'K_yz', 'n')}",
        name="synthesis_Z",
    )
    net.reaction("Z -> 0", k="alpha_z", name="decay_Z")
    return net
