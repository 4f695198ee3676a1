"""Rosenbrock-Wanner tableaus in the transformed form of Hairer & Wanner, and their checks.

A method with ``s`` stages advances ``y`` over a step ``h`` from ``t`` by solving,
for ``i = 1..s`` (Hairer & Wanner, *Solving ODEs II*, IV.7, eq. 7.25)::

    (I/(h*gamma) - J) u_i = f(t + c_i h, y + sum_j a_ij u_j) + sum_j (C_ij / h) u_j + d_i h f_t

with ``J = df/dy(t, y)`` and ``f_t = df/dt(t, y)``, then ::

    y_new = y + sum_i m_i u_i,     error = sum_i e_i u_i,
    y(t + theta h) = y + sum_k theta**k sum_i P_ik u_i       (dense output, 0 <= theta <= 1).

The original form (``alpha``, ``Gamma``, ``b``) is recovered by ``Gamma^-1 =
diag(1/gamma) - C``, ``alpha = a Gamma``, ``b = m Gamma``; the order conditions are
checked on it with rooted trees (:func:`order_residuals`).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

__all__ = ["RosenbrockTableau", "rooted_trees", "order_residuals", "achieved_order"]


def _tup(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return tuple(float(v) for v in x)
    return tuple(tuple(float(v) for v in row) for row in x)


@dataclasses.dataclass(frozen=True)
class RosenbrockTableau:
    """Coefficients of one Rosenbrock-Wanner method (hashable, so usable as a static jit argument).

    Args:
        name: method name.
        order: order of ``y_new``.
        error_order: order of the embedded solution ``y_new - error``.
        dense_order: order of the dense output.
        gamma: diagonal coefficient; ``W = I - h*gamma*J``.
        a, C: ``(s, s)`` strictly lower-triangular stage couplings (transformed form).
        c: ``(s,)`` stage times (fractions of the step).
        d: ``(s,)`` coefficients of ``h * df/dt`` in each stage.
        m: ``(s,)`` solution weights.
        e: ``(s,)`` error-estimate weights.
        P: ``(s, k+1)`` dense-output coefficients of ``theta**0 .. theta**k``.
    """

    name: str
    order: int
    error_order: int
    dense_order: int
    gamma: float
    a: tuple
    C: tuple
    c: tuple
    d: tuple
    m: tuple
    e: tuple
    P: tuple

    @classmethod
    def build(cls, *, name, order, error_order, dense_order, gamma, a, C, c, d, m, e, P):
        return cls(
            name,
            int(order),
            int(error_order),
            int(dense_order),
            float(gamma),
            _tup(a),
            _tup(C),
            _tup(c),
            _tup(d),
            _tup(m),
            _tup(e),
            _tup(P),
        )

    @property
    def stages(self) -> int:
        return len(self.c)

    def arrays(self) -> dict[str, np.ndarray]:
        """The coefficients as float64 numpy arrays."""
        return {k: np.asarray(getattr(self, k), dtype=np.float64) for k in ("a", "C", "c", "d", "m", "e", "P")}

    def original_form(self) -> dict[str, np.ndarray]:
        """``alpha`` (s, s), ``Gamma`` (s, s, with gamma on the diagonal), ``b`` and ``b_hat``."""
        t = self.arrays()
        s = self.stages
        gamma_inv = np.eye(s) / self.gamma - t["C"]
        big_gamma = np.linalg.inv(gamma_inv)
        return {
            "alpha": t["a"] @ big_gamma,
            "Gamma": big_gamma,
            "b": t["m"] @ big_gamma,
            "b_hat": (t["m"] - t["e"]) @ big_gamma,
            "P": big_gamma.T @ t["P"],
        }

    def __repr__(self) -> str:
        return f"RosenbrockTableau({self.name}, order={self.order}, stages={self.stages})"


# --------------------------------------------------------------------------------------
# order conditions with rooted trees
@functools.cache
def rooted_trees(order: int) -> tuple:
    """All rooted trees with ``order`` vertices, each a sorted tuple of child subtrees."""
    if order == 1:
        return ((),)
    out = set()

    # partitions of order-1 vertices into child subtrees
    def children(remaining, max_tree):
        if remaining == 0:
            yield ()
            return
        for k in range(remaining, 0, -1):
            for t in rooted_trees(k):
                key = (k, t)
                if max_tree is not None and key > max_tree:
                    continue
                for rest in children(remaining - k, key):
                    yield (t,) + rest

    for ch in children(order - 1, None):
        out.add(tuple(sorted(ch)))
    return tuple(sorted(out))


def _size(tree) -> int:
    return 1 + sum(_size(t) for t in tree)


def _density(tree) -> int:
    return _size(tree) * math.prod(_density(t) for t in tree)


def _phi(tree, alpha, beta):
    """Elementary weights: single-child vertices couple through beta = alpha + Gamma, others alpha."""
    s = alpha.shape[0]
    if len(tree) == 0:
        return np.ones(s)
    if len(tree) == 1:
        return beta @ _phi(tree[0], alpha, beta)
    return np.prod([alpha @ _phi(t, alpha, beta) for t in tree], axis=0)


def order_residuals(weights, alpha, big_gamma, max_order: int, theta: float = 1.0) -> dict:
    """``sum_i w_i Phi_i(t) - theta**|t| / density(t)`` for every tree up to ``max_order``.

    Args:
        weights: ``(s,)`` output weights in the original form (``b``, ``b_hat`` or the dense
            weights at ``theta``).
        alpha, big_gamma: ``(s, s)`` original-form coefficients.
        max_order: largest tree size checked.
        theta: output point as a fraction of the step (1 for the step's end).
    """
    beta = alpha + big_gamma
    res = {}
    for q in range(1, max_order + 1):
        for t in rooted_trees(q):
            res[(q, t)] = float(np.dot(weights, _phi(t, alpha, beta)) - theta**q / _density(t))
    return res


def achieved_order(weights, alpha, big_gamma, tol: float = 1e-10, max_order: int = 6, theta: float = 1.0) -> int:
    """Largest ``q`` such that every tree of order ``<= q`` is satisfied to ``tol``."""
    res = order_residuals(weights, alpha, big_gamma, max_order, theta)
    q = 0
    for k in range(1, max_order + 1):
        if all(abs(v) <= tol for (o, _), v in res.items() if o == k):
            q = k
        else:
            break
    return q
