"""Force matching: fit a pair potential's parameters to reference forces by gradients through jax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...engines.registry import get_engine
from ...errors import InputError
from .neighbours import neighbour_list
from .potentials import PairPotential
from .space import check_box

get_engine("jax")

__all__ = ["fit_forces"]


def fit_forces(
    potential: PairPotential,
    positions,
    forces,
    box,
    *,
    params: tuple[str, ...] | None = None,
    tol: float = 1e-12,
    max_iter: int = 500,
):
    """Fit ``params`` of ``potential`` so its forces match ``forces`` on ``positions`` (least squares).

    Minimises ``sum |F_model - F_ref|^2 / sum |F_ref|^2`` over configurations ``positions (n_conf, n, 3)`` with
    L-BFGS on log-parameters (they stay positive), gradients by ``jax.grad``; ``potential``'s
    values are the starting guess.  Returns ``(fitted potential, scipy OptimizeResult)``.
    """
    from scipy.optimize import minimize

    if not isinstance(potential, PairPotential):
        raise InputError(
            f"must be a pysciml.physics pair potential, got {type(potential).__name__}.", argument="potential"
        )
    names = tuple(potential.params if params is None else params)
    if not names or set(names) - set(potential.params):
        raise InputError(
            f"must name parameters of {type(potential).__name__}: {list(potential.params)}, got {params!r}.",
            argument="params",
        )
    q = np.asarray(positions, dtype=float)
    f = np.asarray(forces, dtype=float)
    if q.ndim == 2:
        q, f = q[None], f[None]
    if q.ndim != 3 or q.shape[-1] != 3:
        raise InputError(f"must have shape (n_configurations, n_atoms, 3), got {q.shape}.", argument="positions")
    if f.shape != q.shape:
        raise InputError(f"must have the shape of positions {q.shape}, got {f.shape}.", argument="forces")
    box = check_box(box, cutoff=potential.r_cut)
    lists = [neighbour_list(qi, box, potential.r_cut, skin=0.0) for qi in q]
    qj, fj = jnp.asarray(q), jnp.asarray(f)
    scale = float(np.sum(f * f)) or 1.0  # the loss is relative: 1 for a potential giving zero forces

    def loss(logp):
        pot = potential.replace(**dict(zip(names, jnp.exp(logp))))
        res = [pot.forces(qj[k], box, neighbours=nl) - fj[k] for k, nl in enumerate(lists)]
        return sum(jnp.sum(r * r) for r in res) / scale

    vg = jax.jit(jax.value_and_grad(loss))

    def fun(x):
        v, g = vg(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=float)

    x0 = np.log([float(getattr(potential, k)) for k in names])
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter, "ftol": tol, "gtol": tol})
    fitted = potential.replace(**{k: float(np.exp(v)) for k, v in zip(names, res.x)})
    return fitted, res
