"""Matrix-free restarted GMRES with early exit, convergence info and preconditioners.

``W v = v - c J v`` is applied by forward-mode products (``jax.linearize`` of
the right-hand side once per step), never forming ``J``.  GMRES is right
preconditioned (the residual it monitors is the true one), uses modified
Gram-Schmidt and Givens rotations, and stops as soon as
``|b - W x| <= rtol |b|``.  The solve is wrapped in
``jax.lax.custom_linear_solve`` so derivatives go through the solution by
implicit differentiation (a transposed GMRES solve), not through the
iteration.

Preconditioners (``GMRESSolver(preconditioner=...)``):

* ``"none"``.
* ``"jacobi"``: the diagonal of ``W`` (from the coloured sparse Jacobian).
* ``"sparse"``: the multifrontal factorisation of ``W`` itself (GMRES then
  converges in one iteration; useful only to check, or as the building block
  of a lagged preconditioner).
"""

from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ....errors import InputError
from ._const import Const
from .base import AbstractLinearSolver
from .coloring import ColoredJacobian
from .multifrontal import MultifrontalPlan

__all__ = ["gmres", "fgmres", "GMRESSolver"]


def _new_rotation(h, cs, sn, g, j, tiny):
    """Givens rotation zeroing ``h[j + 1]`` (column ``j`` of the Hessenberg matrix, the previous
    rotations already applied): returns ``h``, the rotations ``cs, sn`` and the residual vector ``g``."""
    den = jnp.hypot(h[j], h[j + 1])
    c_j = jnp.where(den > 0, h[j] / jnp.maximum(den, tiny), 1.0)
    s_j = jnp.where(den > 0, h[j + 1] / jnp.maximum(den, tiny), 0.0)
    h = h.at[j].set(den).at[j + 1].set(0.0)
    g = g.at[j + 1].set(-s_j * g[j]).at[j].set(c_j * g[j])
    return h, cs.at[j].set(c_j), sn.at[j].set(s_j), g


def gmres(matvec, b, precond=None, *, rtol=1e-6, atol=0.0, restart=20, maxiter=10):
    """Solve ``A x = b`` by restarted, right-preconditioned GMRES.

    Args:
        matvec: ``v -> A v`` for ``(n,)`` vectors (linear).
        b: ``(n,)`` right-hand side.
        precond: ``v -> M^-1 v`` (approximate inverse), or None.
        rtol, atol: stop when ``|b - A x|_2 <= max(rtol |b|_2, atol)``.
        restart: Krylov subspace dimension per cycle.
        maxiter: most restart cycles.

    Returns:
        ``(x, info)`` with ``info = (converged: bool, iterations: int32, residual: float)``.
    """
    precond = (lambda v: v) if precond is None else precond
    m = int(restart)
    dtype = b.dtype
    bnorm = jnp.linalg.norm(b)
    tol = jnp.maximum(rtol * bnorm, atol)
    tiny = jnp.finfo(dtype).tiny

    def cycle(carry):
        x, _, k, total = carry
        r = b - matvec(x)
        beta = jnp.linalg.norm(r)
        V = jnp.zeros((m + 1, b.size), dtype).at[0].set(r / jnp.maximum(beta, tiny))
        H = jnp.zeros((m + 1, m), dtype)
        cs = jnp.zeros(m, dtype)
        sn = jnp.zeros(m, dtype)
        g = jnp.zeros(m + 1, dtype).at[0].set(beta)

        def arnoldi(st):
            V, H, cs, sn, g, j = st
            w = matvec(precond(V[j]))

            def mgs(i, wh):
                w, h = wh
                hij = jnp.where(i <= j, jnp.dot(V[i], w), 0.0)
                return w - hij * V[i], h.at[i].set(hij)

            w, h = jax.lax.fori_loop(0, m, mgs, (w, jnp.zeros(m + 1, dtype)))
            hn = jnp.linalg.norm(w)
            h = h.at[j + 1].set(hn)
            V = V.at[j + 1].set(w / jnp.maximum(hn, tiny))

            def rot(i, h):
                a, c = h[i], h[i + 1]
                new_a = jnp.where(i < j, cs[i] * a + sn[i] * c, a)
                new_c = jnp.where(i < j, -sn[i] * a + cs[i] * c, c)
                return h.at[i].set(new_a).at[i + 1].set(new_c)

            h = jax.lax.fori_loop(0, m, rot, h)
            h, cs, sn, g = _new_rotation(h, cs, sn, g, j, tiny)
            H = H.at[:, j].set(h)
            return V, H, cs, sn, g, j + 1

        def go(st):
            *_, g, j = st
            return (j < m) & (jnp.abs(g[j]) > tol)

        V, H, cs, sn, g, j = jax.lax.while_loop(go, arnoldi, (V, H, cs, sn, g, jnp.int32(0)))
        # least squares: upper-triangular H[:j, :j] y = g[:j] (unused part set to identity)
        used = jnp.arange(m) < j
        R = jnp.where(used[:, None] & used[None, :], H[:m], 0.0) + jnp.diag(jnp.where(used, 0.0, 1.0))
        y = jax.scipy.linalg.solve_triangular(R, jnp.where(used, g[:m], 0.0), lower=False)
        x = x + precond(V[:m].T @ y)
        return x, jnp.abs(g[j]), k + 1, total + j

    def more(carry):
        _, res, k, _ = carry
        return (k < maxiter) & (res > tol)

    x0 = jnp.zeros_like(b)
    init = (x0, jnp.asarray(jnp.inf, dtype), jnp.int32(0), jnp.int32(0))
    x, res, _, iters = jax.lax.while_loop(more, cycle, init)
    res_true = jnp.linalg.norm(b - matvec(x))
    converged = jnp.isfinite(res_true) & (res_true <= 10.0 * tol + tiny)
    return x, (converged, iters, res_true)


