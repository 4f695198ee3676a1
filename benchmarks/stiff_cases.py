"""The problems of ``benchmarks/stiff.py``, written as a user would write them for each tool.

* pysciml: ``ps.ODEModel`` with physics ``f(u, p, t, m)`` (public API only);
* scipy: ``solve_ivp`` right-hand sides with analytic (dense, or sparse for the
  Brusselator) Jacobians, from ``tests/helpers/problems.py`` / ``brusselator.py``;
* diffrax: a raw ``diffeqsolve`` with ``Kvaerno5()`` and a ``PIDController``,
  diffrax's defaults otherwise, jitted with the tolerances as arguments.

Reference solutions are tight scipy Radau solves, cached on disk per problem.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# the standard test problems live with the tests (tests/helpers), written once for both
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import brusselator as bz  # noqa: E402
from helpers import problems as P  # noqa: E402

__all__ = ["Case", "small_case", "brusselator_case", "reference", "rel_err", "max_rel_err"]


@dataclasses.dataclass
class Case:
    """One benchmark problem for every tool.

    Attributes:
        name: short name (``rober``, ``bruss32``...).
        n: number of states.
        model: the ``ps.ODEModel``; u0: ``(n,)``; t0, t1: span; params: ``{name: value}``.
        scipy_fun, scipy_jac: ``solve_ivp`` callables (``jac`` dense or scipy.sparse).
        jax_fun: ``fun(t, y, args)`` for raw diffrax (``args`` the parameter array, or None).
        jax_args: the parameter array passed to ``jax_fun``.
        atol_ratio: ``atol = atol_ratio * rtol`` in every sweep.
        err: ``err(y, ref) -> float`` final-state error measure.
        scipy_methods: solve_ivp methods compared.
    """

    name: str
    n: int
    model: Any
    u0: np.ndarray
    t0: float
    t1: float
    params: dict
    scipy_fun: Callable
    scipy_jac: Callable
    jax_fun: Callable
    jax_args: Any
    atol_ratio: float
    err: Callable
    scipy_methods: tuple = ("LSODA", "BDF", "Radau")
    reference_rtol: float = 1e-12
    reference_atol_ratio: float = 1e-2


def rel_err(y, ref) -> float:
    """Largest componentwise relative error ``max_i |y_i - ref_i| / |ref_i|``."""
    y, ref = np.asarray(y, float), np.asarray(ref, float)
    return float(np.max(np.abs(y - ref) / np.abs(ref)))


def max_rel_err(y, ref) -> float:
    """``max |y - ref| / max |ref|`` (for grids, where some components pass through zero)."""
    y, ref = np.asarray(y, float), np.asarray(ref, float)
    return float(np.max(np.abs(y - ref)) / np.max(np.abs(ref)))


# -- small problems --------------------------------------------------------------------------
def _rober(u, p, t, m):
    y1, y2, y3 = u
    return [-p.k1 * y1 + p.k3 * y2 * y3,
            p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2,
            p.k2 * y2**2]


def _hires(u, p, t, m):
    y1, y2, y3, y4, y5, y6, y7, y8 = u
    return [-p.a * y1 + p.b * y2 + p.c * y3 + p.d,
            p.a * y1 - p.e * y2,
            -p.f * y3 + p.b * y4 + p.g * y5,
            p.c * y2 + p.a * y3 - p.h * y4,
            -p.i * y5 + p.b * y6 + p.b * y7,
            -p.k * y6 * y8 + p.l * y4 + p.a * y5 - p.b * y6 + p.l * y7,
            p.k * y6 * y8 - p.m * y7,
            -p.k * y6 * y8 + p.m * y7]


def _vdp(u, p, t, m):
    x, v = u
    return [v, p.mu * (1.0 - x**2) * v - x]


_SMALL = {
    "rober": (_rober, ["y1", "y2", "y3"], ("k1", "k2", "k3"), 1e-4),
    "hires": (_hires, [f"y{i}" for i in range(1, 9)], tuple("abcdefghiklm"), 1e-4),
    "vdp": (_vdp, ["x", "v"], ("mu",), 1e-2),
}


def small_case(name: str) -> Case:
    """ROBER, HIRES or Van der Pol (mu = 1e3) from ``problems.PROBLEMS``."""
    import pysciml as ps

    physics, states, pnames, atol_ratio = _SMALL[name]
    prob = P.PROBLEMS[name]
    params = {k: float(v) for k, v in zip(pnames, prob.p)}
    model = ps.ODEModel(physics, states=states, params=params, name=name)
    fun, jac = P.for_scipy(prob)
    return Case(name=name, n=len(prob.y0), model=model, u0=np.array(prob.y0, float), t0=prob.t0, t1=prob.t1,
                params=params, scipy_fun=fun, scipy_jac=jac, jax_fun=P.for_jax(prob),
                jax_args=np.array(prob.p, float), atol_ratio=atol_ratio, err=rel_err,
                reference_rtol=1e-13, reference_atol_ratio=1e-3 if name != "rober" else 1e-3)


# -- the 2-D Brusselator ------------------------------------------------------------------------
def brusselator_case(n: int) -> Case:
    """The 2-D Brusselator on an ``n x n`` periodic grid (``2 n^2`` states), see ``brusselator.py``."""
    import pysciml as ps

    mask = bz.forcing_mask(n)
    scale = bz.ALPHA * n * n

    def physics(u, p, t, m):
        a, b = u.u, u.v

        def lap(w):
            return (m.roll(w, 1, 0) + m.roll(w, -1, 0) + m.roll(w, 1, 1) + m.roll(w, -1, 1) - 4.0 * w) * p.alpha

        forcing = m.where(t >= 1.1, 5.0, 0.0) * mask
        aab = a * a * b
        return {"u": 1.0 + aab - 4.4 * a + lap(a) + forcing, "v": 3.4 * a - aab + lap(b)}

    model = ps.ODEModel(physics, states={"u": (n, n), "v": (n, n)}, params={"alpha": scale},
                        name=f"brusselator{n}")
    import jax.numpy as jnp

    return Case(name=f"bruss{n}", n=2 * n * n, model=model, u0=bz.initial_state(n), t0=bz.T_SPAN[0],
                t1=bz.T_SPAN[1], params={"alpha": scale}, scipy_fun=bz.make_rhs(n, np), scipy_jac=bz.make_jac(n),
                jax_fun=bz.make_rhs(n, jnp), jax_args=None, atol_ratio=1e-2, err=max_rel_err,
                scipy_methods=("BDF", "Radau"), reference_rtol=1e-10, reference_atol_ratio=1e-2)


# -- references ---------------------------------------------------------------------------------
def _cache_dir() -> str:
    path = os.environ.get("PYSCIML_BENCH_CACHE") or os.path.join(tempfile.gettempdir(), "pysciml_stiff_refs")
    os.makedirs(path, exist_ok=True)
    return path


def reference(case: Case, p=None) -> np.ndarray:
    """Final state of a tight scipy Radau solve (cached on disk), shape ``(n,)``.

    Args:
        case: the problem.
        p: parameter array overriding the small problems' defaults (batch instances).
    """
    from scipy.integrate import solve_ivp

    rtol = case.reference_rtol
    atol = rtol * case.reference_atol_ratio
    key = f"{case.name}-{rtol:g}-{atol:g}"
    if p is not None:
        key += "-" + hashlib.sha1(np.asarray(p, float).tobytes()).hexdigest()[:16]
    path = os.path.join(_cache_dir(), key + ".npy")
    if os.path.exists(path):
        return np.load(path)
    if p is None:
        fun, jac = case.scipy_fun, case.scipy_jac
    else:
        fun, jac = P.for_scipy(P.PROBLEMS[case.name], p)
    sol = solve_ivp(fun, (case.t0, case.t1), case.u0, method="Radau", jac=jac, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"reference solve of {case.name} failed: {sol.message}")
    y = sol.y[:, -1].copy()
    tmp = path + f".{os.getpid()}.tmp.npy"
    np.save(tmp, y)
    os.replace(tmp, path)
    return y
