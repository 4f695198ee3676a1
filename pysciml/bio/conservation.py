"""Conservation laws of a reaction network: the left null space of its stoichiometry matrix.

A row vector ``c`` with ``c @ N = 0`` (``N`` the species x reactions stoichiometry matrix)
makes ``c @ amounts`` constant along every trajectory.  The basis is computed exactly with
sympy (rational arithmetic, so no tolerance decides the rank), brought to reduced row
echelon form and scaled to coprime integers with a positive leading entry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

__all__ = ["left_null_space"]


def left_null_space(matrix: Sequence[Sequence[Fraction | int]]) -> np.ndarray:
    """Integer basis ``(n_laws, n_rows)`` of ``{c : c @ matrix = 0}`` (exact; see module doc)."""
    import sympy  # a core dependency, imported on first use (import pysciml stays light)

    rows = [[sympy.Rational(Fraction(v).numerator, Fraction(v).denominator) for v in row] for row in matrix]
    n_rows = len(rows)
    if n_rows == 0:
        return np.zeros((0, 0), dtype=np.int64)
    n_cols = len(rows[0])
    if n_cols == 0:  # no reactions: every species is conserved on its own
        return np.eye(n_rows, dtype=np.int64)
    basis = sympy.Matrix(rows).T.nullspace()
    if not basis:
        return np.zeros((0, n_rows), dtype=np.int64)
    echelon, _ = sympy.Matrix.hstack(*basis).T.rref()
    out = []
    for i in range(echelon.rows):
        row = [Fraction(str(x)) for x in echelon.row(i)]
        if all(x == 0 for x in row):
            continue
        scale = math.lcm(*(x.denominator for x in row))
        ints = [int(x * scale) for x in row]
        g = math.gcd(*ints)
        ints = [v // g for v in ints]
        if next(v for v in ints if v != 0) < 0:
            ints = [-v for v in ints]
        out.append(ints)
    return np.array(out, dtype=np.int64).reshape(len(out), n_rows)
