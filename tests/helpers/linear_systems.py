"""Test systems for the linear-solve strategies: a 2-D two-species stencil problem and random dense systems."""

import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp


def heat2d(n, periodic=True):
    """2-D reaction-diffusion with two species, 5-point stencil (rhs, exact pattern)."""

    def rhs(t, y, args=None):
        u = y[: n * n].reshape(n, n)
        v = y[n * n :].reshape(n, n)
        if periodic:
            lap = lambda w: jnp.roll(w, 1, 0) + jnp.roll(w, -1, 0) + jnp.roll(w, 1, 1) + jnp.roll(w, -1, 1) - 4 * w
        else:
            def lap(w):
                p = jnp.pad(w, 1)
                return p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * w
        du = 50.0 * lap(u) + u * u * v - 2.0 * u
        dv = 50.0 * lap(v) - u * u * v + jnp.sin(t) * u
        return jnp.concatenate([du.ravel(), dv.ravel()])

    e = np.ones(n)
    l1 = sp.diags([e[:-1], e, e[:-1]], [-1, 0, 1], shape=(n, n), format="lil")
    if periodic:
        l1[0, n - 1] = l1[n - 1, 0] = 1
    l1 = sp.csr_array(l1)
    i = sp.identity(n)
    lap = (sp.kron(l1, i) + sp.kron(i, l1)).astype(bool)
    d = sp.identity(n * n)
    pat = sp.bmat([[lap, d], [d, lap]]).astype(bool)
    return rhs, sp.csr_array(pat)


def random_state(n, seed=0):
    """A positive state of the two-species ``heat2d(n)`` system."""
    return jnp.asarray(np.random.default_rng(seed).uniform(0.5, 1.5, 2 * n * n))


def random_linear_system(n=60, seed=0, spread=1.0):
    """A well-conditioned dense (n, n) system ``(A, b)`` with diagonal spread ``spread``."""
    rng = np.random.default_rng(seed)
    A = np.eye(n) * (1 + spread * rng.uniform(0, 1, n)) + 0.3 * rng.normal(size=(n, n)) / np.sqrt(n)
    return jnp.asarray(A), jnp.asarray(rng.normal(size=n))
