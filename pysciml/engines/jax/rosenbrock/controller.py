"""Step-size control for the Rosenbrock machine: error norm, PI controller, initial step."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

__all__ = ["PIController", "error_norm", "initial_step", "underflow_limit"]


def error_norm(err, y_old, y_new, rtol, atol):
    """Scaled RMS norm ``sqrt(mean((err / (atol + rtol * max(|y_old|, |y_new|)))**2))``.

    Args:
        err, y_old, y_new: ``(n,)`` arrays.
        rtol, atol: scalars or ``(n,)`` arrays.
    """
    scale = atol + rtol * jnp.maximum(jnp.abs(y_old), jnp.abs(y_new))
    return jnp.sqrt(jnp.mean(jnp.square(err / scale)))


def underflow_limit(t):
    """Smallest admissible step at time ``t``: ``10 * eps * |t|`` (Hairer & Wanner's RODAS test),
    and at least ``1e-300`` so that a step size can underflow near ``t = 0`` too."""
    return jnp.maximum(10.0 * jnp.finfo(jnp.float64).eps * jnp.abs(t), 1e-300)


@dataclasses.dataclass(frozen=True)
class PIController:
    """Proportional-integral step-size control (Hairer & Wanner II, IV.2; Gustafsson 1991).

    ``factor = safety * err**(-beta1/k) * err_prev**(beta2/k)``, clipped to
    ``[factor_min, factor_max]`` (no growth right after a rejection), where
    ``k = min(order, error_order) + 1`` is the order of the local error estimate.

    Args:
        safety: safety factor (dimensionless).
        beta1, beta2: proportional and integral gains (before division by ``k``).
        factor_min, factor_max: bounds of ``h_new / h``.
        factor_fail: ``h_new / h`` after a step whose stages were not finite or whose
            linear solve failed.
    """

    safety: float = 0.9
    beta1: float = 0.7
    beta2: float = 0.4
    factor_min: float = 0.2
    factor_max: float = 6.0
    factor_fail: float = 0.25

    def factor(self, err, err_prev, k, accepted, ok, prev_rejected):
        """``h_new / h`` from the error norms of this step and the last accepted one."""
        err = jnp.maximum(err, 1e-10)
        f = self.safety * err ** (-self.beta1 / k) * err_prev ** (self.beta2 / k)
        f = jnp.clip(f, self.factor_min, self.factor_max)
        # no growth on a rejected step, nor on the step right after a rejection
        f = jnp.where(accepted & ~prev_rejected, f, jnp.minimum(f, 1.0))
        return jnp.where(ok, f, self.factor_fail)


def initial_step(fun, t0, y0, args, f0, order, rtol, atol, span):
    """Initial step size by Hairer, Norsett & Wanner's algorithm (Solving ODEs I, II.4).

    Args:
        fun: ``fun(t, y, args) -> dy``.
        t0: start time; y0: ``(n,)`` state; f0: ``fun(t0, y0, args)``.
        order: order of the method.
        rtol, atol: tolerances.
        span: ``t1 - t0`` (positive); the result never exceeds it.
    """
    scale = atol + rtol * jnp.abs(y0)
    d0 = jnp.sqrt(jnp.mean(jnp.square(y0 / scale)))
    d1 = jnp.sqrt(jnp.mean(jnp.square(f0 / scale)))
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.maximum(d1, 1e-300))
    h0 = jnp.minimum(h0, span)
    y1 = y0 + h0 * f0
    f1 = fun(t0 + h0, y1, args)
    d2 = jnp.sqrt(jnp.mean(jnp.square((f1 - f0) / scale))) / h0
    dmax = jnp.maximum(d1, d2)
    h1 = jnp.where(
        dmax <= 1e-15, jnp.maximum(1e-6, h0 * 1e-3), (0.01 / jnp.maximum(dmax, 1e-300)) ** (1.0 / (order + 1))
    )
    h = jnp.minimum(100.0 * h0, h1)
    h = jnp.minimum(h, span)
    return jnp.where(jnp.isfinite(h) & (h > 0), h, 1e-6 * span)
