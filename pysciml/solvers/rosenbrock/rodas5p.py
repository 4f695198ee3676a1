"""Rodas5P: 8 stages, order 5 (embedded 4), stiffly accurate, dense output of order 4.

Coefficients from G. Steinebach, "Construction of Rosenbrock-Wanner method Rodas5P
and numerical benchmarks within the Julia Differential Equations package", BIT
Numer. Math. 63 (2023), in the transformed form (as tabulated in OrdinaryDiffEq.jl's
Rosenbrock tableaus). ``tests/test_rosenbrock_tableaus.py`` re-derives the original
form and checks every order condition, the stage times and the dense output.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from ...options import options
from .method import Rosenbrock
from .tableau import RosenbrockTableau

__all__ = ["RODAS5P", "Rodas5P"]

_GAMMA = 0.21193756319429014

_A = np.zeros((8, 8))
_A[1, :1] = [3.0]
_A[2, :2] = [2.849394379747939, 0.45842242204463923]
_A[3, :3] = [-6.954028509809101, 2.489845061869568, -10.358996098473584]
_A[4, :4] = [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641]
_A[5, :5] = [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946]
_A[6, :6] = np.r_[_A[5, :5], 1.0]
_A[7, :7] = np.r_[_A[5, :5], 1.0, 1.0]

_C = np.zeros((8, 8))
_C[1, :1] = [-14.155112264123755]
_C[2, :2] = [-17.97296035885952, -2.859693295451294]
_C[3, :3] = [147.12150275711716, -1.41221402718213, 71.68940251302358]
_C[4, :4] = [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306]
_C[5, :5] = [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471]
_C[6, :6] = [
    30.91273214028599,
    -3.1208243349937974,
    77.79954646070892,
    34.28646028294783,
    -19.097331116725623,
    -28.087943162872662,
]
_C[7, :7] = [
    37.80277123390563,
    -3.2571969029072276,
    112.26918849496327,
    66.9347231244047,
    -40.06618937091002,
    -54.66780262877968,
    -9.48861652309627,
]

_c = [0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1.0, 1.0, 1.0]
_d = [
    0.21193756319429014,
    -0.42387512638858027,
    -0.3384627126235924,
    1.8046452872882734,
    2.325825639765069,
    0.0,
    0.0,
    0.0,
]

# dense output y(theta) = (1-theta) y0 + theta (y1 + (1-theta)(k1 + theta (k2 + theta k3))),
# k_j = sum_i H[j, i] u_i
_H = np.array(
    [
        [
            25.948786856663858,
            -2.5579724845846235,
            10.433815404888879,
            -2.3679251022685204,
            0.524948541321073,
            1.1241088310450404,
            0.4272876194431874,
            -0.17202221070155493,
        ],
        [
            -9.91568850695171,
            -0.9689944594115154,
            3.0438037242978453,
            -24.495224566215796,
            20.176138334709044,
            15.98066361424651,
            -6.789040303419874,
            -6.710236069923372,
        ],
        [
            11.419903575922262,
            2.8879645146136994,
            72.92137995996029,
            80.12511834622643,
            -52.072871366152654,
            -59.78993625266729,
            -0.15582684282751913,
            4.883087185713722,
        ],
    ]
)

_m = _A[7] + np.eye(8)[7]  # stiffly accurate: y1 = last stage input + u_8
_e = np.eye(8)[7]  # embedded solution = last stage input

# theta-polynomial coefficients of the dense output (columns theta^0..theta^4)
_P = np.stack([np.zeros(8), _m + _H[0], _H[1] - _H[0], _H[2] - _H[1], -_H[2]], axis=1)

RODAS5P = RosenbrockTableau.build(
    name="Rodas5P",
    order=5,
    error_order=4,
    dense_order=4,
    gamma=_GAMMA,
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
class Rodas5P(Rosenbrock):
    """Rodas5P of Steinebach (2023), 5(4), stiffly accurate; the default stiff solver."""

    order: ClassVar[int] = 5
    tableau: ClassVar[RosenbrockTableau] = RODAS5P
    julia_method: ClassVar[str] = "rodas5p"  # OrdinaryDiffEqRosenbrock.Rodas5P
