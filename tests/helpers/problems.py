"""Test and benchmark problems, written once for numpy and jax.numpy.

Each right-hand side is ``f(t, y, p, xp)`` with ``xp`` the array namespace
(``numpy`` or ``jax.numpy``), ``y`` a flat 1-D array and ``p`` a 1-D parameter
array.  :func:`for_jax` and :func:`for_scipy` bind the namespace.  Analytic
Jacobians (numpy) are given for scipy's implicit methods, and
:func:`reference` computes a tight scipy Radau solution (cached per process).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

__all__ = ["Problem", "PROBLEMS", "for_jax", "for_scipy", "reference"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """An initial-value problem ``y' = f(t, y, p)``, ``y(t0) = y0``.

    Args:
        name: short name.
        f: ``f(t, y, p, xp) -> dy`` (units of ``y`` per unit time).
        jac: ``jac(t, y, p) -> (n, n)`` numpy Jacobian ``df/dy``.
        y0: ``(n,)`` initial state; p: ``(k,)`` parameters; t0, t1: time span.
        exact: ``exact(t, y0, p) -> (n,)`` exact solution, where known.
        stiff: whether the problem is stiff.
    """

    name: str
    f: Callable
    jac: Callable
    y0: tuple
    p: tuple
    t0: float
    t1: float
    exact: Callable | None = None
    stiff: bool = True


# -- ROBER (Robertson 1966): chemical kinetics, stiff ----------------------------------
def rober(t, y, p, xp):
    k1, k2, k3 = p[0], p[1], p[2]
    return xp.stack([
        -k1 * y[0] + k3 * y[1] * y[2],
        k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
        k2 * y[1] ** 2,
    ])


def rober_jac(t, y, p):
    k1, k2, k3 = p
    return np.array([
        [-k1, k3 * y[2], k3 * y[1]],
        [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
        [0.0, 2 * k2 * y[1], 0.0],
    ])


# -- HIRES (Schäfer 1975; Hairer & Wanner II): plant physiology, stiff -----------------
HIRES_P = (1.71, 0.43, 8.32, 0.0007, 8.75, 10.03, 0.035, 1.12, 1.745, 280.0, 0.69, 1.81)


def hires(t, y, p, xp):
    a, b, c, d, e, f_, g, h_, i, k, l, m = (p[j] for j in range(12))
    y1, y2, y3, y4, y5, y6, y7, y8 = (y[j] for j in range(8))
    return xp.stack([
        -a * y1 + b * y2 + c * y3 + d,
        a * y1 - e * y2,
        -f_ * y3 + b * y4 + g * y5,
        c * y2 + a * y3 - h_ * y4,
        -i * y5 + b * y6 + b * y7,
        -k * y6 * y8 + l * y4 + a * y5 - b * y6 + l * y7,
        k * y6 * y8 - m * y7,
        -k * y6 * y8 + m * y7,
    ])


def hires_jac(t, y, p):
    a, b, c, d, e, f_, g, h_, i, k, l, m = p
    J = np.zeros((8, 8))
    J[0, :3] = [-a, b, c]
    J[1, :2] = [a, -e]
    J[2, 2:5] = [-f_, b, g]
    J[3, 1:4] = [c, a, -h_]
    J[4, 4:7] = [-i, b, b]
    J[5, 3:8] = [l, a, -k * y[7] - b, l, -k * y[5]]
    J[6, 5:8] = [k * y[7], -m, k * y[5]]
    J[7, 5:8] = [-k * y[7], m, -k * y[5]]
    return J


# -- Van der Pol, mu = 1000 ---------------------------------------------------------------
def vdp(t, y, p, xp):
    mu = p[0]
    return xp.stack([y[1], mu * (1.0 - y[0] ** 2) * y[1] - y[0]])


def vdp_jac(t, y, p):
    mu = p[0]
    return np.array([[0.0, 1.0], [-2.0 * mu * y[0] * y[1] - 1.0, mu * (1.0 - y[0] ** 2)]])


# -- linear problems with exact solutions ------------------------------------------------
LINEAR_A = np.array([[-1.0, 0.5, 0.0], [0.2, -30.0, 1.0], [0.0, 2.0, -500.0]])


def linear(t, y, p, xp):
    a = xp.reshape(p, (3, 3))
    return a @ y


def linear_jac(t, y, p):
    return np.reshape(np.asarray(p), (3, 3))


def linear_exact(t, y0, p):
    from scipy.linalg import expm

    return expm(np.reshape(np.asarray(p), (3, 3)) * t) @ np.asarray(y0)


def decay(t, y, p, xp):
    return -p[0] * y


def decay_jac(t, y, p):
    return -p[0] * np.eye(len(y))


def decay_exact(t, y0, p):
    return np.asarray(y0) * np.exp(-p[0] * t)


def oscillator(t, y, p, xp):
    w = p[0]
    return xp.stack([y[1], -w * w * y[0]])


def oscillator_jac(t, y, p):
    return np.array([[0.0, 1.0], [-p[0] ** 2, 0.0]])


def oscillator_exact(t, y0, p):
    w = p[0]
    return np.array([y0[0] * np.cos(w * t) + y0[1] / w * np.sin(w * t),
                     -y0[0] * w * np.sin(w * t) + y0[1] * np.cos(w * t)])


# -- non-autonomous: stiff relaxation onto a moving target (Prothero-Robinson) -----------
def prothero_robinson(t, y, p, xp):
    lam = p[0]
    return -lam * (y - xp.sin(t)) + xp.cos(t)


def prothero_robinson_jac(t, y, p):
    return -p[0] * np.eye(len(y))


def prothero_robinson_exact(t, y0, p):
    return np.sin(t) + (np.asarray(y0) - np.sin(0.0)) * np.exp(-p[0] * t)


# -- smooth nonlinear, non-autonomous, with an exact solution (convergence orders) --------
def smooth(t, y, p, xp):
    # y1 = 1/(1 + t^2);  y2 = sin t + y2(0) e^{-t};  y3 = y1 * y2 coupled through y3' = ...
    y1, y2, y3 = y[0], y[1], y[2]
    dy1 = -2.0 * t * y1 * y1
    dy2 = -y2 + xp.sin(t) + xp.cos(t)
    dy3 = dy1 * y2 + y1 * dy2 + p[0] * (y1 * y2 - y3)
    return xp.stack([dy1, dy2, dy3])


def smooth_jac(t, y, p):
    y1, y2, y3 = y
    dy1 = -2.0 * t * y1 * y1
    dy2 = -y2 + np.sin(t) + np.cos(t)
    return np.array([
        [-4.0 * t * y1, 0.0, 0.0],
        [0.0, -1.0, 0.0],
        [-4.0 * t * y1 * y2 + dy2 + p[0] * y2, dy1 - y1 + p[0] * y1, -p[0]],
    ])


def smooth_exact(t, y0, p):
    # valid for y0 = (1, c, c) (then y3 = y1 * y2 for all t)
    y1 = 1.0 / (1.0 + t * t)
    y2 = np.sin(t) + y0[1] * np.exp(-t)
    return np.array([y1, y2, y1 * y2])


def blowup(t, y, p, xp):
    return y * y


def blowup_jac(t, y, p):
    return np.diag(2.0 * np.asarray(y))


PROBLEMS = {
    "rober": Problem("rober", rober, rober_jac, (1.0, 0.0, 0.0), (0.04, 3e7, 1e4), 0.0, 1e5),
    "hires": Problem("hires", hires, hires_jac, (1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0057),
                     HIRES_P, 0.0, 321.8122),
    "vdp": Problem("vdp", vdp, vdp_jac, (2.0, 0.0), (1000.0,), 0.0, 3000.0),
    "linear": Problem("linear", linear, linear_jac, (1.0, -1.0, 2.0), tuple(LINEAR_A.ravel()),
                      0.0, 2.0, exact=linear_exact),
    "decay": Problem("decay", decay, decay_jac, (1.0, 2.0), (0.7,), 0.0, 3.0,
                     exact=decay_exact, stiff=False),
    "oscillator": Problem("oscillator", oscillator, oscillator_jac, (1.0, 0.5), (2.0,), 0.0, 10.0,
                          exact=oscillator_exact, stiff=False),
    "prothero_robinson": Problem("prothero_robinson", prothero_robinson, prothero_robinson_jac,
                                 (0.5,), (1e4,), 0.0, 5.0, exact=prothero_robinson_exact),
    "smooth": Problem("smooth", smooth, smooth_jac, (1.0, 0.5, 0.5), (3.0,), 0.0, 2.0,
                      exact=smooth_exact, stiff=False),
    "blowup": Problem("blowup", blowup, blowup_jac, (1.0,), (), 0.0, 2.0, stiff=False),
}


def for_jax(problem: Problem):
    """``fun(t, y, p)`` for the jax engine (binds ``jax.numpy``)."""
    import jax.numpy as jnp

    f = problem.f

    def fun(t, y, p):
        return f(t, y, p, jnp)

    fun.__name__ = problem.name
    return fun


class _FastNumpy:
    """numpy, except ``stack`` of scalars is ``np.array`` (several times faster for small lists)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def stack(xs):
        return np.array(xs)