def fgmres(matvec, b, precond, *, atol, restart=10, maxiter=2):
    """Solve ``A x = b`` by right-preconditioned GMRES that keeps ``M^-1 v_j`` (flexible form).

    Made for a good preconditioner (a factorisation of a nearby matrix), where one to
    a few iterations suffice: it starts from ``x = 0`` without a product, keeps the
    preconditioned vectors so the update ``x = Z y`` needs no further preconditioner
    solve, and stops on the (exact in exact arithmetic) residual of the least-squares
    problem.  Each iteration costs one ``precond`` and one ``matvec``.

    Args:
        matvec: ``v -> A v`` for ``(n,)`` vectors (linear).
        b: ``(n,)`` right-hand side.
        precond: ``v -> M^-1 v``.
        atol: stop when ``|b - A x|_2 <= atol`` (scalar, may be traced).
        restart: Krylov subspace dimension per cycle.
        maxiter: most cycles (a restart recomputes the residual with one product).

    Returns:
        ``(x, converged, iterations)``; ``iterations`` counts preconditioner solves.
    """
    m = int(restart)
    dtype = b.dtype
    tiny = jnp.finfo(dtype).tiny

    def cycle(carry):
        x, _, k, total, r = carry
        beta = jnp.linalg.norm(r)
        V = jnp.zeros((m + 1, b.size), dtype).at[0].set(r / jnp.maximum(beta, tiny))
        Z = jnp.zeros((m, b.size), dtype)
        H = jnp.zeros((m + 1, m), dtype)
        cs = jnp.zeros(m, dtype)
        sn = jnp.zeros(m, dtype)
        g = jnp.zeros(m + 1, dtype).at[0].set(beta)

        def arnoldi(st):
            V, Z, H, cs, sn, g, j = st
            z = precond(V[j])
            w = matvec(z)
            # classical Gram-Schmidt twice (two matrix-vector products with V instead of a
            # sequential loop; as stable as modified Gram-Schmidt for the few vectors here)
            live = (jnp.arange(m + 1) <= j).astype(dtype)
            h = (V @ w) * live
            w = w - h @ V
            h2 = (V @ w) * live
            w = w - h2 @ V
            h = h + h2
            hn = jnp.linalg.norm(w)
            h = h.at[j + 1].set(hn)
            V = V.at[j + 1].set(w / jnp.maximum(hn, tiny))

            def rot(i, h):
                a, c = h[i], h[i + 1]
                return h.at[i].set(cs[i] * a + sn[i] * c).at[i + 1].set(-sn[i] * a + cs[i] * c)

            h = jax.lax.fori_loop(0, j, rot, h)  # the previous rotations only (usually 0-2)
            h, cs, sn, g = _new_rotation(h, cs, sn, g, j, tiny)
            H = H.at[:, j].set(h)
            return V, Z.at[j].set(z), H, cs, sn, g, j + 1

        def go(st):
            *_, g, j = st
            return (j < m) & (jnp.abs(g[j]) > atol)

        V, Z, H, cs, sn, g, j = jax.lax.while_loop(go, arnoldi, (V, Z, H, cs, sn, g, jnp.int32(0)))
        used = jnp.arange(m) < j
        R = jnp.where(used[:, None] & used[None, :], H[:m], 0.0) + jnp.diag(jnp.where(used, 0.0, 1.0))
        y = jax.scipy.linalg.solve_triangular(R, jnp.where(used, g[:m], 0.0), lower=False)
        x = x + y @ Z
        res = jnp.abs(g[j])
        # a further cycle restarts from the true residual
        r = jax.lax.cond((res > atol) & (k + 1 < maxiter), lambda: b - matvec(x), lambda: r)
        return x, res, k + 1, total + j, r

    def more(carry):
        _, res, k, _, _ = carry
        return (k < maxiter) & (res > atol) & jnp.isfinite(res)

    init = (jnp.zeros_like(b), jnp.asarray(jnp.finfo(dtype).max, dtype), jnp.int32(0), jnp.int32(0), b)
    x, res, _, iters, _ = jax.lax.while_loop(more, cycle, init)
    return x, (res <= atol) & jnp.all(jnp.isfinite(x)), iters


