"""A family of noise-driven damped oscillators, simulated with pysciml's SDE solve (latent SDE tests, benchmark).

dx = v dt, dv = (-omega^2 x - gamma v) dt + sigma dW from x = 1, v = 0; x is observed on a
uniform grid with Gaussian noise.  The mean path is a damped cosine; the variance grows towards
the stationary sigma^2 / (2 gamma omega^2): a latent ODE (deterministic given z0) cannot express it.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps

OMEGA, GAMMA, SIGMA, NOISE = 1.5, 0.3, 0.5, 0.05
T_MAX, N_T = 10.0, 41


def times() -> np.ndarray:
    """(N_T,) observation times on [0, T_MAX]."""
    return np.linspace(0.0, T_MAX, N_T)


def simulate(n: int, seed: int) -> np.ndarray:
    """(n, N_T) noisy observations of x (Euler-Maruyama, dt 0.01, one Brownian path per series)."""
    model = ps.SDEModel(
        lambda u, p, t, m: [u[1], -(p.omega**2) * u[0] - p.gamma * u[1]],
        lambda u, p, t, m: [0.0 * u[0], p.sigma + 0.0 * u[1]],
        states=["x", "v"],
        params={"omega": OMEGA, "gamma": GAMMA, "sigma": SIGMA},
        noise="additive",
    )
    sol = ps.solve(
        model,
        [1.0, 0.0],
        (0.0, T_MAX),
        saveat=times(),
        solver=ps.EulerMaruyama(),
        dt0=0.01,
        seed=seed,
        n_paths=n,
        brownian=ps.BrownianGrid(),
    )
    x = np.asarray(sol["x"])
    return x + NOISE * np.random.default_rng(seed + 10_000).standard_normal(x.shape)


def series(y: np.ndarray) -> list:
    """(n, N_T) values -> a list of (t, y) pairs."""
    t = times()
    return [(t, row) for row in y]


def marginal_errors(samples: np.ndarray, data: np.ndarray, lags=(1, 2, 4), burn: int = 8) -> dict:
    """How far samples' statistics are from the data's, both (n, N_T) on the same times.

    ``mean``/``var``: RMS over time of the difference in the per-time mean / variance, relative to the
    RMS over time of the data's per-time mean / variance.  ``acf``: per lag, the absolute difference in
    the autocorrelation of the per-time-centred series pooled over times after ``burn`` points.
    """

    def acf(x, k):
        c = x - x.mean(axis=0)
        c = c[:, burn:]
        num = (c[:, :-k] * c[:, k:]).mean()
        return num / np.sqrt((c[:, :-k] ** 2).mean() * (c[:, k:] ** 2).mean())

    dm = samples.mean(axis=0) - data.mean(axis=0)
    dv = samples.var(axis=0) - data.var(axis=0)
    rms = lambda a: float(np.sqrt(np.mean(a**2)))  # noqa: E731
    return {
        "mean": rms(dm) / rms(data.mean(axis=0)),
        "var": rms(dv) / rms(data.var(axis=0)),
        "acf": {k: abs(float(acf(samples, k) - acf(data, k))) for k in lags},
        "acf_data": {k: float(acf(data, k)) for k in lags},
    }
