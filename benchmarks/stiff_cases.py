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

__all__ = [
    "Case", "small_case", "brusselator_case", "brusselator1d_case", "reference", "reference_path", "rel_err",
    "max_rel_err",
]


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
        scipy_options: per method, ``solve_ivp`` keywords that replace ``jac=scipy_jac`` (LSODA's
            banded mode takes a packed Jacobian and ``lband`` / ``uband``).
        save_times: the times every tool saves at and the error is measured at (the largest
            error over them counts); empty: ``t1`` only.
    """

    def times(self) -> np.ndarray:
        """The save times: ``save_times``, or ``[t1]``."""
        return np.asarray(self.save_times if self.save_times else (self.t1,), float)

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
    scipy_options: dict = dataclasses.field(default_factory=dict)  # method -> solve_ivp keywords (replacing jac=)
    save_times: tuple = ()  # where the error is measured (empty: t1 only)
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
#: save times of the small problems: the error is the largest over them (at t1 alone ROBER is near
#: its equilibrium, where a poor solution can still end close to the right state)
_SAVE_TIMES = {
    "rober": (1.0, 10.0, 100.0, 1e3, 1e4, 1e5),
    "hires": (20.0, 60.0, 120.0, 200.0, 321.8122),
    "vdp": (500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0),
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
                jax_args=np.array(prob.p, float), atol_ratio=atol_ratio, err=rel_err, save_times=_SAVE_TIMES[name],
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


# -- the 1-D Brusselator: method of lines, a banded Jacobian ------------------------------------
BRUSS1D_ALPHA = 1.0 / 50.0
BRUSS1D_T1 = 10.0


def _bruss1d_numpy(n_points: int, xp):
    """``solve_ivp``-style rhs of the 1-D Brusselator on interleaved states ``(u_1, v_1, u_2, ...)``."""
    c = BRUSS1D_ALPHA * (n_points + 1) ** 2

    def rhs(t, y, *args):
        u, v = y[0::2], y[1::2]
        ul = xp.concatenate([xp.ones(1), u[:-1]])
        ur = xp.concatenate([u[1:], xp.ones(1)])
        vl = xp.concatenate([3.0 * xp.ones(1), v[:-1]])
        vr = xp.concatenate([v[1:], 3.0 * xp.ones(1)])
        uuv = u * u * v
        du = 1.0 + uuv - 4.0 * u + c * (ul - 2.0 * u + ur)
        dv = 3.0 * u - uuv + c * (vl - 2.0 * v + vr)
        return xp.stack([du, dv], axis=1).reshape(-1)

    return rhs


def _bruss1d_bands(n_points: int, y):
    """The Jacobian's diagonals at offsets -2..2 (each of length n, aligned on the column index)."""
    c = BRUSS1D_ALPHA * (n_points + 1) ** 2
    n = 2 * n_points
    u, v = y[0::2], y[1::2]
    diag = np.empty(n)
    diag[0::2] = 2.0 * u * v - 4.0 - 2.0 * c
    diag[1::2] = -u * u - 2.0 * c
    sup1 = np.zeros(n)  # J[j-1, j]: d du_i / d v_i at the v columns
    sup1[1::2] = u * u
    sub1 = np.zeros(n)  # J[j+1, j]: d dv_i / d u_i at the u columns
    sub1[0::2] = 3.0 - 2.0 * u * v
    return {-2: np.full(n, c), -1: sub1, 0: diag, 1: sup1, 2: np.full(n, c)}


def _bruss1d_sparse_jac(n_points: int):
    import scipy.sparse as sp

    n = 2 * n_points

    def jac(t, y):
        b = _bruss1d_bands(n_points, y)
        # scipy.sparse.diags takes each diagonal from its first row: J[j - k, j] for offset k > 0
        return sp.diags([b[-2][: n - 2], b[-1][: n - 1], b[0], b[1][1:], b[2][2:]], [-2, -1, 0, 1, 2],
                        shape=(n, n), format="csc")

    return jac


def _bruss1d_packed_jac(n_points: int):
    """LSODA's banded format: ``packed[uband + i - j, j] = J[i, j]`` with ``lband = uband = 2``."""
    n = 2 * n_points

    def jac(t, y):
        b = _bruss1d_bands(n_points, y)
        packed = np.zeros((5, n))
        packed[0, 2:] = b[2][2:]
        packed[1, 1:] = b[1][1:]
        packed[2] = b[0]
        packed[3, :-1] = b[-1][:-1]
        packed[4, :-2] = b[-2][:-2]
        return packed

    return jac