_FAST_NP = _FastNumpy()


def for_scipy(problem: Problem, p=None):
    """``(fun(t, y), jac(t, y))`` for ``scipy.integrate.solve_ivp`` with parameters ``p``."""
    p = np.asarray(problem.p if p is None else p, dtype=float)
    pl = tuple(float(v) for v in p)  # python floats: the cheapest scalars for scipy's loop
    f, j = problem.f, problem.jac
    return (lambda t, y: f(t, y, pl, _FAST_NP)), (lambda t, y: j(t, y, pl))


@functools.cache
def _reference(name, ts, rtol, atol, p):
    from scipy.integrate import solve_ivp

    prob = PROBLEMS[name]
    fun, jac = for_scipy(prob, None if p is None else np.array(p))
    sol = solve_ivp(fun, (prob.t0, prob.t1), np.array(prob.y0, float), method="Radau", jac=jac,
                    rtol=rtol, atol=atol, t_eval=np.array(ts))
    if not sol.success:
        raise RuntimeError(f"reference solve of {name} failed: {sol.message}")
    return sol.y.T.copy()


def reference(name: str, ts=None, rtol: float = 1e-12, atol: float = 1e-14, p=None) -> np.ndarray:
    """Tight scipy Radau solution of ``PROBLEMS[name]`` at ``ts`` (default: ``t1``), shape ``(len(ts), n)``."""
    prob = PROBLEMS[name]
    ts = (prob.t1,) if ts is None else tuple(float(t) for t in np.atleast_1d(ts))
    return _reference(name, ts, rtol, atol, None if p is None else tuple(float(v) for v in p)).copy()
