"""The drift and diffusion of an :class:`pysciml.SDEModel` as diffrax terms.

* the diffusion becomes a ``ControlTerm`` whose vector field returns a lineax diagonal
  operator (diagonal / additive noise) or an ``(n_states, n_noise)`` matrix (scalar:
  one column; general);
* when the model's calculus differs from the solver's, the drift gets the
  Ito-Stratonovich correction ``c_i = sum_j sum_l (d g_ij / d u_l) g_lj``:
  ``f_strat = f_ito - c / 2`` and ``f_ito = f_strat + c / 2`` (zero for additive noise).
"""

from __future__ import annotations

import diffrax as dfx
import jax
import jax.numpy as jnp
import lineax as lx

from ....errors import ModelError
from ....model_spec import ParamView
from ....sde.spec import SDEModel
from ..networks import network_callable
from ..numerics import jax_math
from ..rhs import vector_field

__all__ = ["diffusion_field", "drift_field", "make_terms"]


def diffusion_field(model: SDEModel):
    """``g(t, y, args)``: ``(n,)`` values (diagonal, additive, scalar) or an ``(n, k)`` matrix (general)."""
    layout = model.layout
    nets = model.networks
    n, k = model.n_states, model.n_noise

    def g(t, y, args):
        values, thetas = args
        p = ParamView(values, {name: network_callable(name, net, thetas[name]) for name, net in nets.items()})
        out = model.diffusion(layout.view(y), p, t, jax_math)
        if model.noise == "general":
            mat = jnp.asarray(out, dtype=y.dtype)
            if mat.shape != (n, k):
                raise ModelError(
                    f"returned shape {tuple(mat.shape)}; with noise='general' it must return an "
                    f"(n_states, n_noise) = ({n}, {k}) matrix.",
                    argument="diffusion",
                )
            return mat
        try:
            vec = layout.pack(out, jnp, what="diffusion").astype(y.dtype)
        except Exception as exc:
            raise ModelError(
                f"must return one value per state value ({n}) with noise={model.noise!r}, like the drift "
                f"({type(exc).__name__}: {exc}); for a matrix use noise='general' with n_noise.",
                argument="diffusion",
            ) from None
        if vec.shape != (n,):
            raise ModelError(
                f"returned {vec.shape} values; with noise={model.noise!r} it must return {n}.", argument="diffusion"
            )
        return vec

    return g


def _correction(model: SDEModel, g):
    """``c(t, y, args)`` with ``c_i = sum_j sum_l (d g_ij / d u_l) g_lj`` (Ito = Strat + c/2)."""

    def c(t, y, args):
        gy = g(t, y, args)
        jac = jax.jacfwd(lambda yy: g(t, yy, args))(y)
        if model.noise == "diagonal":
            return jnp.diagonal(jac) * gy
        if model.noise == "scalar":
            return jac @ gy
        return jnp.einsum("ijl,lj->i", jac, gy)  # general: jac (n, k, n), gy (n, k)

    return c


def drift_field(model: SDEModel, calculus: str):
    """The drift for a solver of ``calculus`` (the model's drift, converted if needed)."""
    f = vector_field(model)
    if calculus == model.calculus or model.noise == "additive":
        return f
    c = _correction(model, diffusion_field(model))
    sign = -0.5 if calculus == "stratonovich" else 0.5  # model Ito -> solver Strat: subtract

    def converted(t, y, args):
        return f(t, y, args) + sign * c(t, y, args)

    return converted


def make_terms(model: SDEModel, calculus: str, path):
    """``MultiTerm(ODETerm(drift), ControlTerm(diffusion, path))`` for a solver of ``calculus``."""
    f = drift_field(model, calculus)
    g = diffusion_field(model)
    noise = model.noise

    def g_op(t, y, args):
        if noise == "additive":
            # declared independent of u: diffrax's additive-noise solvers check that structurally (a JVP)
            return lx.DiagonalLinearOperator(g(t, jax.lax.stop_gradient(y), args))
        if noise == "diagonal":
            return lx.DiagonalLinearOperator(g(t, y, args))
        if noise == "scalar":
            return g(t, y, args)[:, None]
        return g(t, y, args)

    return dfx.MultiTerm(dfx.ODETerm(f), dfx.ControlTerm(g_op, path))
