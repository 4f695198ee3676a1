"""Rosenbrock23: the 3-stage order-2 (embedded 3) method of MATLAB's ode23s.

L. F. Shampine and M. W. Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18
(1997). With ``d = 1/(2 + sqrt 2)``, ``W = I - h d J``::

    k1 = W^-1 (F0 + h d T)                      F0 = f(t, y),  T = df/dt(t, y)
    F1 = f(t + h/2, y + h k1/2);   k2 = W^-1 (F1 - k1) + k1
    y_new = y + h k2;  F2 = f(t + h, y_new)
    k3 = W^-1 (F2 - e32 (k2 - F1) - 2 (k1 - F0) + h d T),   e32 = 6 + sqrt 2
    error = h (k1 - 2 k2 + k3) / 6;   y(t + theta h) = y + h (theta(1-theta) k1 + theta(theta-2d) k2)/(1-2d)

The embedded third-order solution is ``y_new + h (k1 - 2 k2 + k3)/6``.
Written here in the transformed form (``u1 = h d k1``, ``u2 = h d (k2 - k1)``,
``u3 = h d (k3 - e32 (k2 - k1) - 2 k1)``), so the shared machine runs it.  The
error estimate is advanced with the second-order solution, as in ode23s.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from ...options import options
from .method import Rosenbrock
from .tableau import RosenbrockTableau

__all__ = ["ROSENBROCK23", "Rosenbrock23"]

_D = 1.0 / (2.0 + math.sqrt(2.0))
_E32 = 6.0 + math.sqrt(2.0)

_A = np.array([[0.0, 0.0, 0.0], [0.5 / _D, 0.0, 0.0], [1.0 / _D, 1.0 / _D, 0.0]])
_C = np.array([[0.0, 0.0, 0.0], [-1.0 / _D, 0.0, 0.0], [-2.0 / _D, -_E32 / _D, 0.0]])
_c = [0.0, 0.5, 1.0]
_d = [_D, 0.0, -_D]
_m = [1.0 / _D, 1.0 / _D, 0.0]
# sign chosen so that y_new - error is the third-order solution
_e = -np.array([1.0, _E32 - 2.0, 1.0]) / (6.0 * _D)
# y(theta) = y + (1/d) [theta(1-theta)/(1-2d) u1 + theta(theta-2d)/(1-2d) (u1 + u2)]
_s = 1.0 / (_D * (1.0 - 2.0 * _D))
_P = np.array(
    [
        [0.0, _s * (1.0 - 2.0 * _D), 0.0],
        [0.0, _s * (-2.0 * _D), _s],
        [0.0, 0.0, 0.0],
    ]
)

ROSENBROCK23 = RosenbrockTableau.build(
    name="Rosenbrock23",
    order=2,
    error_order=3,
    dense_order=2,
    gamma=_D,
    a=_A,
    C=_C,
    c=_c,
    d=_d,
    m=_m,
    e=_e,
    P=_P,
)


@options
@dataclasses.dataclass(frozen=True)
class Rosenbrock23(Rosenbrock):
    """Rosenbrock 2(3) of Shampine & Reichelt (ode23s); robust at loose tolerances."""

    order: ClassVar[int] = 2
    tableau: ClassVar[RosenbrockTableau] = ROSENBROCK23
    julia_method: ClassVar[str] = "rosenbrock23"  # OrdinaryDiffEqRosenbrock.Rosenbrock23
