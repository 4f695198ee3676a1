"""Damped oscillators with random phase and amplitude, irregular times, noise and missing values (latent ODE tests)."""

from __future__ import annotations

import numpy as np

OMEGA, GAMMA = 1.3, 0.08  # angular frequency (1/time), damping rate (1/time)


def oscillator(t, amplitude, phase):
    """(n_t, 2) exact states: a e^{-gamma t} (sin(omega t + phase), cos(omega t + phase))."""
    env = amplitude * np.exp(-GAMMA * t)
    return np.stack([env * np.sin(OMEGA * t + phase), env * np.cos(OMEGA * t + phase)], axis=1)


def oscillators(n, seed, *, t_max=15.0, n_points=(24, 33), noise=0.05, missing=0.2):
    """``n`` series as dicts with ``t`` (sorted, uniform random on [0, t_max]), noisy ``y`` (NaN = missing,
    never a fully missing row) and the noise-free ``truth``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = np.sort(rng.uniform(0.0, t_max, rng.integers(*n_points)))
        truth = oscillator(t, rng.uniform(0.5, 1.5), rng.uniform(0.0, 2.0 * np.pi))
        y = truth + noise * rng.standard_normal(truth.shape)
        y[rng.random(y.shape) < missing] = np.nan
        empty = np.isnan(y).all(axis=1)
        y[empty, 0] = truth[empty, 0]
        out.append({"t": t, "y": y, "truth": truth})
    return out


def per_time_mean(train, width=0.5, t_max=15.0):
    """The per-time-mean baseline: a function t -> (n_t, 2) mean of the training observations in time bins."""
    edges = np.arange(0.0, t_max + 1e-9, width)
    t_all = np.concatenate([d["t"] for d in train])
    y_all = np.concatenate([d["y"] for d in train])
    which = np.clip(np.digitize(t_all, edges) - 1, 0, len(edges) - 2)
    means = np.array([np.nanmean(y_all[which == b], axis=0) for b in range(len(edges) - 1)])

    def baseline(t):
        return means[np.clip(np.digitize(t, edges) - 1, 0, len(edges) - 2)]

    return baseline


def conditioned_oscillators(n, seed, *, omega_range=(0.8, 1.6), t_max=12.0, n_points=(30, 41), noise=0.05):
    """``n`` undamped oscillators a (sin(w t + phase), cos(w t + phase)) whose angular frequency w ~ U(omega_range)
    is their condition: ``(series, w)``, series a list of ``(t, y)`` (irregular times), w (n,)."""
    rng = np.random.default_rng(seed)
    series, omegas = [], rng.uniform(*omega_range, n)
    for w in omegas:
        t = np.sort(rng.uniform(0.0, t_max, rng.integers(*n_points)))
        a, phase = rng.uniform(0.7, 1.3), rng.uniform(0.0, 2.0 * np.pi)
        y = a * np.stack([np.sin(w * t + phase), np.cos(w * t + phase)], axis=1)
        series.append((t, y + noise * rng.standard_normal(y.shape)))
    return series, omegas


def dominant_frequency(x, t):
    """The angular frequency of the largest peak of the summed power spectrum of the rows of x (n, m) on the
    uniform grid t (m,) (mean removed per row, zero-padded to 8192 points)."""
    spec = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), n=8192, axis=1)) ** 2
    return float(2.0 * np.pi * np.fft.rfftfreq(8192, t[1] - t[0])[np.argmax(spec.sum(axis=0))])
