"""The 2D Brusselator (method of lines), written once for numpy/scipy and jax.

On [0, 1]^2 with periodic boundaries and an ``N x N`` grid (``x_i = i/N``)::

    u_t = 1 + u^2 v - 4.4 u + alpha lap(u) + f(x, y, t)
    v_t = 3.4 u - u^2 v + alpha lap(v)

with ``alpha = 10``, ``f = 5`` inside the disc of radius 0.1 around
(0.3, 0.6) for ``t >= 1.1`` (else 0), ``u(x, y, 0) = 22 (y(1-y))^1.5``,
``v(x, y, 0) = 27 (x(1-x))^1.5`` and ``t`` in ``[0, 11.5]`` (as in the SciML
benchmarks, with grid spacing ``1/N``).  The flat state is ``[u.ravel(),
v.ravel()]`` (``2 N^2`` values, ``u[i, j]`` at ``x_i, y_j``).

The right-hand side takes the array namespace ``xp`` (``numpy`` or
``jax.numpy``).  :func:`scipy_solve` is the scipy reference (``solve_ivp``
BDF with an analytic sparse Jacobian or only its sparsity pattern).
"""

from __future__ import annotations

import time

import numpy as np

ALPHA = 10.0
T_SPAN = (0.0, 11.5)


def grid(n: int):
    """Grid coordinates ``(x, y)``, each ``(n, n)`` with ``x[i, j] = i/n``, ``y[i, j] = j/n``."""
    c = np.arange(n) / n
    return np.meshgrid(c, c, indexing="ij")


def initial_state(n: int) -> np.ndarray:
    """Flat initial state ``(2 n^2,)``: ``u = 22 (y(1-y))^1.5``, ``v = 27 (x(1-x))^1.5``."""
    x, y = grid(n)
    u = 22.0 * (y * (1.0 - y)) ** 1.5
    v = 27.0 * (x * (1.0 - x)) ** 1.5
    return np.concatenate([u.ravel(), v.ravel()])


def forcing_mask(n: int) -> np.ndarray:
    """``(n, n)`` float mask of the forcing disc ``(x-0.3)^2 + (y-0.6)^2 <= 0.1^2``."""
    x, y = grid(n)
    return (((x - 0.3) ** 2 + (y - 0.6) ** 2) <= 0.01).astype(float)


def make_rhs(n: int, xp=np, alpha: float = ALPHA):
    """Right-hand side ``f(t, y, args)`` on the flat state, using array namespace ``xp``.

    Args:
        n: grid points per side (the state has ``2 n^2`` values).
        xp: ``numpy`` or ``jax.numpy``.
        alpha: diffusion coefficient.
    """
    mask = xp.asarray(forcing_mask(n))
    scale = alpha * n * n  # alpha / dx^2 with dx = 1/n

    def lap(w):
        return (xp.roll(w, 1, 0) + xp.roll(w, -1, 0) + xp.roll(w, 1, 1) + xp.roll(w, -1, 1) - 4.0 * w) * scale

    def rhs(t, y, args=None):
        u = y[: n * n].reshape(n, n)
        v = y[n * n :].reshape(n, n)
        forcing = xp.where(t >= 1.1, 5.0, 0.0) * mask
        uuv = u * u * v
        du = 1.0 + uuv - 4.4 * u + lap(u) + forcing
        dv = 3.4 * u - uuv + lap(v)
        return xp.concatenate([du.ravel(), dv.ravel()])

    return rhs


def laplacian_matrix(n: int):
    """``(n^2, n^2)`` scipy CSR periodic 5-point Laplacian with spacing ``1/n`` (unscaled by alpha)."""
    import scipy.sparse as sp

    e = np.ones(n)
    l1 = sp.diags([e[:-1], -2 * e, e[:-1]], [-1, 0, 1], shape=(n, n), format="lil")
    l1[0, n - 1] = 1.0
    l1[n - 1, 0] = 1.0
    l1 = l1.tocsr() * (n * n)
    eye = sp.identity(n, format="csr")
    return (sp.kron(l1, eye) + sp.kron(eye, l1)).tocsr()


def make_jac(n: int, alpha: float = ALPHA):
    """Analytic sparse Jacobian ``jac(t, y) -> scipy CSR (2 n^2, 2 n^2)`` for scipy."""
    import scipy.sparse as sp

    lap = alpha * laplacian_matrix(n)
    m = n * n

    def jac(t, y):
        u, v = y[:m], y[m:]
        return sp.bmat(
            [[sp.diags(2 * u * v - 4.4) + lap, sp.diags(u * u)], [sp.diags(3.4 - 2 * u * v), sp.diags(-u * u) + lap]],
            format="csc",
        )

    return jac


def jacobian_sparsity(n: int):
    """Boolean scipy CSR pattern of the Jacobian (for ``jac_sparsity`` / ``SparseLU(sparsity=...)``)."""
    jac = make_jac(n)
    pat = jac(0.0, np.ones(2 * n * n)).astype(bool)
    return pat.tocsr()


def scipy_solve(n: int, rtol: float, atol: float, *, method: str = "BDF", jac: str = "analytic", t_eval=None):
    """Solve with ``scipy.integrate.solve_ivp``; returns ``(y_final, stats dict)``.

    Args:
        n: grid points per side.
        rtol, atol: tolerances.
        method: a solve_ivp method name.
        jac: ``"analytic"`` (sparse analytic Jacobian) or ``"sparsity"`` (finite
            differences with ``jac_sparsity``).
    """
    from scipy.integrate import solve_ivp

    rhs = make_rhs(n, np)
    kw = {"jac": make_jac(n)} if jac == "analytic" else {"jac_sparsity": jacobian_sparsity(n)}
    t0 = time.perf_counter()
    sol = solve_ivp(rhs, T_SPAN, initial_state(n), method=method, rtol=rtol, atol=atol, t_eval=t_eval, **kw)
    wall = time.perf_counter() - t0
    stats = {"wall_s": wall, "steps": int(sol.t.size - 1) if t_eval is None else None, "nfev": int(sol.nfev),
             "njev": int(sol.njev), "nlu": int(sol.nlu), "status": int(sol.status)}
    return sol.y[:, -1], stats
