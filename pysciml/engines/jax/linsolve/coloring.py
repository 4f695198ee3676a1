"""Column colouring of a sparse Jacobian and its assembly from coloured JVPs.

Two columns may share a colour when no row has a non-zero in both (they are
not adjacent in the column-intersection graph ``P^T P``).  Summing the columns
of one colour into a seed vector, one forward-mode product per colour gives
every non-zero: ``J[i, j] = (J s_{colour(j)})[i]``.  For a stencil the
number of colours is a small constant independent of the grid size.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._const import Const

__all__ = ["color_columns", "ColoredJacobian"]


def color_columns(pattern) -> np.ndarray:
    """Greedy colouring of the columns of a sparsity pattern.

    Columns are visited largest-degree first (in the column-intersection graph)
    and each takes the smallest colour unused by its neighbours.

    Args:
        pattern: boolean scipy.sparse ``(m, n)``.

    Returns:
        ``(n,)`` int array of colours ``0 .. n_colours - 1``.
    """
    import scipy.sparse as sp

    p = sp.csc_array(pattern, dtype=bool).astype(np.int8)
    conflict: Any = sp.csr_array(p.T @ p)  # scipy.sparse is loosely typed
    conflict.sort_indices()
    n = conflict.shape[0]
    indptr, indices = conflict.indptr, conflict.indices
    degree = np.diff(indptr)
    order = np.argsort(-degree, kind="stable")
    colours = np.full(n, -1, dtype=np.int64)
    for v in order:
        nb = colours[indices[indptr[v] : indptr[v + 1]]]
        used = np.zeros(nb.size + 2, dtype=bool)
        nb = nb[(nb >= 0) & (nb < used.size)]
        used[nb] = True
        colours[v] = int(np.argmin(used))
    return colours


class ColoredJacobian(eqx.Module):
    """Sparse Jacobian of a fixed pattern from ``n_colours`` forward-mode products.

    Fields are constant numpy arrays (closed over under ``jit``).

    Args (of :meth:`build`):
        pattern: boolean scipy.sparse ``(n, n)`` pattern (a superset of the true non-zeros).
    """

    rows_: Const = eqx.field(static=True)  # (nnz,) row of each stored entry, CSR order
    cols_: Const = eqx.field(static=True)  # (nnz,) column of each stored entry
    colours_: Const = eqx.field(static=True)  # (n,) colour of each column
    n: int = eqx.field(static=True)
    n_colours: int = eqx.field(static=True)

    @classmethod
    def build(cls, pattern) -> ColoredJacobian:
        """Colour ``pattern`` (boolean scipy.sparse ``(n, n)``) and store its CSR entries."""
        import scipy.sparse as sp

        pat: Any = sp.csr_array(pattern, dtype=bool)  # scipy.sparse is loosely typed
        pat.sum_duplicates()
        pat.sort_indices()
        coo = pat.tocoo()
        order = np.lexsort((coo.col, coo.row))
        colours = color_columns(pat)
        return cls(
            rows_=Const(coo.row[order].astype(np.int32)),
            cols_=Const(coo.col[order].astype(np.int32)),
            colours_=Const(colours.astype(np.int32)),
            n=int(pat.shape[0]),
            n_colours=int(colours.max()) + 1 if colours.size else 0,
        )

    @property
    def rows(self) -> np.ndarray:
        return self.rows_.v

    @property
    def cols(self) -> np.ndarray:
        return self.cols_.v

    @property
    def colours(self) -> np.ndarray:
        return self.colours_.v

    def seeds(self, dtype=jnp.float64):
        """``(n_colours, n)`` seed vectors: row ``k`` is the sum of unit vectors of colour ``k``."""
        return (jnp.arange(self.n_colours)[:, None] == jnp.asarray(self.colours)[None, :]).astype(dtype)

    def compressed(self, fun, t, y, args):
        """``(n_colours, n)`` products ``J(t, y) s_k`` (one vmapped JVP per colour)."""

        def jvp(s):
            return jax.jvp(lambda z: fun(t, z, args), (y,), (s,))[1]

        return jax.vmap(jvp)(self.seeds(y.dtype))

    def values(self, fun, t, y, args):
        """``(nnz,)`` Jacobian values at the stored entries (CSR order of the pattern)."""
        comp = self.compressed(fun, t, y, args)
        return comp[jnp.asarray(self.colours)[self.cols], self.rows]

    def dense(self, fun, t, y, args):
        """``(n, n)`` dense Jacobian assembled from the coloured products (tests, small n)."""
        vals = self.values(fun, t, y, args)
        return jnp.zeros((self.n, self.n), vals.dtype).at[self.rows, self.cols].set(vals)
