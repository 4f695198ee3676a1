"""Trajectory sensitivities (forward mode through the solve), returned as numpy."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from ...status import Status
from ..requests import SolveRequest
from .compiled_solve import call_args
from .plan import plan_solver

__all__ = ["trajectory_jacobians"]


def trajectory_jacobians(engine, request: SolveRequest, wrt: tuple[str, ...]) -> dict[str, Any]:
    """d u(t_i) / d (u0, params) by ``jax.jacfwd`` through the compiled solve."""

    plan = plan_solver(request)
    fn = engine.solve_function(request, plan)
    t0, t1, y0, (params, nets), ts, rtol, atol, dt0 = call_args(request)
    names = [n for n in request.model.param_names if "params" in wrt or n in wrt]
    want_u0 = "u0" in wrt

    def f(y0_, sel):
        p = dict(params)
        p.update(sel)
        ys, status, _ = fn(t0, t1, y0_, (p, nets), ts, rtol, atol, dt0)
        return ys, (ys, status)

    sel = {k: params[k] for k in names}
    argnums = (0, 1) if want_u0 else (1,)
    jac, (ys, status) = jax.jacfwd(f, argnums=argnums, has_aux=True)(y0, sel)
    out: dict[str, Any] = {"t": np.asarray(ts), "u": np.asarray(ys), "status": Status(int(status))}
    if want_u0:
        out["u0"] = np.asarray(jac[0])
        jp = jac[1]
    else:
        jp = jac[0]
    if names:
        out["params"] = {k: np.asarray(jp[k]) for k in names}
    return out