def brusselator1d_case(n_points: int) -> Case:
    """The 1-D Brusselator of Hairer & Wanner (Solving ODEs II, IV.1), ``2 n_points`` states.

    ``u_t = 1 + u^2 v - 4 u + alpha u_xx``, ``v_t = 3 u - u^2 v + alpha v_xx`` on ``0 < x < 1``,
    ``u = 1``, ``v = 3`` at both ends, ``u(x, 0) = 1 + sin(2 pi x)``, ``v(x, 0) = 3``, ``alpha = 1/50``,
    ``t`` in ``[0, 10]``; second differences on ``n_points`` interior points.  pysciml gets the two
    fields as array states (its sparsity detection finds the pattern); scipy gets the states
    interleaved, so the Jacobian is banded (two bands each side): a sparse analytic Jacobian for BDF
    and Radau, the packed banded one with ``lband = uband = 2`` for LSODA (their best documented settings).
    """
    import jax.numpy as jnp

    import pysciml as ps

    def physics(u, p, t, m):
        a, b = u[:, 0], u[:, 1]  # one array state: u is the (n_points, 2) array itself

        def lap(w, edge):
            end = m.ones_like(w[:1]) * edge
            return p.c * (m.concatenate([end, w[:-1]]) - 2.0 * w + m.concatenate([w[1:], end]))

        aab = a * a * b
        return m.stack([1.0 + aab - 4.0 * a + lap(a, 1.0), 3.0 * a - aab + lap(b, 3.0)], axis=1)

    c = BRUSS1D_ALPHA * (n_points + 1) ** 2
    x = np.arange(1, n_points + 1) / (n_points + 1)
    u0 = np.stack([1.0 + np.sin(2.0 * np.pi * x), np.full(n_points, 3.0)], axis=1).reshape(-1)
    # one (n_points, 2) array state: its flat layout is scipy's interleaved (u_1, v_1, u_2, ...)
    model = ps.ODEModel(physics, states={"uv": (n_points, 2)}, params={"c": c}, name=f"brusselator1d_{n_points}")
    return Case(name=f"bruss1d_{2 * n_points}", n=2 * n_points, model=model, u0=u0, t0=0.0, t1=BRUSS1D_T1,
                params={"c": c}, scipy_fun=_bruss1d_numpy(n_points, np), scipy_jac=_bruss1d_sparse_jac(n_points),
                jax_fun=_bruss1d_numpy(n_points, jnp), jax_args=None, atol_ratio=1e-2, err=max_rel_err,
                scipy_options={"LSODA": {"jac": _bruss1d_packed_jac(n_points), "lband": 2, "uband": 2}},
                reference_rtol=1e-10, reference_atol_ratio=1e-2)


# -- references ---------------------------------------------------------------------------------
def _cache_dir() -> str:
    path = os.environ.get("PYSCIML_BENCH_CACHE") or os.path.join(tempfile.gettempdir(), "pysciml_stiff_refs")
    os.makedirs(path, exist_ok=True)
    return path


def _radau(case: Case, key: str, fun, jac, t_eval=None) -> np.ndarray:
    """A tight scipy Radau solve of ``case`` kept on disk under ``key``: the states at ``t_eval``
    ``(n_save, n)``, or the final state ``(n,)`` without it."""
    from scipy.integrate import solve_ivp

    path = os.path.join(_cache_dir(), key + ".npy")
    if os.path.exists(path):
        return np.load(path)
    rtol = case.reference_rtol
    sol = solve_ivp(fun, (case.t0, case.t1), case.u0, method="Radau", jac=jac, rtol=rtol,
                    atol=rtol * case.reference_atol_ratio, t_eval=t_eval)
    if not sol.success:
        raise RuntimeError(f"reference solve of {case.name} failed: {sol.message}")
    y = sol.y.T.copy() if t_eval is not None else sol.y[:, -1].copy()
    tmp = path + f".{os.getpid()}.tmp.npy"
    np.save(tmp, y)
    os.replace(tmp, path)
    return y


def _key(case: Case) -> str:
    rtol = case.reference_rtol
    return f"{case.name}-{rtol:g}-{rtol * case.reference_atol_ratio:g}"


def reference_path(case: Case) -> np.ndarray:
    """A tight scipy Radau solution at ``case.times()`` (cached on disk), shape ``(n_save, n)``."""
    times = case.times()
    key = f"{_key(case)}-path-" + hashlib.sha1(times.tobytes()).hexdigest()[:16]
    return _radau(case, key, case.scipy_fun, case.scipy_jac, t_eval=times)


def reference(case: Case, p=None) -> np.ndarray:
    """Final state of a tight scipy Radau solve (cached on disk), shape ``(n,)``.

    Args:
        case: the problem.
        p: parameter array overriding the small problems' defaults (batch instances).
    """
    if p is None:
        return _radau(case, _key(case), case.scipy_fun, case.scipy_jac)
    fun, jac = P.for_scipy(P.PROBLEMS[case.name], p)
    return _radau(case, f"{_key(case)}-" + hashlib.sha1(np.asarray(p, float).tobytes()).hexdigest()[:16], fun, jac)
