"""Loss objects and the bound transforms shared by every engine.

The data term, identical on every engine, over the observed entries only:

* :class:`MSE`: ``sum(mask * ((u - y) / scale)**2) / sum(mask)`` where ``scale`` is
  each state's robust scale in the data (so states of different magnitude weigh fairly);
* :class:`GaussianNLL`: ``sum(mask * (0.5 * ((u - y) / sigma)**2 + log(sigma))) / sum(mask)``
  with a noise level per state (given, or fitted when ``sigma="fit"``).

Regularisation: ``l2 * sum(theta_nn**2)`` on network weights; physics parameters with
bounds are optimised in an unconstrained space through smooth transforms:
lower bound only ``lo + softplus(z)``; upper only ``hi - softplus(z)``; both
``lo + (hi - lo) * sigmoid(z)``; none: identity.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import InputError
from ..options import options

__all__ = ["Loss", "MSE", "GaussianNLL", "resolve_loss", "to_unconstrained", "from_unconstrained"]


@dataclasses.dataclass(frozen=True)
class Loss:
    """Base of the loss objects (abstract)."""

    @property
    def name(self) -> str:
        return type(self).__name__


@options
@dataclasses.dataclass(frozen=True)
class MSE(Loss):
    """Mean squared error of scaled states over the observed entries."""


@options
@dataclasses.dataclass(frozen=True)
class GaussianNLL(Loss):
    """Gaussian negative log-likelihood per observed entry.

    Args:
        sigma: noise standard deviation: a number, one per state, or ``"fit"``
            (learned, one per state, starting from 10% of each state's scale).
    """

    sigma: Any = "fit"

    def __post_init__(self):
        if isinstance(self.sigma, str):
            if self.sigma != "fit":
                raise InputError(
                    f"must be a number, one per state, or 'fit'; got {self.sigma!r}.", argument="GaussianNLL.sigma"
                )
        else:
            try:
                arr = np.asarray(self.sigma, dtype=float)
            except (TypeError, ValueError):
                arr = np.array(np.nan)
            if arr.size == 0 or arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise InputError(
                    f"must be 'fit', a positive number or one positive number per state, got {self.sigma!r}.",
                    argument="GaussianNLL.sigma",
                )


def resolve_loss(value: Any) -> Loss:
    """A loss object from an object, ``"mse"``, ``"nll"`` or ``None`` (MSE)."""
    if value is None:
        return MSE()
    if isinstance(value, Loss):
        return value
    if isinstance(value, str) and value.lower() in ("mse", "nll", "gaussian", "gaussiannll"):
        return MSE() if value.lower() == "mse" else GaussianNLL()
    raise InputError(f"unknown loss {value!r}; use ps.MSE() or ps.GaussianNLL(sigma=...).", argument="loss")


def _softplus_inv(x):
    x = np.asarray(x, dtype=float)
    return np.where(x > 30, x, np.log(np.expm1(np.maximum(x, 1e-300))))


def to_unconstrained(value, bounds):
    """Map a parameter value inside ``bounds`` to the unconstrained space (numpy)."""
    value = np.asarray(value, dtype=float)
    if bounds is None:
        return value
    lo, hi = bounds
    if lo is not None and hi is not None:
        frac = np.clip((value - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        return np.log(frac) - np.log1p(-frac)
    if lo is not None:
        return _softplus_inv(np.maximum(value - lo, 1e-12))
    if hi is not None:
        return _softplus_inv(np.maximum(hi - value, 1e-12))
    return value


def from_unconstrained(z, bounds, xp=np):
    """Map an unconstrained value back inside ``bounds`` (any array namespace ``xp``)."""
    if bounds is None:
        return z
    lo, hi = bounds
    softplus = lambda v: xp.logaddexp(v, 0.0)
    if lo is not None and hi is not None:
        return lo + (hi - lo) / (1.0 + xp.exp(-z))
    if lo is not None:
        return lo + softplus(z)
    if hi is not None:
        return hi - softplus(z)
    return z
