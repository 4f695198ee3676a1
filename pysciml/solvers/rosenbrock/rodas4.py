"""Rodas4: 6 stages, order 4 (embedded 3), stiffly accurate, dense output of order 3.

Coefficients from E. Hairer and G. Wanner, *Solving Ordinary Differential Equations
II*, 2nd ed., Springer 1996, Section VI.4 (the RODAS code), in the transformed form
(as tabulated in OrdinaryDiffEq.jl's Rosenbrock tableaus). Checked by
``tests/test_rosenbrock_tableaus.py``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ...options import options
from .method import Rosenbrock
from .tableau import RosenbrockTableau

__all__ = ["RODAS4", "Rodas4"]

_A = np.zeros((6, 6))
_A[1, :1] = [1.544]
_A[2, :2] = [0.9466785280815826, 0.2557011698983284]
_A[3, :3] = [3.314825187068521, 2.896124015972201, 0.9986419139977817]
_A[4, :4] = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950]
_A[5, :5] = np.r_[_A[4, :4], 1.0]

_C = np.zeros((6, 6))
_C[1, :1] = [-5.6688]
_C[2, :2] = [-2.430093356833875, -0.2063599157091915]
_C[3, :3] = [-0.1073529058151375, -9.594562251023355, -20.47028614809616]
_C[4, :4] = [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160]
_C[5, :5] = [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054]

_c = [0.0, 0.386, 0.21, 0.63, 1.0, 1.0]
_d = [0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0]

# dense output y(theta) = (1-theta) y0 + theta (y1 + (1-theta)(k1 + theta k2)), k_j = sum_i H[j,i] u_i
_H = np.array(
    [
        [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0.0],
        [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0.0],
    ]
)

_m = _A[5] + np.eye(6)[5]
_e = np.eye(6)[5]
_P = np.stack([np.zeros(6), _m + _H[0], _H[1] - _H[0], -_H[1]], axis=1)

RODAS4 = RosenbrockTableau.build(
    name="Rodas4",
    order=4,
    error_order=3,
    dense_order=3,
    gamma=0.25,
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
class Rodas4(Rosenbrock):
    """Rodas4 of Hairer & Wanner, 4(3), stiffly accurate."""

    order: ClassVar[int] = 4
    tableau: ClassVar[RosenbrockTableau] = RODAS4
    julia_method: ClassVar[str] = "rodas4"  # OrdinaryDiffEqRosenbrock.Rodas4
