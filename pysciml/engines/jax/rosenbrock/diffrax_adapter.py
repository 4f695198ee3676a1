"""Any Rosenbrock tableau as a diffrax solver, sharing the machine's stage code.

    import diffrax
    import pysciml as ps
    from pysciml.engines.jax.rosenbrock.diffrax_adapter import DiffraxRosenbrock
    sol = diffrax.diffeqsolve(diffrax.ODETerm(f), DiffraxRosenbrock(ps.Rodas5P().tableau), t0, t1, dt0, y0,
                              args, stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8),
                              saveat=diffrax.SaveAt(ts=ts), adjoint=diffrax.RecursiveCheckpointAdjoint())

``y`` may be any pytree of arrays (it is flattened for the linear algebra, so
``diffrax.BacksolveAdjoint`` works too).  Dense output uses each method's own
interpolant.  A step whose linear solve fails or whose stages are not finite
reports an infinite error estimate, so the controller rejects it and shrinks the step.
"""

from __future__ import annotations

from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ....solvers.rosenbrock.tableau import RosenbrockTableau
from ..linsolve.base import AbstractLinearSolver
from ..linsolve.dense import DenseLU
from .step import rosenbrock_step

__all__ = ["RosenbrockInterpolation", "DiffraxRosenbrock"]


class RosenbrockInterpolation(diffrax.AbstractLocalInterpolation):
    """``y(t0 + theta h) = y0 + sum_k theta**(k+1) dense[k]`` over one step (flat ``dense``)."""

    t0: float
    t1: float
    y0: object
    dense: jax.Array

    def _at(self, t):
        flat0, unravel = ravel_pytree(self.y0)
        theta = (t - self.t0) / (self.t1 - self.t0)
        acc = self.dense[-1]
        for k in range(self.dense.shape[0] - 2, -1, -1):
            acc = self.dense[k] + theta * acc
        return unravel(flat0 + theta * acc)

    def evaluate(self, t0, t1=None, left=True):
        del left
        if t1 is None:
            return self._at(t0)
        return jax.tree_util.tree_map(lambda a, b: b - a, self._at(t0), self._at(t1))


class DiffraxRosenbrock(diffrax.AbstractAdaptiveSolver):
    """A Rosenbrock-Wanner tableau as a diffrax solver for ODE terms (``diffrax.ODETerm`` and the
    terms diffrax's adjoints wrap around it; the control must be linear in the step, as ``dt`` is).

    Args:
        tableau: the method's coefficients (``ps.Rodas5P().tableau``...).
        linsolve: how ``W = I - h gamma J`` is built and solved (default dense).
    """

    tableau: RosenbrockTableau = eqx.field(static=True)
    linsolve: AbstractLinearSolver = DenseLU()
    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = RosenbrockInterpolation

    def order(self, terms):
        return self.tableau.order

    def error_order(self, terms):
        return min(self.tableau.order, self.tableau.error_order) + 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        flat0, unravel = ravel_pytree(y0)
        t0 = jnp.asarray(t0, flat0.dtype)
        h = jnp.asarray(t1, flat0.dtype) - t0
        # ODE-type terms have a control linear in the interval (dt, or -dt for terms
        # wrapped for backward solves, as in BacksolveAdjoint): rate = vf_prod(control) / h
        control = terms.contr(t0, t1)

        def fun(t, y, a):
            return ravel_pytree(terms.vf_prod(t, unravel(y), a, control))[0] / h

        y1, err, dense, ok = rosenbrock_step(self.tableau, fun, self.linsolve, t0, flat0, h, args)
        err = jnp.where(ok, err, jnp.inf)
        y1 = jnp.where(ok, y1, flat0)
        dense_info = dict(y0=y0, dense=dense)
        return unravel(y1), unravel(err), dense_info, None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)