class GMRESSolver(eqx.Module, AbstractLinearSolver):
    """Matrix-free GMRES on ``W = I - c J`` with a preconditioner (see module doc).

    Args:
        preconditioner: ``"jacobi"``, ``"none"`` or ``"sparse"``.
        rtol: relative tolerance of each linear solve.
        restart: Krylov subspace size per cycle.
        maxiter: most restart cycles; not converging gives ``ok = False``.
        sparsity: Jacobian pattern for the preconditioner (None: detected).
    """

    preconditioner: str = eqx.field(static=True, default="jacobi")
    rtol: float = eqx.field(static=True, default=1e-6)
    restart: int = eqx.field(static=True, default=20)
    maxiter: int = eqx.field(static=True, default=10)
    sparsity: Any = eqx.field(static=True, default=None)
    jac: ColoredJacobian | None = None
    plan: MultifrontalPlan | None = None
    diag_: Const | None = eqx.field(static=True, default=None)
    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 0}
    loop_stages: ClassVar[bool | None] = True

    def __check_init__(self):
        if self.preconditioner not in ("none", "jacobi", "sparse"):
            raise InputError(
                f"unknown preconditioner {self.preconditioner!r}; use 'jacobi', 'sparse' or 'none'.",
                argument="GMRES.preconditioner",
            )

    def prepare(self, fun, t0, y0, args) -> GMRESSolver:
        if self.preconditioner == "none" or self.jac is not None:
            return self
        from .sparse import prepare_pattern

        pat = prepare_pattern(fun, t0, y0, args, self.sparsity, argument="GMRES.sparsity")
        jac = ColoredJacobian.build(pat)
        plan = MultifrontalPlan.build(pat) if self.preconditioner == "sparse" else None
        diag = (jac.rows == jac.cols).astype(np.float64)
        return GMRESSolver(
            preconditioner=self.preconditioner,
            rtol=self.rtol,
            restart=self.restart,
            maxiter=self.maxiter,
            sparsity=None,
            jac=jac,
            plan=plan,
            diag_=Const(diag),
        )

    def factor(self, fun, t, y, args, c):
        _, jvp = jax.linearize(lambda z: fun(t, z, args), y)
        if self.preconditioner == "none":
            pre = None
        else:
            if self.jac is None or self.diag_ is None:
                raise RuntimeError("GMRESSolver.prepare(fun, t0, y0, args) must run before factor.")
            jv = self.jac.values(fun, t, y, args)
            diag = jnp.asarray(self.diag_.v, jv.dtype)
            w = diag - c * jv
            if self.preconditioner == "jacobi":
                d = jnp.zeros(y.shape, w.dtype).at[self.jac.rows].add(jnp.where(diag > 0, w, 0.0))
                pre = (jnp.where(d != 0, 1.0 / d, 1.0),)
            else:
                pre = self._plan().factor(w)
        return jvp, c, pre

    def _precond(self, pre):
        if pre is None:
            return None
        if self.preconditioner == "jacobi":
            return lambda v: pre[0] * v
        factors, _ = pre
        plan = self._plan()
        return lambda v: plan.solve(factors, v)

    def _plan(self) -> MultifrontalPlan:
        if self.plan is None:
            raise RuntimeError("GMRESSolver.prepare(fun, t0, y0, args) must run before factor.")
        return self.plan

    def solve(self, state, b):
        jvp, c, pre = state
        precond = self._precond(pre)

        def matvec(v):
            return v - c * jvp(v)

        def run(mv, rhs):
            x, (conv, _, _) = gmres(mv, rhs, precond, rtol=self.rtol, restart=self.restart, maxiter=self.maxiter)
            return x, conv

        def run_t(mv, rhs):
            # transposed system: precondition with the transpose is not available; unpreconditioned
            x, (conv, _, _) = gmres(mv, rhs, None, rtol=self.rtol, restart=self.restart, maxiter=self.maxiter)
            return x, conv

        x, conv = jax.lax.custom_linear_solve(matvec, b, run, run_t, has_aux=True)
        return x, conv & jnp.all(jnp.isfinite(x))
