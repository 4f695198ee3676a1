"""Banded direct strategy: block cyclic reduction of a narrow-banded ``W`` in pure JAX.

A method-of-lines problem in one space dimension has a Jacobian whose non-zeros
lie within a few diagonals once the states are suitably ordered (interleaved
fields, or any order that reverse Cuthill-McKee turns into one).  With the
half-bandwidth ``b`` (after ordering) the matrix is block tridiagonal with
``b x b`` blocks, and *block cyclic reduction* solves it in ``log2(n / b)``
levels: each level eliminates every other block row at once, so one level is a
handful of elementwise operations on arrays of small blocks, which XLA fuses
into a few kernels (on CPU a sequential sweep over the rows would cost one
kernel launch per row).

``prepare`` (outside ``jit``) detects the pattern (or takes the user's),
orders it by reverse Cuthill-McKee when that narrows the band, colours the
columns and builds the gather that places the coloured Jacobian products
straight into the blocks.  Each step's ``factor`` then costs ``n_colours``
forward-mode products and one reduction (the level data are kept: inverses of
the eliminated diagonal blocks and the multipliers), and each ``solve`` one
sweep down and up the levels.  The block products are broadcast
multiplies and sums over the block index (no dot operations), the block inverses
in closed form (``b <= 2``) or by an unrolled Gauss-Jordan elimination with
partial pivoting inside the block.

There is no pivoting across blocks: for ``W = I - c J`` with a small ``c`` the
matrix is block diagonally dominant and the reduction is stable; a block whose
inverse is not finite sets ``ok = False`` (the stepper rejects the step and
shrinks ``h``, which makes ``W`` more dominant).  Everything is ``jit``-,
``vmap``- and reverse-mode differentiable and uses no host callbacks.
"""

from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ....errors import InputError
from ._const import Const
from .base import AbstractLinearSolver
from .coloring import ColoredJacobian

__all__ = ["BandedLU", "band_ordering", "BandedPlan"]

#: ``linsolve="auto"`` and ``BandedLU`` use the banded path when the half-bandwidth after
#: ordering is at most this (the block inverses are unrolled: cost grows like ``b^3``)
BAND_MAX = 8


def half_bandwidth(pattern) -> int:
    """Largest ``|i - j|`` over the entries of a scipy.sparse pattern."""
    coo = pattern.tocoo()
    return int(np.max(np.abs(coo.row.astype(np.int64) - coo.col.astype(np.int64)), initial=0))


