"""Our Rosenbrock methods driven by diffrax's loop, for diffrax's adjoints.

The default reverse mode of the Rosenbrock machine is its own discrete adjoint
(:class:`pysciml.Direct`).  ``Checkpointed`` (bounded memory) and ``Backsolve``
(continuous adjoint) run the same tableaus as diffrax solvers
(:class:`.rosenbrock.diffrax_adapter.DiffraxRosenbrock`) under diffrax's
``RecursiveCheckpointAdjoint`` / ``BacksolveAdjoint``.
"""

from __future__ import annotations

import diffrax as dfx
import jax.numpy as jnp

from .diffrax_solvers import diffrax_adjoint, status_from_result
from .rosenbrock.diffrax_adapter import DiffraxRosenbrock

__all__ = ["rosenbrock_via_diffrax"]


def rosenbrock_via_diffrax(
    fun, solver, t0, t1, y0, args, ts, *, rtol, atol, dt0, max_steps, adjoint, linsolve=None, differentiation="reverse"
):
    """Solve with a Rosenbrock solver's tableau inside ``diffrax.diffeqsolve``; returns ``(ys, status, stats)``."""
    method = (
        DiffraxRosenbrock(solver.tableau) if linsolve is None else DiffraxRosenbrock(solver.tableau, linsolve=linsolve)
    )
    sol = dfx.diffeqsolve(
        dfx.ODETerm(fun),
        method,
        t0,
        t1,
        dt0,
        y0,
        args=args,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        adjoint=diffrax_adjoint(adjoint, differentiation, max_steps),
        throw=False,
    )
    status = status_from_result(sol.result)
    assert sol.ys is not None  # saved at ts
    ys = jnp.where(jnp.isfinite(sol.ys), sol.ys, jnp.nan)
    steps = jnp.asarray(sol.stats["num_accepted_steps"], jnp.int32)
    rejected = jnp.asarray(sol.stats["num_rejected_steps"], jnp.int32)
    return ys, status, {"steps": steps, "rejected": rejected}
