"""Lotka-Volterra data of the SciML missing-physics tutorial (shared by fitting tests)."""

import numpy as np
from scipy.integrate import solve_ivp

U0 = (0.44249296, 4.6280594)


def true_rhs(t, u):
    x, y = u
    return [1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y]


def truth(ts):
    return solve_ivp(true_rhs, (0.0, float(np.max(ts))), U0, t_eval=ts, rtol=1e-11, atol=1e-12).y.T


def noisy_samples(n=40, noise=0.01, t_end=5.0, seed=0):
    """``n`` irregular samples on [0, t_end] with multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, t_end, n))
    t[0] = 0.0
    y = truth(t)
    return t, y * (1.0 + noise * rng.standard_normal(y.shape))


def lotka_volterra_ude(u, p, t, m):
    x, y = u
    f = p.nn(u)
    return [p.alpha * x + f[0], -p.delta * y + f[1]]


def lotka_volterra(u, p, t, m):
    x, y = u
    return [p.alpha * x - p.beta * x * y, p.gamma * x * y - p.delta * y]
