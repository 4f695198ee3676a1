"""Multifrontal sparse LU in pure JAX, with a static symbolic analysis done in numpy.

Symbolic phase (:meth:`MultifrontalPlan.build`, outside ``jit``): a
nested-dissection forest (:mod:`.ordering`) of the symmetrised pattern is the
assembly tree.  Each node's front holds its pivots and its boundary (the
later-eliminated vertices coupled to it after fill).  Nodes are grouped by
height in the tree; a group's fronts are padded to a common size, so the
numeric factorisation is a fixed, short sequence of batched dense ops per
group: scatter the matrix entries and the children's update matrices into
the fronts, LU of the pivot blocks (partial pivoting *inside* a pivot block,
which leaves the sparsity structure unchanged), two triangular solves and a
Schur-complement product.  The solve is one gather / batched small solve /
scatter-add per group and direction.

Everything is ``jit``-, ``vmap``- and reverse-mode-differentiable and uses
no host callbacks.  A pivot that is tiny relative to its front sets
``ok = False`` (the stepper then rejects the step; a smaller step makes
``W = I - c J`` more diagonally dominant).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._const import Const
from .ordering import amalgamate, nested_dissection, postorder

__all__ = ["MultifrontalPlan"]

_TINY = 1e-13


def _symbolic(graph, nodes):
    """Boundaries (sorted by elimination position) of each node of a post-ordered forest."""
    n = graph.shape[0]
    pos = np.empty(n, np.int64)
    end = np.empty(len(nodes), np.int64)
    k = 0
    owner = np.empty(n, np.int64)
    for i, nd in enumerate(nodes):
        pos[nd.pivots] = np.arange(k, k + nd.pivots.size)
        owner[nd.pivots] = i
        k += nd.pivots.size
        end[i] = k - 1
    index = {id(nd): i for i, nd in enumerate(nodes)}
    indptr, indices = graph.indptr, graph.indices
    bnd: list[Any] = [None] * len(nodes)
    for i, nd in enumerate(nodes):
        parts = [indices[indptr[v] : indptr[v + 1]] for v in nd.pivots]
        parts += [bnd[index[id(c)]] for c in nd.children]
        cand = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        b = cand[pos[cand] > end[i]]
        bnd[i] = b[np.argsort(pos[b])]
    return bnd, owner, pos


class MultifrontalPlan(eqx.Module):
    """Static symbolic analysis of a sparse pattern; numeric ``factor`` / ``solve`` in JAX.

    Build with :meth:`build`; then ``state = plan.factor(w)`` for the entries
    ``w`` of ``W`` (``(nnz,)``, in the pattern's CSR order) and
    ``x = plan.solve(state, b)``.
    """

    n: int = eqx.field(static=True)
    sizes: tuple = eqx.field(static=True)  # per group: (batch, p, q)
    sources: tuple = eqx.field(static=True)  # per group: tuple of source groups of updates
    piv: tuple = eqx.field(static=True)  # per group (B, p) int32, pad n
    bnd: tuple = eqx.field(static=True)  # per group (B, q) int32, pad n
    front_src: tuple = eqx.field(static=True)  # per group: indices into the pool [w, 1, 0, updates...]
    front_dst: tuple = eqx.field(static=True)  # per group: flat front indices they are added to
    bwd_map: tuple = eqx.field(static=True)  # per group (n,) index into the flat (B*p + 1) solution, pad B*p
    nnz: int = eqx.field(static=True)
    fill: int = eqx.field(static=True)  # stored factor entries (padded), a size report
    flops: int = eqx.field(static=True)  # approximate factorisation flops (padded)

    @classmethod
    def build(cls, pattern, *, leaf_size: int = 16, min_pivots: int = 0) -> MultifrontalPlan:
        """Symbolic analysis of a boolean scipy.sparse ``(n, n)`` pattern (diagonal assumed present).

        Args:
            pattern: boolean pattern of ``W``; entries of ``w`` follow its CSR order.
            leaf_size: largest piece of the graph kept as one dense leaf front.
            min_pivots: nodes with fewer pivots are merged into their parent.
        """
        import scipy.sparse as sp

        pat: Any = sp.csr_array(pattern, dtype=bool)  # scipy.sparse is loosely typed
        pat.sum_duplicates()
        pat.sort_indices()
        n = pat.shape[0]
        sym = sp.csr_array((pat + pat.T).astype(bool))
        sym.sort_indices()
        nodes = postorder(amalgamate(nested_dissection(sym, leaf_size=leaf_size), min_pivots))
        bnd, owner, pos = _symbolic(sym, nodes)

        # heights and groups
        index = {id(nd): i for i, nd in enumerate(nodes)}
        height = np.zeros(len(nodes), np.int64)
        parent = np.full(len(nodes), -1)
        for i, nd in enumerate(nodes):
            for c in nd.children:
                ci = index[id(c)]
                parent[ci] = i
                height[i] = max(height[i], height[ci] + 1)
        n_groups = int(height.max()) + 1
        members = [np.flatnonzero(height == g) for g in range(n_groups)]
        slot = np.empty(len(nodes), np.int64)  # position of a node inside its group
        for g in range(n_groups):
            slot[members[g]] = np.arange(members[g].size)

        sizes, piv, bnds, pad_diag = [], [], [], []
        for g in range(n_groups):
            mem = members[g]
            p = max(nodes[i].pivots.size for i in mem)
            q = max(bnd[i].size for i in mem)
            m = p + q
            P = np.full((mem.size, p), n, np.int32)
            Q = np.full((mem.size, q), n, np.int32)
            pads = []
            for b, i in enumerate(mem):
                pv = nodes[i].pivots[np.argsort(pos[nodes[i].pivots])]
                P[b, : pv.size] = pv
                Q[b, : bnd[i].size] = bnd[i]
                r = np.arange(pv.size, p)
                pads.append(b * m * m + r * m + r)
            sizes.append((int(mem.size), int(p), int(q)))
            piv.append(P)
            bnds.append(Q)
            pad_diag.append(np.concatenate(pads).astype(np.int32))

        # local position of every global index inside each node's front, as a sorted table
        # of keys node * n + vertex (vectorised look-ups instead of per-entry dictionaries)
        key_parts, loc_parts = [], []
        for i, nd in enumerate(nodes):
            pv = nd.pivots[np.argsort(pos[nd.pivots])]
            p = sizes[height[i]][1]
            key_parts += [i * n + pv.astype(np.int64), i * n + bnd[i].astype(np.int64)]
            loc_parts += [np.arange(pv.size), p + np.arange(bnd[i].size)]
        keys = np.concatenate(key_parts)
        order = np.argsort(keys, kind="stable")
        keys, locs = keys[order], np.concatenate(loc_parts)[order]

        def local(node_ids, verts):
            return locs[np.searchsorted(keys, node_ids.astype(np.int64) * n + verts)]

        msize = np.array([p + q for _, p, q in sizes], np.int64)

        # matrix entries: each goes to the front of the earlier-eliminated of its row and column
        coo = pat.tocoo()
        order = np.lexsort((coo.col, coo.row))
        rows, cols = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
        first = np.where(pos[rows] <= pos[cols], owner[rows], owner[cols])
        g_of = height[first]
        m_of = msize[g_of]
        dst_all = slot[first] * m_of * m_of + local(first, rows) * m_of + local(first, cols)
        w_src = [np.flatnonzero(g_of == g) for g in range(n_groups)]
        w_dst = [dst_all[w_src[g]] for g in range(n_groups)]

        # children's update matrices (extend-add)
        upd = [dict() for _ in range(n_groups)]
        for ci in range(len(nodes)):
            pi = parent[ci]
            if pi < 0 or bnd[ci].size == 0:
                continue
            gc, gp = height[ci], height[pi]
            qc = sizes[gc][2]
            mp = sizes[gp][1] + sizes[gp][2]
            lp = local(np.full(bnd[ci].size, pi), bnd[ci].astype(np.int64))
            a, b = np.meshgrid(np.arange(bnd[ci].size), np.arange(bnd[ci].size), indexing="ij")
            src = slot[ci] * qc * qc + a.ravel() * qc + b.ravel()
            dst = slot[pi] * mp * mp + lp[a.ravel()] * mp + lp[b.ravel()]
            s, d = upd[gp].setdefault(int(gc), ([], []))
            s.append(src)
            d.append(dst)

        nnz = int(rows.size)
        sources, front_map, bwd_map = [], [], []
        usize = [B * q * q for B, p, q in sizes]
        for g, (B, p, q) in enumerate(sizes):
            keys = tuple(sorted(upd[g]))
            sources.append(keys)
            m = p + q
            src = [np.asarray(w_src[g], np.int64), np.full(pad_diag[g].size, nnz)]
            dst = [np.asarray(w_dst[g], np.int64), pad_diag[g].astype(np.int64)]
            off = nnz + 2
            for h in keys:
                src.append(off + np.concatenate(upd[g][h][0]))
                dst.append(np.concatenate(upd[g][h][1]))
                off += usize[h]
            src, dst = np.concatenate(src), np.concatenate(dst)
            order = np.argsort(dst, kind="stable")
            front_map.append((src[order].astype(np.int32), dst[order].astype(np.int32)))
            bp = piv[g].ravel()
            bm = np.full(n, B * p, np.int32)
            real = bp < n
            bm[bp[real]] = np.flatnonzero(real)
            bwd_map.append(bm)

        fill = sum(B * (p * p + 2 * p * q) for B, p, q in sizes)
        flops = sum(B * (2 * p**3 // 3 + 2 * p * p * q + 2 * p * q * q) for B, p, q in sizes)
        return cls(
            n=n,
            sizes=tuple(sizes),
            sources=tuple(sources),
            piv=tuple(Const(a) for a in piv),
            bnd=tuple(Const(a) for a in bnds),
            front_src=tuple(Const(a) for a, _ in front_map),
            front_dst=tuple(Const(b) for _, b in front_map),
            bwd_map=tuple(Const(a) for a in bwd_map),
            nnz=int(rows.size),
            fill=int(fill),
            flops=int(flops),
        )

    def factor(self, w):
        """Numeric factorisation from the entries ``w`` ``(nnz,)`` of ``W``; returns ``(factors, ok)``.

        Per front ``[[A, B], [C, D]]`` it keeps ``K = C A^-1`` and ``M = [A^-1, -A^-1 B]``
        (so a solve is matrix-vector products only) and passes ``D - C A^-1 B`` up.
        """
        tri = jax.lax.linalg.triangular_solve
        updates, factors = [], []
        ok = jnp.all(jnp.isfinite(w))
        for g, (B, p, q) in enumerate(self.sizes):
            m = p + q
            pool = jnp.concatenate(
                [w, jnp.ones(1, w.dtype), jnp.zeros(1, w.dtype)] + [updates[h].reshape(-1) for h in self.sources[g]]
            )
            front = (
                jnp.zeros(B * m * m, w.dtype)
                .at[self.front_dst[g].v]
                .add(pool[self.front_src[g].v], indices_are_sorted=True)
                .reshape(B, m, m)
            )
            a = front[:, :p, :p]
            lu, _, perm = jax.lax.linalg.lu(a)
            diag = jnp.abs(jnp.diagonal(lu, axis1=1, axis2=2))
            scale = jnp.max(jnp.abs(a), axis=(1, 2))
            ok = ok & jnp.all(diag > _TINY * scale[:, None])
            # A^-1 = U^-1 L^-1 P, with the right-hand side [P, P B] solved at once
            rhs = jnp.take_along_axis(front[:, :p, :], perm[:, :, None], axis=1)
            rhs = jnp.concatenate([jax.nn.one_hot(perm, p, dtype=w.dtype), rhs[:, :, p:]], axis=2)
            sol = tri(lu, tri(lu, rhs, left_side=True, lower=True, unit_diagonal=True), left_side=True, lower=False)
            ainv, e = sol[:, :, :p], sol[:, :, p:]
            if q:
                c = front[:, p:, :p]
                k = c @ ainv
                updates.append(front[:, p:, p:] - c @ e)
            else:
                k = jnp.zeros((B, 0, p), w.dtype)
                updates.append(jnp.zeros((B, 0, 0), w.dtype))
            mat = jnp.concatenate([ainv, -e], axis=2)
            ok = ok & jnp.all(jnp.isfinite(mat))
            factors.append((k, mat))
        return tuple(factors), ok

    def solve(self, factors, b):
        """Solve ``W x = b`` with the factors from :meth:`factor`; ``b`` is ``(n,)``."""
        zero = jnp.zeros(1, b.dtype)
        z = b
        zps = []
        for g, (_B, _p, q) in enumerate(self.sizes):
            k, _ = factors[g]
            zp = jnp.concatenate([z, zero])[self.piv[g].v]
            zps.append(zp)
            if q:
                z = z.at[self.bnd[g].v].add(-jnp.einsum("bqp,bp->bq", k, zp), mode="drop")
        for g in reversed(range(len(self.sizes))):
            B, p, q = self.sizes[g]
            _, mat = factors[g]
            src = zps[g]
            if q:
                src = jnp.concatenate([src, jnp.concatenate([z, zero])[self.bnd[g].v]], axis=1)
            x = jnp.concatenate([jnp.einsum("bpm,bm->bp", mat, src).reshape(-1), zero])
            idx = self.bwd_map[g].v
            z = jnp.where(idx < B * p, x[idx], z)
        return z
