"""``Airfoil``: a 2-D section as the nodes of a closed (or nearly closed) polygon of panels.

Nodes run counter-clockwise: from the trailing edge along the upper surface to the leading edge,
then along the lower surface back to the trailing edge (the order the panel method expects).
Coordinates are in chords (the chord is 1 for NACA sections, the diameter for a circle).
The NACA 4-digit constructor is written in jax, so ``jax.grad`` of anything computed from
``Airfoil.naca4(m, p, t)`` runs through the shape parameters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from ...engines.registry import get_engine
from ...errors import InputError
from ..tracing import is_traced

get_engine("jax")  # float64 before anything is traced

#: Fewest panels a section may have (fewer cannot resolve the leading edge at all).
MIN_PANELS = 20
#: Last coefficient of the NACA thickness polynomial: the published (finite, 0.25% c thick at
#: t = 0.12) trailing edge, and the usual modification that closes it.
TE_COEFFICIENT = {"finite": 0.1015, "closed": 0.1036}


def _check_panels(n_panels) -> int:
    if isinstance(n_panels, bool) or not isinstance(n_panels, (int, np.integer)) or n_panels < MIN_PANELS:
        raise InputError(f"must be a whole number >= {MIN_PANELS}, got {n_panels!r}; 100-400 is usual.",
                         argument="n_panels")  # fmt: skip
    return int(n_panels)


def _check_fraction(value, name: str, low: float, high: float, *, closed_low: bool = False):
    """Refuse a concrete shape parameter outside ``(low, high)`` (or NaN); traced values pass."""
    if is_traced(value):
        return
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    ok = (low <= v if closed_low else low < v) and v < high
    if not ok:
        bracket = "[" if closed_low else "("
        raise InputError(f"must be a finite number in {bracket}{low}, {high}) (a fraction of the chord), got "
                         f"{value!r}.", argument=name)  # fmt: skip


def naca4_coordinates(m, p, t, n_panels: int, trailing_edge: str = "finite"):
    """Node coordinates ``(x, y)`` of a NACA 4-digit section, ``n_panels + 1`` nodes (jax arrays).

    Cosine spacing in x on each surface (``n_panels / 2`` panels per surface), thickness laid off
    normal to the mean line (Abbott & von Doenhoff 1959, sec. 6.4).

    Args:
        m: maximum camber (fraction of chord, e.g. 0.02).
        p: chordwise position of the maximum camber (fraction of chord, e.g. 0.4).
        t: maximum thickness (fraction of chord, e.g. 0.12).
        n_panels: even number of panels.
        trailing_edge: ``"finite"`` (the published polynomial) or ``"closed"``.
    """
    beta = jnp.linspace(0.0, jnp.pi, n_panels // 2 + 1)
    x = 0.5 * (1.0 - jnp.cos(beta))
    a4 = TE_COEFFICIENT[trailing_edge]
    yt = 5.0 * t * (0.2969 * jnp.sqrt(x) - 0.1260 * x - 0.3516 * x**2 + 0.2843 * x**3 - a4 * x**4)
    fore = x < p
    yc = jnp.where(fore, m / p**2 * (2 * p * x - x**2), m / (1 - p) ** 2 * (1 - 2 * p + 2 * p * x - x**2))
    slope = jnp.where(fore, 2 * m / p**2 * (p - x), 2 * m / (1 - p) ** 2 * (p - x))
    theta = jnp.arctan(slope)
    xu, yu = x - yt * jnp.sin(theta), yc + yt * jnp.cos(theta)
    xl, yl = x + yt * jnp.sin(theta), yc - yt * jnp.cos(theta)
    return jnp.concatenate([xu[::-1], xl[1:]]), jnp.concatenate([yu[::-1], yl[1:]])


@dataclass(frozen=True, eq=False)  # its nodes are arrays: compared by identity
class Airfoil:
    """A 2-D section: the ``n_panels + 1`` nodes of its panels, counter-clockwise from the trailing edge.

    Build one with :meth:`naca`, :meth:`naca4`, :meth:`circle` or :meth:`from_coordinates`.

    Args:
        x: node x coordinates, ``(n_panels + 1,)`` (chords); may be jax values.
        y: node y coordinates, ``(n_panels + 1,)`` (chords); may be jax values.
        name: a label for results.
        chord: reference length for the coefficients (chords; 1 for NACA sections).
        moment_point: ``(x, y)`` about which ``Cm`` is taken (chords; the quarter chord by default).
        open_trailing_edge: whether the last node differs from the first (a blunt trailing edge,
            closed by a source/vortex gap panel in the panel method).

    Example::

        foil = Airfoil.naca("2412", n_panels=200)
        cl = jax.grad(lambda m: panel_coefficients(Airfoil.naca4(m, 0.4, 0.12), 4.0)[0])(0.02)
    """

    x: Any
    y: Any
    name: str = "section"
    chord: float = 1.0
    moment_point: tuple[float, float] = (0.25, 0.0)
    open_trailing_edge: bool = False

    def __post_init__(self):
        if is_traced((self.x, self.y)):
            return
        x, y = np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=float)
        if x.ndim != 1 or x.shape != y.shape or x.size < MIN_PANELS + 1:
            raise InputError(f"x and y must be 1-D arrays of the same length >= {MIN_PANELS + 1} (nodes), got "
                             f"shapes {x.shape} and {y.shape}.", argument="x")  # fmt: skip
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InputError("x and y must be finite everywhere (check the shape parameters for NaN).", argument="x")
        if np.any(np.hypot(np.diff(x), np.diff(y)) == 0):
            raise InputError("has two equal consecutive nodes (a panel of zero length); remove one.", argument="x")

    @property
    def n_panels(self) -> int:
        return int(np.shape(self.x)[0]) - 1

    @classmethod
    def naca(cls, code: str, n_panels: int = 200, *, trailing_edge: str = "finite") -> Airfoil:
        """A NACA 4-digit section from its code: ``"2412"`` is 2% camber at 40% chord, 12% thick.

        Args:
            code: four digits ``MPTT`` (a leading ``"NACA"`` is allowed).
            n_panels: even number of panels, cosine spaced (>= 20).
            trailing_edge: ``"finite"`` (the published section, 0.25% c thick at t = 12%) or ``"closed"``.
        """
        text = str(code).strip().upper().removeprefix("NACA").strip()
        if not re.fullmatch(r"\d{4}", text):
            raise InputError(f"must be a NACA 4-digit code such as '2412' or '0012', got {code!r}.", argument="code")
        m, p, t = int(text[0]) / 100, int(text[1]) / 10, int(text[2:]) / 100
        if (m == 0) != (p == 0):
            raise InputError(f"{code!r} gives camber without its position (or the reverse): the first two digits "
                             "are both 0 (symmetric) or both non-zero.", argument="code")  # fmt: skip
        if t == 0:
            raise InputError(f"{code!r} has zero thickness; the last two digits are the thickness in % chord.",
                             argument="code")  # fmt: skip
        return cls.naca4(m, p if m else 0.4, t, n_panels, trailing_edge=trailing_edge, name=f"NACA {text}")

    @classmethod
    def naca4(cls, m, p, t, n_panels: int = 200, *, trailing_edge: str = "finite", name: str | None = None) -> Airfoil:
        """A NACA 4-digit section from real shape parameters (differentiable in ``m``, ``p``, ``t``).

        Args:
            m: maximum camber, fraction of chord in [0, 0.2) (0.02 for a NACA 2412).
            p: position of maximum camber, fraction of chord in (0, 1) (0.4); irrelevant when m = 0.
            t: maximum thickness, fraction of chord in (0, 0.4) (0.12).
            n_panels: even number of panels (>= 20), ``n_panels / 2`` per surface.
            trailing_edge: ``"finite"`` or ``"closed"``.
            name: a label; by default the parameters.
        """
        n = _check_panels(n_panels)
        if n % 2:
            raise InputError(f"must be even for a NACA section (half the panels on each surface), got {n}; "
                             f"pass {n + 1}.", argument="n_panels")  # fmt: skip
        if trailing_edge not in TE_COEFFICIENT:
            raise InputError(f"must be 'finite' or 'closed', got {trailing_edge!r}.", argument="trailing_edge")
        _check_fraction(m, "m", 0.0, 0.2, closed_low=True)
        _check_fraction(p, "p", 0.0, 1.0)
        _check_fraction(t, "t", 0.0, 0.4)
        x, y = naca4_coordinates(m, p, t, n, trailing_edge)
        if name is None:
            name = (
                "NACA 4-digit" if is_traced((m, p, t)) else f"NACA 4-digit m={float(m):g} p={float(p):g} t={float(t):g}"
            )
        return cls(x, y, name=name, open_trailing_edge=trailing_edge == "finite")

    @classmethod
    def circle(cls, n_panels: int = 200, *, diameter: float = 1.0) -> Airfoil:
        """A circular cylinder from x = 0 to x = diameter, nodes at equal angles starting at its rear.

        Its exact inviscid surface pressure is ``Cp = 1 - 4 sin^2(theta)`` (no circulation).

        Args:
            n_panels: number of panels (>= 20).
            diameter: diameter (the reference chord).
        """
        n = _check_panels(n_panels)
        theta = np.linspace(0.0, 2 * np.pi, n + 1)
        r = 0.5 * float(diameter)
        x, y = r + r * np.cos(theta), r * np.sin(theta)
        y[-1] = 0.0  # the polygon closes exactly
        return cls(x, y, name=f"circle ({n} panels)", chord=float(diameter), moment_point=(0.25 * diameter, 0.0))

    @classmethod
    def from_coordinates(cls, x, y, *, name: str = "section", chord: float = 1.0) -> Airfoil:
        """A section from node coordinates already ordered counter-clockwise from the trailing edge
        (upper surface first, as in a Selig ``.dat`` file).

        Args:
            x: node x coordinates (chords).
            y: node y coordinates (chords).
            name: a label for results.
            chord: reference length.
        """
        if not is_traced((x, y)):
            xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            if xa.ndim == 1 and xa.shape == ya.shape and np.sum(xa * np.roll(ya, -1) - np.roll(xa, -1) * ya) < 0:
                raise InputError("runs clockwise; the panel method needs the nodes counter-clockwise from the "
                                 "trailing edge (upper surface first): pass x[::-1], y[::-1].", argument="x")  # fmt: skip
        gap = float(np.hypot(np.asarray(x)[0] - np.asarray(x)[-1], np.asarray(y)[0] - np.asarray(y)[-1]))
        return cls(x, y, name=name, chord=chord, moment_point=(0.25 * chord, 0.0),
                   open_trailing_edge=gap > 1e-9 * chord)  # fmt: skip