def band_ordering(pattern) -> tuple[np.ndarray | None, int]:
    """The ordering that narrows the band of ``pattern``: ``(perm, half_bandwidth)``.

    ``perm`` is None when the given order is already at least as narrow as reverse
    Cuthill-McKee's (then no permutation is applied); otherwise ``perm[i]`` is the
    original index of the ``i``-th ordered state.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    pat: Any = sp.csr_array(pattern, dtype=bool)
    bw = half_bandwidth(pat)
    sym: Any = sp.csr_array((pat + pat.T).astype(bool))
    perm = np.asarray(reverse_cuthill_mckee(sym, symmetric_mode=True), np.int64)
    bw_rcm = half_bandwidth(sym[perm][:, perm])
    if bw_rcm < bw:
        return perm, bw_rcm
    return None, bw


# -- small block algebra ------------------------------------------------------------------
# A batch of ``b x b`` blocks is one ``(b, b, L)`` array (the batch last, on the vector lanes), a
# batch of vectors ``(b, L)``.  A block product is one broadcast multiply and a reduction over the
# block index, which XLA fuses into the kernel that consumes it (no dot operations).  (Unrolling
# the products into ``b^3`` multiply-and-adds of ``(L,)`` rows fused as well, but compiled slower:
# 1-D Brusselator, ``b = 2``, first call 7-7.8 s against 5.1-5.8 s, and not faster warm.)
def _mm(x, y):
    return jnp.sum(x[:, :, None, :] * y[None, :, :, :], axis=1)


def _mv(x, v):
    return jnp.sum(x * v[None, :, :], axis=1)


def _pad(x, before, after):
    """Zero entries added at the batch end (the last axis)."""
    return jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(before, after)])


def _inv(d):
    """Inverse of a ``(b, b, L)`` batch of small blocks: closed form for ``b <= 2``, else
    Gauss-Jordan elimination with partial pivoting inside the block, unrolled over the columns."""
    b = d.shape[0]
    if b == 1:
        return 1.0 / d
    if b == 2:
        r = 1.0 / (d[0, 0] * d[1, 1] - d[0, 1] * d[1, 0])
        return jnp.stack([jnp.stack([d[1, 1] * r, -d[0, 1] * r]), jnp.stack([-d[1, 0] * r, d[0, 0] * r])])
    arr = jnp.moveaxis(d, -1, 0)  # (L, b, b)
    eye = jnp.broadcast_to(jnp.eye(b, dtype=arr.dtype), arr.shape)
    aug = jnp.concatenate([arr, eye], axis=-1)
    idx = jnp.arange(b)
    for k in range(b):
        col = jnp.where(idx >= k, jnp.abs(aug[..., :, k]), -1.0)
        p = jnp.argmax(col, axis=-1)
        is_p = (idx == p[..., None])[..., None]
        is_k = (idx == k)[:, None]
        row_k = aug[..., k, :]
        row_p = jnp.sum(jnp.where(is_p, aug, 0.0), axis=-2)
        aug = jnp.where(is_p, row_k[..., None, :], aug)  # row p <- row k (row k is overwritten below)
        rk = row_p / row_p[..., k : k + 1]
        fac = jnp.where(is_k[:, 0], 0.0, aug[..., :, k])
        aug = jnp.where(is_k, rk[..., None, :], aug - fac[..., :, None] * rk[..., None, :])
    return jnp.moveaxis(aug[..., b:], 0, -1)


class BandedPlan(eqx.Module):
    """Static layout of a banded pattern as ``m = 2^k - 1`` block rows of ``b x b`` blocks.

    ``factor(blocks)`` takes ``(3, b, b, m)``: the sub-diagonal, diagonal and
    super-diagonal block of each block row, entry ``[s, i, j, k]``; ``solve(factors, f)``
    takes the right-hand side as ``(b, m)`` (``f[i, k]`` is ordered state ``k b + i``).

    Each level of the reduction eliminates the even block rows of ``m_l = 2 E - 1`` and
    keeps the odd ones.  Its data are one ``(6, b, b, E)`` array: ``D^-1``, ``D^-1 A`` and
    ``D^-1 C`` of the eliminated rows and the kept rows' new blocks (padded to ``E``), so
    a level is one fused kernel; the solve's levels are one kernel each way.
    """

    n: int = eqx.field(static=True)
    b: int = eqx.field(static=True)
    m: int = eqx.field(static=True)

    @classmethod
    def build(cls, n: int, b: int) -> BandedPlan:
        b = max(1, int(b))
        blocks = -(-n // b)
        m = 1
        while m < blocks:
            m = 2 * m + 1
        return cls(n=int(n), b=b, m=m)

    def factor(self, blocks):
        """Block cyclic reduction; returns ``((blocks, levels, top), ok)``."""
        blocks0 = blocks
        a, d, c = blocks
        ev, od, head, tail = slice(0, None, 2), slice(1, None, 2), slice(None, -1), slice(1, None)
        levels = []
        while blocks.shape[-1] > 1:
            di = _inv(d[..., ev])
            p = _mm(di, a[..., ev])  # (the first is zero: the first row has no sub-diagonal block)
            q = _mm(di, c[..., ev])  # (the last is zero)
            ao, do, co = a[..., od], d[..., od], c[..., od]
            a = -_mm(ao, p[..., head])
            d = do - _mm(ao, q[..., head]) - _mm(co, p[..., tail])
            c = -_mm(co, q[..., tail])
            level = jnp.stack([di, p, q] + [_pad(x, 0, 1) for x in (a, d, c)])
            levels.append(level)
            m_next = level.shape[-1] - 1
            blocks = level[3:, ..., :m_next]
            a, d, c = blocks
        top = _inv(d)[..., 0]
        # a singular block gives non-finite values that reach the last level and every solve
        ok = jnp.all(jnp.isfinite(top))
        return (blocks0, tuple(levels), top), ok

    def solve(self, factors, f):
        """Solve with the data from :meth:`factor`; ``f`` is ``(b, m)``, and so is the result."""
        blocks, levels, top = factors
        b = self.b
        ev, od, head, tail = slice(0, None, 2), slice(1, None, 2), slice(None, -1), slice(1, None)
        gs = []
        for lev, level in enumerate(levels):
            src = blocks if lev == 0 else levels[lev - 1][3:, ..., : level.shape[-1] * 2 - 1]
            ao, co = src[0, ..., od], src[2, ..., od]
            g = _mv(level[0], f[..., ev])
            fn = f[..., od] - _mv(ao, g[..., head]) - _mv(co, g[..., tail])
            # g and the next right-hand side (padded to g's length) in one array: one kernel
            both = jnp.stack([g, _pad(fn, 0, 1)])
            gs.append(both[0])
            f = both[1, :, :-1]
        x = _mv(top[..., None], f)
        for level, g in zip(reversed(levels), reversed(gs)):
            p, q = level[1], level[2]
            xl, xr = _pad(x, 1, 0), _pad(x, 0, 1)
            xe = g - _mv(p, xl) - _mv(q, xr)
            x = jnp.stack([xe, xr], -1).reshape(b, -1)[:, :-1]
        return x


class BandedLU(eqx.Module, AbstractLinearSolver):
    """``W = I - c J`` from a coloured banded ``J``, solved by block cyclic reduction (pure JAX).

    Args:
        sparsity: ``(n, n)`` boolean pattern of ``J`` (numpy or scipy.sparse), or None to
            detect it in :meth:`prepare`.
        reorder: order the states by reverse Cuthill-McKee when that narrows the band.
    """

    sparsity: Any = eqx.field(static=True, default=None)
    reorder: bool = eqx.field(static=True, default=True)
    jac: ColoredJacobian | None = None
    plan: BandedPlan | None = None
    rhs_: Const | None = eqx.field(static=True, default=None)  # (b*m,) state of each rhs entry (n: padding)
    out_: Const | None = eqx.field(static=True, default=None)  # (n,) result entry of each state (None: in place)
    src_: Const | None = eqx.field(static=True, default=None)  # (3*b*b*m,) index into [comp.ravel(), 0]
    eye_: Const | None = eqx.field(static=True, default=None)  # (3*b*b*m,) 1.0 on the diagonal entries
    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 1}
    loop_stages: ClassVar[bool | None] = True

    def prepare(self, fun, t0, y0, args) -> BandedLU:
        if self.plan is not None:
            return self
        from .sparse import prepare_pattern

        pat = prepare_pattern(fun, t0, y0, args, self.sparsity, argument="BandedLU.sparsity")
        return self.from_pattern(pat)

    def from_pattern(self, pat, ordering: tuple[np.ndarray | None, int] | None = None) -> BandedLU:
        """The prepared strategy for a boolean CSR pattern (with diagonal).

        ``ordering`` is ``band_ordering(pat)`` when the caller has it already.
        """
        n = pat.shape[0]
        if ordering is not None:
            perm, bw = ordering
        else:
            perm, bw = band_ordering(pat) if self.reorder else (None, half_bandwidth(pat))
        if bw > BAND_MAX:
            # the block algebra is unrolled over b x b blocks: a wide band would build huge programs
            raise InputError(
                f"BandedLU needs a narrow-banded Jacobian: its half-bandwidth is {bw} "
                f"{'after reverse Cuthill-McKee ordering ' if self.reorder else ''}(at most {BAND_MAX}); "
                "use ps.SparseLU() (or 'auto') for this model.",
                argument="linsolve",
            )
        jac = ColoredJacobian.build(pat)
        plan = BandedPlan.build(n, bw)
        b, m = plan.b, plan.m
        order = np.arange(n) if perm is None else perm
        # slot s (0: sub, 1: diag, 2: super), local row r, local column q, block row k
        s, r, q, k = np.meshgrid(np.arange(3), np.arange(b), np.arange(b), np.arange(m), indexing="ij")
        row = k * b + r  # ordered row
        col = (k + s - 1) * b + q  # ordered column
        inside = (row < n) & (col >= 0) & (col < n)
        orow = np.where(inside, order[np.clip(row, 0, n - 1)], 0)
        ocol = np.where(inside, order[np.clip(col, 0, n - 1)], 0)
        coo = pat.tocoo()
        key = np.sort(coo.row.astype(np.int64) * n + coo.col)
        want = orow.astype(np.int64) * n + ocol
        pos = np.clip(np.searchsorted(key, want), 0, key.size - 1)
        present = inside & (key[pos] == want)
        nc = jac.n_colours
        src = np.where(present, jac.colours[ocol].astype(np.int64) * n + orow, nc * n)
        eye = ((s == 1) & (r == q)).astype(np.float64)
        # right-hand side: entry [r, k] is state order[k b + r] (index n: a zero of the padding)
        rr, kk = np.meshgrid(np.arange(b), np.arange(m), indexing="ij")
        opos = kk * b + rr
        rhs_src = np.where(opos < n, order[np.clip(opos, 0, n - 1)], n)
        # solution: state i is at ordered position iperm[i] = k b + r, entry r m + k of the (b, m) result
        iperm = np.argsort(order)
        out_src = (iperm % b) * m + iperm // b
        if np.array_equal(out_src, np.arange(n)):
            out_src = None
        del perm
        return BandedLU(
            sparsity=None,
            reorder=self.reorder,
            jac=jac,
            plan=plan,
            rhs_=Const(rhs_src.reshape(-1).astype(np.int32)),
            out_=None if out_src is None else Const(out_src.astype(np.int32)),
            src_=Const(src.reshape(-1).astype(np.int32)),
            eye_=Const(eye.reshape(-1)),
        )

    def prepared(self) -> tuple[ColoredJacobian, BandedPlan]:
        if self.jac is None or self.plan is None or self.src_ is None or self.eye_ is None or self.rhs_ is None:
            raise RuntimeError("BandedLU.prepare(fun, t0, y0, args) must run (outside jit) before factor/solve.")
        return self.jac, self.plan

    def blocks(self, fun, t, y, args, c):
        """``(3, b, b, m)`` blocks of ``W = I - c J`` in the ordered, padded layout."""
        jac, plan = self.prepared()
        src, eye = self.src_, self.eye_
        assert src is not None and eye is not None  # (prepared() checked them; this narrows the types)
        comp = jac.compressed(fun, t, y, args)
        pool = jnp.concatenate([comp.reshape(-1), jnp.zeros(1, comp.dtype)])
        vals = pool[src.v]
        w = jnp.asarray(eye.v, vals.dtype) - c * vals
        return w.reshape(3, plan.b, plan.b, plan.m)

    def factor(self, fun, t, y, args, c):
        return self.prepared()[1].factor(self.blocks(fun, t, y, args, c))

    def solve(self, state, b):
        factors, ok = state
        plan = self.prepared()[1]
        rhs = self.rhs_
        assert rhs is not None  # (prepared() checked it; this narrows the type)
        f = jnp.concatenate([b, jnp.zeros(1, b.dtype)])[rhs.v].reshape(plan.b, plan.m)
        x = plan.solve(factors, f).reshape(-1)
        x = x[: plan.n] if self.out_ is None else x[self.out_.v]
        return x, ok & jnp.all(jnp.isfinite(x))
