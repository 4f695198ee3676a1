"""The grid Laplacian as a sparse matrix (for implicit solvers, preconditioners, sparsity)."""

from __future__ import annotations

import numpy as np

from .checks import check_grid

__all__ = ["laplacian_matrix"]


def laplacian_matrix(grid):
    """The Laplacian of ``grid`` as ``(A, b)`` with ``laplacian(f) == (A @ f.ravel() + b)``.

    Same coefficients as :func:`pysciml.grid.laplacian_numpy` (agreement to
    round-off); ``b`` is non-zero only with Dirichlet boundaries.  Rows and
    columns of masked cells are empty.  Cells are numbered in C order
    (``j * nx + i``).

    Args:
        grid: a :class:`pysciml.grid.RegularGrid` or :class:`pysciml.grid.LatLonGrid`.
    Returns:
        ``A``: ``scipy.sparse.csr_array`` of shape ``(ny*nx, ny*nx)`` (units 1/length^2);
        ``b``: float64 array of shape ``(ny*nx,)``.
    """
    import scipy.sparse as sp

    grid = check_grid(grid)
    ny, nx = grid.shape
    ops = grid.coefficients
    idx = np.arange(ny * nx).reshape(ny, nx)
    rows, cols, vals = [], [], []
    b = np.zeros((ny, nx))

    def couple(k, a, c):
        # flux K (f_c - f_a) leaves a through its upper face and enters c
        k, a, c = k.ravel(), a.ravel(), c.ravel()
        rows.extend([a, a, c, c])
        cols.extend([c, a, c, a])
        vals.extend([k, -k, -k, k])

    for axis, a in ((0, ops.y), (1, ops.x)):
        K = a.conductance if axis == 0 else a.conductance.T  # faces along axis first
        ind = idx if axis == 0 else idx.T
        bb = b if axis == 0 else b.T  # a view: writes land in b
        n = ind.shape[0]
        couple(K[1:n], ind[:-1], ind[1:])
        if a.kind == "periodic":
            couple(K[0], ind[-1], ind[0])
        elif a.kind == "dirichlet":
            for k, row in ((K[0], ind[0]), (K[n], ind[-1])):
                rows.append(row.ravel())
                cols.append(row.ravel())
                vals.append(-k.ravel())
            bb[0] += K[0] * a.value
            bb[-1] += K[n] * a.value
    inv = ops.inv_area.ravel()
    r = np.concatenate(rows)
    v = np.concatenate(vals) * inv[r]
    A = sp.csr_array((v, (r, np.concatenate(cols))), shape=(ny * nx, ny * nx))
    A.sum_duplicates()
    A.eliminate_zeros()
    return A, (b * ops.inv_area).ravel()
