"""Smoothed states and derivatives for the collocation warm start (scipy smoothing splines)."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_smoothing_spline

from ....errors import InputError
from ...requests import FitRequest

__all__ = ["smooth_derivatives"]


def _spline(t, v, smoothing):
    if smoothing == "auto":
        return make_smoothing_spline(t, v)  # penalty chosen by generalised cross-validation
    var = float(np.var(v)) or 1.0
    span = float(t[-1] - t[0]) or 1.0
    # the user's number is relative: per point, in units of the state's variance and the span
    lam = float(smoothing) * span**3 / max(len(t), 1) / var * var
    return make_smoothing_spline(t, v, lam=lam)


def smooth_derivatives(problem: FitRequest, smoothing="auto"):
    """Smoothed states and time derivatives at every observation time.

    Every state must be observed at least 4 times in each trajectory (a cubic
    smoothing spline is fitted per trajectory and state).

    Returns ``(times, states, derivs, weight, u0_smooth)``: flat arrays over all real
    observation times ``(N,)``, ``(N, n)``, ``(N, n)``, ``(N, n)`` bool (which entries are
    trusted: inside each state's observed range), and the smoothed initial states ``(B, n)``.
    """
    t, y, mask, lengths = problem.t, problem.y, problem.mask, problem.lengths
    B, _, n = y.shape
    times, states, derivs, weight = [], [], [], []
    u0 = np.array(problem.u0_init, dtype=float)
    for b in range(B):
        L = int(lengths[b])
        tb = t[b, :L]
        sb = np.zeros((L, n))
        db = np.zeros((L, n))
        wb = np.zeros((L, n), dtype=bool)
        for j in range(n):
            m = mask[b, :L, j]
            if m.sum() < 4:
                raise InputError(
                    f"Collocation needs each state observed at least 4 times per trajectory; state "
                    f"{problem.model.state_names[j]!r} has {int(m.sum())} observations in trajectory {b}. "
                    "Use ps.SingleShooting() or ps.GrowingHorizon() for partially observed systems.",
                    argument="strategy",
                )
            spl = _spline(tb[m], y[b, :L, j][m], smoothing)
            sb[:, j] = spl(tb)
            db[:, j] = spl.derivative()(tb)
            inside = (tb >= tb[m][0]) & (tb <= tb[m][-1])
            wb[:, j] = inside
            u0[b, j] = sb[0, j]
        times.append(tb)
        states.append(sb)
        derivs.append(db)
        weight.append(wb)
    return (np.concatenate(times), np.concatenate(states), np.concatenate(derivs), np.concatenate(weight), u0)
